/**
 * The explorer in a real headless Chromium: the page must show what the
 * library computes in Node for the same model, input and ε, update when a
 * control changes (mouse or keyboard), draw the accuracy curve, download the
 * image and the settings, and say clearly when a model cannot be used.
 *
 * Needs Chromium (ADVKIT_CHROMIUM, default /usr/bin/chromium); skipped with a
 * message when it is absent. Screenshots go to explorer/screenshots/latest/.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { EXPLORER_ROOT } from '../../explorer/config.js';
import { readMnistTest } from '../../explorer/mnist-samples.js';
import { type RunningExplorer, startExplorer } from '../../explorer/server.js';
import {
  applyPhotoTransform,
  Classifier,
  createAttack,
  decodeJpeg,
  loadClassifierFromOnnx,
  setBackend,
  toChannels,
} from '../../src/index.js';
import { writeMnistSoftmax, writePhotoModel, writeRgbModel } from './fixture-models.js';

const CHROMIUM = process.env.ADVKIT_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.join(EXPLORER_ROOT, 'screenshots', 'latest');
const SKIP = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set ADVKIT_CHROMIUM`;
if (SKIP) console.log(`# explorer browser tests skipped: ${SKIP}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Wait until the page has finished a run after run number `prev`. */
async function nextRun(page: Page, prev: number): Promise<number> {
  await page.waitForFunction(
    (p) => {
      const s = document.getElementById('status');
      return s?.dataset.state === 'ready' && Number(s.dataset.run) > p;
    },
    prev,
    { timeout: 30_000 },
  );
  return Number(await page.getAttribute('#status', 'data-run'));
}

async function shown(page: Page): Promise<{ pred: number; norm: number; eps: number }> {
  return {
    pred: Number(await page.getAttribute('#adv-pred', 'data-class')),
    norm: Number(await page.getAttribute('#pert-norm', 'data-value')),
    eps: Number(await page.inputValue('#eps')),
  };
}

