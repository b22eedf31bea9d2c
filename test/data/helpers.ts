import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdvkitError } from '../../src/node.js';

export const tmp = (tag: string): string => mkdtempSync(path.join(tmpdir(), `advkit-${tag}-`));

/** An assert.throws/rejects predicate: an AdvkitError with this code and a matching message. */
export const coded = (code: string, re: RegExp) => (e: unknown) =>
  e instanceof AdvkitError && e.code === code && re.test(e.message);
