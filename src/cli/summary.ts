/**
 * What the eval and demo commands do with a finished report: write its files,
 * summarise it as a table or JSON, and judge the --fail-under gate. Also the
 * checkpoint file a run keeps in its output folder.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileCheckpoint } from '../eval/checkpoint-node.js';
import type { CheckpointStore, EvaluationReport } from '../eval/types.js';
import { writeReport } from '../report/write-node.js';
import { pct, table } from './command.js';
import { UsageError } from './flags.js';

/**
 * The checkpoint kept in a run's folder. A fresh run removes an old one; a
 * resumed run reads it.
 */
export function checkpointIn(dir: string, resume: boolean): CheckpointStore {
  const file = path.join(dir, 'checkpoint.json');
  if (!resume) rmSync(file, { force: true });
  else if (!existsSync(file)) {
    throw new UsageError(`--resume: there is no checkpoint at ${file}; run without --resume first`);
  }
  return fileCheckpoint(file);
}

/** Write report.json, report.md and report.html; returns their paths. */
export async function reportFiles(dir: string, report: EvaluationReport): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  return writeReport(dir, report);
}

export interface GateVerdict {
  pass: boolean;
  threshold: number;
  robustAccuracy: number | null;
  attack: string;
  epsilon: number;
  message: string;
}

/** The weakest point at the largest ε: the attack with the lowest robust accuracy there. */
export function weakest(report: EvaluationReport): {
  attack: string;
  epsilon: number;
  value: number | null;
} {
  const eps = Math.max(...report.threatModel.epsilons);
  let worst: { attack: string; epsilon: number; value: number | null } | undefined;
  for (const a of report.attacks) {
    const r = a.results.find((x) => x.epsilon === eps);
    if (!r) continue;
    const v = r.robustAccuracy.value;
    if (!worst || (v ?? Infinity) <= (worst.value ?? Infinity))
      worst = { attack: a.name, epsilon: eps, value: v };
  }
  return worst ?? { attack: 'none', epsilon: eps, value: null };
}

export function gate(report: EvaluationReport, threshold: number): GateVerdict {
  const w = weakest(report);
  const pass = w.value !== null && w.value >= threshold;
  const what = `robust accuracy ${pct(w.value ?? Number.NaN)} under ${w.attack} at ε = ${w.epsilon} (the strongest attack at the largest ε)`;
  return {
    pass,
    threshold,
    robustAccuracy: w.value,
    attack: w.attack,
    epsilon: w.epsilon,
    message: pass
      ? `gate passed: ${what} ≥ --fail-under ${pct(threshold)}`
      : `gate FAILED: ${what} is below --fail-under ${pct(threshold)}`,
  };
}

/** The summary table of a report, for the terminal. */
export function summaryLines(report: EvaluationReport): string[] {
  const tm = report.threatModel;
  const clean = report.clean.accuracy;
  const rows: string[][] = [];
  for (const a of report.attacks) {
    for (const r of a.results) {
      rows.push([
        a.name,
        String(r.epsilon),
        pct(r.robustAccuracy.value ?? Number.NaN),
        `${r.robustAccuracy.numerator}/${r.robustAccuracy.denominator}`,
        pct(r.successRate.value ?? Number.NaN),
        `${r.successRate.numerator}/${r.successRate.denominator}`,
      ]);
    }
  }
  const lines = [
    `model ${report.model.name} (sha256 ${report.model.checksum?.slice(0, 12) ?? 'unknown'}…, ${report.model.mode} mode, output ${report.model.output}${report.model.outputDetection ? `: ${report.model.outputDetection}` : ''})`,
    `data ${report.data.source}: ${report.data.examples} examples${report.data.classesCovered ? ` of ${report.data.classesCovered.length} of the model's ${report.model.numClasses} classes (${report.data.classesCovered.map((c) => c.label).join(', ')})` : ''}${report.data.notes ? ` — ${report.data.notes}` : ''}`,
    `threat model ${tm.normLabel}, bounds [${tm.bounds.join(', ')}], ${tm.goalDescription}, seed ${report.seed}`,
    `clean accuracy ${pct(clean.value ?? Number.NaN)} (${clean.numerator}/${clean.denominator})`,
    '',
    table(
      ['attack', 'ε', 'robust acc', '(correct/all)', 'success rate', '(flipped/clean-correct)'],
      rows,
    ),
  ];
  for (const m of report.minimalEpsilon) {
    if (m.median !== null)
      lines.push(
        `median minimal ε (${m.attack}): ${+m.median.toPrecision(3)} over ${m.flipped} flipped examples, ${m.neverFlipped} never flipped ≤ ${m.epsMax}`,
      );
  }
  if (report.warnings.length) {
    lines.push('', 'warnings:');
    for (const w of report.warnings) lines.push(`  [${w.code}] ${w.message}`);
  }
  lines.push(`took ${(report.durationMs / 1000).toFixed(1)} s on ${report.backend}`);
  return lines;
}

/** The machine-readable summary `--json` prints. */
export function summaryJson(
  report: EvaluationReport,
  out: string,
  files: string[],
  verdict?: GateVerdict,
) {
  return {
    out,
    files,
    model: { name: report.model.name, checksum: report.model.checksum },
    examples: report.data.examples,
    cleanAccuracy: report.clean.accuracy.value,
    results: report.attacks.flatMap((a) =>
      a.results.map((r) => ({
        attack: a.name,
        epsilon: r.epsilon,
        robustAccuracy: r.robustAccuracy.value,
        successRate: r.successRate.value,
        alreadyWrong: r.alreadyWrong,
      })),
    ),
    warnings: report.warnings.map((w) => w.code),
    gate: verdict
      ? {
          pass: verdict.pass,
          threshold: verdict.threshold,
          robustAccuracy: verdict.robustAccuracy,
          attack: verdict.attack,
          epsilon: verdict.epsilon,
        }
      : null,
    durationMs: report.durationMs,
  };
}
