import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import {
  AdvkitError,
  encodePng,
  loadImageFolder,
  loadMnist,
  sliceDataset,
  writePng,
} from '../../src/node.js';

const coded = (code: string, re: RegExp) => (e: unknown) =>
  e instanceof AdvkitError && e.code === code && re.test(e.message);

test('MNIST test split: 10,000 images in [0, 1] with labels 0–9', () => {
  const ds = loadMnist('test');
  assert.equal(ds.labels.length, 10000);
  assert.equal(ds.images.length, 10000 * 784);
  assert.deepEqual(ds.shape, [28, 28, 1]);
  let lo = 1;
  let hi = 0;
  for (const v of ds.images) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  // The first test digits are 7, 2, 1, 0, 4 (a well-known fact of MNIST).
  assert.deepEqual(Array.from(ds.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);
  const counts = new Array(10).fill(0);
  for (const y of ds.labels) counts[y]++;
  assert.ok(counts.every((c) => c > 800));
});

test('MNIST limit, offset and digit filter (relabelled in the given order)', () => {
  const ds = loadMnist('test', { digits: [3, 7], limit: 50, offset: 5 });
  assert.equal(ds.labels.length, 50);
  assert.equal(ds.numClasses, 2);
  assert.deepEqual(ds.classNames, ['3', '7']);
  assert.ok(ds.labels.every((y) => y === 0 || y === 1));
  const all = loadMnist('test', { digits: [3, 7] });
  assert.deepEqual(Array.from(ds.labels), Array.from(all.labels.subarray(5, 55)));
  const part = sliceDataset(ds, 2, 4);
  assert.deepEqual(part.shape, [2, 28, 28, 1]);
  assert.throws(
    () => loadMnist('test', { offset: 20000 }),
    coded('INVALID_OPTION', /past the end/),
  );
  assert.throws(() => loadMnist('test', { digits: [11] }), coded('INVALID_OPTION', /digits/));
  assert.throws(() => loadMnist('valid' as 'test'), coded('INVALID_OPTION', /split/));
});

async function makeFolder(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'advkit-data-'));
  for (const [cls, colour] of [
    ['cat', { r: 250, g: 10, b: 10 }],
    ['dog', { r: 10, g: 10, b: 250 }],
  ] as const) {
    mkdirSync(path.join(dir, cls));
    for (let i = 0; i < 2; i++) {
      const img = sharp({ create: { width: 40, height: 30, channels: 3, background: colour } });
      await (i === 0 ? img.png() : img.jpeg()).toFile(
        path.join(dir, cls, `${i}.${i === 0 ? 'png' : 'jpg'}`),
      );
    }
  }
  return dir;
}

test('image folder: labels from sub-folders, resized and converted, notes say so', async () => {
  const dir = await makeFolder();
  const rgb = await loadImageFolder(dir, { shape: [8, 8, 3] });
  assert.deepEqual(rgb.classNames, ['cat', 'dog']);
  assert.deepEqual(Array.from(rgb.labels), [0, 0, 1, 1]);
  assert.match(rgb.notes ?? '', /resized from 40×30 to 8×8/);
  assert.ok(rgb.images[0] > 0.9 && rgb.images[2] < 0.1, 'red cat pixel');
  const gray = await loadImageFolder(dir, { shape: [28, 28, 1], bounds: [0, 255] });
  assert.match(gray.notes ?? '', /colour → grayscale/);
  assert.match(gray.notes ?? '', /\[0, 255\]/);
  assert.ok(gray.images.every((v) => v >= 0 && v <= 255));
});

test('image folder: labels from a CSV by index or class name; bad rows and files are coded errors', async () => {
  const dir = await makeFolder();
  const csv = path.join(dir, 'labels.csv');
  writeFileSync(csv, 'file,label\ncat/0.png,dog\ndog/1.jpg,cat\n');
  const ds = await loadImageFolder(dir, {
    shape: [8, 8, 3],
    labelsCsv: csv,
    classNames: ['cat', 'dog'],
  });
  assert.deepEqual(Array.from(ds.labels), [1, 0]);
  writeFileSync(csv, 'cat/0.png,bird\n');
  await assert.rejects(
    loadImageFolder(dir, { shape: [8, 8, 3], labelsCsv: csv, classNames: ['cat', 'dog'] }),
    coded('DATA_LOAD', /line 1/),
  );
  writeFileSync(path.join(dir, 'cat', '2.png'), 'not an image');
  await assert.rejects(
    loadImageFolder(dir, { shape: [8, 8, 3] }),
    coded('DATA_LOAD', /cannot read image/),
  );
  await assert.rejects(
    loadImageFolder('/nonexistent/x', { shape: [8, 8, 3] }),
    coded('DATA_LOAD', /does not exist/),
  );
});

test('PNG round trip of a pixel-space image', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'advkit-png-'));
  const px = Float32Array.from({ length: 12 }, (_, i) => (i * 255) / 11);
  const file = path.join(dir, 'a.png');
  writePng(file, px, [3, 4, 1], [0, 255]);
  const back = PNG.sync.read(readFileSync(file));
  assert.equal(back.width, 4);
  assert.equal(back.height, 3);
  for (let i = 0; i < 12; i++) assert.equal(back.data[i * 4], Math.round(px[i]));
  assert.ok(encodePng(px, [3, 4, 1], [0, 255]).length > 8);
});
