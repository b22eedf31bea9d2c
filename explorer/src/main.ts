/**
 * The explorer page: wires the controls to advkit and redraws the view
 * whenever a control changes. Runs are serialised: a change during a run
 * schedules one more run with the newest settings.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type BackendName, Classifier, type ClassifierOptions, setBackend } from 'advkit';
import { download, fileStem, reportJson, runCurve } from './actions.js';
import { analyse } from './analysis.js';
import {
  describeEps,
  type Input,
  num,
  parseList,
  resetEpsForNorm,
  type Select,
  settings,
  showAttackRows,
  showInputRows,
  syncEpsFromSlider,
  syncSliderFromEps,
  val,
} from './controls.js';
import {
  DrawingPad,
  decodePhoto,
  fetchPhoto,
  fitPhoto,
  listShippedPhotos,
  loadSamples,
  type Photo,
  type PhotoFit,
  type UnitImage,
} from './inputs.js';
import {
  type LoadedNetwork,
  listShippedModels,
  loadModelFiles,
  loadShippedModel,
} from './models.js';
import { $, fmt, paint } from './render.js';
import { ATTACK_PARAMS } from './settings.js';
import { clearCurve, markStale, setStatus, showError, state, status } from './state.js';
import { showAnalysis } from './view.js';

/* ---------- model ---------- */

/** (Re)wrap the loaded network with the bounds and preprocessing fields. */
function wrapModel(): boolean {
  state.model?.dispose();
  state.model = undefined;
  const loaded = state.loaded;
  if (!loaded) return false;
  try {
    const mean = parseList('pre-mean');
    const std = parseList('pre-std');
    if ((mean === undefined) !== (std === undefined)) {
      throw new Error('give both mean and std (one value, or one per channel), or neither');
    }
    const output = val('model-output');
    const opts: ClassifierOptions = {
      bounds: [num('bounds-lo'), num('bounds-hi')],
      name: loaded.name,
      ...(mean && std ? { preprocess: { mean, std } } : {}),
      ...(output === 'auto' ? {} : { output: output as 'logits' | 'probabilities' }),
    };
    state.model = Classifier.create(loaded.network, opts);
  } catch (e) {
    showError(`The model ${loaded.name} cannot be used: ${(e as Error).message}`);
    $('model-info').textContent = '';
    return false;
  }
  const info = state.model.info;
  $('model-info').textContent =
    `${info.kind}, input [${info.inputShape.join('×')}], ${info.numClasses} classes, output ${info.output}, mode ${info.mode}; preprocessing: ${info.preprocessing}; sha256 ${loaded.checksum.slice(0, 12)}…`;
  const trueLabel = $('true-label') as Input;
  trueLabel.max = String(info.numClasses - 1);
  // A label from another model's classes (an MNIST digit for a 5-class photo model) would only be refused.
  if (Number(trueLabel.value) >= info.numClasses) trueLabel.value = '0';
  ($('target-class') as Input).max = String(info.numClasses - 1);
  showError(undefined);
  describeEps();
  return true;
}

async function useNetwork(load: () => Promise<LoadedNetwork>, label: string): Promise<void> {
  // A run queued or in flight for the old model would otherwise land after a
  // failed load and replace its error with the old model's result.
  const dropped = cancelRuns();
  await runsSettled();
  setStatus('busy', `loading ${label}…`);
  let loaded: LoadedNetwork;
  try {
    loaded = await load();
  } catch (e) {
    if (dropped) markStale(true);
    showError((e as Error).message);
    setStatus('error', 'model not loaded');
    return;
  }
  state.model?.dispose();
  state.model = undefined;
  state.loaded?.network.dispose();
  state.loaded = loaded;
  const d = loaded.defaults;
  ($('bounds-lo') as Input).value = String(d.bounds?.[0] ?? 0);
  ($('bounds-hi') as Input).value = String(d.bounds?.[1] ?? 1);
  ($('pre-mean') as Input).value = d.mean?.join(', ') ?? '';
  ($('pre-std') as Input).value = d.std?.join(', ') ?? '';
  clearCurve();
  markStale(true);
  if (wrapModel()) {
    // Photos for an ImageNet-sized model get ImageNet's resize and crop.
    const [h, w] = (state.model as Classifier | undefined)?.inputShape ?? [0, 0];
    ($('photo-fit') as Select).value = Math.min(h, w) >= 64 ? 'imagenet' : 'crop';
    resetEpsForNorm();
    schedule(0);
  } else setStatus('error', 'model not usable');
}

/* ---------- input ---------- */

/**
 * The photo last fitted to the model, kept so that moving ε or changing the
 * attack does not resize it again (0.28 s for a 4032×3024 upload: npm run bench:photos).
 */
let lastFit: { photo: Photo; key: string; fitted: ReturnType<typeof fitPhoto> } | undefined;

