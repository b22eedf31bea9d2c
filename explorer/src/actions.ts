/** The accuracy-vs-ε curve and the downloads (adversarial PNG, settings JSON). */
import * as tf from '@tensorflow/tfjs';
import { getNorm } from 'advkit';
import { epsMax, num, settings, val } from './controls.js';
import { accuracyCurve, curveSvg } from './curve.js';
import { $, numberTable } from './render.js';
import { type AttackSettings, goalOf, settingsReport } from './settings.js';
import { state } from './state.js';

/* ---------- curve ---------- */

export async function runCurve(): Promise<void> {
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

export function download(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function fileStem(s: AttackSettings): string {
  return `advkit-${s.attack}-${s.norm}-eps${+s.eps.toPrecision(4)}`;
}

export function reportJson(): Record<string, unknown> | undefined {
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
      ...(a.queries !== undefined ? { queries: a.queries } : {}),
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
