/**
 * Photos in an image folder with --resize/--crop: JPEG decoding (grey, CMYK,
 * EXIF orientation, corrupt files named), PNG alpha and grey, the size check
 * against the model, the report's conversions note, labels files.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import {
  checkLabelCount,
  decodeJpeg,
  decodePhotoFile,
  loadImageFolder,
  parseLabels,
} from '../../src/node.js';
import { coded, tmp } from './helpers.js';

/** A 6×4 RGB test card: pixel (x, y) = (40x, 60y, 100). */
function card(): Buffer {
  const w = 6;
  const h = 4;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) raw.set([40 * x, 60 * y, 100], (y * w + x) * 3);
  }
  return raw;
}
const raw = (buf: Buffer, w = 6, h = 4, channels = 3) =>
  sharp(buf, { raw: { width: w, height: h, channels: channels as 3 } });

test('JPEG: grey and CMYK become RGB, with a note', async () => {
  const grey = await raw(card()).toColourspace('b-w').jpeg({ quality: 100 }).toBuffer();
  const g = decodeJpeg(new Uint8Array(grey), 'grey.jpg');
  assert.deepEqual([g.image.width, g.image.height, g.image.channels], [6, 4, 3]);
  assert.deepEqual(g.conversions, ['grey JPEG → RGB']);
  const px = g.image.data;
  assert.ok(px[0] === px[1] && px[1] === px[2], `grey pixel replicated: ${px.slice(0, 3)}`);
  // A flat colour through CMYK and back. sharp converts to CMYK through an ICC
  // profile, jpeg-js back without one (naive 255 − C·(1 − K) − K): measured
  // (191, 181, 75) for (200, 180, 100).
  const flat = Buffer.alloc(16 * 16 * 3);
  for (let i = 0; i < 256; i++) flat.set([200, 180, 100], i * 3);
  const cmyk = await raw(flat, 16, 16).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
  const c = decodeJpeg(new Uint8Array(cmyk), 'cmyk.jpg');
  assert.deepEqual(c.conversions, ['CMYK JPEG → RGB']);
  const got = [...c.image.data.slice(0, 3)];
  assert.ok(
    got.every((v, k) => Math.abs(v - [200, 180, 100][k]) <= 30),
    `CMYK pixel ≈ (200,180,100); received ${got}`,
  );
});

test('JPEG: the EXIF orientation is applied (as sharp rotates the same pixels), or ignored', async () => {
  const turn: Record<number, (s: sharp.Sharp) => sharp.Sharp> = {
    2: (s) => s.flop(),
    3: (s) => s.rotate(180),
    4: (s) => s.flip(),
    6: (s) => s.rotate(90),
    8: (s) => s.rotate(270),
  };
  for (const orientation of [2, 3, 4, 6, 8]) {
    const file = await raw(card()).jpeg({ quality: 100 }).withMetadata({ orientation }).toBuffer();
    const kept = decodeJpeg(new Uint8Array(file), 'o.jpg', { orientation: 'ignore' });
    assert.deepEqual([kept.image.width, kept.image.height], [6, 4]);
    assert.match(kept.conversions.join(), new RegExp(`EXIF orientation ${orientation} ignored`));
    const d = decodeJpeg(new Uint8Array(file), 'o.jpg');
    const want = await turn[orientation](raw(Buffer.from(kept.image.data)))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([d.image.width, d.image.height], [want.info.width, want.info.height]);
    assert.deepEqual(Buffer.from(d.image.data), want.data, `orientation ${orientation}`);
    assert.match(d.conversions.join(), new RegExp(`EXIF orientation ${orientation} applied`));
  }
});

test('a corrupt, truncated or empty photo is a DATA_LOAD error naming the file', async () => {
  const dir = tmp('photos-bad');
  const good = await raw(card()).jpeg().toBuffer();
  writeFileSync(path.join(dir, 'cut.jpg'), good.subarray(0, 40));
  writeFileSync(path.join(dir, 'empty.jpg'), '');
  writeFileSync(
    path.join(dir, 'junk.png'),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5, 6]),
  );
  for (const f of ['cut.jpg', 'empty.jpg', 'junk.png']) {
    await assert.rejects(
      decodePhotoFile(path.join(dir, f)),
      coded('DATA_LOAD', new RegExp(f.replace('.', '\\.'))),
    );
  }
});

async function photoFolder(): Promise<string> {
  const dir = tmp('photos');
  mkdirSync(path.join(dir, 'n02123045'));
  mkdirSync(path.join(dir, 'n03063599'));
  copyFileSync('examples/photos/chelsea.png', path.join(dir, 'n02123045', 'chelsea.png'));
  copyFileSync('examples/photos/coffee.png', path.join(dir, 'n03063599', 'coffee.png'));
  // A grey PNG with transparency (colour type 4), 30×20.
  const png = new PNG({ width: 30, height: 20 });
  for (let i = 0; i < 600; i++) png.data.set([i % 256, i % 256, i % 256, i < 300 ? 255 : 0], i * 4);
  writeFileSync(
    path.join(dir, 'n03063599', 'small.png'),
    PNG.sync.write(png, { colorType: 4, inputColorType: 6 }),
  );
  return dir;
}