function currentInput(shape: [number, number, number]): { img: UnitImage; label: number } | string {
  const kind = val('input-kind');
  let img: UnitImage | undefined;
  if (kind === 'sample') {
    const s = state.samples;
    if (!s) return 'the MNIST samples are not loaded';
    const i = Math.min(s.count - 1, Math.max(0, Math.round(num('sample-index')) || 0));
    img = s.image(i);
  } else if (kind === 'draw') {
    if (!pad.inked) return 'draw a digit on the pad';
    img = pad.read(shape);
  } else {
    const photo = kind === 'photo' ? state.photo : state.uploaded;
    if (!photo) return kind === 'photo' ? 'pick a photo' : 'choose an image file';
    const invert = $('image-invert') as Input;
    // A new photo or model decides the inversion afresh; the checkbox then rules.
    const key = `${photo.name}|${shape.join()}`;
    const fit = val('photo-fit') as PhotoFit;
    const choice = invert.dataset.for === key ? invert.checked : 'auto';
    const fitted =
      lastFit?.photo === photo && lastFit.key === `${key}|${fit}|${choice}`
        ? lastFit.fitted
        : fitPhoto(photo, shape, fit, choice);
    lastFit = { photo, key: `${key}|${fit}|${fitted.inverted}`, fitted };
    invert.checked = fitted.inverted;
    invert.dataset.for = key;
    $('photo-info').textContent = fitted.caption;
    img = fitted.image;
  }
  if (img.shape.join() !== shape.join()) {
    return `Input shape mismatch: the model expects [${shape.join(', ')}] but the ${kind === 'sample' ? 'MNIST samples are' : 'input is'} [${img.shape.join(', ')}]. Pick a model with a ${img.shape.join('×')} input, or pick a photo or upload an image (it is resized and cropped to the model's input).`;
  }
  return { img, label: Math.round(num('true-label')) || 0 };
}

function toTensor(img: UnitImage, model: Classifier): tf.Tensor4D {
  const [lo, hi] = model.bounds;
  return tf.tidy(() => tf.add(tf.mul(tf.tensor4d(img.data, [1, ...img.shape]), hi - lo), lo));
}

/* ---------- the run ---------- */

let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<void> = Promise.resolve();
function schedule(delay = 120): void {
  clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    inFlight = update();
  }, delay);
}

/** Drops queued runs; true if one was waiting (the view then lags the inputs). */
function cancelRuns(): boolean {
  const dropped = timer !== undefined || state.pending;
  clearTimeout(timer);
  timer = undefined;
  state.pending = false;
  return dropped;
}

async function runsSettled(): Promise<void> {
  while (state.running) await inFlight;
}

async function update(): Promise<void> {
  if (state.running) {
    state.pending = true;
    return;
  }
  const model = state.model;
  if (!model) return;
  const input = currentInput(model.inputShape);
  if (typeof input === 'string') {
    markStale(true);
    showError(input);
    setStatus('error', 'nothing to attack');
    return;
  }
  if (input.label >= model.numClasses) {
    markStale(true);
    showError(
      `the true label ${input.label} is not a class of this ${model.numClasses}-class model`,
    );
    setStatus('error', 'bad label');
    return;
  }
  state.running = true;
  setStatus('busy', 'attacking…');
  const s = settings();
  const x = toTensor(input.img, model);
  try {
    const a = await analyse(model, x, input.label, s);
    state.analysis?.dispose();
    state.analysis = a;
    await showAnalysis(a, x, model, s);
    showError(undefined);
    markStale(false);
    state.runs += 1;
    status.dataset.run = String(state.runs);
    setStatus('ready', `done: ${ATTACK_PARAMS[s.attack].label}, ε = ${fmt(s.eps)}`);
  } catch (e) {
    markStale(true);
    showError(`The attack failed: ${(e as Error).message}`);
    setStatus('error', 'attack failed');
  } finally {
    x.dispose();
    state.running = false;
  }
  if (state.pending) {
    state.pending = false;
    inFlight = update();
  }
}

/* ---------- start ---------- */

const pad = new DrawingPad($('draw-canvas'), () => schedule(0));

