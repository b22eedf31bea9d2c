/**
 * Spawning the CLI the way a user runs it (`node --import tsx src/cli/main.ts`)
 * and collecting its output and exit code.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CNN = path.join(ROOT, 'models', 'mnist-cnn', 'model.json');
export const LOGREG_3V7 = path.join(ROOT, 'models', 'mnist-logreg-3v7', 'model.json');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      { cwd: options.cwd ?? ROOT, env: { ...process.env, ADVKIT_DEBUG: '', ...options.env } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function tempDir(prefix = 'advkit-cli-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** The one-line error contract: exactly one line, prefixed, no stack trace. */
export function errorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1 || !lines[0].startsWith('advkit: error: ')) {
    throw new Error(`expected one error line on stderr; got:\n${r.stderr}`);
  }
  return lines[0];
}
