/**
 * `npm run bench:photos`: what preparing photos costs per image — decoding
 * (jpeg-js for JPEG, pngjs for PNG, the pure-JS decoders the folder loader
 * uses) and torchvision's Resize(256) + CenterCrop(224) (PIL's antialiased
 * bilinear, src/data/resize.ts) — on the committed photos and on one large
 * camera-sized JPEG made here (the astronaut upscaled to 4032×3024 by sharp),
 * beside sharp (libvips: native decode and its own resize) on the same files
 * in the same run. Each case is timed `--runs` times, interleaved; medians.
 *
 *   npm run bench:photos -- --runs 5
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { applyPhotoTransform, decodePng, toChannels } from '../src/data/index.js';
import { decodeJpeg, isJpeg } from '../src/data/jpeg.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

const files: { name: string; bytes: Uint8Array }[] = [
  'astronaut.jpg',
  'rocket.jpg',
  'chelsea.png',
  'coffee.png',
].map((name) => ({ name, bytes: new Uint8Array(readFileSync(`examples/photos/${name}`)) }));
files.push({
  name: 'astronaut 4032×3024 (q 90)',
  bytes: new Uint8Array(
    await sharp(files[0].bytes)
      .resize(4032, 3024, { fit: 'fill' })
      .jpeg({ quality: 90 })
      .toBuffer(),
  ),
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (f: () => unknown) => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

const rows: string[][] = [];
for (const f of files) {
  const jpeg = isJpeg(f.bytes);
  const t = { decode: [] as number[], resize: [] as number[], sharp: [] as number[] };
  for (let r = 0; r < runs; r++) {
    let img = jpeg ? decodeJpeg(f.bytes, f.name).image : decodePng(f.bytes, f.name).image;
    t.decode.push(
      await time(() => {
        img = jpeg ? decodeJpeg(f.bytes, f.name).image : decodePng(f.bytes, f.name).image;
      }),
    );
    t.resize.push(
      await time(() => applyPhotoTransform(toChannels(img, 3), { resize: 256, crop: 224 })),
    );
    t.sharp.push(
      await time(() =>
        sharp(f.bytes)
          .resize(256, 256, { fit: 'outside', kernel: 'linear' })
          .extract({ left: 0, top: 0, width: 224, height: 224 })
          .raw()
          .toBuffer(),
      ),
    );
  }
  const [d, z, s] = [median(t.decode), median(t.resize), median(t.sharp)];
  rows.push([f.name, d.toFixed(1), z.toFixed(1), (d + z).toFixed(1), s.toFixed(1)]);
}
const head = ['photo', 'decode ms', 'resize+crop ms', 'advkit ms', 'sharp ms'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padStart(w[i])).join('  '));
