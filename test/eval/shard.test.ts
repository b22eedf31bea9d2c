/**
 * Sharded evaluation (`evaluateShard`, `mergeParts`) on the shipped MNIST
 * CNN: 4 shards numbered by a faked Slurm array, and 9 shards over 6
 * batches (3 of them empty), merge to the unsharded report; missing,
 * overlapping and foreign parts are refused naming them; a shard killed
 * after a batch resumes from its checkpoint to the same part; shard
 * numbering from the environment.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { loadMnist } from '../../src/data/index.js';
import {
  type EvaluateOptions,
  type EvaluationPart,
  type EvaluationReport,
  evaluate,
  evaluateShard,
  memoryCheckpoint,
  mergeParts,
  type NamedPart,
  parseShard,
  partFileName,
  type Suite,
  shardFromEnv,
  shardRange,
} from '../../src/eval/index.js';
import { AdvkitError, type Classifier } from '../../src/index.js';
import { loadClassifierFromFile } from '../../src/model/load-node.js';
import { toJson } from '../../src/report/json.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CNN = path.join(ROOT, 'models', 'mnist-cnn', 'model.json');

let model: Classifier;
let checksum: string;
before(async () => {
  await setBackend('wasm', { threads: 1 });
  ({ model, checksum } = await loadClassifierFromFile(CNN));
});
after(() => model.dispose());

// 44 examples in 6 batches of 8 (the last one short); 11 example images
// span two batches; minimal ε for FGSM and PGD; diagnostics on.
const data = loadMnist('test', { limit: 44 });
const suite: Suite = {
  epsilons: [0.2, 0, 0.1],
  attacks: [{ name: 'fgsm' }, { name: 'pgd', options: { steps: 2, restarts: 2 } }],
};
const opts = (): EvaluateOptions => ({
  batchSize: 8,
  seed: 11,
  exampleImages: 11,
  minimalEpsilon: { bisectionSteps: 2 },
  modelChecksum: checksum,
});

/** report.json without the fields that record when, how long and where. */
function results(r: EvaluationReport): unknown {
  const {
    createdAt: _c,
    durationMs: _d,
    resumed: _r,
    checklist,
    ...rest
  } = JSON.parse(toJson(r)) as EvaluationReport;
  return { ...rest, checklist: checklist.filter((c) => c.field !== 'Time taken') };
}

/** As read back from files: parts travel as JSON. */
const named = (part: EvaluationPart): NamedPart => ({
  location: partFileName(part.shard),
  part: JSON.parse(JSON.stringify(part)) as EvaluationPart,
});

async function shards(count: number, options = opts()): Promise<NamedPart[]> {
  const out: NamedPart[] = [];
  for (let index = 0; index < count; index++) {
    out.push(
      named(await evaluateShard(model, data, suite, { ...options, shard: { index, count } })),
    );
  }
  return out;
}

let reference: unknown;
let four: NamedPart[];

describe('shards merge to the unsharded report', () => {
  it('4 shards numbered by a faked Slurm array (task ids 1–4), merged, equal the unsharded run', async () => {
    reference = results(await evaluate(model, data, suite, opts()));
    const before = tf.memory().numTensors;
    four = [];
    for (let id = 1; id <= 4; id++) {
      const env = {
        SLURM_ARRAY_TASK_ID: String(id),
        SLURM_ARRAY_TASK_MIN: '1',
        SLURM_ARRAY_TASK_MAX: '4',
        SLURM_ARRAY_TASK_COUNT: '4',
      };
      const resolved = shardFromEnv(env);
      assert.ok(resolved, `task ${id} resolves to a shard`);
      four.push(
        named(await evaluateShard(model, data, suite, { ...opts(), shard: resolved.shard })),
      );
    }
    assert.deepEqual(
      four.map((p) => [p.part.batches.first, p.part.batches.end]),
      [
        [0, 1],
        [1, 3],
        [3, 4],
        [4, 6],
      ],
    );
    // Merge in a shuffled order: order of the arguments does not matter.
    const merged = await mergeParts(model, suite, [four[2], four[0], four[3], four[1]], opts());
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked by the shards or the merge');
    assert.deepEqual(results(merged), reference);
    assert.equal(
      merged.images[0].examples.length,
      11,
      'the first 11 examples kept, across batches',
    );
  });

  it('over-partitioned: 9 shards over 6 batches (3 empty) merge to the same report', async () => {
    const nine = await shards(9);
    const empty = nine.filter((p) => p.part.batches.first === p.part.batches.end);
    assert.equal(empty.length, 3, 'three shards have no batch');
    assert.deepEqual(results(await mergeParts(model, suite, nine, opts())), reference);
  });

  it('200 shards over 6 batches (194 empty parts) merge to the same report', async () => {
    const many = await shards(200);
    assert.equal(many.filter((p) => p.part.columns.clean.index.length > 0).length, 6);
    assert.deepEqual(results(await mergeParts(model, suite, many, opts())), reference);
  });

  it('a per-example column that mergeColumns does not carry fails the merge instead of vanishing', async () => {
    const extended = four.map(({ location, part }) => {
      const p = structuredClone(part);
      const diagnostics = p.columns.diagnostics as typeof p.columns.diagnostics & {
        extra: number[];
      };
      diagnostics.extra = p.columns.clean.index.map(() => 1);
      return { location, part: p };
    });
    await assert.rejects(
      () => mergeParts(model, suite, extended, opts()),
      /dropped the per-example columns columns\.diagnostics\.extra: mergeColumns/,
    );
  });
});

