/**
 * advkit's command line. Dispatches to one command, turns every error into
 * one line on stderr and an exit code, and always exits explicitly (the wasm
 * backend installs an uncaughtException handler that would otherwise dump
 * its whole source).
 *
 * Exit codes: 0 ok; 1 a --fail-under gate failed; 2 bad input (flags, model,
 * data, options); 3 an unexpected internal error (also one inside a worker
 * thread: a WorkerError).
 */
import { AdvkitError, WorkerError } from '../index.js';
import { type Command, commandHelp } from './command.js';
import { attack } from './commands/attack.js';
import { demo } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { explain } from './commands/explain.js';
import { mergeCommand } from './commands/merge.js';
import { exploreCommand } from './explore.js';
import { parseFlags, UsageError } from './flags.js';
import { trainCommand } from './train.js';

const COMMANDS: Command[] = [
  evalCommand,
  mergeCommand,
  attack,
  explain,
  demo,
  exploreCommand,
  trainCommand,
] as unknown as Command[];

function mainHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: advkit <command> [flags]',
    '',
    'Adversarial-robustness testing for TF.js image classifiers: FGSM and its family.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}${c.summary}`),
    '',
    'Run `advkit <command> --help` for its flags. Examples:',
    '  advkit demo',
    '  advkit eval --model models/mnist-cnn/model.json --data mnist:test --attacks fgsm,pgd --eps 0.1,0.3 --limit 500',
    '  advkit eval --model m/model.json --data mnist:test --attacks pgd --eps 0.3 --fail-under 0.8',
    '  advkit attack --model models/mnist-cnn/model.json --data mnist:test --attack fgsm --eps 0.2 --limit 16',
    '  advkit explain --index 3',
    '',
    'Exit codes: 0 ok, 1 --fail-under gate failed, 2 bad input, 3 internal error.',
    'Errors are one line; --verbose (any command) prints the whole message and its cause.',
    '',
  ].join('\n');
}

/** `--verbose` is global: taken out before a command parses its flags. */
const VERBOSE = '--verbose';

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv.filter((a) => a !== VERBOSE);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('advkit 0.1.0\n');
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    throw new UsageError(
      `unknown command ${JSON.stringify(name)}; expected one of ${COMMANDS.map((c) => c.name).join(', ')} (see advkit --help)`,
    );
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const args: string[] = [];
  const flags = parseFlags(
    command.flags,
    rest,
    command.positionals === undefined ? undefined : args,
  );
  return command.run(flags, args);
}

/**
 * The first line of a message that runs over several (TF.js's loader errors
 * add numbered lists of possible reasons), saying where the rest is.
 */
function firstLine(message: string): string {
  const lines = message.split('\n');
  const rest = lines.slice(1).some((l) => l.trim() !== '');
  return rest ? `${lines[0].trimEnd()} (--verbose for the rest)` : lines[0];
}

/** One line for any error; the exit code says which kind. */
export function describeError(e: unknown): { line: string; code: number } {
  if (e instanceof UsageError) return { line: firstLine(e.message), code: 2 };
  if (e instanceof WorkerError) {
    const first = e.message.split('\n')[0];
    return { line: `internal error: ${first} (set ADVKIT_DEBUG=1 for the stack)`, code: 3 };
  }
  if (e instanceof AdvkitError) return { line: firstLine(e.message), code: 2 };
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
    return { line: firstLine(err.message), code: 2 };
  }
  const msg = err instanceof Error ? err.message : String(e);
  return {
    line: `internal error: ${msg.split('\n')[0]} (set ADVKIT_DEBUG=1 for the stack)`,
    code: 3,
  };
}

/** Run the CLI on process.argv and exit. */
export async function runCli(): Promise<void> {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    const { line, code: c } = describeError(e);
    process.stderr.write(`advkit: error: ${line}\n`);
    if (process.argv.includes(VERBOSE) && e instanceof Error) {
      process.stderr.write(`${e.message}\n`);
      if (e.cause instanceof Error) process.stderr.write(`caused by: ${e.cause.message}\n`);
    }
    if (process.env.ADVKIT_DEBUG && e instanceof Error) {
      process.stderr.write(`${e.stack}\n`);
      if (e.cause instanceof Error) process.stderr.write(`caused by: ${e.cause.stack}\n`);
    }
    code = c;
  }
  // Let stdout drain (it may be a pipe), then exit explicitly.
  process.stdout.write('', () => process.exit(code));
}

const invoked = process.argv[1] ?? '';
if (/(?:^|[\\/])cli[\\/]main\.[cm]?[jt]s$/.test(invoked)) void runCli();
