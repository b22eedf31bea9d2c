/**
 * `advkit eval` as one shard of a scheduler's array: which shard (the
 * flags, else the Slurm or Kubernetes variables), then the shard's batches
 * into a part file in --out, resuming from the shard's own checkpoint there
 * when the scheduler runs it again. The part keeps eval's flags, so that
 * `advkit merge` rebuilds the same model and suite.
 */
import path from 'node:path';
import { AdvkitError } from '../errors.js';
import { fileCheckpoint } from '../eval/checkpoint-node.js';
import { writePart } from '../eval/parts-node.js';
import {
  evaluateShard,
  parseShard,
  partFileName,
  type ResolvedShard,
  type ShardSpec,
  shardFromEnv,
} from '../eval/shard.js';
import type { Suite } from '../eval/types.js';
import { prepareOutDir } from './checks.js';
import { note, print } from './command.js';
import type { EvalFlags } from './commands/eval.js';
import { loadEvalInputs } from './eval-inputs.js';
import { UsageError } from './flags.js';

/** What the eval command keeps in a part, for `advkit merge`. */
export interface EvalInvocation {
  command: 'eval';
  /** The parsed flags, the model path made absolute. */
  flags: EvalFlags;
  /** The model's name in the report (its path as the shard saw it), kept by the merge. */
  modelName: string;
}

/** `--shard I/N` or `off`. */
export function shardFlag(raw: string, flag: string): ShardSpec | 'off' {
  if (raw.trim().toLowerCase() === 'off') return 'off';
  try {
    return parseShard(raw, `--${flag}`);
  } catch (e) {
    throw e instanceof AdvkitError ? new UsageError(e.message) : e;
  }
}

/** The shard this run is, or undefined for a whole run. */
export function resolveShard(
  o: Pick<EvalFlags, 'shard' | 'shard-count'>,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedShard | undefined {
  const count = o['shard-count'];
  if (o.shard === 'off') {
    if (count !== undefined) throw new UsageError('--shard off and --shard-count do not combine');
    return undefined;
  }
  if (o.shard !== undefined) {
    if (count !== undefined && count !== o.shard.count) {
      throw new UsageError(
        `--shard ${o.shard.index}/${o.shard.count} and --shard-count ${count} disagree; give one`,
      );
    }
    return { shard: o.shard, from: `--shard ${o.shard.index}/${o.shard.count}` };
  }
  let resolved: ResolvedShard | undefined;
  try {
    resolved = shardFromEnv(env, count);
  } catch (e) {
    throw e instanceof AdvkitError ? new UsageError(e.message) : e;
  }
  if (resolved === undefined && count !== undefined) {
    throw new UsageError(
      `--shard-count ${count} needs the shard index: JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID is not set; give --shard INDEX/COUNT instead`,
    );
  }
  return resolved;
}

/** The checkpoint a shard keeps beside its part (not matched by `part-*.json`). */
export function shardCheckpointName(spec: ShardSpec): string {
  return partFileName(spec).replace(/^part-/, 'checkpoint-');
}

export async function runShard(
  o: EvalFlags,
  resolved: ResolvedShard,
  suite: Suite,
): Promise<number> {
  const { shard } = resolved;
  if (!o.out) {
    throw new UsageError(
      `shard ${shard.index} of ${shard.count} (${resolved.from}) needs --out: the folder every shard writes its part into`,
    );
  }
  if (o['fail-under'] !== undefined) {
    throw new UsageError(
      '--fail-under judges the whole evaluation: give it to `advkit merge`, not to a shard',
    );
  }
  const quiet = o.quiet || o.json;
  const partFile = path.join(o.out, partFileName(shard));
  const checkpointFile = path.join(o.out, shardCheckpointName(shard));
  note(quiet, `advkit: shard ${shard.index} of ${shard.count} (${resolved.from}) → ${partFile}`);
  // Shards share --out, so it is prepared but not claimed as one run's folder.
  await prepareOutDir(o.out);
  const {
    model,
    data: ds,
    options,
    bar,
  } = await loadEvalInputs(o, () => fileCheckpoint(checkpointFile), quiet);
  const modelName = model.info.name;
  let part: Awaited<ReturnType<typeof evaluateShard>>;
  try {
    part = await evaluateShard(model, ds, suite, { ...options, shard });
  } finally {
    bar.stop();
    model.dispose();
  }
  const invocation: EvalInvocation = {
    command: 'eval',
    flags: { ...o, model: path.resolve(o.model) },
    modelName,
  };
  await writePart(partFile, { ...part, invocation });
  const { batches: b, examples: x } = part;
  const range =
    b.first === b.end
      ? 'no batches (more shards than batches)'
      : `batches ${b.first}–${b.end - 1} of ${b.total}, examples ${x.first}–${x.end - 1}`;
  if (o.json) {
    print(
      JSON.stringify({
        part: partFile,
        shard,
        batches: b,
        examples: x,
        resumed: part.resumed,
        elapsedMs: part.elapsedMs,
      }),
    );
  } else {
    print(
      `shard ${shard.index} of ${shard.count}: ${range}${part.resumed ? ' (resumed)' : ''}`,
      `part: ${partFile}`,
      `merge the parts with: advkit merge ${o.out} --out ${o.out}`,
    );
  }
  return 0;
}
