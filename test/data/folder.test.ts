import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { loadImageFolder } from '../../src/node.js';
import { coded, tmp } from './helpers.js';

/** `conversions` lists `what`; the message shows what it lists instead. */
function assertConversion(conversions: string[], what: string): void {
  assert.ok(conversions.includes(what), `no "${what}" among: ${conversions.join('; ')}`);
}

const RED = { r: 250, g: 10, b: 10 };
const BLUE = { r: 10, g: 10, b: 250 };

/** dir/cat/{0.png,1.jpg} red 40×30, dir/dog/{0.png,1.jpg} blue 40×30, dir/dog/readme.txt. */
async function makeFolder(): Promise<string> {
  const dir = tmp('folder');
  for (const [cls, background] of [
    ['cat', RED],
    ['dog', BLUE],
  ] as const) {
    mkdirSync(path.join(dir, cls));
    const img = () => sharp({ create: { width: 40, height: 30, channels: 3, background } });
    await img()
      .png()
      .toFile(path.join(dir, cls, '0.png'));
    await img()
      .jpeg({ quality: 95 })
      .toFile(path.join(dir, cls, '1.jpg'));
  }
  writeFileSync(path.join(dir, 'dog', 'readme.txt'), 'not an image');
  return dir;
}

test('sub-folder labels (sorted), RGB kept, resized; conversions listed', async () => {
  const dir = await makeFolder();
  const ds = await loadImageFolder(dir, { shape: [8, 8, 3] });
  assert.deepEqual(ds.classNames, ['cat', 'dog']);
  assert.equal(ds.numClasses, 2);
  assert.deepEqual(Array.from(ds.labels), [0, 0, 1, 1]);
  assert.deepEqual(ds.shape, [8, 8, 3]);
  assert.equal(ds.images.length, 4 * 8 * 8 * 3);
  assert.deepEqual(ds.conversions, [
    'resized from 40×30 to 8×8 by stretching (sharp fit "fill", Lanczos-3 resampling; no crop, the aspect ratio is not kept)',
    "note: 4 of 4 images have an aspect ratio more than 10 % away from the model's 8×8 (40×30), so stretching distorts them; crop them to the model's aspect first if that matters",
    'pixels scaled from 0–255 to [0, 1]',
    '1 non-image files skipped',
    'class folders → labels: cat → 0, dog → 1',
  ]);
  assert.equal(ds.notes, ds.conversions.join('; '));
  // First pixel of the red cat: R ≈ 250/255, B ≈ 10/255 (JPEG within a few levels).
  for (const i of [0, 8 * 8 * 3]) {
    assert.ok(Math.abs(ds.images[i] - 250 / 255) < 0.03, `R ${ds.images[i]}`);
    assert.ok(Math.abs(ds.images[i + 2] - 10 / 255) < 0.03, `B ${ds.images[i + 2]}`);
  }
});

test('classNames fix the label order; grayscale and [0, 255] conversions', async () => {
  const dir = await makeFolder();
  const ds = await loadImageFolder(dir, {
    shape: [28, 28, 1],
    bounds: [0, 255],
    classNames: ['dog', 'cat', 'bird'],
    limit: 3,
    offset: 1,
  });
  // Listing order is the sub-folders sorted (cat, dog); offset 1, limit 3.
  assert.deepEqual(Array.from(ds.labels), [1, 0, 0]);
  assert.deepEqual(ds.classNames, ['dog', 'cat', 'bird']);
  assertConversion(ds.conversions, 'converted RGB → grayscale');
  assertConversion(ds.conversions, 'pixels scaled from 0–255 to [0, 255]');
  assert.ok(
    ds.images.every((v) => v >= 0 && v <= 255),
    'ds.images.every((v) => v >= 0 && v <= 255)',
  );
  // Rec. 601-ish luma of (250, 10, 10) is about 80; of (10, 10, 250) about 35.
  assert.ok(ds.images[0] > ds.images[28 * 28], 'red is brighter than blue in gray');
  assert.match(ds.source, /images 1\.\.3 of 4/);
});

