/**
 * `evaluate` on worker threads (`workerThreads`): the same report and the
 * same checkpoints as one batch at a time, on the shipped MNIST CNN; resume
 * across the two; errors inside workers; what cannot be sent to a worker.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { loadMnist } from '../../src/data/index.js';
import {
  type BatchRunner,
  type EvaluateOptions,
  type EvaluationReport,
  evaluate,
  memoryCheckpoint,
  type ProgressEvent,
  type Suite,
} from '../../src/eval/index.js';
import { runInOrder } from '../../src/eval/parallel.js';
import { emptyColumns } from '../../src/eval/state.js';
import { rethrown, unsendable } from '../../src/eval/worker-transfer-node.js';
import { workerThreads } from '../../src/eval/workers-node.js';
import {
  AdvkitError,
  Classifier,
  InputError,
  LoadError,
  targeted,
  WorkerError,
} from '../../src/index.js';
import { loadClassifierFromFile } from '../../src/model/load-node.js';
import { tinyCnn } from '../fixtures.js';
import { syntheticData } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CNN = path.join(ROOT, 'models', 'mnist-cnn', 'model.json');

let model: Classifier;
let checksum: string;
before(async () => {
  await setBackend('wasm', { threads: 1 });
  ({ model, checksum } = await loadClassifierFromFile(CNN));
});
after(() => model.dispose());

// 60 examples in 5 batches of 12 on 2 workers; 15 example images span two
// batches; minimal ε for FGSM and PGD; diagnostics on.
const data = loadMnist('test', { limit: 60 });
const suite: Suite = {
  epsilons: [0.15, 0, 0.05],
  attacks: [{ name: 'fgsm' }, { name: 'pgd', options: { steps: 3, restarts: 2 } }],
};
const opts: EvaluateOptions = {
  batchSize: 12,
  seed: 7,
  exampleImages: 15,
  minimalEpsilon: { bisectionSteps: 2 },
};
// Targeted (random targets) with MI-FGSM: the target columns merge too.
const targetedSuite: Suite = {
  epsilons: [0.1, 0.2],
  attacks: [{ name: 'fgsm' }, { name: 'mifgsm', options: { steps: 3 } }],
  goal: targeted({ kind: 'random' }),
};

/** The report without the fields that record when and how long. */
function results(r: EvaluationReport): unknown {
  const { createdAt: _c, durationMs: _d, resumed: _r, checklist, ...rest } = r;
  return { ...rest, checklist: checklist.filter((c) => c.field !== 'Time taken') };
}

/**
 * The same, as report.json holds it: a checkpoint is JSON, which writes −0
 * (the loss of an example predicted with certainty) as 0, so a resumed run
 * matches an uninterrupted one as JSON, the way both are written.
 */
function written(r: EvaluationReport): unknown {
  return JSON.parse(JSON.stringify(results(r)));
}

/** A checkpoint's state without its clock. */
function stateOf(text: string | undefined): unknown {
  const { elapsedMs: _e, ...rest } = JSON.parse(text ?? 'null');
  return rest;
}

/** The checkpoint a one-batch-at-a-time run saves after `batches` batches. */
async function prefixCheckpoint(batches: number): Promise<string | undefined> {
  const store = memoryCheckpoint();
  await assert.rejects(
    evaluate(model, data, suite, {
      ...opts,
      modelChecksum: checksum,
      checkpoint: store,
      onProgress: (e) => {
        if (e.batch === batches) throw new Error('stop');
      },
    }),
    /stop/,
  );
  return store.text;
}

let serial: EvaluationReport;
let serialCheckpoint: string | undefined;

