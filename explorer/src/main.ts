/**
 * The explorer page: wires the controls to advkit and redraws the view
 * whenever a control changes. Runs are serialised: a change during a run
 * schedules one more run with the newest settings.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type BackendName, Classifier, type ClassifierOptions, getNorm, setBackend } from 'advkit';
import { type Analysis, analyse } from './analysis.js';
import { accuracyCurve, type Curve, curveSvg } from './curve.js';
import {
  DrawingPad,
  imageFileToUnit,
  loadSamples,
  type Samples,
  type UnitImage,
} from './inputs.js';
import {
  type LoadedNetwork,
  listShippedModels,
  loadModelFiles,
  loadShippedModel,
} from './models.js';
import {
  $,
  fmt,
  linearRows,
  numberTable,
  paint,
  paintPerturbation,
  predictionTable,
} from './render.js';
import {
  ATTACK_PARAMS,
  type AttackSettings,
  type ExplorerAttack,
  goalOf,
  settingsReport,
} from './settings.js';

type Input = HTMLInputElement;
type Select = HTMLSelectElement;

const state: {
  samples?: Samples;
  loaded?: LoadedNetwork;
  model?: Classifier;
  uploaded?: UnitImage;
  analysis?: Analysis;
  curve?: Curve;
  running: boolean;
  pending: boolean;
  runs: number;
} = { running: false, pending: false, runs: 0 };

const status = $('status');
function setStatus(s: 'busy' | 'ready' | 'error' | 'starting', text: string): void {
  status.dataset.state = s;
  status.textContent = text;
  document.body.dataset.state = s;
}

function showError(msg: string | undefined): void {
  const box = $('model-error');
  box.hidden = !msg;
  box.textContent = msg ?? '';
}

/** Grey out results that no longer match the model or input on screen. */
function markStale(stale: boolean): void {
  $('view').dataset.stale = String(stale);
  for (const id of ['download-png', 'download-json']) ($(id) as HTMLButtonElement).disabled = stale;
}

function clearCurve(): void {
  state.curve = undefined;
  $('curve-chart').replaceChildren();
  $('curve-chart').dataset.state = 'empty';
  $('curve-table').replaceChildren();
}

const num = (id: string): number => Number(($(id) as Input).value);
const val = (id: string): string => ($(id) as Input | Select).value;

/* ---------- ε scale per norm ---------- */

const EPS_SCALE = {
  linf: { max: 0.5, start: 0.1, curve: 0.3 },
  l2: { max: 8, start: 1.5, curve: 4 },
  l1: { max: 40, start: 10, curve: 20 },
} as const;

function range(): number {
  return state.model
    ? state.model.bounds[1] - state.model.bounds[0]
    : num('bounds-hi') - num('bounds-lo');
}

function epsMax(): number {
  return EPS_SCALE[val('norm') as keyof typeof EPS_SCALE].max * range();
}

function syncEpsFromSlider(): void {
  const eps = (num('eps-range') / 200) * epsMax();
  ($('eps') as Input).value = String(+eps.toPrecision(4));
  describeEps();
}

function syncSliderFromEps(): void {
  ($('eps-range') as Input).value = String(Math.round((200 * num('eps')) / epsMax()));
  describeEps();
}

function describeEps(): void {
  const eps = num('eps');
  const r = range();
  $('eps-note').textContent =
    `ε = ${fmt(eps)} in pixel units = ${fmt((eps / r) * 255, 3)}/255 of the range [${state.model?.bounds.join(', ') ?? '0, 1'}], ${getNorm(val('norm')).label} ball`;
}

function resetEpsForNorm(): void {
  const s = EPS_SCALE[val('norm') as keyof typeof EPS_SCALE];
  ($('eps') as Input).value = String(+(s.start * range()).toPrecision(4));
  ($('curve-max') as Input).value = String(+(s.curve * range()).toPrecision(4));
  syncSliderFromEps();
}

/* ---------- controls ---------- */

function settings(): AttackSettings {
  return {
    attack: val('attack') as ExplorerAttack,
    norm: val('norm') as AttackSettings['norm'],
    eps: Math.max(0, num('eps') || 0),
    goal: val('goal') as AttackSettings['goal'],
    targetRule: val('target-rule') as AttackSettings['targetRule'],
    targetClass: num('target-class'),
    steps: Math.max(1, Math.round(num('steps')) || 1),
    relStep: num('rel-step') > 0 ? num('rel-step') : 0.25,
    restarts: Math.max(1, Math.round(num('restarts')) || 1),
    decay: Math.max(0, num('decay') || 0),
    seed: Math.max(0, Math.round(num('seed')) || 0),
  };
}

