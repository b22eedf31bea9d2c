/**
 * The FGSM picture: top-5 lists, the HTML (images at the model's size, small
 * ones pixelated, no external URLs), Markdown and JSON; and the demo's
 * builder on the real model (nsfwjs MobileNetV2) and two committed photos:
 * within ε, leak-free, the astronaut's prediction changed at 4/255.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fgsmPicture, pictureFiles } from '../../src/cli/commands/demo-photos.js';
import {
  loadClassifierFromFile,
  loadImageFolder,
  parseLabels,
  setBackend,
} from '../../src/node.js';
import {
  type FgsmPicture,
  fgsmPictureHtml,
  fgsmPictureJson,
  fgsmPictureMarkdown,
  topK,
} from '../../src/report/fgsm-picture.js';
import { pngDataUri } from '../../src/report/png.js';

test('topK: most probable first, ties by class index, names from the list', () => {
  assert.deepEqual(topK([0.1, 0.5, 0.1, 0.3], 3, ['a', 'b', 'c']), [
    { label: 1, name: 'b', probability: 0.5 },
    { label: 3, name: '3', probability: 0.3 },
    { label: 0, name: 'a', probability: 0.1 },
  ]);
});

const tiny = (): FgsmPicture => ({
  title: 'T <1>',
  model: 'm',
  modelNote: 'a model',
  dataNote: 'two pixels.',
  epsilon: 0.25,
  epsilonText: '0.25',
  bounds: [0, 1],
  shape: [1, 2, 1],
  photos: [
    {
      name: 'p.png',
      size: '9×9',
      label: 0,
      original: [0.5, 1],
      adversarial: [0.75, 1],
      before: topK([0.9, 0.1], 5, ['cat', 'dog']),
      after: topK([0.2, 0.8], 5, ['cat', 'dog']),
    },
  ],
});

test('HTML: three images per photo enlarged without smoothing when small, both lists, escaped, self-contained', () => {
  const html = fgsmPictureHtml(tiny());
  assert.equal((html.match(/<img /g) ?? []).length, 3);
  assert.match(html, /<img class="small" width="128" height="64"/);
  assert.match(html, /image-rendering:pixelated/);
  assert.match(html, /<tr class="hit"><td>cat<\/td><td class="p">90.00 %<\/td>/);
  assert.match(html, /after FGSM: top 5.*dog.*80.00 %/s);
  assert.match(html, /T &lt;1&gt;/);
  assert.match(html, /amplified ×2/);
  assert.doesNotMatch(html, /(src|href)="http/);
});

test('Markdown and JSON carry the two top-5 lists; JSON leaves the pixels out', () => {
  const md = fgsmPictureMarkdown(tiny(), () => ['a.png']);
  assert.match(md, /\| 1 \| \*\*cat\*\* \| 90.00 % \| dog \| 80.00 % \|/);
  assert.match(md, /!\[a.png\]\(a.png\)/);
  const json = JSON.parse(fgsmPictureJson(tiny()));
  assert.deepEqual(json.photos[0].after[0], { label: 1, name: 'dog', probability: 0.8 });
  assert.equal(json.photos[0].original, undefined);
});

test('the demo picture on nsfwjs MobileNetV2: within ε, leak-free, the astronaut flips at 4/255', async () => {
  await setBackend();
  const names = parseLabels(readFileSync('models/nsfw-mobilenet/labels.txt', 'utf8'), 'l').names;
  const { model } = await loadClassifierFromFile('models/nsfw-mobilenet/model.json');
  const ds = await loadImageFolder('examples/photos', {
    shape: [224, 224, 3],
    labels: { csv: 'examples/photos/nsfw-labels.csv' },
    classNames: names,
    resize: 256,
    crop: 224,
    limit: 2,
  });
  const x = tf.tensor4d(ds.images, [2, 224, 224, 3]);
  const before = tf.memory().numTensors;
  const p = await fgsmPicture(model, x, ds.labels, {
    title: 't',
    model: 'nsfw',
    modelNote: '',
    dataNote: '',
    epsilon: 4 / 255,
    epsilonText: '4/255',
    names: ['astronaut.jpg', 'chelsea.png'],
    sizes: ['512×512', '451×300'],
    classNames: names,
  });
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  x.dispose();
  model.dispose();
  const [astro] = p.photos;
  assert.equal(astro.before[0].name, 'Neutral');
  assert.notEqual(astro.after[0].name, 'Neutral', 'FGSM at 4/255 changes the prediction');
  const total = astro.before.reduce((s, c) => s + c.probability, 0);
  assert.ok(Math.abs(total - 1) < 1e-4, `five classes: the top 5 is all of them (sum ${total})`);
  let max = 0;
  for (let i = 0; i < astro.original.length; i++) {
    max = Math.max(max, Math.abs(astro.adversarial[i] - astro.original[i]));
    assert.ok(astro.adversarial[i] >= 0 && astro.adversarial[i] <= 1, 'inside the bounds');
  }
  assert.ok(max <= 4 / 255 + 1e-6, `‖δ‖∞ = ${max} ≤ 4/255`);
  const written = pictureFiles(p);
  // The page shows the very PNGs written beside it (each image encoded once).
  for (const k of ['photo', 'perturbation', 'adversarial']) {
    const png = written[`astronaut-${k}.png`] as Uint8Array;
    assert.ok(
      (written['fgsm-picture.html'] as string).includes(pngDataUri(png)),
      `the HTML's ${k} image is astronaut-${k}.png`,
    );
  }
  const files = Object.keys(written).sort();
  assert.deepEqual(files.slice(0, 3), [
    'astronaut-adversarial.png',
    'astronaut-perturbation.png',
    'astronaut-photo.png',
  ]);
  assert.ok(
    files.includes('fgsm-picture.html') && files.includes('fgsm-picture.json'),
    'all three formats',
  );
});
