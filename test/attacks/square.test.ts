/**
 * Square (black-box random search): it never touches a gradient, it beats a
 * masked gradient that stops PGD, it is seeded per example, it counts its
 * queries and stops querying examples it has broken; the schedule and the
 * window sides follow the reference.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  l2Side,
  linfSide,
  squareFraction,
  windowPattern,
} from '../../src/attacks/square-windows.js';
import {
  Classifier,
  createAttack,
  disposeResults,
  InputError,
  PGD,
  Square,
  setBackend,
  targeted,
} from '../../src/index.js';
import { roundedModel, seededTensor, tinyCnn } from '../fixtures.js';

let cnn: ReturnType<typeof tinyCnn>;
let x: tf.Tensor4D;
let labels: number[];

before(async () => {
  await setBackend();
  cnn = tinyCnn();
  x = seededTensor([6, 8, 8, 1], 41) as tf.Tensor4D;
  labels = Array.from((await cnn.model.predict(x)).labels);
});
after(() => {
  x.dispose();
  cnn.dispose();
});

const count = (b: boolean[]) => b.filter(Boolean).length;

/** tinyCnn's network behind a custom gradient that throws: a model that can only be queried. */
function queryOnly(): Classifier {
  const net = (xs: tf.Tensor4D) =>
    tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: cnn.model.logits(inputs[0] as tf.Tensor4D),
      gradFunc: () => {
        throw new Error('the gradient of a query-only model was requested');
      },
    }))(xs);
  return Classifier.create(net, { inputShape: [8, 8, 1] });
}

