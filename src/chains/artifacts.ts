// Generated from contracts/*.sol with solc 0.8.37 (EVM cancun, optimizer 200
// runs). Do not edit: change the sources and run
// `FULCRUM_WRITE_ARTIFACTS=1 npx vitest run test/chains/artifacts.test.ts`.

export const fulcrumVaultAbi = [
  {
    inputs: [
      {
        internalType: 'address',
        name: 'signer_',
        type: 'address',
      },
    ],
    stateMutability: 'nonpayable',
    type: 'constructor',
  },
  {
    inputs: [],
    name: 'BadSignature',
    type: 'error',
  },
  {
    inputs: [],
    name: 'CapExceeded',
    type: 'error',
  },
  {
    inputs: [],
    name: 'Expired',
    type: 'error',
  },
  {
    inputs: [],
    name: 'InvalidAccount',
    type: 'error',
  },
  {
    inputs: [],
    name: 'NonceUsed',
    type: 'error',
  },
  {
    inputs: [],
    name: 'NotOwner',
    type: 'error',
  },
  {
    inputs: [],
    name: 'TransferFailed',
    type: 'error',
  },
  {
    inputs: [],
    name: 'VaultPaused',
    type: 'error',
  },
  {
    inputs: [],
    name: 'ZeroAmount',
    type: 'error',
  },
  {
    anonymous: false,
    inputs: [
      {
        indexed: true,
        internalType: 'address',
        name: 'token',
        type: 'address',
      },
      {
        indexed: false,
        internalType: 'uint256',
        name: 'cap',
        type: 'uint256',
      },
    ],
    name: 'DepositCapSet',
    type: 'event',
  },
  {
    anonymous: false,
    inputs: [
      {
        indexed: true,
        internalType: 'address',
        name: 'token',
        type: 'address',
      },
      {
        indexed: true,
        internalType: 'address',
        name: 'from',
        type: 'address',
      },
      {
        indexed: false,
        internalType: 'string',
        name: 'account',
        type: 'string',
      },
      {
        indexed: false,
        internalType: 'uint8',
        name: 'subAccount',
        type: 'uint8',
      },
      {
        indexed: false,
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
    ],
    name: 'Deposited',
    type: 'event',
  },
  {
    anonymous: false,
    inputs: [
      {
        indexed: false,
        internalType: 'bool',
        name: 'paused',
        type: 'bool',
      },
    ],
    name: 'PausedSet',
    type: 'event',
  },
  {
    anonymous: false,
    inputs: [
      {
        indexed: false,
        internalType: 'address',
        name: 'signer',
        type: 'address',
      },
    ],
    name: 'SignerSet',
    type: 'event',
  },
  {
    anonymous: false,
    inputs: [
      {
        indexed: true,
        internalType: 'uint256',
        name: 'nonce',
        type: 'uint256',
      },
      {
        indexed: true,
        internalType: 'address',
        name: 'token',
        type: 'address',
      },
      {
        indexed: true,
        internalType: 'address',
        name: 'recipient',
        type: 'address',
      },
      {
        indexed: false,
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
    ],
    name: 'Withdrawn',
    type: 'event',
  },
  {
    inputs: [],
    name: 'WITHDRAWAL_TYPEHASH',
    outputs: [
      {
        internalType: 'bytes32',
        name: '',
        type: 'bytes32',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'token',
        type: 'address',
      },
      {
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
      {
        internalType: 'string',
        name: 'account',
        type: 'string',
      },
      {
        internalType: 'uint8',
        name: 'subAccount',
        type: 'uint8',
      },
    ],
    name: 'deposit',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: '',
        type: 'address',
      },
    ],
    name: 'depositCap',
    outputs: [
      {
        internalType: 'uint256',
        name: '',
        type: 'uint256',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'domainSeparator',
    outputs: [
      {
        internalType: 'bytes32',
        name: '',
        type: 'bytes32',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'owner',
    outputs: [
      {
        internalType: 'address',
        name: '',
        type: 'address',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'paused',
    outputs: [
      {
        internalType: 'bool',
        name: '',
        type: 'bool',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'token',
        type: 'address',
      },
      {
        internalType: 'uint256',
        name: 'cap',
        type: 'uint256',
      },
    ],
    name: 'setDepositCap',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'bool',
        name: 'paused_',
        type: 'bool',
      },
    ],
    name: 'setPaused',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'signer_',
        type: 'address',
      },
    ],
    name: 'setSigner',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [],
    name: 'signer',
    outputs: [
      {
        internalType: 'address',
        name: '',
        type: 'address',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'uint256',
        name: '',
        type: 'uint256',
      },
    ],
    name: 'usedNonces',
    outputs: [
      {
        internalType: 'bool',
        name: '',
        type: 'bool',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'uint256',
        name: 'nonce',
        type: 'uint256',
      },
      {
        internalType: 'address',
        name: 'token',
        type: 'address',
      },
      {
        internalType: 'address',
        name: 'recipient',
        type: 'address',
      },
      {
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
      {
        internalType: 'uint256',
        name: 'expiry',
        type: 'uint256',
      },
      {
        internalType: 'bytes',
        name: 'signature',
        type: 'bytes',
      },
    ],
    name: 'withdraw',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
] as const;

export const fulcrumVaultBytecode =
  '0x6080604052348015600e575f5ffd5b50604051610ed5380380610ed5833981016040819052602b91608b565b5f80546001600160a01b03199081163317909155600180546001600160a01b0384169216821790556040519081527f9eaa897564d022fb8c5efaf0acdb5d9d27b440b2aad44400b6e1c702e65b9ed39060200160405180910390a15060b6565b5f60208284031215609a575f5ffd5b81516001600160a01b038116811460af575f5ffd5b9392505050565b610e12806100c35f395ff3fe608060405234801561000f575f5ffd5b50600436106100b1575f3560e01c80636c19e7831161006e5780636c19e783146101805780638da5cb5b146101935780639c9b9040146101a5578063f698da25146101b8578063f878369e146101c0578063fdfd5a25146101d3575f5ffd5b806311bd45ac146100b557806316c38b3c146100ca57806320b71534146100dd578063238ac9331461010f5780635c975abb1461013a5780636717e41c1461015e575b5f5ffd5b6100c86100c3366004610b81565b6101fa565b005b6100c86100d8366004610c03565b61040a565b6100fc6100eb366004610c1e565b60026020525f908152604090205481565b6040519081526020015b60405180910390f35b600154610122906001600160a01b031681565b6040516001600160a01b039091168152602001610106565b60015461014e90600160a01b900460ff1681565b6040519015158152602001610106565b61014e61016c366004610c37565b60036020525f908152604090205460ff1681565b6100c861018e366004610c1e565b61048c565b5f54610122906001600160a01b031681565b6100c86101b3366004610c4e565b610504565b6100fc610771565b6100c86101ce366004610cca565b610815565b6100fc7f637d04ffff123dbb4d32063a7281a3b47121a5cdd1fd210b9f6c6bada99ec04f81565b600154600160a01b900460ff1615610225576040516336a7e2cd60e21b815260040160405180910390fd5b835f0361024557604051631f2a200560e01b815260040160405180910390fd5b61024f8383610897565b61026c57604051630da30f6560e31b815260040160405180910390fd5b6001600160a01b0385165f9081526002602052604090205480158061030257506040516370a0823160e01b8152306004820152819086906001600160a01b038916906370a0823190602401602060405180830381865afa1580156102d2573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906102f69190610cf2565b6103009190610d09565b115b156103205760405163a4875a4960e01b815260040160405180910390fd5b6040516323b872dd60e01b8152336004820152306024820152604481018690526001600160a01b038716906323b872dd906064016020604051808303815f875af1158015610370573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906103949190610d28565b6103b1576040516312171d8360e31b815260040160405180910390fd5b336001600160a01b0316866001600160a01b03167ff2b6465548611776ed7093665f445c3648c279639ffc490e54072794e14317d78686868a6040516103fa9493929190610d43565b60405180910390a3505050505050565b5f546001600160a01b03163314610434576040516330cd747160e01b815260040160405180910390fd5b60018054821515600160a01b0260ff60a01b199091161790556040517f40db37ff5c0bdc2c427fbb2078c8f24afea940abac0e3c23bb4ea3bf2da2b2129061048190831515815260200190565b60405180910390a150565b5f546001600160a01b031633146104b6576040516330cd747160e01b815260040160405180910390fd5b600180546001600160a01b0319166001600160a01b0383169081179091556040519081527f9eaa897564d022fb8c5efaf0acdb5d9d27b440b2aad44400b6e1c702e65b9ed390602001610481565b600154600160a01b900460ff161561052f576040516336a7e2cd60e21b815260040160405180910390fd5b8242111561055057604051630407b05b60e31b815260040160405180910390fd5b5f8781526003602052604090205460ff161561057f57604051631f6d5aef60e01b815260040160405180910390fd5b604080517f637d04ffff123dbb4d32063a7281a3b47121a5cdd1fd210b9f6c6bada99ec04f60208201529081018890526001600160a01b0380881660608301528616608082015260a0810185905260c081018490525f9060e0016040516020818303038152906040528051906020012090505f6105fa610771565b60405161190160f01b602082015260228101919091526042810183905260620160408051601f1981840301815291905280516020909101206001549091506001600160a01b031661064c828686610a07565b6001600160a01b03161461067357604051635cd5d23360e01b815260040160405180910390fd5b5f8981526003602052604090819020805460ff191660011790555163a9059cbb60e01b81526001600160a01b0388811660048301526024820188905289169063a9059cbb906044016020604051808303815f875af11580156106d7573d5f5f3e3d5ffd5b505050506040513d601f19601f820116820180604052508101906106fb9190610d28565b610718576040516312171d8360e31b815260040160405180910390fd5b866001600160a01b0316886001600160a01b03168a7fe5df19de43c8c04fd192bc68e484b2593570925fbb6ad8c07ccafbc2aa5c37a18960405161075e91815260200190565b60405180910390a4505050505050505050565b604080517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f60208201527ff6e390f65d8ea7a7d57611e1398676be4a22bb27fe568663cfe3af5fe61ba8cd918101919091527fc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc660608201524660808201523060a08201525f9060c00160405160208183030381529060405280519060200120905090565b5f546001600160a01b0316331461083f576040516330cd747160e01b815260040160405180910390fd5b6001600160a01b0382165f8181526002602052604090819020839055517f5346dfddf35b6b3adb49f21161904a305a764ba435dfad799dfef4be256071409061088b9084815260200190565b60405180910390a25050565b5f8115806108a55750604082115b156108b157505f610a01565b5f5b828110156109fb575f8484838181106108ce576108ce610d84565b909101356001600160f81b03191691505f9050604160f81b82108015906109035750602d60f91b6001600160f81b0319831611155b806109355750606160f81b6001600160f81b03198316108015906109355750603d60f91b6001600160f81b0319831611155b806109675750600360fc1b6001600160f81b03198316108015906109675750603960f81b6001600160f81b0319831611155b8061097f5750605f60f81b6001600160f81b03198316145b806109975750601760f91b6001600160f81b03198316145b806109af5750601d60f91b6001600160f81b03198316145b806109c75750600160fe1b6001600160f81b03198316145b806109df5750602d60f81b6001600160f81b03198316145b9050806109f1575f9350505050610a01565b50506001016108b3565b50600190505b92915050565b5f60418214610a1757505f610b1a565b5f610a256020828587610d98565b610a2e91610dbf565b90505f610a3f604060208688610d98565b610a4891610dbf565b90505f85856040818110610a5e57610a5e610d84565b919091013560f81c9150507f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0821180610aaa57508060ff16601b14158015610aaa57508060ff16601c14155b15610aba575f9350505050610b1a565b604080515f81526020810180835289905260ff831691810191909152606081018490526080810183905260019060a0016020604051602081039080840390855afa158015610b0a573d5f5f3e3d5ffd5b5050506020604051035193505050505b9392505050565b80356001600160a01b0381168114610b37575f5ffd5b919050565b5f5f83601f840112610b4c575f5ffd5b50813567ffffffffffffffff811115610b63575f5ffd5b602083019150836020828501011115610b7a575f5ffd5b9250929050565b5f5f5f5f5f60808688031215610b95575f5ffd5b610b9e86610b21565b945060208601359350604086013567ffffffffffffffff811115610bc0575f5ffd5b610bcc88828901610b3c565b909450925050606086013560ff81168114610be5575f5ffd5b809150509295509295909350565b8015158114610c00575f5ffd5b50565b5f60208284031215610c13575f5ffd5b8135610b1a81610bf3565b5f60208284031215610c2e575f5ffd5b610b1a82610b21565b5f60208284031215610c47575f5ffd5b5035919050565b5f5f5f5f5f5f5f60c0888a031215610c64575f5ffd5b87359650610c7460208901610b21565b9550610c8260408901610b21565b9450606088013593506080880135925060a088013567ffffffffffffffff811115610cab575f5ffd5b610cb78a828b01610b3c565b989b979a50959850939692959293505050565b5f5f60408385031215610cdb575f5ffd5b610ce483610b21565b946020939093013593505050565b5f60208284031215610d02575f5ffd5b5051919050565b80820180821115610a0157634e487b7160e01b5f52601160045260245ffd5b5f60208284031215610d38575f5ffd5b8151610b1a81610bf3565b60608152836060820152838560808301375f608085830101525f6080601f19601f870116830101905060ff8416602083015282604083015295945050505050565b634e487b7160e01b5f52603260045260245ffd5b5f5f85851115610da6575f5ffd5b83861115610db2575f5ffd5b5050820193919092039150565b80356020831015610a01575f19602084900360031b1b169291505056fea2646970667358221220b37b79676014a316d50a62cf0f73bea999832c9eecadfbee93bb148e26267f1164736f6c63430008250033' as const;

export const testTokenAbi = [
  {
    inputs: [
      {
        internalType: 'string',
        name: 'name_',
        type: 'string',
      },
      {
        internalType: 'string',
        name: 'symbol_',
        type: 'string',
      },
      {
        internalType: 'uint8',
        name: 'decimals_',
        type: 'uint8',
      },
    ],
    stateMutability: 'nonpayable',
    type: 'constructor',
  },
  {
    anonymous: false,
    inputs: [
      {
        indexed: true,
        internalType: 'address',
        name: 'owner',
        type: 'address',
      },
      {
        indexed: true,
        internalType: 'address',
        name: 'spender',
        type: 'address',
      },
      {
        indexed: false,
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
    ],
    name: 'Approval',
    type: 'event',
  },
  {
    anonymous: false,
    inputs: [
      {
        indexed: true,
        internalType: 'address',
        name: 'from',
        type: 'address',
      },
      {
        indexed: true,
        internalType: 'address',
        name: 'to',
        type: 'address',
      },
      {
        indexed: false,
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
    ],
    name: 'Transfer',
    type: 'event',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: '',
        type: 'address',
      },
      {
        internalType: 'address',
        name: '',
        type: 'address',
      },
    ],
    name: 'allowance',
    outputs: [
      {
        internalType: 'uint256',
        name: '',
        type: 'uint256',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'spender',
        type: 'address',
      },
      {
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
    ],
    name: 'approve',
    outputs: [
      {
        internalType: 'bool',
        name: '',
        type: 'bool',
      },
    ],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: '',
        type: 'address',
      },
    ],
    name: 'balanceOf',
    outputs: [
      {
        internalType: 'uint256',
        name: '',
        type: 'uint256',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'decimals',
    outputs: [
      {
        internalType: 'uint8',
        name: '',
        type: 'uint8',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'to',
        type: 'address',
      },
      {
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
    ],
    name: 'mint',
    outputs: [],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [],
    name: 'name',
    outputs: [
      {
        internalType: 'string',
        name: '',
        type: 'string',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'symbol',
    outputs: [
      {
        internalType: 'string',
        name: '',
        type: 'string',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [],
    name: 'totalSupply',
    outputs: [
      {
        internalType: 'uint256',
        name: '',
        type: 'uint256',
      },
    ],
    stateMutability: 'view',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'to',
        type: 'address',
      },
      {
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
    ],
    name: 'transfer',
    outputs: [
      {
        internalType: 'bool',
        name: '',
        type: 'bool',
      },
    ],
    stateMutability: 'nonpayable',
    type: 'function',
  },
  {
    inputs: [
      {
        internalType: 'address',
        name: 'from',
        type: 'address',
      },
      {
        internalType: 'address',
        name: 'to',
        type: 'address',
      },
      {
        internalType: 'uint256',
        name: 'amount',
        type: 'uint256',
      },
    ],
    name: 'transferFrom',
    outputs: [
      {
        internalType: 'bool',
        name: '',
        type: 'bool',
      },
    ],
    stateMutability: 'nonpayable',
    type: 'function',
  },
] as const;

export const testTokenBytecode =
  '0x60a060405234801561000f575f5ffd5b5060405161098738038061098783398101604081905261002e916100f2565b5f61003984826101fe565b50600161004683826101fe565b5060ff16608052506102bc9050565b634e487b7160e01b5f52604160045260245ffd5b5f82601f830112610078575f5ffd5b81516001600160401b0381111561009157610091610055565b604051601f8201601f19908116603f011681016001600160401b03811182821017156100bf576100bf610055565b6040528181528382016020018510156100d6575f5ffd5b8160208501602083015e5f918101602001919091529392505050565b5f5f5f60608486031215610104575f5ffd5b83516001600160401b03811115610119575f5ffd5b61012586828701610069565b602086015190945090506001600160401b03811115610142575f5ffd5b61014e86828701610069565b925050604084015160ff81168114610164575f5ffd5b809150509250925092565b600181811c9082168061018357607f821691505b6020821081036101a157634e487b7160e01b5f52602260045260245ffd5b50919050565b601f8211156101f957828211156101f957805f5260205f20601f840160051c60208510156101d257505f5b90810190601f840160051c035f5b818110156101f5575f838201556001016101e0565b5050505b505050565b81516001600160401b0381111561021757610217610055565b61022b81610225845461016f565b846101a7565b6020601f82116001811461025d575f83156102465750848201515b5f19600385901b1c1916600184901b1784556102b5565b5f84815260208120601f198516915b8281101561028c578785015182556020948501946001909201910161026c565b50848210156102a957868401515f19600387901b60f8161c191681555b505060018360011b0184555b5050505050565b6080516106b36102d45f395f61010f01526106b35ff3fe608060405234801561000f575f5ffd5b506004361061009b575f3560e01c806340c10f191161006357806340c10f191461014357806370a082311461015857806395d89b4114610177578063a9059cbb1461017f578063dd62ed3e14610192575f5ffd5b806306fdde031461009f578063095ea7b3146100bd57806318160ddd146100e057806323b872dd146100f7578063313ce5671461010a575b5f5ffd5b6100a76101bc565b6040516100b49190610508565b60405180910390f35b6100d06100cb366004610558565b610247565b60405190151581526020016100b4565b6100e960025481565b6040519081526020016100b4565b6100d0610105366004610580565b6102b3565b6101317f000000000000000000000000000000000000000000000000000000000000000081565b60405160ff90911681526020016100b4565b610156610151366004610558565b610363565b005b6100e96101663660046105ba565b60036020525f908152604090205481565b6100a76103e9565b6100d061018d366004610558565b6103f6565b6100e96101a03660046105da565b600460209081525f928352604080842090915290825290205481565b5f80546101c89061060b565b80601f01602080910402602001604051908101604052809291908181526020018280546101f49061060b565b801561023f5780601f106102165761010080835404028352916020019161023f565b820191905f5260205f20905b81548152906001019060200180831161022257829003601f168201915b505050505081565b335f8181526004602090815260408083206001600160a01b038716808552925280832085905551919290917f8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925906102a19086815260200190565b60405180910390a35060015b92915050565b6001600160a01b0383165f9081526004602090815260408083203384529091528120545f19811461034d578281101561031f5760405162461bcd60e51b8152602060048201526009602482015268616c6c6f77616e636560b81b60448201526064015b60405180910390fd5b6103298382610657565b6001600160a01b0386165f9081526004602090815260408083203384529091529020555b61035885858561040b565b506001949350505050565b8060025f828254610374919061066a565b90915550506001600160a01b0382165f90815260036020526040812080548392906103a090849061066a565b90915550506040518181526001600160a01b038316905f907fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef9060200160405180910390a35050565b600180546101c89061060b565b5f61040233848461040b565b50600192915050565b6001600160a01b0383165f9081526003602052604090205481111561045c5760405162461bcd60e51b815260206004820152600760248201526662616c616e636560c81b6044820152606401610316565b6001600160a01b0383165f9081526003602052604081208054839290610483908490610657565b90915550506001600160a01b0382165f90815260036020526040812080548392906104af90849061066a565b92505081905550816001600160a01b0316836001600160a01b03167fddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef836040516104fb91815260200190565b60405180910390a3505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b80356001600160a01b0381168114610553575f5ffd5b919050565b5f5f60408385031215610569575f5ffd5b6105728361053d565b946020939093013593505050565b5f5f5f60608486031215610592575f5ffd5b61059b8461053d565b92506105a96020850161053d565b929592945050506040919091013590565b5f602082840312156105ca575f5ffd5b6105d38261053d565b9392505050565b5f5f604083850312156105eb575f5ffd5b6105f48361053d565b91506106026020840161053d565b90509250929050565b600181811c9082168061061f57607f821691505b60208210810361063d57634e487b7160e01b5f52602260045260245ffd5b50919050565b634e487b7160e01b5f52601160045260245ffd5b818103818111156102ad576102ad610643565b808201808211156102ad576102ad61064356fea2646970667358221220acd80d5d20d515194ccca4a63da76cb1ce004ff4005ca936b9abe15a76f0884564736f6c63430008250033' as const;
