/**
 * The CLI's photo flags as loadData reads them: --resize/--crop on a photo
 * folder, --labels checked against the model's class count and used as the
 * class names, and the flags refused where they mean nothing (MNIST).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadData, photoSize } from '../../src/cli/data.js';
import { UsageError } from '../../src/cli/flags.js';
import { type Classifier, setBackend } from '../../src/index.js';
import { writeFixtureModel } from './fixture-model.js';
import { cli, tempDir } from './helpers.js';

const model = (numClasses: number) =>
  ({ inputShape: [224, 224, 3], bounds: [0, 1], numClasses }) as unknown as Classifier;

test('--resize/--crop values: N or HxW', () => {
  assert.equal(photoSize('256', 'resize'), 256);
  assert.deepEqual(photoSize('224x192', 'crop'), [224, 192]);
  assert.throws(() => photoSize('0', 'crop'), /--crop must be a positive integer or HEIGHTxWIDTH/);
  assert.throws(() => photoSize('224x', 'crop'), UsageError);
});

test('a photo folder with --resize 256 --crop 224 --labels: class names from the file', async () => {
  const dir = tempDir('advkit-photos-');
  mkdirSync(path.join(dir, 'cat'));
  copyFileSync('examples/photos/chelsea.png', path.join(dir, 'cat', 'chelsea.png'));
  const labels = path.join(dir, '..', `${path.basename(dir)}-labels.txt`);
  writeFileSync(labels, 'dog\ncat\nmug\n');
  const ds = await loadData({ data: dir, labels, resize: 256, crop: 224, offset: 0 }, model(3));
  assert.deepEqual([...ds.labels], [1]);
  assert.deepEqual(ds.classNames, ['dog', 'cat', 'mug']);
  assert.match(ds.notes ?? '', /Resize\(256\).*CenterCrop\(224\)/);
  await assert.rejects(
    loadData({ data: dir, labels, offset: 0, resize: 256, crop: 224 }, model(1000)),
    /names 3 classes but the model outputs 1000/,
  );
  await assert.rejects(
    loadData({ data: 'mnist:test', crop: 224, offset: 0 }, model(10)),
    /--crop is for an image folder/,
  );
  await assert.rejects(
    loadData({ data: 'mnist:test:3,7', labels, offset: 0 }, model(3)),
    (e) => e instanceof UsageError && /--labels names all the model's classes/.test(e.message),
  );
});

test('advkit eval on a photo folder with --resize --crop --labels: the report names the transform and classes', async () => {
  const dir = tempDir('advkit-photos-');
  mkdirSync(path.join(dir, 'Neutral'));
  copyFileSync('examples/photos/coffee.png', path.join(dir, 'Neutral', 'coffee.png'));
  // A small 5-class 28×28×1 model: the photo is resized, cropped and made grey for it.
  await setBackend('cpu');
  const model = await writeFixtureModel(path.join(tempDir(), 'm5'), 5);
  const labels = 'models/nsfw-mobilenet/labels.txt';
  const out = tempDir();
  const run = (...extra: string[]) =>
    cli(['eval', '--model', model, '--data', dir, '--labels', ...extra, '--quiet']);
  const r = await run(
    labels,
    '--resize',
    '32',
    '--crop',
    '28',
    '--attacks',
    'fgsm',
    '--eps',
    '0.1',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  const md = readFileSync(path.join(out, 'report.md'), 'utf8');
  assert.match(md, /Resize\(32\): shorter side to 32, aspect kept, then CenterCrop\(28\)/);
  assert.match(md, /from 600×400/);
  assert.match(md, /converted RGB → grayscale/);
  assert.match(md, /Neutral/);
  const bad = await run('examples/labels/imagenet-classes.txt', '--crop', '28', '--out', tempDir());
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /names 1000 classes but the model outputs 5/);
});
