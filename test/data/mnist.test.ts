import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadMnist, mnistDataDir } from '../../src/node.js';
import { coded, tmp } from './helpers.js';

test('MNIST test split: 10,000 images of 28×28×1 in [0, 1], labels 0–9, in well under a second', () => {
  const t0 = performance.now();
  const ds = loadMnist('test');
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  assert.equal(ds.labels.length, 10000);
  assert.equal(ds.images.length, 10000 * 784);
  assert.deepEqual(ds.shape, [28, 28, 1]);
  assert.equal(ds.numClasses, 10);
  assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  let lo = 1;
  let hi = 0;
  for (const v of ds.images) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.equal(lo, 0);
  assert.equal(hi, 1);
  // The first test digits are 7, 2, 1, 0, 4; the first training digits 5, 0, 4, 1, 9.
  assert.deepEqual(Array.from(ds.labels.subarray(0, 5)), [7, 2, 1, 0, 4]);
  const counts = new Array(10).fill(0);
  for (const y of ds.labels) counts[y]++;
  // Published class counts of the MNIST test set.
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  const train = loadMnist('train', { limit: 5 });
  assert.deepEqual(Array.from(train.labels), [5, 0, 4, 1, 9]);
});

test('MNIST limit, offset and digit filter (relabelled in the given order)', () => {
  const ds = loadMnist('test', { digits: [7, 3], limit: 50, offset: 5 });
  assert.equal(ds.labels.length, 50);
  assert.equal(ds.numClasses, 2);
  assert.deepEqual(ds.classNames, ['7', '3']);
  const all = loadMnist('test', { digits: [7, 3] });
  assert.equal(all.labels.length, 1028 + 1010);
  assert.equal(all.labels.filter((y) => y === 0).length, 1028, 'class 0 is the 7s');
  assert.deepEqual(Array.from(ds.labels), Array.from(all.labels.subarray(5, 55)));
  assert.deepEqual(ds.images, all.images.subarray(5 * 784, 55 * 784));
  assert.equal(all.labels[0], 0, 'the first test digit, a 7');
  assert.match(ds.source, /digits 7,3.*examples 5\.\.54/);
});

test('MNIST option errors name the option and the value', () => {
  assert.throws(
    () => loadMnist('test', { offset: 20000 }),
    coded('INVALID_OPTION', /offset 20000 is past the end/),
  );
  assert.throws(() => loadMnist('test', { digits: [11] }), coded('INVALID_OPTION', /\[11\]/));
  assert.throws(() => loadMnist('test', { digits: [] }), coded('INVALID_OPTION', /digits/));
  assert.throws(() => loadMnist('test', { digits: [3, 3] }), coded('INVALID_OPTION', /distinct/));
  assert.throws(() => loadMnist('test', { limit: 0 }), coded('INVALID_OPTION', /limit.*0/));
  assert.throws(() => loadMnist('valid' as 'test'), coded('INVALID_OPTION', /"valid"/));
});

test('MNIST from another folder: gzip files read; missing, corrupt and truncated files are DATA_LOAD errors', () => {
  const src = mnistDataDir();
  const dir = tmp('mnist');
  const labels = readFileSync(path.join(src, 't10k-labels-idx1-ubyte'));
  const images = readFileSync(path.join(src, 't10k-images-idx3-ubyte'));
  writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(labels));
  writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(images));
  const gz = loadMnist('test', { dir, limit: 3 });
  assert.deepEqual(Array.from(gz.labels), [7, 2, 1]);
  assert.match(gz.source, /from /);

  const bad = tmp('mnist-bad');
  assert.throws(
    () => loadMnist('test', { dir: bad }),
    coded('DATA_LOAD', /cannot read MNIST file .*t10k-images-idx3-ubyte/),
  );
  writeFileSync(path.join(bad, 't10k-images-idx3-ubyte'), 'not an idx file at all');
  copyFileSync(path.join(src, 't10k-labels-idx1-ubyte'), path.join(bad, 't10k-labels-idx1-ubyte'));
  assert.throws(
    () => loadMnist('test', { dir: bad }),
    coded('DATA_LOAD', /not an MNIST IDX file: magic number \d+.*expected magic 2051/),
  );
  writeFileSync(path.join(bad, 't10k-images-idx3-ubyte'), images.subarray(0, 16 + 784 * 10));
  assert.throws(
    () => loadMnist('test', { dir: bad }),
    coded('DATA_LOAD', /truncated or do not match.*10000 images of 28×28/),
  );
});
