/**
 * Assemble the report from the run state: metrics per attack × ε with their
 * denominators, curves, minimal ε, diagnostics and warnings, image grids and
 * the spec's reporting checklist. Pure: the same state gives the same report
 * (apart from the timing fields).
 */
import { getNorm } from '../threat-model/norms.js';
import { describeGoal } from '../threat-model/targets.js';
import type { Plan } from './batch.js';
import { computeDiagnostics, outputKindWarnings } from './diagnostics.js';
import {
  attackMetrics,
  cleanAccuracy,
  max,
  mean,
  median,
  ROBUST_ACCURACY_DEFINITION,
  ratio,
} from './metrics.js';
import type { RunState } from './state.js';
import type {
  AttackReport,
  CascadeReport,
  ChecklistItem,
  EvaluationReport,
  ExampleRecord,
  MinimalEpsilonResult,
  ReportWarning,
} from './types.js';
import { SCHEMA_VERSION } from './types.js';
import { ADVKIT_VERSION } from './version.js';

export interface BuildContext {
  plan: Plan;
  state: RunState;
  modelChecksum: string | null;
  data: EvaluationReport['data'];
  norm: string;
  batchSize: number;
  backend: string;
  durationMs: number;
  resumed: boolean;
  createdAt: string;
}

export function buildReport(ctx: BuildContext): EvaluationReport {
  const { plan, state } = ctx;
  const { clean } = state;
  const info = plan.model.info;
  const norm = getNorm(ctx.norm);

  const attacks: AttackReport[] = plan.attacks.map((a, ai) => ({
    name: a.key,
    role: a.role,
    description: a.attack.describe(),
    results: plan.epsilons.map((eps, e) => {
      const c = state.attacks[ai].perEpsilon[e];
      const m = attackMetrics({
        labels: clean.label,
        cleanPredictions: clean.predicted,
        adversarialPredictions: c.predicted,
        success: c.success,
      });
      const examples: ExampleRecord[] = clean.index.map((index, i) => {
        const r: ExampleRecord = {
          index,
          label: clean.label[i],
          cleanPrediction: clean.predicted[i],
          cleanConfidence: clean.confidence[i],
          adversarialPrediction: c.predicted[i],
          adversarialConfidence: c.confidence[i],
          lossBefore: clean.loss[i],
          lossAfter: c.loss[i],
          perturbation: c.distance[i],
          success: c.success[i],
        };
        if (c.targets) r.target = c.targets[i];
        if (c.attacked) r.attacked = c.attacked[i];
        if (c.queries) r.queries = c.queries[i];
        return r;
      });
      return {
        epsilon: eps,
        ...m,
        meanPerturbation: mean(c.distance),
        maxPerturbation: max(c.distance),
        meanLossBefore: mean(clean.loss),
        meanLossAfter: mean(c.loss),
        examples,
      };
    }),
  }));

  const minimalEpsilon: MinimalEpsilonResult[] = [];
  if (plan.minimal) {
    const m = plan.minimal;
    plan.attacks.forEach((a, ai) => {
      const values = state.attacks[ai].minimalEpsilon;
      if (!a.minimal || !values) return;
      const correct = clean.label.map((y, i) => clean.predicted[i] === y);
      const flippedValues = values.filter((v, i): v is number => correct[i] && v !== null);
      minimalEpsilon.push({
        attack: a.key,
        epsMax: m.epsMax,
        grid: m.grid,
        bisectionSteps: m.bisectionSteps,
        values,
        indices: [...clean.index],
        flipped: flippedValues.length,
        neverFlipped: values.filter((v, i) => correct[i] && v === null).length,
        median: median(flippedValues),
      });
    });
  }

  const { diagnostics, warnings } = computeDiagnostics(plan, state, plan.diagnostics);
  const extra: ReportWarning[] = [];
  if (ctx.modelChecksum === null) {
    extra.push({
      code: 'NO_MODEL_CHECKSUM',
      severity: 'warning',
      message:
        'no model checksum: pass modelChecksum (loadModel returns one) so the result can be tied to the exact weights',
    });
  }
  extra.push(...outputKindWarnings(info));
  if (!plan.model.differentiable) {
    extra.push({
      code: 'QUERY_ONLY_MODEL',
      severity: 'warning',
      message:
        'the model is query-only: only query attacks ran, and the diagnostics that need its gradient (zero gradients, the first-order check, the noise-vs-FGSM baseline) were skipped; a query attack failing is weak evidence of robustness',
    });
  }
  if (info.mode === 'train') {
    extra.push({
      code: 'TRAINING_MODE',
      severity: 'warning',
      message:
        'the model ran in training mode (dropout / batch statistics on): it is not the deployed system; evaluate in eval mode unless that is the point',
    });
  }

  const [lo, hi] = info.bounds;
  const report: EvaluationReport = {
    schemaVersion: SCHEMA_VERSION,
    advkitVersion: ADVKIT_VERSION,
    createdAt: ctx.createdAt,
    durationMs: ctx.durationMs,
    backend: ctx.backend,
    resumed: ctx.resumed,
    model: {
      name: info.name,
      kind: info.kind,
      checksum: ctx.modelChecksum,
      inputShape: [...info.inputShape],
      numClasses: info.numClasses,
      mode: info.mode,
      output: info.output,
      outputDetection: info.outputDetection,
      preprocessing: info.preprocessing,
    },
    data: { ...ctx.data, classesCovered: classesCovered(clean.label, ctx.data.classNames) },
    threatModel: {
      bounds: [lo, hi],
      inputScale: `pixels in [${lo}, ${hi}]; ε in the same pixel units`,
      norm: norm.name,
      normLabel: norm.label,
      epsilons: [...plan.epsilons],
      goal: plan.goal,
      goalDescription: describeGoal(plan.goal),
    },
    seed: plan.seed,
    batchSize: ctx.batchSize,
    clean: { accuracy: cleanAccuracy(clean.label, clean.predicted), meanLoss: mean(clean.loss) },
    attacks,
    curves: attacks.map((a) => ({
      attack: a.name,
      points: a.results.map((r) => ({
        epsilon: r.epsilon,
        robustAccuracy: r.robustAccuracy.value,
        successRate: r.successRate.value,
      })),
    })),
    minimalEpsilon,
    diagnostics,
    warnings: [...warnings, ...extra],
    images: plan.attacks.map((a, ai) => ({
      attack: a.key,
      epsilon: plan.epsilons[plan.imageEpsilon],
      shape: [...info.inputShape],
      examples: state.attacks[ai].images,
    })),
    checklist: [],
  };
  if (plan.cascade) report.cascade = cascadeReport(plan, state);
  report.checklist = checklist(report);
  return report;
}

