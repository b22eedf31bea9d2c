/**
 * One self-contained HTML file: tables, the accuracy-vs-ε plot and the
 * minimal-ε histogram as inline SVG (vega-lite → vega, rendered headless),
 * and image grids as embedded PNG data URIs. No external URLs.
 */
import type { EvaluationReport } from '../eval/types.js';
import { num, optionsText, pct, ratioText } from './format.js';
import { renderGrid } from './images.js';
import { accuracyCurveSpec, minimalEpsilonSpec, renderSvg } from './plots.js';
import { encodePngStored, type PngEncoder, pngDataUri } from './png.js';

export interface HtmlOptions {
  /** PNG encoder for the image grids. Default: a small built-in one (browser-safe). */
  encodePng?: PngEncoder;
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0 1.2rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.warn{color:#8a5300}.error{color:#b00020;font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:1rem}.ex{border:1px solid #ddd;padding:.4rem;font-size:12px}
.ex img{width:84px;height:84px;image-rendering:pixelated;border:1px solid #eee;margin-right:2px}
.plots{display:flex;flex-wrap:wrap;gap:2rem}small{color:#666}`;

export async function toHtml(r: EvaluationReport, options: HtmlOptions = {}): Promise<string> {
  const encode = options.encodePng ?? encodePngStored;
  const e = escapeHtml;
  const className = (c: number) => {
    const name = r.data.classNames?.[c];
    return name !== undefined ? `${c} (${e(name)})` : String(c);
  };
  const parts: string[] = [];
  const acc = r.clean.accuracy;
  parts.push(
    `<h1>advkit evaluation: ${e(r.model.name)}</h1>`,
    `<p>${r.data.examples} examples of ${e(r.data.source)} · clean accuracy <b>${ratioText(acc)}</b> · ${e(r.threatModel.normLabel)}, ${e(r.threatModel.goalDescription)} · seed ${r.seed} · ${e(r.backend)} · advkit ${e(r.advkitVersion)} · ${(r.durationMs / 1000).toFixed(1)} s</p>`,
    '<p><b>robust accuracy</b> = examples correct both clean and under attack / all examples; ' +
      `<b>attack success rate</b> = clean-correct examples the attack succeeds on / clean-correct examples (${acc.denominator - acc.numerator} already-wrong examples counted apart).</p>`,
  );

  parts.push('<h2>Warnings</h2>');
  if (r.warnings.length === 0) parts.push('<p>None.</p>');
  else {
    parts.push('<ul>');
    for (const w of r.warnings) {
      parts.push(
        `<li class="${w.severity === 'error' ? 'error' : 'warn'}"><b>${w.code}</b>: ${e(w.message)}</li>`,
      );
    }
    parts.push('</ul>');
  }

  parts.push('<h2>Plots</h2><div class="plots">');
  parts.push(`<figure>${await renderSvg(accuracyCurveSpec(r))}</figure>`);
  const hist = minimalEpsilonSpec(r);
  if (hist) {
    const never = r.minimalEpsilon.map(
      (m) => `${e(m.attack)}: ${m.neverFlipped} never flipped within ε ≤ ${num(m.epsMax)}`,
    );
    parts.push(
      `<figure>${await renderSvg(hist)}<figcaption><small>${never.join('; ')}</small></figcaption></figure>`,
    );
  }
  parts.push('</div>');

  const c = r.cascade;
  if (c) {
    parts.push(
      '<h2>Robust accuracy after each stage</h2>',
      `<p>${e(c.version ?? 'A cascade')}: ${c.stages.map(e).join(' → ')}, each attacking only the clean-correct examples every earlier stage left robust; an example counts as robust only if no attack broke it. Each cell: robust accuracy after the stage <small>(examples it attacked → broke)</small>.</p>`,
      `<table><tr><th class="l">stage</th>${c.perEpsilon.map((p) => `<th>ε = ${num(p.epsilon)}</th>`).join('')}</tr>`,
      `<tr><td class="l">clean</td>${c.perEpsilon.map(() => `<td>${ratioText(acc)}</td>`).join('')}</tr>`,
    );
    c.stages.forEach((name, si) => {
      const cells = c.perEpsilon.map((p) => {
        const s = p.stages[si];
        const q = s.queries !== undefined ? `, ${s.queries} queries` : '';
        return `<td>${ratioText(s.robustAccuracy)} <small>(${s.attacked} → ${s.broken}${q})</small></td>`;
      });
      parts.push(`<tr><td class="l">${e(name)}</td>${cells.join('')}</tr>`);
    });
    parts.push(
      `<tr><th class="l">robust to all</th>${c.perEpsilon.map((p) => `<th>${ratioText(p.robustAccuracy)}</th>`).join('')}</tr></table>`,
    );
  }

  for (const a of r.attacks) {
    const d = a.description;
    parts.push(
      `<h2>${e(a.name)} <small>(${a.role === 'stronger' ? 'stronger baseline' : 'one-step'})</small></h2>`,
      `<p><small>${e(d.paper)} · norm ${e(d.norm)} · loss ${e(d.loss)} · clipping: ${e(d.clipping)}${Object.keys(d.options).length ? ` · ${e(optionsText(d.options))}` : ''}</small></p>`,
      '<table><tr><th>ε</th><th>robust accuracy</th><th>attack success rate</th><th>already wrong</th><th>mean ‖δ‖</th><th>max ‖δ‖</th><th>mean loss before → after</th></tr>',
    );
    for (const x of a.results) {
      parts.push(
        `<tr><td>${num(x.epsilon)}</td><td>${ratioText(x.robustAccuracy)}</td><td>${ratioText(x.successRate)}</td><td>${x.alreadyWrong}</td><td>${num(x.meanPerturbation)}</td><td>${num(x.maxPerturbation)}</td><td>${num(x.meanLossBefore)} → ${num(x.meanLossAfter)}</td></tr>`,
      );
    }
    parts.push('</table>');
  }

  const dg = r.diagnostics;
  if (dg) {
    parts.push(
      '<h2>Diagnostics</h2>',
      `<p>Zero input-gradient coordinates: ${pct(dg.zeroGradientFraction)} (${dg.zeroGradientExamples} examples with an all-zero gradient). Sanity: ${dg.sanity.budgetViolations} budget and ${dg.sanity.boundsViolations} bounds violations.</p>`,
    );
    if (dg.firstOrder.length > 0 || dg.noise.length > 0) {
      parts.push(
        '<table><tr><th>ε</th><th>FGSM loss gain: linear prediction</th><th>actual</th><th>random noise success</th><th>FGSM success</th></tr>',
      );
      for (const z of dg.noise) {
        const f = dg.firstOrder.find((x) => x.epsilon === z.epsilon);
        parts.push(
          `<tr><td>${num(z.epsilon)}</td><td>${f ? num(f.predictedGain) : '–'}</td><td>${f ? num(f.actualGain) : '–'}</td><td>${ratioText(z.noiseSuccess)}</td><td>${z.fgsmSuccess ? ratioText(z.fgsmSuccess) : '–'}</td></tr>`,
        );
      }
      parts.push('</table>');
    }
    if (dg.iterativeVsFgsm.length > 0) {
      parts.push(
        '<table><tr><th class="l">attack</th><th>ε</th><th>FGSM successes</th><th>attack successes</th><th>FGSM only</th><th>attack only</th></tr>',
      );
      for (const v of dg.iterativeVsFgsm) {
        parts.push(
          `<tr><td class="l">${e(v.attack)}</td><td>${num(v.epsilon)}</td><td>${v.fgsmSuccesses}</td><td>${v.attackSuccesses}</td><td>${v.fgsmOnly}</td><td>${v.attackOnly}</td></tr>`,
        );
      }
      parts.push('</table>');
    }
  }

  const grids = r.images.filter((g) => g.examples.length > 0);
  if (grids.length > 0) parts.push('<h2>Examples</h2>');
  for (const g of grids) {
    const rg = renderGrid(g, r.threatModel.bounds, encode);
    parts.push(
      `<h3>${e(g.attack)} at ε = ${num(g.epsilon)}</h3>`,
      `<p><small>original | perturbation ×${num(rg.scale, 3)} (mid-grey = 0, max |δ| = ${num(rg.maxAbsDelta)}) | adversarial</small></p><div class="grid">`,
    );
    for (const x of rg.examples) {
      const ex = x.example;
      parts.push(
        `<div class="ex"><img alt="original #${ex.index}" src="${pngDataUri(x.original)}"><img alt="perturbation #${ex.index}" src="${pngDataUri(x.perturbation)}"><img alt="adversarial #${ex.index}" src="${pngDataUri(x.adversarial)}">` +
          `<br>#${ex.index} label ${className(ex.label)}<br>clean: ${className(ex.cleanPrediction)} (${pct(ex.cleanConfidence)}) → adv: ${className(ex.adversarialPrediction)} (${pct(ex.adversarialConfidence)})</div>`,
      );
    }
    parts.push('</div>');
  }

  parts.push('<h2>Reporting checklist</h2><table>');
  for (const c of r.checklist)
    parts.push(`<tr><th class="l">${e(c.field)}</th><td class="l">${e(c.value)}</td></tr>`);
  parts.push('</table>');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>advkit evaluation: ${e(r.model.name)}</title><style>${CSS}</style></head>
<body>
${parts.join('\n')}
</body></html>
`;
}