describe('bad sets of parts are refused, naming the part', () => {
  const refused = async (parts: NamedPart[], pattern: RegExp, options = opts()) => {
    await assert.rejects(
      () => mergeParts(model, suite, parts, options),
      (e: unknown) => {
        assert.ok(e instanceof AdvkitError, `an AdvkitError; got ${String(e)}`);
        assert.equal(e.code, 'PART_MISMATCH');
        assert.match(e.message, pattern);
        return true;
      },
    );
  };

  it('a missing part: the batches and the missing shard file', async () => {
    await refused(
      [four[0], four[1], four[3]],
      /no part covers batches 3–3 \(examples 24–31\): missing shard 2 of 4 \(part-2-of-4\.json\)/,
    );
    await refused(four.slice(0, 3), /no part covers batches 4–5 \(examples 32–43\)/);
  });

  it('an overlapping part (the same shard twice, or another shard count) ', async () => {
    await refused(
      [...four, four[1]],
      /parts part-1-of-4\.json and part-1-of-4\.json are both shard 1 of 4/,
    );
    const [half] = await shards(2);
    // Shard 0 of 2 is batches 0–2: it overlaps shard 1 of 4 (batches 1–2).
    await refused(
      [half, four[1], four[2], four[3]],
      /parts part-0-of-2\.json \(batches 0–2\) and part-1-of-4\.json \(batches 1–2\) overlap/,
    );
  });

  it('a foreign part: another seed (plan), other data, another model', async () => {
    const otherSeed = named(
      await evaluateShard(model, data, suite, {
        ...opts(),
        seed: 12,
        shard: { index: 2, count: 4 },
      }),
    );
    otherSeed.location = 'seed12/part-2-of-4.json';
    await refused(
      [four[0], four[1], otherSeed, four[3]],
      /part seed12\/part-2-of-4\.json belongs to another evaluation: plan [0-9a-f]{12}…/,
    );
    const other = loadMnist('test', { limit: 88 });
    const shifted = {
      ...data,
      images: other.images.slice(44 * 784),
      labels: other.labels.slice(44),
    };
    const otherData = named(
      await evaluateShard(model, shifted, suite, { ...opts(), shard: { index: 3, count: 4 } }),
    );
    otherData.location = 'elsewhere/part-3-of-4.json';
    await refused(
      [...four.slice(0, 3), otherData],
      /part elsewhere\/part-3-of-4\.json belongs to another evaluation: data [0-9a-f]{12}… \(3 of 4 parts have/,
    );
    await refused(
      four,
      /belongs to another evaluation: model [0-9a-f]{12}… \(this merge's model is 0000/,
      {
        ...opts(),
        modelChecksum: '0'.repeat(64),
      },
    );
  });
});

describe('a shard killed and retried', () => {
  it('resumes from its checkpoint and writes the same part', async () => {
    const store = memoryCheckpoint();
    let saves = 0;
    const killing = {
      location: 'shard-1.checkpoint.json',
      load: () => store.load(),
      async save(text: string) {
        await store.save(text);
        if (++saves === 1) throw new Error('killed after its first batch');
      },
    };
    const shard = { index: 1, count: 4 }; // batches 1–2
    await assert.rejects(
      () => evaluateShard(model, data, suite, { ...opts(), shard, checkpoint: killing }),
      /killed after its first batch/,
    );
    const done: number[] = [];
    const retried = await evaluateShard(model, data, suite, {
      ...opts(),
      shard,
      checkpoint: killing,
      onProgress: (e) => {
        if (e.phase === 'clean') done.push(e.batch);
      },
    });
    assert.deepEqual(done, [1], 'only the second of its two batches ran again');
    assert.equal(retried.resumed, true);
    assert.deepEqual(named(retried).part.columns, four[1].part.columns);
    // The checkpoint of one shard is refused by another.
    await assert.rejects(
      () =>
        evaluateShard(model, data, suite, {
          ...opts(),
          shard: { index: 2, count: 4 },
          checkpoint: store,
        }),
      (e: unknown) =>
        e instanceof AdvkitError && e.code === 'RESUME_MISMATCH' && /range/.test(e.message),
    );
  });
});

describe('shard numbering', () => {
  it('ranges are contiguous, balanced and cover every batch once, empty past the batch count', () => {
    for (const [batches, count] of [
      [6, 4],
      [500, 200],
      [3, 200],
      [1, 1],
    ]) {
      let next = 0;
      for (let index = 0; index < count; index++) {
        const [first, end] = shardRange({ index, count }, batches);
        assert.equal(first, next, `shard ${index} of ${count} starts where the last ended`);
        assert.ok(
          end - first <= Math.ceil(batches / count),
          `shard ${index} is at most ⌈B/N⌉ batches`,
        );
        next = end;
      }
      assert.equal(next, batches, `${count} shards cover all ${batches} batches`);
    }
  });

  it('from Slurm (any first task id, a step) and Kubernetes Indexed Jobs; errors name the variable', () => {
    const slurm = (id: number, min: number, max: number, step?: number) =>
      shardFromEnv({
        SLURM_ARRAY_TASK_ID: String(id),
        SLURM_ARRAY_TASK_MIN: String(min),
        SLURM_ARRAY_TASK_MAX: String(max),
        SLURM_ARRAY_TASK_COUNT: String((max - min) / (step ?? 1) + 1),
        ...(step ? { SLURM_ARRAY_TASK_STEP: String(step) } : {}),
      })?.shard;
    assert.deepEqual(slurm(0, 0, 199), { index: 0, count: 200 });
    assert.deepEqual(slurm(200, 1, 200), { index: 199, count: 200 });
    assert.deepEqual(slurm(14, 10, 18, 2), { index: 2, count: 5 });
    assert.deepEqual(shardFromEnv({ JOB_COMPLETION_INDEX: '7' }, 16)?.shard, {
      index: 7,
      count: 16,
    });
    assert.equal(shardFromEnv({}), undefined);
    assert.throws(
      () => shardFromEnv({ JOB_COMPLETION_INDEX: '7' }),
      /no shard count is given.*--shard-count/,
    );
    assert.throws(
      () => shardFromEnv({ JOB_COMPLETION_INDEX: '16' }, 16),
      /index must be an integer from 0 to 15/,
    );
    assert.throws(
      () =>
        shardFromEnv({
          SLURM_ARRAY_TASK_ID: '5',
          SLURM_ARRAY_TASK_MIN: '1',
          SLURM_ARRAY_TASK_MAX: '9',
          SLURM_ARRAY_TASK_COUNT: '3',
        }),
      /not an evenly stepped range/,
    );
    assert.throws(
      () => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' }, 8),
      /shard count 8 differs from the Slurm array's SLURM_ARRAY_TASK_COUNT=4/,
    );
    assert.deepEqual(parseShard('3/4'), { index: 3, count: 4 });
    assert.throws(() => parseShard('4/4'), /0-based/);
    assert.throws(() => parseShard('1of4'), /INDEX\/COUNT/);
    assert.equal(partFileName({ index: 7, count: 200 }), 'part-007-of-200.json');
  });
});