test('an ImageNet-style folder with resize 256, crop 224: synset folders, notes, pixels in bounds', async () => {
  const dir = await photoFolder();
  const labels = parseLabels(
    'n01440764 tench, Tinca tinca\nn02123045 tabby, tabby cat\nn03063599 coffee mug\n',
    'synsets.txt',
  );
  const ds = await loadImageFolder(dir, {
    shape: [224, 224, 3],
    resize: 256,
    crop: 224,
    classNames: labels.names,
    classIds: labels.ids,
    numClasses: 3,
  });
  assert.deepEqual([...ds.labels], [1, 2, 2]);
  assert.deepEqual(ds.classNames, ['tench', 'tabby', 'coffee mug']);
  assert.equal(ds.images.length, 3 * 224 * 224 * 3);
  assert.ok(
    ds.images.every((v) => v >= 0 && v <= 1),
    'pixels scaled into [0, 1]',
  );
  assert.match(ds.notes, /Resize\(256\): shorter side to 256, aspect kept, then CenterCrop\(224\)/);
  assert.match(ds.notes, /451×300, 600×400, 30×20/);
  assert.match(ds.notes, /alpha flattened onto black/);
  assert.match(ds.notes, /grey PNG → RGB/);
  assert.match(ds.notes, /class folders → labels: n02123045 → 1 tabby, n03063599 → 2 coffee mug$/);
});

test('a plain grey PNG: kept grey for a grey model, expanded (and said so) for an RGB one', async () => {
  const dir = tmp('grey-png');
  mkdirSync(path.join(dir, 'a'));
  const png = new PNG({ width: 8, height: 6 });
  for (let i = 0; i < 48; i++) png.data.set([5 * i, 5 * i, 5 * i, 255], i * 4);
  writeFileSync(path.join(dir, 'a', 'g.png'), PNG.sync.write(png, { colorType: 0 }));
  const grey = await loadImageFolder(dir, { shape: [6, 8, 1], crop: [6, 8], bounds: [0, 255] });
  assert.deepEqual(
    [...grey.images],
    Array.from({ length: 48 }, (_, i) => 5 * i),
  );
  assert.doesNotMatch(grey.notes, /grey PNG → RGB|grayscale/);
  const rgb = await loadImageFolder(dir, { shape: [6, 8, 3], crop: [6, 8] });
  assert.match(rgb.notes, /grey PNG → RGB/);
});

test('a photo that does not come out at the model size is an error naming it and the fix', async () => {
  const dir = await photoFolder();
  await assert.rejects(
    loadImageFolder(dir, { shape: [224, 224, 3], resize: 256 }),
    coded(
      'DATA_LOAD',
      /chelsea\.png \(451×300\) becomes 384×256 after resize 256.*224×224; add a crop \(--crop 224\)/,
    ),
  );
  // Crop alone: the 30×20 photo is smaller than 32×32 and padded.
  const padded = await loadImageFolder(dir, { shape: [32, 32, 1], crop: 32 });
  assert.match(padded.notes, /1 images smaller than the crop were zero-padded/);
  assert.match(padded.notes, /converted RGB → grayscale/);
  await assert.rejects(
    loadImageFolder(dir, { shape: [224, 224, 3], resize: 0 }),
    coded('INVALID_OPTION', /resize must be a positive integer/),
  );
});

test('labels files: lines, JSON, synset mapping; repeats get their index; count checked', () => {
  assert.deepEqual(parseLabels('cat\ndog\r\n', 'a.txt'), { names: ['cat', 'dog'] });
  assert.deepEqual(parseLabels('["cat", "dog"]', 'a.json'), { names: ['cat', 'dog'] });
  assert.deepEqual(parseLabels('n1 x\nn2 y', 'mixed.txt').names, ['n1 x', 'n2 y']);
  assert.deepEqual(parseLabels('crane\nheron\ncrane', 'r.txt').names, [
    'crane (0)',
    'heron',
    'crane (2)',
  ]);
  assert.throws(() => parseLabels('["cat", 3]', 'b.json'), coded('INVALID_LABELS', /b\.json/));
  assert.throws(() => parseLabels('[cat', 'c.json'), coded('INVALID_LABELS', /not valid JSON/));
  assert.throws(() => parseLabels('cat\n\ndog', 'd.txt'), coded('INVALID_LABELS', /line 2/));
  assert.throws(
    () => parseLabels('["cat", " "]', 'd.json'),
    coded('INVALID_LABELS', /class 1 \(entry 1 of the JSON array\) is empty/),
  );
  assert.throws(
    () => checkLabelCount({ names: ['a', 'b'] }, 1000, 'e.txt'),
    coded('CLASS_COUNT_MISMATCH', /e\.txt names 2 classes but the model outputs 1000/),
  );
});