for (const norm of ['linf', 'l2'] as const) {
  describe(`square ${norm}`, () => {
    const eps = norm === 'linf' ? 0.3 : 2;

    test('succeeds on a model whose gradient throws, and PGD cannot run there', async () => {
      const model = queryOnly();
      await assert.rejects(
        new PGD({ norm, steps: 2 }).run(model, { x, labels }, [eps]),
        /gradient of a query-only model/,
      );
      const n0 = tf.memory().numTensors;
      const [r] = await new Square({ norm, queries: 300 }).run(model, { x, labels, seed: 1 }, [
        eps,
      ]);
      assert.ok(count(r.success) >= 4, `Square broke only ${count(r.success)} of 6 examples`);
      for (const d of r.distance) assert.ok(d <= eps * (1 + 1e-5), `‖δ‖ = ${d} > ε = ${eps}`);
      r.xAdv.dispose();
      assert.equal(tf.memory().numTensors, n0, 'tensors leaked');
      model.dispose();
    });

    test('same seed, same result; another seed, another search', async () => {
      const attack = new Square({ norm, queries: 60 });
      const runOnce = async (seed: number) => {
        const [r] = await attack.run(cnn.model, { x, labels, seed }, [eps / 3]);
        const v = Array.from(await r.xAdv.data());
        r.xAdv.dispose();
        return { v, queries: r.queries };
      };
      const a = await runOnce(3);
      const b = await runOnce(3);
      const c = await runOnce(4);
      assert.deepEqual(a.v, b.v, 'same seed gave different images');
      assert.deepEqual(a.queries, b.queries, 'same seed gave different query counts');
      assert.notDeepEqual(a.v, c.v, 'seeds 3 and 4 gave the same images');
    });

    test('queries: 1 clean + the budget per restart, fewer for broken examples; ε = 0 costs none', async () => {
      const budget = 25;
      const results = await new Square({ norm, queries: budget, restarts: 2 }).run(
        cnn.model,
        { x, labels, seed: 2 },
        [0, eps],
      );
      assert.deepEqual(results[0].queries, [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(Array.from(await results[0].xAdv.data()), Array.from(await x.data()));
      const r = results[1];
      const q = r.queries ?? [];
      assert.equal(q.length, 6);
      for (let i = 0; i < 6; i++) {
        if (r.success[i]) {
          assert.ok(
            q[i] >= 2 && q[i] <= 1 + 2 * budget,
            `broken example ${i} used ${q[i]} queries`,
          );
        } else {
          assert.equal(q[i], 1 + 2 * budget, `unbroken example ${i} used ${q[i]} queries`);
        }
      }
      assert.ok(
        q.some((v, i) => r.success[i] && v < 1 + budget),
        `no example stopped early: queries ${q}, success ${r.success}`,
      );
      disposeResults(results);
    });

    test('targeted: success means the target is predicted', async () => {
      const [r] = await createAttack('square', { norm, queries: 200 }).run(
        cnn.model,
        { x, labels, goal: targeted({ kind: 'random' }), seed: 5 },
        [eps],
      );
      const targets = r.targets ?? [];
      assert.equal(targets.length, 6);
      r.success.forEach((s, i) => {
        assert.equal(s, r.predicted[i] === targets[i], `example ${i}: success ${s}`);
      });
      assert.ok(count(r.success) >= 2, `only ${count(r.success)} of 6 reached their target`);
      r.xAdv.dispose();
    });
  });
}

test('a masked (rounded) gradient stops PGD; Square L∞ gets through', async () => {
  const masked = roundedModel();
  const xs = tf.tidy(() =>
    tf.add(tf.mul(seededTensor([4, 8, 8, 1], 9), 0.04), 0.28),
  ) as tf.Tensor4D;
  const y = [0, 0, 0, 0];
  const clean = await masked.model.predict(xs);
  assert.deepEqual(Array.from(clean.labels), y, 'the clean images must be class 0');
  const [pgd] = await new PGD({ steps: 20, restarts: 2 }).run(
    masked.model,
    { x: xs, labels: y },
    [0.25],
  );
  const [sq] = await new Square({ queries: 500 }).run(masked.model, { x: xs, labels: y }, [0.25]);
  assert.equal(
    count(pgd.success),
    0,
    `PGD broke ${count(pgd.success)} of 4 through a zero gradient`,
  );
  assert.equal(count(sq.success), 4, `Square broke only ${count(sq.success)} of 4`);
  tf.dispose([pgd.xAdv, sq.xAdv, xs]);
  masked.model.dispose();
  masked.dispose();
});

test('the p schedule halves at the reference breakpoints, stretched to the budget', () => {
  const p = (it: number, budget: number, rescale = true) =>
    squareFraction(it, budget, 0.8, rescale);
  assert.equal(p(0, 10000), 0.8);
  assert.equal(p(10, 10000), 0.8);
  assert.equal(p(11, 10000), 0.4);
  assert.equal(p(51, 10000), 0.2);
  assert.equal(p(8001, 10000), 0.8 / 512);
  // 5000 queries, stretched: iteration 1000 is t = 2000 of 10,000 (0.8/32), 1001 is t = 2002 (0.8/64).
  assert.equal(p(1000, 5000), 0.8 / 32);
  assert.equal(p(1001, 5000), 0.8 / 64);
  // Not stretched (AutoAttack's call): iteration 4999 is still in the 4000–6000 band.
  assert.equal(p(4999, 5000, false), 0.8 / 128);
});

test('window sides: L∞ round(√(p·h·w)) ≥ 1, L2 odd and ≥ 3, both inside the image', () => {
  const mnist = { h: 28, w: 28, c: 1, lo: 0, hi: 1 };
  assert.equal(linfSide(0.8, mnist), 25);
  assert.equal(linfSide(0.8 / 512, mnist), 1);
  assert.equal(l2Side(0.8, mnist), 25);
  assert.equal(l2Side(0.1, mnist), 9);
  assert.equal(l2Side(0.8 / 512, mnist), 3);
  // √(0.25·100) = 5, √(0.3025·100) = 5.5 rounds to even 6 as Python's round does.
  assert.equal(linfSide(0.3025, { ...mnist, h: 10, w: 10 }), 6);
  assert.equal(linfSide(1, { ...mnist, h: 4, w: 9 }), 4);
});

test('options are checked', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof InputError ? e.code : 'not an InputError';
    }
    return 'no error';
  };
  assert.equal(
    code(() => new Square({ norm: 'l1' })),
    'UNKNOWN_NORM',
  );
  assert.equal(
    code(() => new Square({ surrogate: {} } as never)),
    'INVALID_OPTION',
  );
  assert.equal(
    code(() => new Square({ queries: 0 })),
    'INVALID_OPTION',
  );
  assert.equal(
    code(() => new Square({ queries: 2.5 })),
    'INVALID_OPTION',
  );
  assert.equal(
    code(() => new Square({ pInit: 0 })),
    'INVALID_OPTION',
  );
  assert.equal(
    code(() => new Square({ pInit: 1.5 })),
    'INVALID_OPTION',
  );
  assert.equal(
    code(() => new Square({ restarts: 0 })),
    'INVALID_OPTION',
  );
});

test("the L2 window pattern equals the reference's eta(s), and its transpose", () => {
  // Values printed by fra31/auto-attack's SquareAttack.eta(s) (square.py), untransposed draws.
  const reference: Record<number, number[]> = {
    3: [
      0.136083, 0.680414, 0.136083, -0.129099, -0.129099, -0.129099, -0.129099, -0.645497,
      -0.129099,
    ],
    5: [
      0.049162, 0.159777, 0.159777, 0.159777, 0.049162, 0.049162, 0.159777, 0.602237, 0.159777,
      0.049162, -0.04559, -0.148168,
    ],
  };
  for (const [s, want] of Object.entries(reference)) {
    const side = Number(s);
    const [m, t] = windowPattern(side);
    want.forEach((v, i) => {
      assert.ok(Math.abs(m[i] - v) < 1e-6, `eta(${side})[${i}] = ${m[i]}, reference ${v}`);
    });
    let ss = 0;
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        ss += m[r * side + c] ** 2;
        assert.equal(t[c * side + r], m[r * side + c], `transpose differs at ${r}, ${c}`);
      }
    }
    assert.ok(Math.abs(ss - 1) < 1e-12, `eta(${side}) has squared norm ${ss}, not 1`);
  }
});
