/**
 * `advkit demo` flags that leave nothing to run are refused before any work:
 * no backend started, no output folder made.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cli, errorLine, tempDir } from './helpers.js';

test('demo --photos-only --no-photos: a usage error, and no --out folder left behind', async () => {
  const out = path.join(tempDir(), 'demo');
  const r = await cli(['demo', '--photos-only', '--no-photos', '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(errorLine(r), /--photos-only and --no-photos leave nothing to run/);
  assert.equal(existsSync(out), false, 'the output folder is not created');
});
