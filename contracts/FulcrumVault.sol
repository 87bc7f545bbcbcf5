// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// The part of ERC-20 the vault uses.
interface IERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address owner) external view returns (uint256);
}

/// Fulcrum's collateral vault on one chain (docs/CHAINS.md). Deposits of listed tokens carry the
/// Fulcrum account and sub-account they are for; the venue's watcher credits them once final.
/// A withdrawal pays out only on an EIP-712 authorization signed by the venue's key, once per
/// nonce, until its expiry: after the expiry the venue returns the amount to the sub-account.
contract FulcrumVault {
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(uint256 nonce,address token,address recipient,uint256 amount,uint256 expiry)");
    /// secp256k1n / 2: a signature with a larger s is the malleable twin of another (EIP-2).
    uint256 private constant S_MAX = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    address public owner;
    address public signer;
    bool public paused;
    /// Most the vault may hold of a token; 0: not accepted.
    mapping(address => uint256) public depositCap;
    /// Withdrawal nonces paid.
    mapping(uint256 => bool) public usedNonces;

    event Deposited(address indexed token, address indexed from, string account, uint8 subAccount, uint256 amount);
    event Withdrawn(uint256 indexed nonce, address indexed token, address indexed recipient, uint256 amount);
    event PausedSet(bool paused);
    event DepositCapSet(address indexed token, uint256 cap);
    event SignerSet(address signer);

    error NotOwner();
    error VaultPaused();
    error InvalidAccount();
    error ZeroAmount();
    error CapExceeded();
    error TransferFailed();
    error Expired();
    error NonceUsed();
    error BadSignature();

    constructor(address signer_) {
        owner = msg.sender;
        signer = signer_;
        emit SignerSet(signer_);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier whenActive() {
        if (paused) revert VaultPaused();
        _;
    }

    function setPaused(bool paused_) external onlyOwner {
        paused = paused_;
        emit PausedSet(paused_);
    }

    function setDepositCap(address token, uint256 cap) external onlyOwner {
        depositCap[token] = cap;
        emit DepositCapSet(token, cap);
    }

    function setSigner(address signer_) external onlyOwner {
        signer = signer_;
        emit SignerSet(signer_);
    }

    /// Deposits `amount` of `token` (approved first) for Fulcrum sub-account `account`/`subAccount`.
    /// The account must be a Fulcrum account id (1-64 of A-Z a-z 0-9 _ . : @ -), so that every
    /// deposit the vault takes can be credited.
    function deposit(address token, uint256 amount, string calldata account, uint8 subAccount) external whenActive {
        if (amount == 0) revert ZeroAmount();
        if (!validAccount(bytes(account))) revert InvalidAccount();
        uint256 cap = depositCap[token];
        if (cap == 0 || IERC20(token).balanceOf(address(this)) + amount > cap) revert CapExceeded();
        if (!IERC20(token).transferFrom(msg.sender, address(this), amount)) revert TransferFailed();
        emit Deposited(token, msg.sender, account, subAccount, amount);
    }

    /// Pays an authorization the venue signed: once per nonce, until `expiry` (unix seconds).
    function withdraw(
        uint256 nonce,
        address token,
        address recipient,
        uint256 amount,
        uint256 expiry,
        bytes calldata signature
    ) external whenActive {
        if (block.timestamp > expiry) revert Expired();
        if (usedNonces[nonce]) revert NonceUsed();
        bytes32 structHash = keccak256(abi.encode(WITHDRAWAL_TYPEHASH, nonce, token, recipient, amount, expiry));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
        if (recover(digest, signature) != signer) revert BadSignature();
        usedNonces[nonce] = true;
        if (!IERC20(token).transfer(recipient, amount)) revert TransferFailed();
        emit Withdrawn(nonce, token, recipient, amount);
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("FulcrumVault"), keccak256("1"), block.chainid, address(this))
        );
    }

    function recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (uint256(s) > S_MAX || (v != 27 && v != 28)) return address(0);
        return ecrecover(digest, v, r, s);
    }

    function validAccount(bytes calldata id) private pure returns (bool) {
        if (id.length == 0 || id.length > 64) return false;
        for (uint256 i = 0; i < id.length; i++) {
            bytes1 c = id[i];
            bool ok = (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "_"
                || c == "." || c == ":" || c == "@" || c == "-";
            if (!ok) return false;
        }
        return true;
    }
}