describe('evaluate with workerThreads', () => {
  it('gives the report and checkpoint of a one-batch-at-a-time run', async () => {
    const store = memoryCheckpoint();
    serial = await evaluate(model, data, suite, {
      ...opts,
      modelChecksum: checksum,
      checkpoint: store,
    });
    serialCheckpoint = store.text;

    const parallelStore = memoryCheckpoint();
    const events: ProgressEvent[] = [];
    const tensors = tf.memory().numTensors;
    const parallel = await evaluate(model, data, suite, {
      ...opts,
      modelChecksum: checksum,
      checkpoint: parallelStore,
      executor: workerThreads(2),
      onProgress: (e) => events.push(e),
    });
    assert.equal(tf.memory().numTensors, tensors, 'no tensor leaked on this thread');
    assert.deepEqual(results(parallel), results(serial));
    assert.deepEqual(stateOf(parallelStore.text), stateOf(serialCheckpoint));
    // What the comparison covers, so an empty field cannot pass unnoticed.
    assert.equal(serial.attacks[0].results[0].examples.length, 60);
    assert.deepEqual(
      serial.minimalEpsilon.map((m) => [m.attack, m.values.length]),
      [
        ['fgsm', 60],
        ['pgd', 60],
      ],
    );
    assert.equal(serial.diagnostics?.noise.length, 2, 'noise baseline at ε > 0');
    assert.deepEqual(
      serial.images.map((g) => g.examples.map((x) => x.index)),
      [Array.from({ length: 15 }, (_, i) => i), Array.from({ length: 15 }, (_, i) => i)],
    );
    // Progress: phases as workers start them, batches counted as merged, in order.
    const counts = events.map((e) => e.examplesDone);
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => a - b),
      'examplesDone never goes back',
    );
    assert.deepEqual(events.at(-1), {
      phase: 'done',
      attack: undefined,
      batch: 5,
      batches: 5,
      examplesDone: 60,
      examples: 60,
      resumed: false,
    });
    assert.ok(
      events.some((e) => e.phase === 'minimal-epsilon' && e.attack === 'pgd'),
      "events.some((e) => e.phase === 'minimal-epsilon' && e.attack === 'pgd')",
    );
  });

  it('targeted goal: the same report, targets included', async () => {
    const o: EvaluateOptions = { ...opts, modelChecksum: checksum, minimalEpsilon: false };
    const one = await evaluate(model, data, targetedSuite, o);
    const two = await evaluate(model, data, targetedSuite, { ...o, executor: workerThreads(3) });
    assert.deepEqual(results(two), results(one));
    assert.equal(one.attacks[1].results[0].examples[0].target !== undefined, true);
  });

  it('a checkpoint of an interrupted parallel run resumes, with or without workers, to the same report', async () => {
    const store = memoryCheckpoint();
    await assert.rejects(
      evaluate(model, data, suite, {
        ...opts,
        modelChecksum: checksum,
        checkpoint: store,
        executor: workerThreads(2),
        onProgress: (e) => {
          if (e.batch >= 2) throw new Error('interrupted');
        },
      }),
      /interrupted/,
    );
    const saved = store.text;
    const done = JSON.parse(saved ?? '{}').batchesDone;
    assert.ok(done >= 2 && done < 5, `interrupted after a prefix of batches (${done})`);
    assert.deepEqual(
      stateOf(saved),
      stateOf(await prefixCheckpoint(done)),
      'the checkpoint of a one-batch-at-a-time run after as many batches',
    );

    const resumedParallel = await evaluate(model, data, suite, {
      ...opts,
      modelChecksum: checksum,
      checkpoint: store,
      executor: workerThreads(2),
    });
    assert.equal(resumedParallel.resumed, true);
    assert.deepEqual(written(resumedParallel), written(serial));
    assert.deepEqual(stateOf(store.text), stateOf(serialCheckpoint));

    const seen: number[] = [];
    const resumedSerial = await evaluate(model, data, suite, {
      ...opts,
      modelChecksum: checksum,
      checkpoint: memoryCheckpoint(saved),
      onProgress: (e) => seen.push(e.batch),
    });
    assert.ok(!seen.includes(0) && !seen.includes(1), 'finished batches are not rerun');
    assert.deepEqual(written(resumedSerial), written(serial));
  });

  it('an error inside a worker is rethrown with its code, the worker and the batch; the process exits', () => {
    const fixture = path.join(ROOT, 'test', 'eval', 'workers-error.fixture.ts');
    const res = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 90_000,
    });
    assert.equal(
      res.signal,
      null,
      `killed by the 90 s timeout (a worker kept it alive?): ${res.stderr}`,
    );
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}');
    assert.equal(out.name, 'InputError');
    assert.equal(out.code, 'INVALID_LABELS');
    assert.match(out.message, /^evaluation worker [12] of 2, batch 1: target list has 20 entries/);
  });

  it('a model a worker cannot rebuild fails at start, naming the worker', async () => {
    class Doubler extends tf.layers.Layer {
      static className = 'AdvkitTestDoubler';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? inputs[0] : inputs, 2);
      }
    }
    tf.serialization.registerClass(Doubler);
    const net = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        new Doubler({}),
        tf.layers.dense({ units: 10 }),
      ],
    });
    const custom = Classifier.create(net);
    try {
      await assert.rejects(
        evaluate(
          custom,
          data,
          { epsilons: [0.1], attacks: [{ name: 'fgsm' }] },
          {
            batchSize: 80,
            minimalEpsilon: false,
            executor: workerThreads(2),
          },
        ),
        (e: unknown) =>
          e instanceof LoadError &&
          e.code === 'MODEL_LOAD' &&
          /^evaluation worker 1 of 1, starting: .*AdvkitTestDoubler/s.test(e.message),
      );
    } finally {
      custom.dispose();
      net.dispose();
    }
  });

  it('bad input: worker count, a function model, custom preprocessing, a surrogate', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
      assert.throws(
        () => workerThreads(bad),
        (e: unknown) =>
          e instanceof InputError && e.code === 'INVALID_OPTION' && /workerThreads/.test(e.message),
      );
    }
    const small: Suite = { epsilons: [0.1], attacks: [{ name: 'fgsm' }] };
    const o: EvaluateOptions = { batchSize: 8, minimalEpsilon: false, executor: workerThreads(2) };

    const fn = tinyCnn();
    try {
      await assert.rejects(
        evaluate(fn.model, syntheticData(16, [8, 8, 1], 4), small, o),
        (e: unknown) =>
          e instanceof InputError &&
          e.code === 'INVALID_OPTION' &&
          /plain function .* cannot be sent to a worker thread/.test(e.message),
      );
    } finally {
      fn.dispose();
    }

    const net = model.network as tf.LayersModel;
    const pre = Classifier.create(net, {
      preprocess: { name: 'times one', fn: (x) => tf.mul(x, 1) as tf.Tensor4D },
    });
    await assert.rejects(
      evaluate(pre, data, small, o),
      (e: unknown) =>
        e instanceof InputError && /preprocess "times one" is a function/.test(e.message),
    );
    pre.dispose();

    await assert.rejects(
      evaluate(
        model,
        data,
        { epsilons: [0.1], attacks: [{ name: 'fgsm', options: { surrogate: model } }] },
        o,
      ),
      (e: unknown) =>
        e instanceof InputError &&
        /suite\.attacks\[0\]\.options\.surrogate is a Classifier object/.test(e.message),
    );
  });

  it('normalisation travels to the workers: { mean, std } gives the same report', async () => {
    const net = model.network as tf.LayersModel;
    // The network sees (x − 0.5)/0.5: a different model, the same on both sides.
    const normalised = Classifier.create(net, { preprocess: { mean: [0.5], std: [0.5] } });
    const small: Suite = { epsilons: [0.1], attacks: [{ name: 'fgsm' }] };
    const o: EvaluateOptions = { batchSize: 16, minimalEpsilon: false, modelChecksum: 'n' };
    const limited = { ...o, limit: 32 };
    const one = await evaluate(normalised, data, small, limited);
    const two = await evaluate(normalised, data, small, { ...limited, executor: workerThreads(2) });
    assert.deepEqual(results(two), results(one));
    assert.match(one.model.preprocessing, /mean \[0\.5\]/);
    normalised.dispose();
  });
});

