/**
 * The AutoAttack-style cascade (`suite.attacks: 'autoattack'`, `suite.cascade`):
 * presets and their checks, the ensemble never weaker than any member per
 * example, gradient masking caught by Square (BLACK_BOX_BEATS_WHITE_BOX), a
 * random model (RANDOMIZED_MODEL), resume, worker threads and shards giving
 * the same report, the stage table and the RobustBench summary.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { attacksOrPreset } from '../../src/cli/options.js';
import { loadMnist } from '../../src/data/index.js';
import {
  type EvaluationReport,
  evaluate,
  evaluateShard,
  memoryCheckpoint,
  mergeParts,
  type NamedPart,
  partFileName,
  type Suite,
  type SuiteAttack,
} from '../../src/eval/index.js';
import { makePlan } from '../../src/eval/plan.js';
import { workerThreads } from '../../src/eval/workers-node.js';
import { APGD, Classifier, InputError, targeted } from '../../src/index.js';
import { loadClassifierFromFile } from '../../src/model/load-node.js';
import { robustBenchSummary, toMarkdown } from '../../src/report/index.js';
import { roundedModel, tinyCnn } from '../fixtures.js';
import { relabel, syntheticData } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// Top level: the describe blocks build their models while they are collected.
await setBackend('wasm', { threads: 1 });

/** AutoAttack's four attacks on small budgets, for tests. */
const SMALL: SuiteAttack[] = [
  { name: 'apgd', options: { steps: 6 } },
  { name: 'apgd-t', options: { steps: 6, targets: 3 } },
  { name: 'fab-t', options: { steps: 6, targets: 3 } },
  { name: 'square', options: { queries: 60 } },
];

/** The report without the fields that record when and how long. */
function results(r: EvaluationReport): unknown {
  const { createdAt: _c, durationMs: _d, resumed: _r, checklist, ...rest } = r;
  return JSON.parse(
    JSON.stringify({ ...rest, checklist: checklist.filter((c) => c.field !== 'Time taken') }),
  );
}

describe('presets and their checks', () => {
  const net = tinyCnn();
  after(() => net.dispose());

  it('autoattack expands to APGD-CE, APGD-T, FAB-T, Square as a cascade; fast and rand too', () => {
    const plan = (attacks: Suite['attacks']) =>
      makePlan(net.model, { epsilons: [0.1], attacks }, 0, {});
    const full = plan('autoattack');
    assert.deepEqual(
      full.attacks.map((a) => a.key),
      ['apgd-ce', 'apgd-t', 'fab-t', 'square'],
    );
    assert.deepEqual(full.cascade, { version: 'autoattack' });
    assert.equal(full.minimal, null, 'a cascade runs no minimal-ε search');
    assert.ok(
      String(full.attacks[1].attack.describe().options.cascade).startsWith('stage 2 of 4'),
      'each stage is described with its place in the cascade',
    );
    assert.deepEqual(
      plan('autoattack-fast').attacks.map((a) => a.key),
      ['apgd-ce', 'apgd-t'],
    );
    assert.deepEqual(
      plan('autoattack-rand').attacks.map((a) => a.key),
      ['apgd-ce', 'apgd-dlr'],
    );
    assert.equal(plan([{ name: 'fgsm' }]).cascade, null, 'a list is not a cascade by default');
  });

  it('refuses an unknown preset, a targeted cascade, cascade: false with a preset, minimal ε', async () => {
    const data = syntheticData(4, [8, 8, 1], 4);
    const cases: [Suite, Record<string, unknown>, RegExp][] = [
      [{ epsilons: [0.1], attacks: 'autoatack' as never }, {}, /"autoatack" is not a preset/],
      [
        { epsilons: [0.1], attacks: 'autoattack', goal: targeted({ kind: 'least-likely' }) },
        {},
        /suite.goal must be untargeted/,
      ],
      [{ epsilons: [0.1], attacks: 'autoattack', cascade: false }, {}, /preset is a cascade/],
      [
        { epsilons: [0.1], attacks: 'autoattack-fast' },
        { minimalEpsilon: { attacks: ['apgd'] } },
        /cannot be searched in a cascade/,
      ],
      [{ epsilons: [0.1], attacks: 7 as never }, {}, /array of \{ name, options\? \} or a preset/],
    ];
    for (const [suite, options, message] of cases) {
      assert.throws(
        () => {
          // evaluate checks before any work; the plan is built synchronously inside it.
          makePlan(net.model, suite, 0, options);
        },
        (e: unknown) => e instanceof InputError && message.test((e as Error).message),
        `expected ${message} for ${JSON.stringify(suite)}`,
      );
    }
    await assert.rejects(
      evaluate(net.model, data, { epsilons: [0.1], attacks: 7 as never }),
      (e: unknown) => e instanceof InputError && /or a preset name; received 7/.test(e.message),
    );
    await assert.rejects(
      evaluate(net.model, data, { epsilons: [0.1], cascade: 'yes' as never }),
      (e: unknown) =>
        e instanceof InputError && /suite.cascade must be true or false/.test(e.message),
    );
  });
});

