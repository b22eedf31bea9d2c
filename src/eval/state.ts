/**
 * The resumable state of an evaluation: per-example columns appended batch by
 * batch, plus the fingerprint of what is being evaluated. The report is a pure
 * function of this state, so a run resumed from a checkpoint gives the same
 * report as one that never stopped.
 */
import { AdvkitError } from '../errors.js';
import type { ImageExample } from './types.js';

/** What a checkpoint must match to be resumed. */
export interface Fingerprint {
  modelChecksum: string | null;
  dataSource: string;
  examples: number;
  suite: string;
  seed: number;
  batchSize: number;
  minimalEpsilon: string;
  diagnostics: boolean;
  exampleImages: number;
  /** A shard's whole batches [first, end); absent for a run over all of them. */
  range?: [number, number];
}

export interface EpsilonColumns {
  predicted: number[];
  confidence: number[];
  loss: number[];
  distance: number[];
  success: boolean[];
  outOfBounds: boolean[];
  targets?: number[];
  /** Cascades: whether this stage attacked the example (else its values are carried from earlier stages). */
  attacked?: boolean[];
  /** Model queries per example, for query-based attacks (Square). */
  queries?: number[];
}

export interface AttackColumns {
  /** One per ε of the (sorted) suite list. */
  perEpsilon: EpsilonColumns[];
  /** Per example, when the minimal-ε search runs for this attack. */
  minimalEpsilon?: (number | null)[];
  /** Kept examples at the image ε. */
  images: ImageExample[];
}

export interface RunState {
  kind: 'advkit-evaluation-checkpoint';
  version: 1;
  fingerprint: Fingerprint;
  batchesDone: number;
  elapsedMs: number;
  clean: {
    index: number[];
    label: number[];
    predicted: number[];
    confidence: number[];
    loss: number[];
  };
  attacks: AttackColumns[];
  diagnostics: {
    zeroCoordinates: number[];
    coordinates: number;
    /** ‖g‖ in the dual of the FGSM norm, per example. */
    dualNorm: number[];
    /** Per ε: noise-baseline success per example. */
    noiseSuccess: boolean[][];
    /** Per example: max |z₁ − z₂| / (1 + max |z₁|) of the clean logits computed twice (a random model differs). */
    repeatDifference?: number[];
  };
}

/**
 * The per-example columns of a run state without its bookkeeping: what one
 * batch adds (`runBatch` appends to it), and what a batch run elsewhere (a
 * worker thread) sends back to be merged.
 */
export type BatchColumns = Pick<RunState, 'clean' | 'attacks' | 'diagnostics'>;

/** Empty columns for `attacks` attacks × `epsilons` ε values. */
export function emptyColumns(attacks: number, epsilons: number): BatchColumns {
  const eps = () => ({
    predicted: [],
    confidence: [],
    loss: [],
    distance: [],
    success: [],
    outOfBounds: [],
  });
  return {
    clean: { index: [], label: [], predicted: [], confidence: [], loss: [] },
    attacks: Array.from({ length: attacks }, () => ({
      perEpsilon: Array.from({ length: epsilons }, eps),
      images: [],
    })),
    diagnostics: {
      zeroCoordinates: [],
      coordinates: 0,
      dualNorm: [],
      noiseSuccess: Array.from({ length: epsilons }, () => []),
    },
  };
}

export function emptyState(fingerprint: Fingerprint, attacks: number, epsilons: number): RunState {
  return {
    kind: 'advkit-evaluation-checkpoint',
    version: 1,
    fingerprint,
    batchesDone: 0,
    elapsedMs: 0,
    ...emptyColumns(attacks, epsilons),
  };
}

function append<T>(into: T[], from: readonly T[]): void {
  for (const v of from) into.push(v);
}

/**
 * Append the columns of the next batch, as `runBatch` would have appended
 * them to `into` directly: the same per-example values in the same order,
 * and at most `exampleImages` kept images per attack in all (a serial run
 * keeps the first examples of the data set).
 */