function showAttackRows(resetStep: boolean): void {
  const p = ATTACK_PARAMS[val('attack') as ExplorerAttack];
  $('iter-row').hidden = !p.steps && p.relStep === undefined;
  $('steps').hidden = !p.steps;
  document.querySelector<HTMLElement>('label[for=steps]')!.hidden = !p.steps;
  $('pgd-row').hidden = !p.restarts;
  $('mi-row').hidden = !p.decay;
  $('target-row').hidden = val('goal') !== 'targeted';
  $('target-class').hidden = val('target-rule') !== 'fixed';
  document.querySelector<HTMLElement>('label[for=target-class]')!.hidden =
    val('target-rule') !== 'fixed';
  if (resetStep && p.relStep !== undefined) ($('rel-step') as Input).value = String(p.relStep);
}

function showInputRows(): void {
  const kind = val('input-kind');
  $('input-sample').hidden = kind !== 'sample';
  $('input-draw').hidden = kind !== 'draw';
  $('input-upload').hidden = kind !== 'upload';
}

/* ---------- model ---------- */

function parseList(id: string): number[] | undefined {
  const t = val(id).trim();
  if (!t) return undefined;
  return t.split(/[\s,]+/).map(Number);
}

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
  ($('true-label') as Input).max = String(info.numClasses - 1);
  ($('target-class') as Input).max = String(info.numClasses - 1);
  showError(undefined);
  describeEps();
  return true;
}

async function useNetwork(load: () => Promise<LoadedNetwork>, label: string): Promise<void> {
  setStatus('busy', `loading ${label}…`);
  let loaded: LoadedNetwork;
  try {
    loaded = await load();
  } catch (e) {
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
    resetEpsForNorm();
    schedule(0);
  } else setStatus('error', 'model not usable');
}

/* ---------- input ---------- */

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
    if (!state.uploaded) return 'choose an image file';
    img = state.uploaded;
  }
  if (img.shape.join() !== shape.join()) {
    return `Input shape mismatch: the model expects [${shape.join(', ')}] but the ${kind === 'sample' ? 'MNIST samples are' : 'input is'} [${img.shape.join(', ')}]. Pick a model with a ${img.shape.join('×')} input, or upload an image (it is resized to the model's input).`;
  }
  return { img, label: Math.round(num('true-label')) || 0 };
}

function toTensor(img: UnitImage, model: Classifier): tf.Tensor4D {
  const [lo, hi] = model.bounds;
  return tf.tidy(() => tf.add(tf.mul(tf.tensor4d(img.data, [1, ...img.shape]), hi - lo), lo));
}

/* ---------- the run ---------- */

let timer: ReturnType<typeof setTimeout> | undefined;
function schedule(delay = 120): void {
  clearTimeout(timer);
  timer = setTimeout(() => void update(), delay);
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
    await render(a, x, model, s);
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
    void update();
  }
}

async function render(a: Analysis, x: tf.Tensor4D, model: Classifier, s: AttackSettings) {
  const [lo, hi] = model.bounds;
  await paint($('img-original'), x, lo, hi);
  await paint($('img-adversarial'), a.xAdv, lo, hi);
  const { maxAbs, gain } = await paintPerturbation($('img-perturbation'), a.delta, hi - lo);
  $('pert-scale').textContent =
    maxAbs > 0 ? `(×${fmt(gain, 3)}; grey = 0, white = +${fmt(maxAbs)})` : '(zero)';
  await paint($('img-sign'), a.stepSign, -1, 1);
  $('sign-caption').textContent =
    a.target === undefined
      ? 'step direction: sign of δ*(∇ₓL(x, y))'
      : `step direction: sign of −δ*(∇ₓL(x, t=${a.target}))`;
  const clean = $('clean-pred');
  clean.textContent = `${a.cleanPred} (${(100 * a.clean[0].p).toFixed(1)} %)`;
  clean.dataset.class = String(a.cleanPred);
  const adv = $('adv-pred');
  const advTop = a.adv.find((r) => r.cls === a.advPred);
  adv.textContent = `${a.advPred}${advTop ? ` (${(100 * advTop.p).toFixed(1)} %)` : ''}`;
  adv.dataset.class = String(a.advPred);
  predictionTable($('preds-clean'), a.clean, a.lossClass);
  predictionTable($('preds-adv'), a.adv, a.lossClass);
  const goal = a.target === undefined ? 'untargeted' : `targeted at ${a.target}`;
  const verdict = $('verdict');
  verdict.textContent = `${ATTACK_PARAMS[s.attack].label} (${goal}, ${getNorm(s.norm).label}, ε = ${fmt(s.eps)}): ${a.success ? 'attack succeeded' : 'attack failed'} — ${a.cleanPred} → ${a.advPred}`;
  verdict.dataset.success = String(a.success);
  numberTable($('linear'), linearRows(a, s.norm));
  const pn = $('pert-norm');
  pn.textContent = `${fmt(a.distance, 5)} (${getNorm(s.norm).label}, ε = ${fmt(s.eps)})`;
  pn.dataset.value = String(a.distance);
  numberTable($('norms'), [
    ['‖δ‖∞', fmt(a.norms.linf, 5)],
    ['‖δ‖₂', fmt(a.norms.l2, 5)],
    ['‖δ‖₁', fmt(a.norms.l1, 5)],
  ]);
}