async function start(): Promise<void> {
  setWasmPaths(new URL('advkit-assets/wasm/', document.baseURI).href);
  const wanted = new URLSearchParams(location.search).get('backend');
  const select = $('backend-select') as Select;
  if (wanted && [...select.options].some((o) => o.value === wanted)) select.value = wanted;
  let backend: BackendName;
  try {
    backend = await setBackend(select.value === 'auto' ? undefined : (select.value as BackendName));
  } catch (e) {
    setStatus('error', (e as Error).message);
    return;
  }
  $('backend').textContent = backend;
  document.body.dataset.backend = backend;
  try {
    state.samples = await loadSamples();
  } catch (e) {
    showError((e as Error).message);
  }
  const modelSelect = $('model-select') as Select;
  const shipped = await listShippedModels();
  for (const m of shipped) modelSelect.add(new Option(m.name, m.name));
  if (!shipped.length) modelSelect.add(new Option('(no shipped models: load your own)', ''));
  const sampleChanged = () => {
    const i = Math.round(num('sample-index')) || 0;
    const l = state.samples?.labels[i];
    if (l !== undefined) ($('true-label') as Input).value = String(l);
    $('sample-label').textContent = l === undefined ? '' : `label ${l}`;
  };
  sampleChanged();
  showAttackRows(true);
  showInputRows();

  const on = (id: string, ev: string, f: () => void) => $(id).addEventListener(ev, f);
  select.addEventListener('change', () => {
    const u = new URL(location.href);
    u.searchParams.set('backend', select.value);
    location.assign(u);
  });
  modelSelect.addEventListener('change', () => {
    const m = shipped.find((s) => s.name === modelSelect.value);
    if (m) void useNetwork(() => loadShippedModel(m), m.name);
  });
  on('model-files', 'change', () => {
    const picker = $('model-files') as Input;
    const files = [...(picker.files ?? [])];
    // Clear the picker so that choosing the same files again is a change too.
    picker.value = '';
    if (!files.length) return;
    const name =
      files.find((f) => f.name.endsWith('.json') || /\.onnx$/i.test(f.name))?.name ?? files[0].name;
    void useNetwork(() => loadModelFiles(files), name).then(() => {
      if (state.loaded?.source.startsWith('uploaded')) {
        const opt = new Option(`uploaded: ${state.loaded.name}`, '');
        modelSelect.add(opt);
        modelSelect.value = '';
      }
    });
  });
  for (const id of ['bounds-lo', 'bounds-hi', 'pre-mean', 'pre-std', 'model-output']) {
    on(id, 'change', () => {
      clearCurve();
      markStale(true);
      if (wrapModel()) schedule();
    });
  }
  on('sample-index', 'input', () => {
    sampleChanged();
    schedule();
  });
  on('input-kind', 'change', () => {
    showInputRows();
    if (val('input-kind') === 'sample') sampleChanged();
    schedule(0);
  });
  on('draw-clear', 'click', () => {
    pad.clear();
    schedule(0);
  });
  on('image-file', 'change', async () => {
    const f = ($('image-file') as Input).files?.[0];
    if (!f) return;
    try {
      state.uploaded = await decodePhoto(new Uint8Array(await f.arrayBuffer()), f.name);
      schedule(0);
    } catch (e) {
      showError((e as Error).message);
    }
  });
  const photoSelect = $('photo-select') as Select;
  const photos = await listShippedPhotos();
  for (const p of photos) photoSelect.add(new Option(p.name, p.name));
  if (!photos.length) photoSelect.add(new Option('(no committed photos)', ''));
  const pickPhoto = async () => {
    const p = photos.find((q) => q.name === photoSelect.value);
    if (!p) return;
    try {
      state.photo = await fetchPhoto(p);
      schedule(0);
    } catch (e) {
      showError((e as Error).message);
    }
  };
  on('photo-select', 'change', () => void pickPhoto());
  on('input-kind', 'change', () => {
    if (val('input-kind') === 'photo' && !state.photo) void pickPhoto();
  });
  on('photo-fit', 'change', () => schedule(0));
  on('image-invert', 'change', () => schedule(0));
  on('true-label', 'input', () => schedule());
  on('eps-range', 'input', () => {
    syncEpsFromSlider();
    schedule();
  });
  on('eps', 'input', () => {
    syncSliderFromEps();
    schedule();
  });
  on('norm', 'change', () => {
    resetEpsForNorm();
    schedule(0);
  });
  on('attack', 'change', () => {
    showAttackRows(true);
    schedule(0);
  });
  for (const id of ['goal', 'target-rule']) {
    on(id, 'change', () => {
      showAttackRows(false);
      schedule(0);
    });
  }
  for (const id of ['target-class', 'steps', 'rel-step', 'restarts', 'decay', 'seed']) {
    on(id, 'input', () => schedule());
  }
  on('curve-run', 'click', () => void runCurve());
  on('download-png', 'click', async () => {
    const a = state.analysis;
    const model = state.model;
    if (!a || !model) return;
    const c = document.createElement('canvas');
    await paint(c, a.xAdv, model.bounds[0], model.bounds[1]);
    c.toBlob((b) => b && download(`${fileStem(settings())}.png`, b), 'image/png');
  });
  on('download-json', 'click', () => {
    const r = reportJson();
    if (!r) return;
    download(
      `${fileStem(settings())}.json`,
      new Blob([JSON.stringify(r, null, 2)], { type: 'application/json' }),
    );
  });

  if (shipped.length) await useNetwork(() => loadShippedModel(shipped[0]), shipped[0].name);
  else setStatus('ready', 'no shipped models: load a model.json with its weights');
}

void start();
