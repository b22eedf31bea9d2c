/**
 * torchvision classifiers exported to ONNX (scripts/fixtures/onnx/export.py) run through
 * advkit as PyTorch runs them. For every committed small variant (ResNet BasicBlock and
 * Bottleneck, MobileNetV2/V3, EfficientNet-B0, ConvNeXt, ViT, DenseNet; opsets 11, 13, 17;
 * unfolded batch norms; external data; a static-batch export) and every full-size network
 * in fixtures-large/:
 *
 * - advkit's logits, with the recorded ImageNet mean/std as its preprocessing and the
 *   pixels as input, match PyTorch's float64 logits within the fixture's tolerance (50x
 *   PyTorch's own float32 error);
 * - the input gradient of the summed cross-entropy (objectiveGradient, pixels, NHWC
 *   turned back to NCHW) matches PyTorch's: cosine per example and largest error within
 *   the fixture's bounds (export.py's tolerances() says how they follow PyTorch's own
 *   float32 spread); on the small fixtures through the layer plan, when the graph has
 *   one, and through TF.js's autodiff both;
 * - FGSM's step has PyTorch's sign wherever |gradient| is above that spread;
 * - onnxruntime-node (`npm run oracle:onnxruntime`) gives the same logits, when installed;
 * - nothing leaks.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  Classifier,
  FGSM,
  importOnnx,
  objectiveGradient,
  setBackend,
  useLayerPlans,
} from '../../src/node.js';
import {
  type Fixture,
  fixtureDirs,
  LARGE_FIXTURES,
  nchwValues,
  nhwcInput,
  readFixture,
  SMALL_FIXTURES,
} from './onnx-reference.js';

/** The subset of onnxruntime-node's API used here (it is never a dependency of advkit). */
interface Ort {
  InferenceSession: {
    create(path: string): Promise<{
      run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array }>>;
      release(): Promise<void>;
    }>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

let ort: Ort | undefined;
const ORT_PACKAGE = 'onnxruntime-node';

before(async () => {
  await setBackend();
  try {
    // A CommonJS package: its exports are the namespace's default.
    const mod = (await import(ORT_PACKAGE)) as { default?: Ort } & Ort;
    ort = mod.default ?? mod;
  } catch {
    ort = undefined;
  }
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * Everything checked on one fixture, on its first `n` reference inputs (the reference
 * gradient is of a sum over the batch, and each example's term depends on that example
 * only, so its first rows are the gradient of the first examples' sum).
 */
async function checkFixture(
  f: Fixture,
  n: number,
  options: { fgsm: boolean; bothRoutes: boolean },
): Promise<string> {
  const { ref } = f;
  const [, c, h, w] = ref.input.shape;
  const size = c * h * w;
  const tol = ref.tolerances;
  const before = tf.memory().numTensors;

  const net = await importOnnx(f.bytes, { externalData: f.externalData, where: f.dir });
  assert.deepEqual(net.inputShape, [h, w, c], 'NCHW model input read as NHWC [h, w, c]');
  assert.equal(net.opset, ref.opset);
  assert.equal(net.checksum, ref.graph.sha256, 'checksum: sha256 of model.onnx (+ its data)');
  const model = Classifier.create(net, {
    bounds: [0, 1],
    preprocess: { mean: ref.mean, std: ref.std },
    name: ref.name,
  });
  assert.equal(model.info.kind, 'onnx');
  assert.equal(model.numClasses, ref.numClasses);
  assert.equal(model.info.output, 'logits', 'torchvision classifiers end in a Linear: logits');

  const x = nhwcInput(f, n);
  const labels = tf.tensor1d(ref.labels.slice(0, n), 'int32');

  const torch64 = f.array('logits64').subarray(0, n * ref.numClasses);
  const g64 = f.array('gradient64').subarray(0, n * size);
  // With a layer plan, the plan's logits and gradient and TF.js's autodiff through the
  // translated graph are each held to PyTorch's.
  const paths = model.plan() ? ['layer plan', 'autodiff'] : ['autodiff'];
  const summaries: string[] = [];
  const grads: Float32Array[] = [];
  for (const route of options.bothRoutes ? paths : paths.slice(0, 1)) {
    useLayerPlans(route === 'layer plan');
    let ours: Float32Array;
    let g: Float32Array;
    try {
      const logits = model.logits(x);
      ours = (await logits.data()) as Float32Array;
      logits.dispose();
      const step = objectiveGradient(model, x, labels, 'ce');
      g = await nchwValues(step.grad);
      step.dispose();
    } finally {
      useLayerPlans(true);
    }
    const dl = maxAbsDiff(ours, torch64);
    assert.ok(
      dl <= tol.logitsAbs,
      `${ref.name} (${route}): max |logits - PyTorch float64| ${dl.toExponential(2)} > ${tol.logitsAbs.toExponential(2)} (PyTorch float32's own: ${ref.noise.logits.toExponential(2)}; max |logit| ${ref.noise.maxAbsLogits64.toPrecision(3)})`,
    );
    // The input gradient of the summed CE.
    let worst = 1;
    for (let i = 0; i < n; i++) {
      const cos = cosine(
        g.subarray(i * size, (i + 1) * size),
        g64.subarray(i * size, (i + 1) * size),
      );
      worst = Math.min(worst, cos);
      assert.ok(
        cos >= tol.gradientCosine,
        `${ref.name} (${route}) example ${i}: gradient cosine to PyTorch float64 ${cos.toFixed(8)} < ${tol.gradientCosine} (PyTorch float32's own: ${ref.noise.gradientCosine.toFixed(8)})`,
      );
    }
    const dg = maxAbsDiff(g, g64);
    assert.ok(
      dg <= tol.gradientMaxAbs,
      `${ref.name} (${route}): max |gradient - PyTorch float64| ${dg.toExponential(2)} > ${tol.gradientMaxAbs.toExponential(2)} (max |g| ${ref.noise.maxAbsGradient64.toExponential(2)}; PyTorch float32's own error ${ref.noise.gradient.toExponential(2)})`,
    );
    summaries.push(
      `${route}: max |Δ logits| ${dl.toExponential(2)} (bound ${tol.logitsAbs.toExponential(2)}), gradient cosine ≥ ${worst.toFixed(9)} (bound ${tol.gradientCosine}), max |Δ g| / max |g| ${(dg / ref.noise.maxAbsGradient64).toExponential(2)} (bound ${(tol.gradientMaxAbs / ref.noise.maxAbsGradient64).toExponential(2)})`,
    );
    grads.push(g);
  }

  // FGSM's direction: where |g64| is above float noise, sign(g) is PyTorch's.
  const grad = grads[0];
  const flipped: number[] = [];
  let signed = 0;
  for (let i = 0; i < grad.length; i++) {
    if (Math.abs(g64[i]) <= tol.signThreshold) continue;
    signed++;
    if (Math.sign(grad[i]) !== Math.sign(g64[i])) flipped.push(i);
  }
  assert.ok(
    signed > 0.5 * grad.length,
    `${ref.name}: signs compared on ${signed} of ${grad.length}`,
  );
  assert.equal(
    flipped.length,
    0,
    `${ref.name}: gradient sign differs from PyTorch's at ${flipped.length} of ${signed} coordinates where |g64| > ${tol.signThreshold.toExponential(2)} (first NCHW indices ${flipped.slice(0, 5)})`,
  );

  // The FGSM attack itself: one step of ε·sign(g), then the [0, 1] clip; where the sign is
  // certain and the step is not clipped, the step is PyTorch's sign times ε, exactly.
  if (options.fgsm) {
    const eps = 1 / 255;
    const [r] = await new FGSM().run(model, { x, labels }, [eps]);
    const adv = await nchwValues(r.xAdv);
    r.xAdv.dispose();
    const x0 = f.array('input').subarray(0, n * size);
    let compared = 0;
    const wrong: number[] = [];
    for (let i = 0; i < adv.length; i++) {
      if (Math.abs(g64[i]) <= tol.signThreshold) continue;
      const want = x0[i] + eps * Math.sign(g64[i]);
      if (want < 0 || want > 1) continue;
      compared++;
      if (Math.abs(adv[i] - want) > 1e-6) wrong.push(i);
    }
    assert.ok(compared > 0.5 * adv.length, `${ref.name}: FGSM steps compared on ${compared}`);
    assert.equal(
      wrong.length,
      0,
      `${ref.name}: FGSM's step differs from ε·sign(PyTorch's gradient) at ${wrong.length} of ${compared} coordinates (first NCHW indices ${wrong.slice(0, 5)})`,
    );
  }

  tf.dispose([x, labels]);
  model.dispose();
  net.dispose();
  assert.equal(tf.memory().numTensors, before, `${ref.name}: no tensor leaked`);
  return `${ref.name}: ${summaries.join('; ')}; signs on ${signed} coordinates`;
}

/** onnxruntime-node on the same file and the same normalised input. */
async function checkOnnxruntime(rt: Ort, f: Fixture, n: number): Promise<void> {
  const { ref } = f;
  const [, c, h, w] = ref.input.shape;
  const x = f.array('input').subarray(0, n * c * h * w);
  const z = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / (h * w)) % c;
    z[i] = (x[i] - ref.mean[ch]) / ref.std[ch];
  }
  const session = await rt.InferenceSession.create(path.join(f.dir, 'model.onnx'));
  // An export without dynamic axes takes one image at a time.
  const perRun = ref.exportOptions.dynamic_axes ? n : 1;
  const logits = new Float32Array(n * ref.numClasses);
  for (let i = 0; i < n; i += perRun) {
    const feed = new rt.Tensor('float32', z.subarray(i * c * h * w, (i + perRun) * c * h * w), [
      perRun,
      c,
      h,
      w,
    ]);
    const out = await session.run({ input: feed });
    logits.set(out.logits.data, i * ref.numClasses);
  }
  await session.release();
  const d = maxAbsDiff(logits, f.array('logits64').subarray(0, n * ref.numClasses));
  assert.ok(
    d <= ref.tolerances.logitsAbs,
    `${ref.name}: onnxruntime logits vs PyTorch float64: max |Δ| ${d.toExponential(2)} > ${ref.tolerances.logitsAbs.toExponential(2)}`,
  );
}

const small = fixtureDirs(SMALL_FIXTURES);

test('the committed torchvision fixtures are all there', () => {
  assert.ok(small.length >= 12, `found ${small.length} fixtures in ${SMALL_FIXTURES}`);
});

for (const dir of small) {
  const f = readFixture(dir);
  test(`torchvision ${f.ref.name} (opset ${f.ref.opset}): logits, input gradient and FGSM signs = PyTorch's`, async (t) => {
    t.diagnostic(await checkFixture(f, f.ref.input.shape[0], { fgsm: true, bothRoutes: true }));
  });
  test(`torchvision ${f.ref.name}: onnxruntime-node's logits = PyTorch's`, async (t) => {
    if (!ort) return t.skip('onnxruntime-node is not installed (npm run oracle:onnxruntime)');
    await checkOnnxruntime(ort, f, f.ref.input.shape[0]);
  });
}

const large = fixtureDirs(LARGE_FIXTURES);
if (large.length === 0) {
  test('full-size torchvision networks (fixtures-large/)', (t) => {
    t.skip(
      'fixtures-large/ is absent: /usr/bin/python3 scripts/fixtures/onnx/export.py --full all',
    );
  });
}
for (const dir of large) {
  const f = readFixture(dir);
  // One 224x224 input each, the default route only (plan, else autodiff) and no separate
  // FGSM run (both are checked on the small fixtures): enough to catch a wrong op, cheap
  // enough for the suite.
  test(`full-size torchvision ${f.ref.name}: logits, input gradient and its signs = PyTorch's (one input)`, async (t) => {
    t.diagnostic(await checkFixture(f, 1, { fgsm: false, bothRoutes: false }));
  });
  test(`full-size torchvision ${f.ref.name}: onnxruntime-node's logits = PyTorch's`, async (t) => {
    if (!ort) return t.skip('onnxruntime-node is not installed (npm run oracle:onnxruntime)');
    await checkOnnxruntime(ort, f, 1);
  });
}