/* ---------- curve ---------- */

async function runCurve(): Promise<void> {
  const model = state.model;
  const samples = state.samples;
  const chart = $('curve-chart');
  if (!model || !samples) return;
  if (model.inputShape.join() !== '28,28,1') {
    chart.textContent = `The curve uses the MNIST samples (28×28×1); this model expects [${model.inputShape.join(', ')}].`;
    return;
  }
  const n = Math.min(samples.count, Math.max(1, Math.round(num('curve-n')) || 1));
  const points = Math.min(21, Math.max(2, Math.round(num('curve-points')) || 2));
  const max = num('curve-max') > 0 ? num('curve-max') : epsMax() / 2;
  const epsilons = Array.from(
    { length: points },
    (_, i) => +((max * i) / (points - 1)).toPrecision(4),
  );
  const s = settings();
  const button = $('curve-run') as HTMLButtonElement;
  button.disabled = true;
  chart.dataset.state = 'busy';
  chart.textContent = `running FGSM and PGD on ${n} samples at ${points} values of ε…`;
  const [lo, hi] = model.bounds;
  const data = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) data.set(samples.image(i).data, i * 784);
  const x = tf.tidy(
    () => tf.add(tf.mul(tf.tensor4d(data, [n, 28, 28, 1]), hi - lo), lo) as tf.Tensor4D,
  );
  try {
    const curve = await accuracyCurve(model, x, samples.labels.slice(0, n), {
      norm: s.norm,
      epsilons,
      pgdSteps: Math.max(1, Math.round(num('curve-steps')) || 10),
      goal: goalOf(s),
      seed: s.seed,
    });
    state.curve = curve;
    chart.replaceChildren(curveSvg(curve, getNorm(s.norm).label));
    chart.dataset.state = 'ready';
    const rows: [string, string, string?][] = curve.epsilons.map((e, i) => [
      `ε = ${e}`,
      `FGSM ${(100 * curve.fgsm[i]).toFixed(1)} %`,
      `PGD ${(100 * curve.pgd[i]).toFixed(1)} %`,
    ]);
    numberTable($('curve-table') as HTMLTableElement, rows);
  } catch (e) {
    chart.textContent = `The curve failed: ${(e as Error).message}`;
    chart.dataset.state = 'error';
  } finally {
    x.dispose();
    button.disabled = false;
  }
}

/* ---------- downloads ---------- */

function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function fileStem(s: AttackSettings): string {
  return `advkit-${s.attack}-${s.norm}-eps${+s.eps.toPrecision(4)}`;
}

function reportJson(): Record<string, unknown> | undefined {
  const { model, loaded, analysis: a } = state;
  if (!model || !loaded) return undefined;
  const s = settings();
  const kind = val('input-kind');
  return settingsReport({
    settings: s,
    model,
    modelSource: loaded.source,
    checksum: loaded.checksum,
    input: {
      kind,
      ...(kind === 'sample' ? { dataset: state.samples?.source, index: num('sample-index') } : {}),
      label: num('true-label'),
    },
    result: a && {
      cleanPrediction: a.cleanPred,
      adversarialPrediction: a.advPred,
      target: a.target ?? null,
      success: a.success,
      distance: a.distance,
      norms: a.norms,
      lossBefore: a.lossBefore,
      lossAfter: a.lossAfter,
      firstOrderPrediction: a.firstOrder,
      linearPredictionWithAppliedDelta: a.linearActual,
      pngNote:
        'the PNG is quantised to 8 bits per channel; the numbers above are for the float image',
    },
    curve: state.curve && {
      ...state.curve,
      definition: 'robust accuracy = correct both clean and under attack / all examples',
      pgdSteps: num('curve-steps'),
    },
  });
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
    const name = files.find((f) => f.name.endsWith('.json'))?.name ?? files[0].name;
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
    if (!f || !state.model) return;
    try {
      const { image, inverted } = await imageFileToUnit(f, state.model.inputShape, 'auto');
      state.uploaded = image;
      ($('image-invert') as Input).checked = inverted;
      schedule(0);
    } catch (e) {
      showError((e as Error).message);
    }
  });
  on('image-invert', 'change', async () => {
    const f = ($('image-file') as Input).files?.[0];
    if (!f || !state.model) return;
    const inv = ($('image-invert') as Input).checked;
    state.uploaded = (await imageFileToUnit(f, state.model.inputShape, inv)).image;
    schedule(0);
  });
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