/**
 * Robust accuracy after each stage of a cascade, per ε, and which stage broke
 * each example: the first stage whose own run (not a carried value) succeeded.
 */
function cascadeReport(plan: Plan, state: RunState): CascadeReport {
  const { clean } = state;
  const n = clean.label.length;
  return {
    version: plan.cascade?.version ?? null,
    stages: plan.attacks.map((a) => a.key),
    indices: [...clean.index],
    perEpsilon: plan.epsilons.map((epsilon, e) => {
      const brokenBy: (string | null)[] = clean.label.map((y, i) =>
        clean.predicted[i] === y ? null : 'clean',
      );
      const stages = plan.attacks.map((a, ai) => {
        const c = state.attacks[ai].perEpsilon[e];
        let attacked = 0;
        let broken = 0;
        for (let i = 0; i < n; i++) {
          if (!c.attacked?.[i]) continue;
          attacked++;
          if (c.success[i]) {
            broken++;
            brokenBy[i] = a.key;
          }
        }
        const robust = c.success.filter((s) => !s).length;
        return {
          attack: a.key,
          attacked,
          broken,
          robustAccuracy: ratio(robust, n, ROBUST_ACCURACY_DEFINITION),
          ...(c.queries ? { queries: c.queries.reduce((t, q) => t + q, 0) } : {}),
        };
      });
      const last = stages[stages.length - 1];
      return { epsilon, stages, robustAccuracy: last.robustAccuracy, brokenBy };
    }),
  };
}