export function mergeColumns(into: BatchColumns, from: BatchColumns, exampleImages: number): void {
  const c = into.clean;
  append(c.index, from.clean.index);
  append(c.label, from.clean.label);
  append(c.predicted, from.clean.predicted);
  append(c.confidence, from.clean.confidence);
  append(c.loss, from.clean.loss);
  into.attacks.forEach((a, ai) => {
    const f = from.attacks[ai];
    a.perEpsilon.forEach((e, ei) => {
      const g = f.perEpsilon[ei];
      append(e.predicted, g.predicted);
      append(e.confidence, g.confidence);
      append(e.loss, g.loss);
      append(e.distance, g.distance);
      append(e.success, g.success);
      append(e.outOfBounds, g.outOfBounds);
      if (g.targets) {
        e.targets = e.targets ?? [];
        append(e.targets, g.targets);
      }
      if (g.attacked) {
        e.attacked = e.attacked ?? [];
        append(e.attacked, g.attacked);
      }
      if (g.queries) {
        e.queries = e.queries ?? [];
        append(e.queries, g.queries);
      }
    });
    if (f.minimalEpsilon) {
      a.minimalEpsilon = a.minimalEpsilon ?? [];
      append(a.minimalEpsilon, f.minimalEpsilon);
    }
    append(a.images, f.images.slice(0, Math.max(0, exampleImages - a.images.length)));
  });
  const d = into.diagnostics;
  append(d.zeroCoordinates, from.diagnostics.zeroCoordinates);
  append(d.dualNorm, from.diagnostics.dualNorm);
  if (from.diagnostics.coordinates !== 0) d.coordinates = from.diagnostics.coordinates;
  if (from.diagnostics.repeatDifference) {
    d.repeatDifference = d.repeatDifference ?? [];
    append(d.repeatDifference, from.diagnostics.repeatDifference);
  }
  d.noiseSuccess.forEach((col, e) => {
    append(col, from.diagnostics.noiseSuccess[e]);
  });
}

/**
 * Parse a saved checkpoint and check it belongs to this evaluation; throws
 * RESUME_MISMATCH naming every field that differs.
 */
export function restoreState(text: string, expected: Fingerprint, location: string): RunState {
  let state: RunState;
  try {
    state = JSON.parse(text) as RunState;
  } catch (e) {
    throw new AdvkitError(
      'RESUME_MISMATCH',
      `checkpoint ${location} is not valid JSON (${(e as Error).message}); delete it to start over`,
    );
  }
  if (state?.kind !== 'advkit-evaluation-checkpoint' || state.version !== 1) {
    throw new AdvkitError(
      'RESUME_MISMATCH',
      `checkpoint ${location} is not an advkit evaluation checkpoint (version 1); delete it to start over`,
    );
  }
  const differs = fieldDifferences(state.fingerprint ?? {}, expected);
  if (differs.length > 0) {
    const shown = differs
      .slice(0, 6)
      .map((d) => `${d.field}: checkpoint ${d.was}, this run ${d.now}`);
    if (differs.length > 6) shown.push(`${differs.length - 6} more`);
    throw new AdvkitError(
      'RESUME_MISMATCH',
      `checkpoint ${location} was written by a different evaluation (${shown.join('; ')}); use a new checkpoint path or delete it`,
    );
  }
  return state;
}

/** A value in a few characters: JSON, cut short. */
function brief(v: unknown): string {
  const s = v === undefined ? 'unset' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** The fingerprint's suite and minimal-ε search are JSON text: compare what they hold. */
function unpack(v: unknown): unknown {
  if (typeof v !== 'string' || !/^[[{]/.test(v)) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The leaves in which two fingerprints differ, by dotted path
 * (`suite.epsilons`, `suite.attacks.1.options.steps`), each with both values
 * in brief: the one field a user changed, not the whole fingerprint.
 */
export function fieldDifferences(
  was: unknown,
  now: unknown,
  field = '',
): { field: string; was: string; now: string }[] {
  const a = unpack(was);
  const b = unpack(now);
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const sameArrays = Array.isArray(a) && Array.isArray(b) && a.length === b.length;
  if ((isRecord(a) && isRecord(b)) || sameArrays) {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])];
    return keys.flatMap((k) => fieldDifferences(x[k], y[k], field ? `${field}.${k}` : k));
  }
  return [{ field: field || 'fingerprint', was: brief(a), now: brief(b) }];
}