test('grayscale → RGB and alpha flattened onto black', async () => {
  const dir = tmp('folder-gray');
  mkdirSync(path.join(dir, 'a'));
  const gray = Buffer.alloc(6 * 6, 200);
  await sharp(gray, { raw: { width: 6, height: 6, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toFile(path.join(dir, 'a', 'g.png'));
  await sharp({
    create: { width: 6, height: 6, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } },
  })
    .png()
    .toFile(path.join(dir, 'a', 't.png'));
  const ds = await loadImageFolder(dir, { shape: [6, 6, 3] });
  assertConversion(ds.conversions, 'converted grayscale → RGB');
  assertConversion(ds.conversions, 'alpha flattened onto black');
  assert.ok(
    !ds.conversions.some((c) => c.startsWith('resized')),
    "!ds.conversions.some((c) => c.startsWith('resized'))",
  );
  assert.ok(
    Math.abs(ds.images[0] - 200 / 255) < 1e-6 && ds.images[1] === ds.images[0],
    'Math.abs(ds.images[0] - 200 / 255) < 1e-6 && ds.images[1] === ds.images[0]',
  );
  assert.equal(ds.images[6 * 6 * 3], 0, 'transparent white is black');
});

test('CSV labels by class name or index, with a header; sorted names when none given', async () => {
  const dir = await makeFolder();
  const csv = path.join(dir, 'labels.csv');
  writeFileSync(csv, 'file,label\ncat/0.png,dog\n"dog/1.jpg",0\r\n\ndog/0.png,dog\n');
  const ds = await loadImageFolder(dir, {
    shape: [8, 8, 3],
    labels: { csv },
    classNames: ['cat', 'dog'],
  });
  assert.deepEqual(Array.from(ds.labels), [1, 0, 1]);
  assert.match(ds.source, /labels from .*labels\.csv/);
  const byName = await loadImageFolder(dir, { shape: [8, 8, 3], labelsCsv: csv });
  // Mixed names and an index without classNames: every label is a name.
  assert.deepEqual(byName.classNames, ['0', 'dog']);
  writeFileSync(csv, 'cat/0.png,2\ndog/0.png,0\n');
  const byIndex = await loadImageFolder(dir, { shape: [8, 8, 3], labels: { csv } });
  assert.deepEqual(byIndex.classNames, ['0', '1', '2']);
  assert.deepEqual(Array.from(byIndex.labels), [2, 0]);
});

test('bad folders, images, CSV rows and options are coded errors naming the input', async () => {
  const dir = await makeFolder();
  const csv = path.join(dir, 'labels.csv');
  const shape = [8, 8, 3] as const;
  writeFileSync(csv, 'file,label\ncat/0.png,dog\ncat/1.jpg,bird\n');
  await assert.rejects(
    loadImageFolder(dir, { shape, labels: { csv }, classNames: ['cat', 'dog'] }),
    coded(
      'DATA_LOAD',
      /labels\.csv line 3: unknown label "bird" for cat\/1\.jpg; expected one of the classes \[cat, dog\] or an index 0–1/,
    ),
  );
  writeFileSync(csv, 'cat/0.png,7\n');
  await assert.rejects(
    loadImageFolder(dir, { shape, labels: { csv }, classNames: ['cat', 'dog'] }),
    coded('DATA_LOAD', /unknown label "7"/),
  );
  writeFileSync(csv, 'cat/0.png\n');
  await assert.rejects(
    loadImageFolder(dir, { shape, labels: { csv } }),
    coded('DATA_LOAD', /line 1: expected two cells file,label/),
  );
  writeFileSync(csv, 'cat/missing.png,cat\n');
  await assert.rejects(
    loadImageFolder(dir, { shape, labels: { csv } }),
    coded('DATA_LOAD', /cannot read image .*missing\.png/),
  );
  await assert.rejects(
    loadImageFolder(dir, { shape, labels: { csv: path.join(dir, 'nope.csv') } }),
    coded('DATA_LOAD', /cannot read the labels CSV .*nope\.csv/),
  );
  await assert.rejects(
    loadImageFolder(dir, { shape, classNames: ['cat'] }),
    coded('DATA_LOAD', /sub-folder\(s\) dog .* not among the class names \[cat\]/),
  );
  writeFileSync(path.join(dir, 'cat', '2.png'), 'not an image');
  await assert.rejects(
    loadImageFolder(dir, { shape }),
    coded('DATA_LOAD', /cannot read image .*cat\/2\.png/),
  );
  await assert.rejects(
    loadImageFolder(path.join(dir, 'absent'), { shape }),
    coded('DATA_LOAD', /image folder ".*absent" does not exist/),
  );
  await assert.rejects(
    loadImageFolder(tmp('empty'), { shape }),
    coded('DATA_LOAD', /has no class sub-folders/),
  );
  await assert.rejects(
    loadImageFolder(dir, { shape: [8, 8, 4] }),
    coded('INVALID_SHAPE', /channels 1 or 3; received \[8,8,4\]/),
  );
  await assert.rejects(
    loadImageFolder(dir, { shape, bounds: [1, 0] }),
    coded('INVALID_OPTION', /bounds.*\[1,0\]/),
  );
  await assert.rejects(
    loadImageFolder(dir, { shape, labels: 'subfolders', labelsCsv: csv }),
    coded('INVALID_OPTION', /labels or labelsCsv, not both/),
  );
  await assert.rejects(
    loadImageFolder(dir, { shape, limit: 0 }),
    coded('INVALID_OPTION', /limit must be an integer ≥ 1; received 0/),
  );
});
