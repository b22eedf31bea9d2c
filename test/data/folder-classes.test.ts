/**
 * Which class each image of a folder is (issues 13 and 17): numeric
 * sub-folders are class indices in numeric order, data may cover only some
 * of the model's classes, class names map folders and CSV labels to the
 * model's classes, numeric CSV labels that are no index are named errors,
 * and CSV rows may not leave the data folder.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { loadImageFolder } from '../../src/node.js';
import { coded, tmp } from './helpers.js';

/** One 4×4 grey PNG per entry of `files` (paths relative to `dir`). */
async function pngs(dir: string, files: string[], size = [4, 4]): Promise<void> {
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    await sharp({
      create: { width: size[0], height: size[1], channels: 3, background: { r: 90, g: 90, b: 90 } },
    })
      .png()
      .toFile(path.join(dir, f));
  }
}

const shape = [4, 4, 1] as const;

test('numeric class folders 0…11 are ordered numerically and are the class indices', async () => {
  const dir = tmp('numeric');
  await pngs(
    dir,
    Array.from({ length: 12 }, (_, i) => `${i}/a.png`),
  );
  const ds = await loadImageFolder(dir, { shape });
  // As strings, "10" and "11" sort before "2", which made folder 2 label 4.
  assert.deepEqual(
    Array.from(ds.labels),
    Array.from({ length: 12 }, (_, i) => i),
  );
  assert.equal(ds.numClasses, 12);
  assert.match(ds.notes, /class folders → labels: 0 → 0, 1 → 1, 2 → 2, 3 → 3, .*10 → 10, 11 → 11/);
});

test('a folder of one class covers some of the classes: folder 2 is label 2', async () => {
  const dir = tmp('single');
  await pngs(dir, ['2/a.png', '2/b.png']);
  const ds = await loadImageFolder(dir, { shape, numClasses: 5 });
  assert.deepEqual(Array.from(ds.labels), [2, 2]);
  assert.match(ds.notes, /class folders → labels: 2 → 2/);
  await assert.rejects(
    loadImageFolder(dir, { shape, numClasses: 2 }),
    coded('DATA_LOAD', /sub-folder 2 of .* is class 2, but the model outputs 2 classes \(0–1\)/),
  );
});

test('class names map sub-folders to the model classes; numeric names stay indices', async () => {
  const dir = tmp('names');
  await pngs(dir, ['cat/a.png', '3/b.png']);
  const ds = await loadImageFolder(dir, {
    shape,
    classNames: ['bird', 'cat', 'dog', 'fish', 'frog'],
    numClasses: 5,
  });
  // Sorted listing: numeric first ("3"), then "cat".
  assert.deepEqual(Array.from(ds.labels), [3, 1]);
  assert.equal(ds.numClasses, 5);
  assert.match(ds.notes, /class folders → labels: 3 → 3 fish, cat → 1$/);
});

test('CSV labels 1.5 and -1 are errors naming the row and value', async () => {
  const dir = tmp('csv-values');
  await pngs(dir, ['a.png', 'b.png']);
  const csv = path.join(dir, 'labels.csv');
  for (const bad of ['1.5', '-1']) {
    writeFileSync(csv, `file,label\na.png,0\nb.png,${bad}\n`);
    await assert.rejects(
      loadImageFolder(dir, { shape, labelsCsv: csv }),
      coded(
        'DATA_LOAD',
        new RegExp(
          `labels\\.csv line 3: label "${bad.replace('.', '\\.')}" for b\\.png is a number but not a class index`,
        ),
      ),
    );
  }
});

test('CSV rows all of one class, and a label past the model classes names the row', async () => {
  const dir = tmp('csv-one');
  await pngs(dir, ['a.png', 'b.png']);
  const csv = path.join(dir, 'labels.csv');
  writeFileSync(csv, 'a.png,2\nb.png,2\n');
  const ds = await loadImageFolder(dir, { shape, labelsCsv: csv, numClasses: 5 });
  assert.deepEqual(Array.from(ds.labels), [2, 2]);
  writeFileSync(csv, 'a.png,2\nb.png,7\n');
  await assert.rejects(
    loadImageFolder(dir, { shape, labelsCsv: csv, numClasses: 5 }),
    coded(
      'DATA_LOAD',
      /labels\.csv line 2: label "7" for b\.png is class 7, but the model outputs 5 classes/,
    ),
  );
});

test('CSV rows naming a path outside the data folder are refused, symlinks included', async () => {
  const outside = tmp('outside');
  await pngs(outside, ['secret.png']);
  const dir = tmp('csv-paths');
  await pngs(dir, ['a.png']);
  symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'link.png'));
  const csv = path.join(dir, 'labels.csv');
  for (const row of ['../outside.png', path.join(outside, 'secret.png'), 'link.png']) {
    writeFileSync(csv, `a.png,0\n${row},1\n`);
    await assert.rejects(
      loadImageFolder(dir, { shape, labelsCsv: csv }),
      coded(
        'DATA_LOAD',
        new RegExp(
          `labels\\.csv line 2: path ${JSON.stringify(row).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is outside the data folder`,
        ),
      ),
    );
  }
});

test('photos of another aspect get a note; the same aspect only the resize line', async () => {
  const dir = tmp('aspect');
  await pngs(dir, ['0/wide.png'], [12, 4]);
  await pngs(dir, ['1/square.png'], [8, 8]);
  const ds = await loadImageFolder(dir, { shape });
  assert.match(ds.notes, /resized from 12×4, 8×8 to 4×4 by stretching/);
  assert.match(
    ds.notes,
    /note: 1 of 2 images have an aspect ratio more than 10 % away from the model's 4×4 \(12×4\)/,
  );
  const same = tmp('aspect-same');
  await pngs(same, ['0/a.png'], [8, 8]);
  const ok = await loadImageFolder(same, { shape });
  assert.doesNotMatch(ok.notes, /note: .*aspect ratio/);
});

test('loadImageFolder rejects unknown option names', async () => {
  const dir = tmp('opts');
  await pngs(dir, ['0/a.png']);
  await assert.rejects(
    loadImageFolder(dir, { shape, classes: ['a'] } as never),
    coded(
      'INVALID_OPTION',
      /loadImageFolder options: unknown option "classes"; accepted options are bounds, classIds, classNames, crop, labels, labelsCsv, limit, numClasses, offset, orientation, resize, shape/,
    ),
  );
});
