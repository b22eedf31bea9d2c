/**
 * advkit's Resize/CenterCrop against torchvision 0.14 + PIL 9.4 on the
 * committed photos (expected pixels made by
 * scripts/fixtures/photos/resize_reference.py): bit-identical on PNGs; on a
 * JPEG within the few levels by which jpeg-js's decoder differs from
 * libjpeg's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PNG } from 'pngjs';
import {
  applyPhotoTransform,
  centerCrop,
  decodePhotoFile,
  resizeBilinear,
  shorterSideSize,
  toChannels,
} from '../../src/node.js';

const DIR = 'test/data/fixtures/photo-resize';
const cases = JSON.parse(readFileSync(path.join(DIR, 'cases.json'), 'utf8')).cases as {
  name: string;
  photo: string;
  channels: 1 | 3;
  resize: number | [number, number] | null;
  crop: number | [number, number] | null;
  width: number;
  height: number;
  expected: string;
  exact: boolean;
}[];

function expectedPixels(file: string, channels: number): Uint8Array {
  const png = PNG.sync.read(readFileSync(path.join(DIR, file)));
  const px = png.width * png.height;
  return Uint8Array.from({ length: px * channels }, (_, i) =>
    channels === 1 ? png.data[i * 4] : png.data[Math.floor(i / 3) * 4 + (i % 3)],
  );
}

for (const c of cases) {
  test(`${c.name}: advkit's resize/crop ${c.exact ? 'equals' : 'is within a JPEG decoder of'} torchvision's`, async () => {
    const { image } = await decodePhotoFile(path.join('examples/photos', c.photo));
    const out = applyPhotoTransform(toChannels(image, c.channels), {
      ...(c.resize !== null ? { resize: c.resize } : {}),
      ...(c.crop !== null ? { crop: c.crop } : {}),
    }).image;
    assert.deepEqual([out.width, out.height, out.channels], [c.width, c.height, c.channels]);
    const want = expectedPixels(c.expected, c.channels);
    let maxDiff = 0;
    let sum = 0;
    let differ = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(out.data[i] - want[i]);
      maxDiff = Math.max(maxDiff, d);
      sum += d;
      if (d > 0) differ++;
    }
    if (c.exact) {
      assert.equal(differ, 0, `${differ} of ${want.length} values differ (max ${maxDiff})`);
    } else {
      // Measured: mean 0.58, max 2 levels on rocket.jpg at 64/56.
      assert.ok(sum / want.length < 1, `mean |diff| ${sum / want.length} levels`);
      assert.ok(maxDiff <= 8, `max |diff| ${maxDiff} levels`);
    }
  });
}

test("shorterSideSize truncates the long side as torchvision's Resize(int) does", () => {
  assert.deepEqual(shorterSideSize(451, 300, 256), { width: 384, height: 256 }); // 384.85…
  assert.deepEqual(shorterSideSize(300, 451, 256), { width: 256, height: 384 });
  assert.deepEqual(shorterSideSize(512, 512, 256), { width: 256, height: 256 });
});

test('resizeBilinear keeps a constant image constant and skips an axis whose size is kept', () => {
  const img = { width: 7, height: 5, channels: 3 as const, data: new Uint8Array(105).fill(77) };
  const down = resizeBilinear(img, 3, 2);
  assert.ok(
    down.data.every((v) => v === 77),
    'a constant stays constant (weights sum to one)',
  );
  const up = resizeBilinear(img, 19, 5);
  assert.ok(
    up.data.every((v) => v === 77),
    'upsampling a constant',
  );
  const same = resizeBilinear(img, 7, 5);
  assert.equal(same, img);
});

test('centerCrop pads with zeros where the crop is larger, offsets round half to even', () => {
  // 1×3 row 10 20 30, crop to 1×6: pad ⌊3/2⌋ = 1 before, 2 after.
  const row = { width: 3, height: 1, channels: 1 as const, data: Uint8Array.from([10, 20, 30]) };
  assert.deepEqual([...centerCrop(row, 1, 6).data], [0, 10, 20, 30, 0, 0]);
  // width 4 → 1: offset round(1.5) = 2 (Python), not 2 by chance: 5 → 2 is round(1.5) too; 6 → 1 is round(2.5) = 2.
  const six = {
    width: 6,
    height: 1,
    channels: 1 as const,
    data: Uint8Array.from([0, 1, 2, 3, 4, 5]),
  };
  assert.deepEqual([...centerCrop(six, 1, 1).data], [2]);
  assert.deepEqual([...centerCrop(six, 1, 3).data], [2, 3, 4]); // round(1.5) = 2
});