describe('explorer in headless Chromium', { skip: SKIP, timeout: 150_000 }, () => {
  let tmp: string;
  let server: RunningExplorer;
  let browser: Browser;
  let page: Page;
  let artifacts: tf.io.ModelArtifacts;
  let model: Classifier;
  let x: tf.Tensor4D;
  let label: number;

  /** FGSM on sample 0 in Node, through the public entry point. */
  async function nodeFgsm(
    eps: number,
  ): Promise<{ pred: number; norm: number; xAdv: Float32Array }> {
    const [r] = await createAttack('fgsm').run(model, { x, labels: [label] }, [eps]);
    const xAdv = (await r.xAdv.data()) as Float32Array;
    r.xAdv.dispose();
    return { pred: r.predicted[0], norm: r.distance[0], xAdv };
  }

  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'advkit-explorer-'));
    mkdirSync(SHOTS, { recursive: true });
    await setBackend('wasm');
    artifacts = await writeMnistSoftmax(path.join(tmp, 'models', 'mnist-softmax-fixture'));
    await writeRgbModel(path.join(tmp, 'models', 'rgb-32'));
    await writePhotoModel(path.join(tmp, 'models', 'photo-224'));
    model = Classifier.create(await tf.loadLayersModel(tf.io.fromMemory(artifacts)));
    const sample = readMnistTest(1);
    label = sample.labels[0];
    x = tf.tidy(() => tf.tensor4d(sample.images, [1, 28, 28, 1], 'float32').div(255));
    // The built bundle, as `advkit explore --preview` serves it.
    server = await startExplorer({
      mode: 'preview',
      rebuild: true,
      modelsDir: path.join(tmp, 'models'),
      outDir: path.join(tmp, 'dist'),
      port: await freePort(),
      strictPort: true,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1180, height: 1000 } });
    page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    x?.dispose();
    model?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('FGSM on a sample shows the prediction and norm the library computes', async () => {
    await page.goto(server.url);
    await nextRun(page, 0);
    const backend = await page.textContent('#backend');
    assert.ok(['webgl', 'wasm', 'cpu'].includes(backend ?? ''), `backend shown: ${backend}`);
    assert.equal(await page.inputValue('#model-select'), 'mnist-softmax-fixture');
    assert.equal(await page.inputValue('#attack'), 'fgsm');
    const s = await shown(page);
    assert.equal(s.eps, 0.1);
    const ref = await nodeFgsm(0.1);
    assert.equal(Number(await page.getAttribute('#clean-pred', 'data-class')), label);
    assert.equal(s.pred, ref.pred, `adversarial prediction on ${backend}`);
    assert.ok(Math.abs(s.norm - ref.norm) < 1e-4, `‖δ‖∞ ${s.norm} vs ${ref.norm}`);
    // The linear explanation is on the page with its numbers.
    const linear = await page.textContent('#linear');
    assert.match(linear ?? '', /first-order prediction L \+ ε‖g‖₁/);
    await page.screenshot({ path: path.join(SHOTS, 'fgsm-sample0.png'), fullPage: true });
  });

  test('every control has a label', async () => {
    const unlabelled = await page.$$eval('input, select', (els) =>
      els
        .filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute('aria-label'))
        .map((e) => e.id),
    );
    assert.deepEqual(unlabelled, []);
  });

  test('changing ε (typed, then with the keyboard) updates the view', async () => {
    let run = Number(await page.getAttribute('#status', 'data-run'));
    await page.fill('#eps', '0.25');
    run = await nextRun(page, run);
    const typed = await shown(page);
    const ref = await nodeFgsm(0.25);
    assert.equal(typed.pred, ref.pred);
    assert.ok(Math.abs(typed.norm - 0.25) < 1e-4, `‖δ‖∞ = ${typed.norm}`);
    assert.ok(Math.abs(typed.norm - ref.norm) < 1e-4, 'Math.abs(typed.norm - ref.norm) < 1e-4');
    assert.match((await page.textContent('#verdict')) ?? '', /ε = 0\.2500/);
    await page.screenshot({ path: path.join(SHOTS, 'fgsm-eps-0.25.png'), fullPage: true });
    // Keyboard: the slider moves one step of 0.5/200 = 0.0025.
    await page.focus('#eps-range');
    await page.keyboard.press('ArrowLeft');
    await nextRun(page, run);
    const keyed = await shown(page);
    assert.ok(Math.abs(keyed.eps - 0.2475) < 1e-9, `ε after ArrowLeft: ${keyed.eps}`);
    assert.ok(Math.abs(keyed.norm - 0.2475) < 1e-4, `‖δ‖∞ = ${keyed.norm}`);
  });

  test('the downloads carry the adversarial image and the checklist fields', async () => {
    await page.fill('#eps', '0.1');
    await nextRun(page, Number(await page.getAttribute('#status', 'data-run')));
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
    const report = JSON.parse(readFileSync(await json.path(), 'utf8'));
    assert.deepEqual(report.inputScale.bounds, [0, 1]);
    assert.deepEqual(report.budget, { epsilon: 0.1, norm: 'linf', epsilonOver255OfRange: 25.5 });
    assert.equal(report.goal, 'untargeted');
    assert.equal(report.modelMode, 'eval');
    assert.equal(report.seed, 0);
    assert.match(report.gradientPath, /pixel-space input/);
    assert.match(report.clipping, /bounds/);
    const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
    const sha = createHash('sha256')
      .update(JSON.stringify(artifacts.modelTopology))
      .update(weights)
      .digest('hex');
    assert.equal(report.model.checksum, `sha256:${sha}`);
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#download-png')]);
    const img = PNG.sync.read(readFileSync(await png.path()));
    assert.equal(img.width, 28);
    assert.equal(img.height, 28);
    const ref = await nodeFgsm(0.1);
    let off = 0;
    for (let i = 0; i < 784; i++) {
      if (Math.abs(img.data[4 * i] - Math.round(ref.xAdv[i] * 255)) > 1) off++;
    }
    // Backends may disagree on the sign of a near-zero gradient coordinate.
    assert.ok(off <= 8, `${off} of 784 PNG pixels differ from the Node result`);
  });

  test('the accuracy-vs-ε curve draws FGSM and PGD', async () => {
    await page.fill('#curve-n', '20');
    await page.fill('#curve-points', '4');
    await page.fill('#curve-steps', '5');
    await page.click('#curve-run');
    await page.waitForSelector('#curve-chart[data-state="ready"]', { timeout: 60_000 });
    assert.equal(await page.locator('#curve-chart svg polyline').count(), 2);
    assert.equal(await page.locator('#curve-table tr').count(), 4);
    await page.screenshot({ path: path.join(SHOTS, 'accuracy-curve.png'), fullPage: true });
  });

  test('the wasm backend, served locally, gives the same result', async () => {
    const p2 = await browser.newPage();
    await p2.goto(`${server.url}?backend=wasm`);
    await nextRun(p2, 0);
    assert.equal(await p2.textContent('#backend'), 'wasm');
    const s = await shown(p2);
    const ref = await nodeFgsm(0.1);
    assert.equal(s.pred, ref.pred);
    assert.ok(Math.abs(s.norm - ref.norm) < 1e-5, 'Math.abs(s.norm - ref.norm) < 1e-5');
    await p2.close();
  });

  test('a drawn digit under targeted L2 PGD stays in the ε-ball', async () => {
    await page.selectOption('#input-kind', 'draw');
    const box = (await page.locator('#draw-canvas').boundingBox())!;
    // A "1": one vertical stroke.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.8, { steps: 8 });
    await page.mouse.up();
    await page.fill('#true-label', '1');
    await page.selectOption('#attack', 'pgd');
    await page.selectOption('#norm', 'l2');
    await page.selectOption('#goal', 'targeted');
    await page.selectOption('#target-rule', 'fixed');
    await page.fill('#target-class', '3');
    await page.fill('#eps', '3');
    await page.waitForFunction(() => {
      const v = document.getElementById('verdict')?.textContent ?? '';
      const st = document.getElementById('status')?.dataset.state;
      return st === 'ready' && /PGD \(targeted at 3, L2, ε = 3\.0000\)/.test(v);
    });
    const norm = Number(await page.getAttribute('#pert-norm', 'data-value'));
    assert.ok(norm > 0 && norm <= 3 + 1e-4, `‖δ‖₂ = ${norm}`);
    assert.match((await page.textContent('#linear')) ?? '', /L − ε‖g‖₂/);
    await page.screenshot({ path: path.join(SHOTS, 'draw-pgd-l2-targeted.png'), fullPage: true });
    await page.selectOption('#input-kind', 'sample');
    await page.selectOption('#goal', 'untargeted');
    await page.selectOption('#norm', 'linf');
    await page.selectOption('#attack', 'fgsm');
  });

  test('Square shows its query count; APGD-T runs on the same sample', async () => {
    const ready = (label: string) =>
      page.waitForFunction(
        (l) => {
          const v = document.getElementById('verdict')?.textContent ?? '';
          const st = document.getElementById('status')?.dataset.state;
          return st === 'ready' && v.startsWith(`${l} (untargeted`);
        },
        label,
        { timeout: 60_000 },
      );
    await page.selectOption('#attack', 'square');
    await ready('Square');
    assert.equal(await page.isHidden('#square-row'), false, 'Square has a query budget control');
    const q = Number(await page.getAttribute('#queries-used', 'data-value'));
    assert.ok(q >= 1 && q <= 1000, `Square's queries shown: ${q} (budget 1000)`);
    const s = await shown(page);
    assert.ok(s.norm <= s.eps + 1e-6, `Square's ‖δ‖∞ ${s.norm} within ε = ${s.eps}`);
    await page.selectOption('#attack', 'apgd-t');
    await ready('APGD-T');
    assert.equal(
      await page.getAttribute('#queries-used', 'data-value'),
      '',
      'no queries for APGD-T',
    );
    assert.ok(await page.isHidden('#square-row'), 'APGD-T has no query budget control');
    assert.ok(await page.isHidden('#rel-step'), 'APGD-T sets its own step size');
    await page.screenshot({ path: path.join(SHOTS, 'apgd-t-sample.png'), fullPage: true });
    await page.selectOption('#attack', 'fgsm');
  });

  test('an uploaded photo of a dark digit on paper is inverted and attacked', async () => {
    // Sample 0 as dark ink on white paper, at 56×56: the page must resize it
    // to the model's 28×28×1 and invert it to MNIST's light-on-dark.
    const { images } = readMnistTest(1);
    const png = new PNG({ width: 56, height: 56 });
    for (let y = 0; y < 56; y++)
      for (let x = 0; x < 56; x++) {
        const v = 255 - images[(y >> 1) * 28 + (x >> 1)];
        png.data.set([v, v, v, 255], 4 * (y * 56 + x));
      }
    const run = Number(await page.getAttribute('#status', 'data-run'));
    await page.selectOption('#input-kind', 'upload');
    await page.fill('#true-label', String(label));
    await page.setInputFiles('#image-file', {
      name: 'digit.png',
      mimeType: 'image/png',
      buffer: PNG.sync.write(png),
    });
    await page.waitForFunction((p) => {
      const s = document.getElementById('status');
      return s?.dataset.state === 'ready' && Number(s.dataset.run) > p;
    }, run);
    assert.equal(await page.isChecked('#image-invert'), true);
    assert.equal(Number(await page.getAttribute('#clean-pred', 'data-class')), label);
    await page.selectOption('#input-kind', 'sample');
  });

  test('a broken model file gives a clear message', async () => {
    await page.setInputFiles('#model-files', [
      { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from('{"oops": true}') },
    ]);
    const error = page.locator('#model-error');
    await error.waitFor({ state: 'visible' });
    // The box can show before its text lands; wait for the message itself.
    await page.waitForFunction(
      () => (document.getElementById('model-error')?.textContent ?? '') !== '',
    );
    assert.match((await error.textContent()) ?? '', /model/i);
    assert.equal(await page.getAttribute('#status', 'data-state'), 'error');
    await page.screenshot({ path: path.join(SHOTS, 'bad-model.png'), fullPage: true });
    const topo = JSON.stringify({
      format: 'layers-model',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    });
    await page.setInputFiles('#model-files', [
      { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(topo) },
    ]);
    await page.waitForFunction(() =>
      /missing: weights\.bin/.test(document.getElementById('model-error')?.textContent ?? ''),
    );
    await page.setInputFiles('#model-files', [
      { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from('not json') },
    ]);
    await page.waitForFunction(() =>
      /not valid JSON/.test(document.getElementById('model-error')?.textContent ?? ''),
    );
  });

  test('an uploaded model.json with its weights is attacked like the shipped one', async () => {
    const run = Number(await page.getAttribute('#status', 'data-run'));
    const topo = JSON.stringify({
      format: 'layers-model',
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    });
    await page.setInputFiles('#model-files', [
      { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(topo) },
      {
        name: 'weights.bin',
        mimeType: 'application/octet-stream',
        buffer: Buffer.from(artifacts.weightData as ArrayBuffer),
      },
    ]);
    await nextRun(page, run);
    assert.equal(await page.locator('#model-error').isHidden(), true);
    assert.match((await page.textContent('#model-info')) ?? '', /input \[28×28×1\], 10 classes/);
    const s = await shown(page);
    const ref = await nodeFgsm(s.eps);
    assert.equal(s.pred, ref.pred);
    assert.ok(Math.abs(s.norm - ref.norm) < 1e-4, 'Math.abs(s.norm - ref.norm) < 1e-4');
  });

  test("a committed JPEG on a 224×224 model: the library's resize and crop, shown at its real size", async () => {
    let run = Number(await page.getAttribute('#status', 'data-run'));
    await page.selectOption('#model-select', 'photo-224');
    await page.selectOption('#input-kind', 'photo');
    await page.selectOption('#photo-select', 'astronaut.jpg');
    run = await nextRun(page, run);
    assert.equal(await page.inputValue('#photo-fit'), 'imagenet');
    const caption = (await page.textContent('#photo-info')) ?? '';
    assert.match(
      caption,
      /astronaut\.jpg, 512×512 \(decoded by jpeg-js\) → Resize\(256\).*CenterCrop\(224\)/,
    );
    const canvas = await page.$eval('#img-original', (c) => {
      const el = c as HTMLCanvasElement;
      const px = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
      return { w: el.width, css: el.style.width, px: Array.from(px) };
    });
    assert.deepEqual([canvas.w, canvas.css], [224, '224px'], 'one CSS pixel per pixel');
    // The page ran the library's own decoder, resize and crop: the same bytes as Node.
    const jpeg = decodeJpeg(new Uint8Array(readFileSync('examples/photos/astronaut.jpg')), 'a');
    const want = applyPhotoTransform(toChannels(jpeg.image, 3), { resize: 256, crop: [224, 224] });
    let off = 0;
    for (let p = 0; p < 224 * 224; p++) {
      for (let k = 0; k < 3; k++) if (canvas.px[4 * p + k] !== want.image.data[3 * p + k]) off++;
    }
    assert.equal(off, 0, `${off} of ${224 * 224 * 3} values differ from Node's`);
    await page.screenshot({ path: path.join(SHOTS, 'photo-astronaut-224.png'), fullPage: true });
    // Fitting by stretching instead: the caption says so.
    await page.selectOption('#photo-fit', 'stretch');
    run = await nextRun(page, run);
    assert.match((await page.textContent('#photo-info')) ?? '', /Resize\(224×224\): stretched/);
    await page.selectOption('#photo-fit', 'imagenet');
    await nextRun(page, run);
  });

  test('an uploaded PNG photo goes through the same resize and crop; a non-image is refused', async () => {
    let run = Number(await page.getAttribute('#status', 'data-run'));
    await page.selectOption('#input-kind', 'upload');
    await page.setInputFiles('#image-file', 'examples/photos/coffee.png');
    run = await nextRun(page, run);
    assert.match(
      (await page.textContent('#photo-info')) ?? '',
      /coffee\.png, 600×400 \(decoded by the browser\)/,
    );
    await page.setInputFiles('#image-file', {
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('not an image'),
    });
    await page.waitForFunction(() =>
      /notes\.png is not an image/.test(document.getElementById('model-error')?.textContent ?? ''),
    );
    await page.selectOption('#input-kind', 'sample');
  });

  test('an uploaded .onnx file (a torchvision export) is attacked as the library attacks it in Node', async () => {
    const dir = 'test/model/fixtures/onnx/resnet-basic';
    let run = Number(await page.getAttribute('#status', 'data-run'));
    await page.selectOption('#input-kind', 'photo');
    await page.selectOption('#photo-select', 'chelsea.png');
    await page.setInputFiles('#model-files', path.join(dir, 'model.onnx'));
    await page.waitForFunction(() =>
      /^onnx, input \[64×64×3\], 10 classes/.test(
        document.getElementById('model-info')?.textContent ?? '',
      ),
    );
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    await page.fill('#pre-mean', mean.join(', '));
    await page.fill('#pre-std', std.join(', '));
    await page.dispatchEvent('#pre-std', 'change');
    await page.fill('#true-label', '3');
    await page.fill('#eps', '0.02');
    run = await nextRun(page, run);
    await page.waitForFunction(
      () =>
        document.getElementById('eps') &&
        (document.getElementById('verdict')?.textContent ?? '').includes('ε = 0.0200'),
    );
    const s = await shown(page);
    // Node: the same file, photo (through the browser's PNG decoder: chelsea.png is plain RGB), crop and FGSM.
    const { model: onnx } = await loadClassifierFromOnnx(
      new Uint8Array(readFileSync(path.join(dir, 'model.onnx'))),
      {
        preprocess: { mean, std },
      },
    );
    const px = await page.$eval('#img-original', (c) => {
      const el = c as HTMLCanvasElement;
      return Array.from(el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data);
    });
    const xs = tf.tensor4d(
      Float32Array.from(
        { length: 64 * 64 * 3 },
        (_, i) => px[4 * Math.floor(i / 3) + (i % 3)] / 255,
      ),
      [1, 64, 64, 3],
    );
    const [r] = await createAttack('fgsm').run(onnx, { x: xs, labels: [3] }, [0.02]);
    assert.equal(s.pred, r.predicted[0], 'the page and Node predict the same class');
    assert.ok(Math.abs(s.norm - r.distance[0]) < 1e-4, `‖δ‖∞ ${s.norm} vs ${r.distance[0]}`);
    r.xAdv.dispose();
    xs.dispose();
    onnx.dispose();
    await page.screenshot({ path: path.join(SHOTS, 'onnx-resnet-chelsea.png'), fullPage: true });
    // External data: the weights file must be picked with the model. (The MNIST
    // samples do not fit it, so no attack runs: only the loading is checked.)
    await page.selectOption('#input-kind', 'sample');
    const ext = 'test/model/fixtures/onnx/resnet-basic-external';
    await page.setInputFiles('#model-files', path.join(ext, 'model.onnx'));
    await page.waitForFunction(() =>
      /keeps its weights in model\.onnx\.data; pick that file/.test(
        document.getElementById('model-error')?.textContent ?? '',
      ),
    );
    await page.setInputFiles('#model-files', [
      path.join(ext, 'model.onnx'),
      path.join(ext, 'model.onnx.data'),
    ]);
    await page.waitForFunction(() =>
      /^onnx, input \[48×48×3\]/.test(document.getElementById('model-info')?.textContent ?? ''),
    );
    assert.equal(
      await page.inputValue('#pre-mean'),
      '',
      'a new model starts without normalisation',
    );
    // Leave the page as the other tests expect it: the shipped MNIST model on a sample.
    const before = Number(await page.getAttribute('#status', 'data-run'));
    await page.selectOption('#model-select', 'mnist-softmax-fixture');
    await nextRun(page, before);
  });

  test('a model whose input shape does not fit the samples is named as such', async () => {
    await page.selectOption('#model-select', 'rgb-32');
    await page.waitForFunction(() =>
      /Input shape mismatch/.test(document.getElementById('model-error')?.textContent ?? ''),
    );
    const msg = (await page.textContent('#model-error')) ?? '';
    assert.match(msg, /\[32, 32, 3\]/);
    assert.match(msg, /\[28, 28, 1\]/);
    await page.screenshot({ path: path.join(SHOTS, 'shape-mismatch.png'), fullPage: true });
  });
});
