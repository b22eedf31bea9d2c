/**
 * The training report as one self-contained HTML page: the settings, the
 * final evaluation, the catastrophic-overfitting warnings, and loss and
 * accuracy curves per epoch as inline SVG (vega-lite through advkit's
 * report renderer). No external URLs.
 */
import type * as vl from 'vega-lite';
import { escapeHtml, renderSvg } from '../report/index.js';
import type { TrainingReport } from './report.js';

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1.2rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.warn{color:#8a5300;font-weight:600}.plots{display:flex;flex-wrap:wrap;gap:2rem}`;

const pct = (v: number | null | undefined): string =>
  v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(1)} %`;

function curveSpec(
  title: string,
  yTitle: string,
  values: { epoch: number; series: string; value: number }[],
  unit: boolean,
): vl.TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 400,
    height: 240,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: {
        field: 'value',
        type: 'quantitative',
        title: yTitle,
        ...(unit ? { scale: { domain: [0, 1] } } : {}),
      },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

/** Loss and accuracy curves of a training history (vega-lite specs). */
export function trainingCurveSpecs(report: TrainingReport): vl.TopLevelSpec[] {
  const h = report.result.history;
  const series = (
    pairs: [string, (r: (typeof h)[number]) => number | null][],
  ): { epoch: number; series: string; value: number }[] =>
    pairs.flatMap(([name, get]) =>
      h.flatMap((r) => {
        const v = get(r);
        return v === null ? [] : [{ epoch: r.epoch, series: name, value: v }];
      }),
    );
  return [
    curveSpec(
      'Training loss',
      'mean cross-entropy',
      series([
        ['clean', (r) => r.cleanTrainLoss],
        ['adversarial (training attack)', (r) => r.advTrainLoss],
      ]),
      false,
    ),
    curveSpec(
      'Accuracy',
      'accuracy',
      series([
        ['train, clean', (r) => r.cleanTrainAccuracy],
        ['train, training attack', (r) => r.advTrainAccuracy],
        ['held-out, clean', (r) => r.heldOutCleanAccuracy],
        ['held-out, PGD', (r) => r.heldOutPgdAccuracy],
      ]),
      true,
    ),
  ];
}

export async function trainingReportHtml(report: TrainingReport): Promise<string> {
  const e = escapeHtml;
  const r = report.result;
  const o = r.options;
  const svgs = await Promise.all(trainingCurveSpecs(report).map(renderSvg));
  const parts: string[] = [
    '<!doctype html><html><head><meta charset="utf-8"><title>advkit training report</title>',
    `<style>${CSS}</style></head><body>`,
    `<h1>Training report: ${e(report.model.name)} (${e(o.method)})</h1>`,
    `<p>${e(report.data.train)}; held-out: ${e(report.data.heldOut ?? 'none')}; backend ${e(report.backend)}; ${r.history.length} epochs in ${r.seconds.toFixed(0)} s (${e(r.stopped)}${r.resumedFrom !== null ? `, resumed from epoch ${r.resumedFrom}` : ''}). Model sha256 <code>${e(report.model.checksum ?? 'n/a')}</code>, ${report.model.parameters} parameters.</p>`,
    '<h2>Settings</h2><table>',
    ...Object.entries(o).map(
      ([k, v]) => `<tr><th class="l">${e(k)}</th><td class="l">${e(String(v))}</td></tr>`,
    ),
    '</table>',
  ];
  if (r.overfitWarnings.length > 0) {
    parts.push('<h2 class="warn">Catastrophic overfitting detected</h2><ul>');
    for (const w of r.overfitWarnings) {
      parts.push(`<li class="warn">epoch ${w.epoch}: ${e(w.reasons.join('; '))}</li>`);
    }
    parts.push('</ul>');
  }
  if (r.best) {
    parts.push(
      `<p>Best held-out PGD accuracy ${pct(r.best.pgdAccuracy)} at epoch ${r.best.epoch}${r.restoredBest ? '; the saved model holds that epoch’s weights' : ''}.</p>`,
    );
  }
  if (report.evaluation) {
    const ev = report.evaluation;
    parts.push(
      `<h2>Final evaluation</h2><p>L∞, untargeted, pixels in [${ev.bounds.join(', ')}], model in eval mode, seed ${ev.seed}; ${e(report.data.evaluation ?? '')}. Robust accuracy = correct clean and under attack / all examples.</p>`,
      '<table><tr><th class="l">attack</th><th>ε</th><th>examples</th><th>clean accuracy of the subset</th><th>accuracy</th><th>seconds</th></tr>',
      ...ev.rows.map(
        (x) =>
          `<tr><td class="l">${e(x.description)}</td><td>${x.eps}</td><td>${x.examples}</td><td>${pct(x.cleanAccuracy)}</td><td>${pct(x.robustAccuracy)}</td><td>${x.seconds.toFixed(0)}</td></tr>`,
      ),
      '</table>',
    );
  }
  parts.push(`<h2>Curves</h2><div class="plots">${svgs.join('')}</div>`);
  parts.push(
    '<h2>History</h2><table><tr><th>epoch</th><th>clean loss</th><th>clean acc</th><th>adv loss</th><th>adv acc</th><th>held-out clean</th><th>held-out PGD</th><th>lr</th><th>s</th><th class="l">overfitting</th></tr>',
    ...r.history.map(
      (h) =>
        `<tr><td>${h.epoch}</td><td>${h.cleanTrainLoss.toFixed(3)}</td><td>${pct(h.cleanTrainAccuracy)}</td><td>${h.advTrainLoss?.toFixed(3) ?? 'n/a'}</td><td>${pct(h.advTrainAccuracy)}</td><td>${pct(h.heldOutCleanAccuracy)}</td><td>${pct(h.heldOutPgdAccuracy)}</td><td>${h.lrEnd.toExponential(2)}</td><td>${h.seconds.toFixed(0)}</td><td class="l${h.overfit.overfit ? ' warn' : ''}">${h.overfit.overfit ? 'detected' : ''}</td></tr>`,
    ),
    '</table></body></html>',
  );
  return parts.join('\n');
}