/** The spec's reporting checklist, filled from the report. */
export function checklist(r: EvaluationReport): ChecklistItem[] {
  const acc = r.clean.accuracy;
  const stronger = r.attacks.filter((a) => a.role === 'stronger');
  const perAttack = (f: (a: AttackReport) => string) =>
    r.attacks.map((a) => `${a.name}: ${f(a)}`).join('; ');
  return [
    { field: 'Input scale', value: r.threatModel.inputScale },
    {
      field: 'Budget',
      value: `ε ∈ {${r.threatModel.epsilons.join(', ')}}, norm ${perAttack((a) => a.description.norm)}`,
    },
    { field: 'Goal', value: r.threatModel.goalDescription },
    { field: 'Gradient path', value: `through ${r.model.preprocessing}` },
    { field: 'Clipping', value: perAttack((a) => a.description.clipping) },
    { field: 'Model mode', value: r.model.mode },
    {
      field: 'Model output',
      value: `${r.model.output}${r.model.outputDetection ? ` (${r.model.outputDetection})` : ''}`,
    },
    { field: 'Seed', value: String(r.seed) },
    { field: 'Model checksum', value: r.model.checksum ?? 'none (not provided)' },
    {
      field: 'Subset',
      value: `${r.data.examples} of ${r.data.available} examples from ${r.data.source}; clean accuracy ${acc.numerator}/${acc.denominator}`,
    },
    ...(r.data.classesCovered
      ? [
          {
            field: 'Classes covered',
            value: `${r.data.classesCovered.length} of the model's ${r.model.numClasses}: ${r.data.classesCovered
              .map(
                (c) =>
                  `${c.label}${c.name !== undefined && c.name !== String(c.label) ? ` (${c.name})` : ''} × ${c.examples}`,
              )
              .join(', ')}`,
          },
        ]
      : []),
    ...(r.data.notes ? [{ field: 'Data conversions', value: r.data.notes }] : []),
    {
      field: 'Baselines',
      value:
        stronger.length > 0
          ? `after FGSM: ${stronger
              .map(
                (a) =>
                  `${a.name} (${Object.entries(a.description.options)
                    .filter(([k]) => k !== 'kept')
                    .map(([k, v]) => `${k} ${v}`)
                    .join(', ')})`,
              )
              .join('; ')}`
          : 'none (one-step attacks only)',
    },
    ...(r.cascade
      ? [
          {
            field: 'Ensemble',
            value: `${r.cascade.version ?? 'cascade'}: ${r.cascade.stages.join(' → ')}, each on the examples still robust; robust to all: ${r.cascade.perEpsilon
              .map(
                (p) =>
                  `ε ${p.epsilon}: ${p.robustAccuracy.numerator}/${p.robustAccuracy.denominator}`,
              )
              .join(', ')}`,
          },
        ]
      : []),
    { field: 'Backend', value: r.backend },
    { field: 'advkit version', value: r.advkitVersion },
    { field: 'Time taken', value: `${(r.durationMs / 1000).toFixed(1)} s` },
  ];
}

/** The classes the evaluated labels cover, in class order, with their counts. */
function classesCovered(
  labels: readonly number[],
  names: readonly string[] | undefined,
): { label: number; name?: string; examples: number }[] {
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([label, examples]) => ({
      label,
      ...(names?.[label] !== undefined ? { name: names[label] } : {}),
      examples,
    }));
}
