/**
 * Plots as SVG strings: vega-lite specs compiled to vega and rendered
 * headless (renderer 'none'), so they embed in a self-contained HTML file.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { EvaluationReport } from '../eval/types.js';

export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Robust accuracy vs ε, one line per attack (FGSM and PGD on one chart). */
export function accuracyCurveSpec(report: EvaluationReport): vl.TopLevelSpec {
  const values = report.curves.flatMap((c) =>
    c.points
      .filter((p) => p.robustAccuracy !== null)
      .map((p) => ({ attack: c.attack, epsilon: p.epsilon, robustAccuracy: p.robustAccuracy })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Robust accuracy vs ε (${report.threatModel.normLabel}, ${report.threatModel.goalDescription})`,
    width: 420,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epsilon', type: 'quantitative', title: `ε (${report.threatModel.normLabel})` },
      y: {
        field: 'robustAccuracy',
        type: 'quantitative',
        title: 'robust accuracy (of all examples)',
        scale: { domain: [0, 1] },
      },
      color: { field: 'attack', type: 'nominal', title: 'attack' },
    },
  };
}

/** Histogram of per-example minimal ε over flipped clean-correct examples. */
export function minimalEpsilonSpec(report: EvaluationReport): vl.TopLevelSpec | null {
  const correct = new Set<number>();
  const ex = report.attacks[0]?.results[0]?.examples ?? [];
  for (const e of ex) if (e.cleanPrediction === e.label) correct.add(e.index);
  const values = report.minimalEpsilon.flatMap((m) =>
    m.values
      .map((v, i) => ({ attack: m.attack, epsilon: v, index: m.indices[i] }))
      .filter((r) => r.epsilon !== null && correct.has(r.index)),
  );
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Per-example minimal ε (clean-correct examples that were flipped)',
    width: 420,
    height: 220,
    data: { values },
    mark: { type: 'bar', opacity: 0.6 },
    encoding: {
      x: {
        field: 'epsilon',
        type: 'quantitative',
        bin: { maxbins: 20 },
        title: `minimal ε (${report.threatModel.normLabel})`,
      },
      y: { aggregate: 'count', type: 'quantitative', title: 'examples', stack: null },
      color: { field: 'attack', type: 'nominal', title: 'attack' },
    },
  };
}