describe('runInOrder: the work queue and the in-order merge', () => {
  const job = (b: number) => ({
    batch: b,
    pixels: new Float32Array(0),
    labels: new Int32Array(0),
    indices: new Int32Array(0),
    exampleImages: 0,
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('keeps every slot busy and merges out-of-order completions in batch order', async () => {
    const finished: number[] = [];
    const merged: number[] = [];
    let running = 0;
    let most = 0;
    const runner: BatchRunner = {
      concurrency: 3,
      async run(j) {
        running++;
        most = Math.max(most, running);
        await sleep(j.batch === 1 ? 80 : 5); // the first batch is slow: the rest overtake it
        running--;
        finished.push(j.batch);
        const c = emptyColumns(0, 0);
        c.clean.index.push(j.batch);
        return c;
      },
      async close() {},
    };
    await runInOrder({
      runner,
      first: 1, // batch 0 came from a checkpoint
      batches: 9,
      job,
      onPhase: () => {},
      merge: async (b, c) => {
        assert.deepEqual(c.clean.index, [b]);
        merged.push(b);
      },
    });
    assert.deepEqual(merged, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.notDeepEqual(finished, merged, 'completions came out of order');
    assert.equal(most, 3, 'three batches in flight');
  });

  it('stops at the first failure: earlier batches merged, no new batch started', async () => {
    const started: number[] = [];
    const merged: number[] = [];
    const runner: BatchRunner = {
      concurrency: 2,
      async run(j) {
        started.push(j.batch);
        // Batch 2 ends at ~10 ms, batch 3 fails at ~25 ms, batch 4 would end at ~50 ms.
        await sleep(j.batch === 3 ? 20 : 5);
        if (j.batch === 3) throw new InputError('INVALID_LABELS', 'batch 3 is bad');
        await sleep(j.batch === 4 ? 40 : 0);
        return emptyColumns(0, 0);
      },
      async close() {},
    };
    await assert.rejects(
      runInOrder({
        runner,
        first: 0,
        batches: 10,
        job,
        onPhase: () => {},
        merge: async (b) => {
          merged.push(b);
        },
      }),
      /batch 3 is bad/,
    );
    assert.deepEqual(merged, [0, 1, 2]);
    assert.ok(Math.max(...started) <= 4, `nothing started after the failure: ${started}`);
  });
});

describe('worker errors and what can be sent', () => {
  it('rethrown: bad input keeps its class and code; anything else is a WorkerError', () => {
    const bad = rethrown(
      { name: 'InputError', code: 'INVALID_LABELS', message: 'labels out of range' },
      'evaluation worker 2 of 2, batch 3',
    );
    assert.ok(bad instanceof InputError, 'bad instanceof InputError');
    assert.equal(bad.code, 'INVALID_LABELS');
    assert.equal(bad.message, 'evaluation worker 2 of 2, batch 3: labels out of range');
    const load = rethrown({ name: 'LoadError', code: 'MODEL_LOAD', message: 'x' }, 'w');
    assert.ok(load instanceof LoadError, 'load instanceof LoadError');
    const crash = rethrown(
      {
        name: 'TypeError',
        message: 'undefined is not a function',
        stack: 'TypeError: …\n    at f',
      },
      'evaluation worker 1 of 2, batch 0',
    );
    assert.ok(
      crash instanceof WorkerError && crash instanceof AdvkitError,
      'crash instanceof WorkerError && crash instanceof AdvkitError',
    );
    assert.equal(crash.code, 'WORKER');
    assert.equal(
      crash.message,
      'evaluation worker 1 of 2, batch 0 failed: TypeError: undefined is not a function',
    );
    assert.match(String((crash.cause as Error).stack), /at f/);
  });

  it('unsendable names the first function or class instance by its path', () => {
    assert.equal(unsendable({ a: [1, { b: 'x' }], t: new Float32Array(2) }, 'o'), undefined);
    assert.equal(unsendable({ a: [1, { b: () => 0 }] }, 'o'), 'o.a[1].b is a function');
    assert.equal(unsendable({ m: new Map() }, 'o'), 'o.m is a Map object');
  });
});
