/**
 * Checks the commands make on what the flags name before they spend time on
 * it: the output folder (created within a second, a folder and not a file,
 * and not another run's unless --force), data that actually uses the
 * bounds it is evaluated under, and ε no larger than the bounds allow.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTemporaries, writeFileAtomic } from '../files/atomic.js';
import { largestDistance } from '../threat-model/bounds.js';
import { UsageError } from './flags.js';

/** How long creating an output folder may take before it is refused. */
export const OUT_DIR_TIMEOUT_MS = 1000;

function timeout(ms: number, what: string): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UsageError(what)), ms);
    timer.unref();
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Create `dir` (and its missing parents, one by one: Node's recursive mkdir
 * loops forever under /proc) and check it is a writable folder, within
 * `OUT_DIR_TIMEOUT_MS`, after removing the temporaries a killed run left
 * there. Every failure is one UsageError naming `--flag`.
 */
export async function prepareOutDir(dir: string, flag = 'out'): Promise<string> {
  const abs = path.resolve(dir);
  const where = `--${flag} ${dir}`;
  const make = async () => {
    // First what a killed run left: its temporaries, or the folder it had set aside mid-swap.
    await removeStaleTemporaries(abs).catch(() => undefined);
    const missing: string[] = [];
    let at = abs;
    for (;;) {
      const st = await stat(at).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
        throw new UsageError(
          `${where}: cannot use ${at} (${e.code}); expected a folder advkit can create`,
        );
      });
      if (st) {
        if (!st.isDirectory()) {
          throw new UsageError(
            at === abs
              ? `${where} is a file; expected a folder (give a new or existing folder's path)`
              : `${where}: ${at} is a file, so no folder can be made inside it; expected a folder's path`,
          );
        }
        break;
      }
      missing.unshift(at);
      const up = path.dirname(at);
      if (up === at) break;
      at = up;
    }
    for (const d of missing) {
      await mkdir(d).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') return;
        throw new UsageError(
          `${where}: cannot create ${d} (${e.code}); expected a folder advkit can create`,
        );
      });
    }
    await access(abs, 2 /* W_OK */).catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(
        `${where} is not writable (${e.code}); expected a folder advkit can write to`,
      );
    });
    return abs;
  };
  const limit = timeout(
    OUT_DIR_TIMEOUT_MS,
    `${where}: the folder could not be created within ${OUT_DIR_TIMEOUT_MS / 1000} s; expected a folder on a local, writable file system`,
  );
  try {
    return await Promise.race([make(), limit.promise]);
  } finally {
    limit.cancel();
  }
}

/** The file that marks a folder as an advkit run and records what it ran. */
export const RUN_FILE = 'advkit-run.json';

/** Flags that change how a run goes or what it prints, not its results. */
const NOT_THE_PLAN = new Set([
  'out',
  'resume',
  'force',
  'json',
  'quiet',
  'help',
  'verbose',
  'backend',
  'threads',
  'workers',
  'fail-under',
  'shard',
  'shard-count',
]);

/**
 * What a command's flags say about its results: every flag except the ones
 * that only change how it runs or prints (so a flag added later counts by
 * default), with paths made absolute.
 */
export function runPlan(
  flags: Record<string, unknown>,
  paths: readonly string[] = [],
): Record<string, unknown> {
  const plan: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (NOT_THE_PLAN.has(k) || v === undefined) continue;
    plan[k] = paths.includes(k) && typeof v === 'string' && existsSync(v) ? path.resolve(v) : v;
  }
  return plan;
}

const shown = (v: unknown) =>
  v === undefined ? 'unset' : Array.isArray(v) ? v.join(',') : String(v);

/** The flags whose values differ between two plans, as "--eps 0.1,0.3 there, 0.2 here". */
export function planDifferences(
  there: Record<string, unknown>,
  here: Record<string, unknown>,
): string[] {
  const keys = [...new Set([...Object.keys(there), ...Object.keys(here)])].sort();
  return keys
    .filter((k) => JSON.stringify(there[k]) !== JSON.stringify(here[k]))
    .map((k) => `--${k} ${shown(there[k])} there, ${shown(here[k])} here`);
}

const TEMPORARY = /\.(tmp|old)-\d+-[0-9a-z]+$/;

/**
 * Claim `dir` for a run of `command` with `plan`: a new or empty folder, the
 * folder of an earlier run of the same plan (run again, it is replaced), or
 * any folder with `force`; with `resume`, the folder being resumed (the
 * checkpoint decides whether it matches). Anything else — another plan's
 * run, files advkit did not write — is refused before it is overwritten.
 * Records the plan in the folder's advkit-run.json.
 */
