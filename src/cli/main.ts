#!/usr/bin/env -S node --max-semi-space-size=64
/**
 * The `fulcrum` command line: `health`, `run`, `demo`. Bad input ends in one line on standard
 * error naming the field, and a non-zero exit status; never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FulcrumError } from '../domain/errors.js';
import { healthCommand } from './health.js';
import { CliError, describeError, EXIT } from './io.js';
import { runFile } from './run.js';

const HELP = `fulcrum: margin and liquidation engine

usage:
  fulcrum demo                     run the bundled lending story (examples/lending-story.jsonl)
  fulcrum health FILE|-            evaluate one portfolio (JSON) and print its health as JSON
  fulcrum run FILE.jsonl [--json] [--strict]
                                   apply a file of commands, one JSON object a line; print each
                                   result, the pools, the accounts and the state hash
                                   --json    machine-readable output, one JSON object a line
                                   --strict  exit with status 1 if any command was refused
  fulcrum help                     this text
  fulcrum --version                the version

Numbers are decimal strings everywhere ("10.5"); see the README for every field.`;

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function main(argv: readonly string[]): number {
  const [command, ...rest] = argv;
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const args = rest.filter((a) => !a.startsWith('--') || a === '-');
  const write = (text: string) => process.stdout.write(`${text}\n`);
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      write(HELP);
      return command === undefined ? EXIT.usage : EXIT.ok;
    case '--version':
      write(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
      return EXIT.ok;
    case 'health':
      checkFlags(flags, []);
      process.stdout.write(healthCommand(onePath(args, 'health FILE|-')));
      return EXIT.ok;
    case 'run':
      checkFlags(flags, ['--json', '--strict']);
      return runFile(
        onePath(args, 'run FILE.jsonl'),
        { json: flags.has('--json'), strict: flags.has('--strict') },
        write,
      );
    case 'demo':
      checkFlags(flags, ['--json']);
      return runFile(
        join(packageRoot, 'examples', 'lending-story.jsonl'),
        { json: flags.has('--json'), strict: false },
        write,
      );
    default:
      throw new CliError(
        `unknown command ${JSON.stringify(command)}; try fulcrum help`,
        EXIT.usage,
      );
  }
}

function onePath(args: readonly string[], usage: string): string {
  const [path, ...extra] = args;
  if (path === undefined || extra.length > 0)
    throw new CliError(`usage: fulcrum ${usage}`, EXIT.usage);
  return path;
}

function checkFlags(flags: ReadonlySet<string>, allowed: readonly string[]): void {
  for (const flag of flags) {
    if (!allowed.includes(flag)) throw new CliError(`unknown option ${flag}`, EXIT.usage);
  }
}

// A closed or full standard output (`fulcrum demo | head`, a full disk) ends the program quietly
// or in one line, never with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE')
    process.stderr.write(`fulcrum: cannot write output (${error.code})\n`);
  process.exit(error.code === 'EPIPE' ? EXIT.ok : EXIT.badInput);
});

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof FulcrumError) {
    process.stderr.write(`fulcrum: ${describeError(error)}\n`);
    process.exitCode = EXIT.badInput;
  } else if (error instanceof CliError) {
    process.stderr.write(`fulcrum: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    throw error;
  }
}