it('advkit eval --attacks: a preset alone is the cascade; inside a list it is a usage error', () => {
  assert.equal(attacksOrPreset('AutoAttack', 'attacks'), 'autoattack');
  assert.deepEqual(attacksOrPreset('fgsm,apgd-t', 'attacks'), ['fgsm', 'apgd-t']);
  assert.throws(() => attacksOrPreset('fgsm,autoattack', 'attacks'), /is a whole suite/);
  assert.throws(
    () => attacksOrPreset('autoatack', 'attacks'),
    /unknown attack "autoatack".*one preset: autoattack, autoattack-fast, autoattack-rand/,
  );
});

describe('the cascade on a small CNN', () => {
  const net = tinyCnn();
  after(() => net.dispose());
  const epsilons = [0, 0.04, 0.08];
  let data = syntheticData(16, [8, 8, 1], 4);
  let cascade: EvaluationReport;
  let members: EvaluationReport[];

  before(async () => {
    const x = tf.tensor4d(data.images, [16, 8, 8, 1]);
    const { labels: pred } = await net.model.predict(x);
    x.dispose();
    // Two examples wrong from the start: the cascade must not attack them.
    const labels = Int32Array.from(pred);
    labels[3] = (labels[3] + 1) % 4;
    labels[9] = (labels[9] + 2) % 4;
    data = relabel(data, labels);
    const opts = { batchSize: 8, seed: 3, minimalEpsilon: false as const };
    const n0 = tf.memory().numTensors;
    cascade = await evaluate(net.model, data, { epsilons, attacks: SMALL, cascade: true }, opts);
    assert.equal(tf.memory().numTensors, n0, 'the cascade leaks no tensor');
    members = [];
    for (const a of SMALL)
      members.push(await evaluate(net.model, data, { epsilons, attacks: [a] }, opts));
  });

  it('the ensemble is never weaker than any of its members, per example', () => {
    const c = cascade.cascade;
    assert.ok(c, 'a cascade report has its cascade table');
    epsilons.forEach((eps, e) => {
      const brokenBy = c.perEpsilon[e].brokenBy;
      members.forEach((m, mi) => {
        m.attacks[0].results[e].examples.forEach((x, i) => {
          if (x.cleanPrediction !== x.label || !x.success) return;
          assert.notEqual(
            brokenBy[i],
            null,
            `${SMALL[mi].name} alone breaks example ${x.index} at ε = ${eps}, the ensemble must too`,
          );
        });
      });
      const robust = brokenBy.filter((b) => b === null).length;
      assert.equal(c.perEpsilon[e].robustAccuracy.numerator, robust, 'robust = never broken');
      for (const m of members) {
        assert.ok(
          robust <= m.attacks[0].results[e].robustAccuracy.numerator,
          `ensemble robust ${robust} > a member's at ε = ${eps}`,
        );
      }
    });
  });

  it('each stage attacks only the clean-correct examples still robust; robust accuracy never rises', () => {
    const c = cascade.cascade;
    assert.ok(c, 'a cascade report has its cascade table');
    for (const p of c.perEpsilon) {
      let left = cascade.clean.accuracy.numerator;
      for (const s of p.stages) {
        assert.equal(
          s.attacked,
          left,
          `${s.attack} at ε = ${p.epsilon} attacks the ${left} still robust`,
        );
        left -= s.broken;
        assert.equal(s.robustAccuracy.numerator, left, `${s.attack}: robust after the stage`);
      }
      assert.equal(p.brokenBy[3], 'clean', 'a clean-wrong example is recorded as such');
      assert.equal(p.brokenBy[9], 'clean', 'a clean-wrong example is recorded as such');
    }
    assert.equal(c.perEpsilon[0].robustAccuracy.numerator, 14, 'ε = 0 breaks nothing');
    assert.ok(
      c.perEpsilon[0].stages.every((s) => s.broken === 0),
      'no stage breaks an example at ε = 0',
    );
    const square = c.perEpsilon[2].stages[3];
    assert.ok(square.queries !== undefined, 'Square records its queries');
    // The per-attack tables are the ensemble after each stage.
    cascade.attacks.forEach((a, ai) => {
      a.results.forEach((r, e) => {
        assert.equal(
          r.robustAccuracy.numerator,
          c.perEpsilon[e].stages[ai].robustAccuracy.numerator,
          `${a.name} table = robust after its stage`,
        );
      });
    });
    assert.equal(
      cascade.warnings.filter((w) => w.severity === 'error').length,
      0,
      `no sanity error: ${JSON.stringify(cascade.warnings)}`,
    );
    assert.ok(
      !cascade.warnings.some((w) => w.code === 'RANDOMIZED_MODEL'),
      'a deterministic model is not flagged as random',
    );
  });

  it('the Markdown report has the stage table; the RobustBench summary has the ensemble figures', () => {
    const md = toMarkdown(cascade);
    assert.match(md, /## Robust accuracy after each stage/);
    assert.match(md, /\| square \|/);
    const rb = robustBenchSummary(cascade);
    assert.ok(rb, 'a cascade report has a RobustBench summary');
    const last = cascade.cascade?.perEpsilon[2];
    assert.equal(rb.eps, '0.08');
    assert.equal(rb.n_ex, 16);
    assert.equal(rb.threat_model, 'Linf');
    assert.equal(rb.clean_acc, ((100 * 14) / 16).toFixed(2));
    assert.equal(rb.autoattack_acc, (100 * (last?.robustAccuracy.value ?? Number.NaN)).toFixed(2));
  });
});

it('a masked gradient: the white-box stages break nothing, Square does, the report says so', async () => {
  const masked = roundedModel();
  const n = 6;
  const data = {
    images: new Float32Array(n * 64).fill(0.3),
    labels: new Int32Array(n), // score −8 everywhere: class 0
    shape: [8, 8, 1] as const,
    numClasses: 2,
    source: 'constant 0.3',
  };
  const report = await evaluate(
    masked.model,
    data,
    {
      epsilons: [0.25],
      cascade: true,
      attacks: [
        { name: 'apgd', options: { steps: 6 } },
        { name: 'apgd-t', options: { steps: 6 } },
        { name: 'square', options: { queries: 300 } },
      ],
    },
    { minimalEpsilon: false },
  );
  masked.dispose();
  const [p] = report.cascade?.perEpsilon ?? [];
  assert.ok(p, 'a cascade report');
  assert.equal(p.stages[0].broken + p.stages[1].broken, 0, 'no gradient attack moves');
  assert.ok(p.stages[2].broken >= 4, `Square broke ${p.stages[2].broken} of ${n}`);
  const w = report.warnings.find((x) => x.code === 'BLACK_BOX_BEATS_WHITE_BOX');
  assert.ok(w, `BLACK_BOX_BEATS_WHITE_BOX raised: ${JSON.stringify(report.warnings)}`);
  assert.match(w.message, /square flips \d+ of the 6/);
  assert.equal(report.diagnostics?.blackBoxVsWhiteBox?.[0].blackBoxOnly, p.stages[2].broken);
});

it('a model random at inference raises RANDOMIZED_MODEL', async () => {
  const net = tinyCnn();
  const noisy = Classifier.create(
    (x: tf.Tensor4D) =>
      tf.tidy(() => {
        const z = net.model.logits(x);
        return tf.add(z, tf.randomNormal(z.shape, 0, 0.5));
      }),
    { inputShape: [8, 8, 1] },
  );
  const data = syntheticData(6, [8, 8, 1], 4);
  const report = await evaluate(
    noisy,
    data,
    { epsilons: [0.05], attacks: [{ name: 'fgsm' }] },
    { minimalEpsilon: false },
  );
  const w = report.warnings.find((x) => x.code === 'RANDOMIZED_MODEL');
  assert.ok(w, `RANDOMIZED_MODEL raised: ${JSON.stringify(report.warnings.map((x) => x.code))}`);
  assert.equal(report.diagnostics?.repeatability?.differing, 6);
  noisy.dispose();
  net.dispose();
});

it('EOT: averaging samples of a deterministic gradient changes nothing; on a random model it runs leak-free', async () => {
  const net = tinyCnn();
  const x = tf.tensor4d(syntheticData(6, [8, 8, 1], 4).images, [6, 8, 8, 1]);
  const { labels } = await net.model.predict(x);
  const [one] = await new APGD({ steps: 8 }).run(net.model, { x, labels }, [0.1]);
  const [eot] = await new APGD({ steps: 8, eotSamples: 3 }).run(net.model, { x, labels }, [0.1]);
  assert.deepEqual(eot.success, one.success, 'the same successes');
  assert.ok(
    eot.distance.every((d, i) => Math.abs(d - one.distance[i]) < 1e-6),
    `the same perturbations: ${eot.distance} vs ${one.distance}`,
  );
  assert.equal(new APGD({ eotSamples: 20 }).describe().options.eotSamples, 20);
  assert.throws(() => new APGD({ eotSamples: 0 }), /eotSamples must be a positive integer/);
  tf.dispose([one.xAdv, eot.xAdv]);
  const noisy = Classifier.create(
    (v: tf.Tensor4D) =>
      tf.tidy(() => {
        const z = net.model.logits(v);
        return tf.add(z, tf.randomNormal(z.shape, 0, 0.3));
      }),
    { inputShape: [8, 8, 1] },
  );
  const n0 = tf.memory().numTensors;
  const [r] = await new APGD({ steps: 4, eotSamples: 4, loss: 'dlr' }).run(
    noisy,
    { x, labels },
    [0.1],
  );
  r.xAdv.dispose();
  assert.equal(tf.memory().numTensors, n0, 'EOT leaks no tensor');
  x.dispose();
  noisy.dispose();
  net.dispose();
});

describe('resume, worker threads and shards on models/mnist-robust', () => {
  let model: Classifier;
  let checksum: string;
  const data = loadMnist('test', { limit: 24 });
  const suite: Suite = {
    epsilons: [0.3],
    attacks: SMALL.slice(0, 2).concat(SMALL[3]),
    cascade: true,
  };
  const opts = { batchSize: 8, seed: 11, exampleImages: 10 };
  let serial: EvaluationReport;
  before(async () => {
    ({ model, checksum } = await loadClassifierFromFile(
      path.join(ROOT, 'models', 'mnist-robust', 'model.json'),
    ));
    serial = await evaluate(model, data, suite, { ...opts, modelChecksum: checksum });
  });
  after(() => model.dispose());

  it('an interrupted cascade resumes to the same report', async () => {
    const store = memoryCheckpoint();
    await assert.rejects(
      evaluate(model, data, suite, {
        ...opts,
        modelChecksum: checksum,
        checkpoint: store,
        onProgress: (e) => {
          if (e.batch === 2 && e.phase === 'attack') throw new Error('interrupted');
        },
      }),
      /interrupted/,
    );
    const resumed = await evaluate(model, data, suite, {
      ...opts,
      modelChecksum: checksum,
      checkpoint: store,
    });
    assert.equal(resumed.resumed, true);
    assert.deepEqual(results(resumed), results(serial));
  });

  it('three shards, merged, give the same report', async () => {
    const parts: NamedPart[] = [];
    for (let index = 0; index < 3; index++) {
      const part = await evaluateShard(model, data, suite, {
        ...opts,
        modelChecksum: checksum,
        shard: { index, count: 3 },
      });
      parts.push({ location: partFileName(part.shard), part: JSON.parse(JSON.stringify(part)) });
    }
    const merged = await mergeParts(model, suite, parts, { ...opts, modelChecksum: checksum });
    assert.deepEqual(results(merged), results(serial));
  });

  it('two worker threads give the same report', async () => {
    const two = await evaluate(model, data, suite, {
      ...opts,
      modelChecksum: checksum,
      executor: workerThreads(2),
    });
    assert.deepEqual(results(two), results(serial));
  });
});