export async function claimOutDir(
  dir: string,
  o: {
    command: string;
    plan: Record<string, unknown>;
    resume?: boolean;
    force?: boolean;
    flag?: string;
  },
): Promise<void> {
  const flag = o.flag ?? 'out';
  await prepareOutDir(dir, flag);
  // A marker alone is a run that stopped before writing anything.
  const entries = readdirSync(dir).filter((n) => !TEMPORARY.test(n) && n !== RUN_FILE);
  const markerFile = path.join(dir, RUN_FILE);
  if (entries.length > 0 && !o.resume && !o.force) {
    let marker: { kind?: unknown; command?: unknown; plan?: Record<string, unknown> } | undefined;
    try {
      marker =
        existsSync(markerFile) && statSync(markerFile).isFile()
          ? JSON.parse(readFileSync(markerFile, 'utf8'))
          : undefined;
    } catch {
      marker = undefined;
    }
    const listed = `${entries.slice(0, 4).join(', ')}${entries.length > 4 ? `, … (${entries.length} entries)` : ''}`;
    if (marker?.kind !== 'advkit-run' || typeof marker.plan !== 'object' || marker.plan === null) {
      throw new UsageError(
        `--${flag} ${dir} is not empty (${listed}) and is not an advkit run's folder; pick another --${flag}, or add --force to write into it`,
      );
    }
    const differs =
      marker.command === o.command
        ? planDifferences(marker.plan, o.plan)
        : [`it holds an advkit ${String(marker.command)} run, this is ${o.command}`];
    if (differs.length > 0) {
      throw new UsageError(
        `--${flag} ${dir} holds another advkit run (${differs.slice(0, 4).join('; ')}${differs.length > 4 ? '; …' : ''}); pick another --${flag}, add --resume to continue it, or --force to replace it`,
      );
    }
  }
  await writeFileAtomic(
    markerFile,
    `${JSON.stringify({ kind: 'advkit-run', command: o.command, plan: o.plan }, null, 2)}\n`,
  );
}

/**
 * Data that sits in a small corner of the bounds was almost certainly
 * loaded in other units ([0, 1] pixels under --bounds 0,255): ε, the
 * clipping and the report would all be off by the same factor. Refused
 * when every pixel lies within the bounds' lowest 1/100 of the range, or
 * within [lo, lo + 1] under a range wider than 1.
 */
export function checkDataUsesBounds(
  pixels: ArrayLike<number>,
  bounds: readonly [number, number],
  source: string,
): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < pixels.length; i++) if (pixels[i] > max) max = pixels[i];
  if (pixels.length === 0) return;
  const [lo, hi] = bounds;
  const range = hi - lo;
  const used = max - lo;
  if (max > lo && (used <= range / 100 || (range > 1 && used <= 1))) {
    throw new UsageError(
      `--bounds ${lo},${hi} but every pixel of ${source} lies in [${lo}, ${+max.toPrecision(4)}] (${+((100 * used) / range).toPrecision(2)} % of the range): the data is in other units; give the bounds the data uses (e.g. --bounds ${lo},${lo + (max <= lo + 1 ? 1 : Math.ceil(used))})`,
    );
  }
}

/**
 * ε beyond the largest distance two inputs in the bounds can be apart (the
 * range under L∞; range·√d under L2, range·d under L1, d the values per
 * example) is a typo or a unit mistake, not a larger threat.
 */
export function checkEpsilonsInRange(
  eps: readonly number[],
  norm: 'linf' | 'l2' | 'l1',
  bounds: readonly [number, number],
  coordinates: number,
  flag = 'eps',
): void {
  const max = largestDistance(norm, bounds, coordinates);
  const bad = eps.find((e) => e > max);
  if (bad !== undefined) {
    const why =
      norm === 'linf'
        ? `the bounds' range hi − lo = ${+max.toPrecision(6)}`
        : `the largest ${norm === 'l2' ? 'L2' : 'L1'} distance inside the bounds, ${+max.toPrecision(6)} (range ${bounds[1] - bounds[0]} over ${coordinates} values)`;
    throw new UsageError(
      `--${flag} ${bad} is larger than ${why}; ε is in pixel units of --bounds ${bounds[0]},${bounds[1]}`,
    );
  }
}

/** Both checks of a data set and an ε list against the model they are for. */
export function checkRunInputs(
  data: { images: ArrayLike<number>; source: string },
  model: { bounds: readonly [number, number]; inputShape: readonly number[] },
  eps: readonly number[],
  norm: 'linf' | 'l2' | 'l1',
): void {
  checkDataUsesBounds(data.images, model.bounds, data.source);
  checkEpsilonsInRange(
    eps,
    norm,
    model.bounds,
    model.inputShape.reduce((a, b) => a * b, 1),
  );
}
