/**
 * `advkit demo` flags that leave nothing to run are refused before any work:
 * no backend started, no output folder made; the photo part runs only when
 * every file it reads is there.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { photoDemoPaths } from '../../src/cli/commands/demo-photos.js';
import { cli, errorLine, tempDir } from './helpers.js';

test('demo --photos-only --no-photos: a usage error, and no --out folder left behind', async () => {
  const out = path.join(tempDir(), 'demo');
  const r = await cli(['demo', '--photos-only', '--no-photos', '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(errorLine(r), /--photos-only and --no-photos leave nothing to run/);
  assert.equal(existsSync(out), false, 'the output folder is not created');
});

test('the photo part needs the model, its labels.txt and the photos labels CSV', () => {
  const root = tempDir();
  mkdirSync(path.join(root, 'models', 'nsfw-mobilenet'), { recursive: true });
  mkdirSync(path.join(root, 'examples', 'photos'), { recursive: true });
  writeFileSync(path.join(root, 'models', 'nsfw-mobilenet', 'model.json'), '{}');
  writeFileSync(path.join(root, 'examples', 'photos', 'nsfw-labels.csv'), '');
  assert.equal(photoDemoPaths(root), undefined, 'no labels.txt: skipped, not a crash');
  writeFileSync(path.join(root, 'models', 'nsfw-mobilenet', 'labels.txt'), 'a\nb\n');
  assert.deepEqual(photoDemoPaths(root), {
    model: path.join(root, 'models', 'nsfw-mobilenet'),
    photos: path.join(root, 'examples', 'photos'),
  });
});
