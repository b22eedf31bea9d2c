/**
 * A RobustBench-shaped summary of a cascade report (the AutoAttack
 * presets), written beside the report as `robustbench.json`: the fields of
 * RobustBench's model entries (`clean_acc`, `autoattack_acc` as percentages
 * with two decimals, `eps` as the fraction of the input range RobustBench
 * writes, e.g. "8/255" or "0.3", `threat_model`), plus `n_ex` and advkit's
 * own provenance. The headline ε is the suite's largest; every ε is listed.
 */
import type { EvaluationReport } from '../eval/types.js';

export interface RobustBenchSummary {
  clean_acc: string;
  autoattack_acc: string;
  eps: string;
  threat_model: 'Linf' | 'L2' | 'L1';
  n_ex: number;
  /** The AutoAttack version (the preset), or "custom" for a suite's own cascade. */
  version: string;
  /** Robust accuracy after every stage, per ε, in percent. */
  per_eps: { eps: string; autoattack_acc: string; stages: Record<string, string> }[];
  model_checksum: string | null;
  seed: number;
  advkit_version: string;
}

const THREAT: Record<string, RobustBenchSummary['threat_model']> = {
  linf: 'Linf',
  l2: 'L2',
  l1: 'L1',
};

const percent = (v: number | null) => (v === null ? 'n/a' : (100 * v).toFixed(2));

/**
 * ε as a fraction of the input range, the way RobustBench writes it: a short
 * decimal ("0.3") when there is one, else k/255 when ε is a whole number of
 * 8-bit steps ("8/255"), else the decimal.
 */
export function epsilonFraction(eps: number, bounds: readonly [number, number]): string {
  const f = eps / (bounds[1] - bounds[0]);
  const short = String(+f.toPrecision(6));
  if (short.replace(/^0\./, '').length <= 4) return short;
  const k = f * 255;
  if (Math.abs(k - Math.round(k)) < 1e-6 * 255) return `${Math.round(k)}/255`;
  return short;
}

/** The summary, or null for a report that did not run as a cascade. */
export function robustBenchSummary(r: EvaluationReport): RobustBenchSummary | null {
  const c = r.cascade;
  if (!c || c.perEpsilon.length === 0) return null;
  const bounds = r.threatModel.bounds;
  const top = c.perEpsilon[c.perEpsilon.length - 1];
  return {
    clean_acc: percent(r.clean.accuracy.value),
    autoattack_acc: percent(top.robustAccuracy.value),
    eps: epsilonFraction(top.epsilon, bounds),
    threat_model: THREAT[r.threatModel.norm] ?? 'Linf',
    n_ex: r.data.examples,
    version: c.version ?? 'custom',
    per_eps: c.perEpsilon.map((p) => ({
      eps: epsilonFraction(p.epsilon, bounds),
      autoattack_acc: percent(p.robustAccuracy.value),
      stages: Object.fromEntries(p.stages.map((s) => [s.attack, percent(s.robustAccuracy.value)])),
    })),
    model_checksum: r.model.checksum,
    seed: r.seed,
    advkit_version: r.advkitVersion,
  };
}
