/**
 * Merge the parts of a sharded evaluation (shard.ts) into the report an
 * unsharded run writes: every part must carry the model, data and plan
 * hashes of this evaluation, and their ranges must cover the data exactly
 * once; then their columns are appended in data-set order (`mergeColumns`,
 * as the worker threads' batches are) and the report is built from the
 * state as `evaluate` builds it. Only the timing fields differ from an
 * unsharded run: `durationMs` is the sum of the shards' times.
 *
 *   const parts = [{ location: 'part-0-of-2.json', part: p0 }, { location: 'part-1-of-2.json', part: p1 }];
 *   const report = await mergeParts(model, suite, parts, { batchSize: 100, seed: 0 });
 */
import { AdvkitError, InputError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { planEvaluation, reportFromState } from './evaluate.js';
import { type EvaluationPart, partFileName, planHash, shardRange } from './shard.js';
import { emptyState, mergeColumns } from './state.js';
import type { EvaluateOptions, EvaluationReport, Suite } from './types.js';

/** A part and where it came from (a file name), for messages. */
export interface NamedPart {
  location: string;
  part: EvaluationPart;
}

/** The options that decide the numbers; the same ones the shards ran with. */
export type MergeOptions = Pick<
  EvaluateOptions,
  'batchSize' | 'seed' | 'modelChecksum' | 'exampleImages' | 'minimalEpsilon' | 'diagnostics'
>;

/**
 * Check and merge `parts` (any order). A part of another model, data or
 * plan, a range missing, or two parts over the same examples is a
 * PART_MISMATCH naming the parts (and the missing shards); nothing is
 * merged then.
 */
export async function mergeParts(
  model: Classifier,
  suite: Suite,
  parts: readonly NamedPart[],
  options: MergeOptions = {},
): Promise<EvaluationReport> {
  if (parts.length === 0) {
    throw new InputError('INVALID_OPTION', 'parts is empty; give the part of every shard');
  }
  const data = commonData(parts);
  const setup = await planEvaluation(model, suite, options, data.part.data);
  const plan = await planHash(setup);
  const problems: string[] = [];
  for (const { location, part } of parts) {
    const foreign: string[] = [];
    if (part.hashes.model !== setup.modelChecksum) {
      foreign.push(
        `model ${short(part.hashes.model)} (this merge's model is ${short(setup.modelChecksum)})`,
      );
    }
    if (part.hashes.data !== data.part.hashes.data) {
      foreign.push(
        `data ${short(part.hashes.data)} (${data.count} of ${parts.length} parts have ${short(data.part.hashes.data)})`,
      );
    }
    if (part.hashes.plan !== plan) {
      foreign.push(
        `plan ${short(part.hashes.plan)} (attacks, ε, seed, batch size or options differ from this merge's ${short(plan)})`,
      );
    }
    if (foreign.length > 0) {
      problems.push(`part ${location} belongs to another evaluation: ${foreign.join(', ')}`);
    } else {
      problems.push(
        ...shapeProblems(location, part, setup.batches, setup.batchSize, setup.examples),
      );
    }
  }
  if (problems.length === 0)
    problems.push(...coverageProblems(parts, setup.batches, setup.batchSize, setup.examples));
  if (problems.length > 0) {
    throw new AdvkitError('PART_MISMATCH', `cannot merge ${parts.length} parts: ${list(problems)}`);
  }

  const ordered = [...parts].sort((a, b) => a.part.batches.first - b.part.batches.first);
  const state = emptyState(
    setup.fingerprint,
    setup.plan.attacks.length,
    setup.plan.epsilons.length,
  );
  for (const { part } of ordered) mergeColumns(state, part.columns, setup.plan.exampleImages);
  state.batchesDone = setup.batches;
  state.elapsedMs = parts.reduce((s, p) => s + p.part.elapsedMs, 0);
  const lost = uncarried(
    parts.map((p) => p.part.columns),
    state,
  );
  if (lost.length > 0) {
    throw new Error(
      `merging parts dropped the per-example columns ${lost.join(', ')}: mergeColumns (src/eval/state.ts) does not carry them`,
    );
  }
  return reportFromState(setup, state, {
    backend: [...new Set(parts.map((p) => p.part.backend))].join(', '),
    durationMs: state.elapsedMs,
    resumed: parts.some((p) => p.part.resumed),
    createdAt: new Date().toISOString(),
  });
}

/** The data hash most parts share, and one part with it. */
function commonData(parts: readonly NamedPart[]): { part: EvaluationPart; count: number } {
  const counts = new Map<string, { part: EvaluationPart; count: number }>();
  for (const { part } of parts) {
    const c = counts.get(part.hashes.data) ?? { part, count: 0 };
    c.count++;
    counts.set(part.hashes.data, c);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count)[0];
}

/** A part's range and columns agree with each other and with the evaluation. */
function shapeProblems(
  location: string,
  part: EvaluationPart,
  batches: number,
  batchSize: number,
  examples: number,
): string[] {
  const { first, end, total } = part.batches;
  if (total !== batches || !(first >= 0 && first <= end && end <= total)) {
    return [
      `part ${location} has batches ${first}–${end} of ${total}; this evaluation has ${batches}`,
    ];
  }
  const e0 = Math.min(examples, first * batchSize);
  const e1 = Math.min(examples, end * batchSize);
  if (part.examples.first !== e0 || part.examples.end !== e1 || part.examples.total !== examples) {
    return [
      `part ${location} says examples ${part.examples.first}–${part.examples.end} of ${part.examples.total} for batches ${first}–${end}; expected ${e0}–${e1} of ${examples}`,
    ];
  }
  const index = part.columns?.clean?.index;
  if (!Array.isArray(index) || index.length !== e1 - e0 || index.some((v, i) => v !== e0 + i)) {
    return [
      `part ${location} does not hold examples ${e0}–${e1 - 1} in order (${Array.isArray(index) ? `${index.length} records` : 'no records'}); run its shard again`,
    ];
  }
  return [];
}

/** Every batch in exactly one part: overlaps and gaps, named by part and by missing shard. */
function coverageProblems(
  parts: readonly NamedPart[],
  batches: number,
  batchSize: number,
  examples: number,
): string[] {
  const problems: string[] = [];
  const byShard = new Map<string, string>();
  for (const { location, part } of parts) {
    const key = `${part.shard.index}/${part.shard.count}`;
    const other = byShard.get(key);
    if (other !== undefined) {
      problems.push(
        `parts ${other} and ${location} are both shard ${part.shard.index} of ${part.shard.count}`,
      );
    }
    byShard.set(key, location);
  }
  if (problems.length > 0) return problems;
  const ordered = parts
    .filter((p) => p.part.batches.end > p.part.batches.first)
    .sort((a, b) => a.part.batches.first - b.part.batches.first);
  const counts = [...new Set(parts.map((p) => p.part.shard.count))];
  const gap = (from: number, to: number) => {
    const shards: string[] = [];
    for (const count of counts) {
      for (let i = 0; i < count; i++) {
        const [f, e] = shardRange({ index: i, count }, batches);
        if (f < to && e > from && !byShard.has(`${i}/${count}`)) {
          shards.push(`shard ${i} of ${count} (${partFileName({ index: i, count })})`);
        }
      }
    }
    problems.push(
      `no part covers batches ${from}–${to - 1} (examples ${from * batchSize}–${Math.min(examples, to * batchSize) - 1})${shards.length > 0 ? `: missing ${list(shards)}` : ''}`,
    );
  };
  let cursor = 0;
  let last: NamedPart | undefined;
  for (const p of ordered) {
    const { first, end } = p.part.batches;
    if (first < cursor && last) {
      problems.push(
        `parts ${last.location} (batches ${last.part.batches.first}–${last.part.batches.end - 1}) and ${p.location} (batches ${first}–${end - 1}) overlap`,
      );
    } else if (first > cursor) {
      gap(cursor, first);
    }
    if (end > cursor) {
      cursor = end;
      last = p;
    }
  }
  if (cursor < batches) gap(cursor, batches);
  return problems;
}

/**
 * Column paths present in some part but absent from the merged state — a
 * per-example column `mergeColumns` was not taught to carry (the per-example
 * images are capped, not carried whole, and are left out).
 */
function uncarried(parts: readonly unknown[], merged: unknown): string[] {
  const lost = new Set<string>();
  const walk = (from: unknown, into: unknown, at: string) => {
    if (from === null || typeof from !== 'object') return;
    if (Array.isArray(from)) {
      if (!from.some((v) => v !== null && typeof v === 'object')) return;
      from.forEach((v, i) => {
        walk(v, Array.isArray(into) ? into[i] : undefined, `${at}[${i}]`);
      });
      return;
    }
    for (const [k, v] of Object.entries(from)) {
      if (k === 'images') continue;
      const next =
        into !== null && typeof into === 'object'
          ? (into as Record<string, unknown>)[k]
          : undefined;
      if (v !== undefined && next === undefined) lost.add(`${at}.${k}`);
      else walk(v, next, `${at}.${k}`);
    }
  };
  for (const p of parts) walk(p, merged, 'columns');
  return [...lost];
}

function short(hash: string | null): string {
  return hash === null ? 'none' : `${hash.slice(0, 12)}…`;
}

function list(items: readonly string[], max = 10): string {
  const head = items.slice(0, max).join('; ');
  return items.length > max ? `${head}; and ${items.length - max} more` : head;
}
