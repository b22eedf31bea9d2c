/**
 * `advkit eval` on a folder of photos of a single class (issue 17): a
 * 5-class model, one sub-folder `2` of RGB photos of another size; the
 * report says which classes the data covers, the folder → class mapping and
 * the resize. `--classes` maps a named folder to the model's class.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { writeFixtureModel } from './fixture-model.js';
import { cli, errorLine, tempDir } from './helpers.js';

let model5: string;

async function photos(dir: string, folder: string, n: number): Promise<void> {
  mkdirSync(path.join(dir, folder), { recursive: true });
  for (let i = 0; i < n; i++) {
    await sharp({
      create: {
        width: 40,
        height: 30,
        channels: 3,
        background: { r: 40 * i, g: 100, b: 200 - 30 * i },
      },
    })
      .jpeg()
      .toFile(path.join(dir, folder, `${i}.jpg`));
  }
}

const run = (data: string, out: string, ...extra: string[]) =>
  cli([
    'eval',
    '--model',
    model5,
    '--data',
    data,
    '--attacks',
    'fgsm',
    '--eps',
    '0.1',
    '--out',
    out,
    ...extra,
  ]);

before(async () => {
  model5 = await writeFixtureModel(path.join(tempDir(), 'm5'), 5);
});

describe('advkit eval on a folder of one class', () => {
  it('runs, and the report lists the class covered, the mapping and the resize', async () => {
    const data = tempDir('advkit-photos-');
    await photos(data, '2', 3);
    const out = tempDir();
    const r = await run(data, out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /3 examples of 1 of the model's 5 classes \(2\)/);
    assert.match(r.stdout, /output logits: last layer .* is not a softmax/);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    assert.equal(report.data.examples, 3);
    assert.deepEqual(report.data.classesCovered, [{ label: 2, name: '2', examples: 3 }]);
    assert.match(report.data.notes, /class folders → labels: 2 → 2/);
    assert.match(report.data.notes, /resized from 40×30 to 28×28 by stretching/);
    assert.match(report.data.notes, /aspect ratio more than 10 %/);
    const md = readFileSync(path.join(out, 'report.md'), 'utf8');
    assert.match(md, /\| Classes covered \| 1 of the model's 5: 2 × 3 \|/);
    assert.match(
      md,
      /\| Model output \| logits \(last layer .* is not a softmax: taken as logits\) \|/,
    );
  });

  it('--classes maps a named folder to its model class; a folder outside the classes is one error line', async () => {
    const data = tempDir('advkit-photos-');
    await photos(data, 'cat', 2);
    const out = tempDir();
    const r = await run(data, out, '--classes', 'bird,dog,cat,fish,frog');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    assert.deepEqual(report.data.classesCovered, [{ label: 2, name: 'cat', examples: 2 }]);
    const bad = tempDir('advkit-photos-');
    await photos(bad, '7', 1);
    const r2 = await run(bad, tempDir());
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(
      errorLine(r2),
      /sub-folder 7 of .* is class 7, but the model outputs 5 classes \(0–4\)/,
    );
  });
});
