/**
 * The noise baseline's own contract (the shared invariants table covers the
 * ε-ball, the bounds, ε = 0 and batch = per-example): each draw has norm ε
 * exactly where the bounds do not cut it, seeded draws repeat, the first
 * adversarial draw ends an example's queries, and it keeps the draw with
 * the highest loss otherwise.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { disposeResults, InputError, L2, Linf, Noise, setBackend } from '../../src/index.js';
import { linearModel } from '../fixtures.js';

let x: tf.Tensor4D;
let lin: ReturnType<typeof linearModel>;

before(async () => {
  await setBackend();
  // Mid-grey inputs: a draw of size ε ≤ 0.5 is never clipped.
  x = tf.fill([3, 4, 4, 2], 0.5) as tf.Tensor4D;
  // Three classes, class 0 favoured by a wide margin: noise at small ε does not flip it.
  const d = 32;
  lin = linearModel(
    [new Array(d).fill(0.01), new Array(d).fill(-0.01), new Array(d).fill(0)],
    [5, 0, 0],
    [4, 4, 2],
  );
});
after(() => {
  x.dispose();
  lin.dispose();
});

test('each draw lies on the ε-box (L∞) or ε-sphere (L2) when the bounds do not cut it', async () => {
  for (const [norm, impl] of [
    ['linf', Linf],
    ['l2', L2],
  ] as const) {
    const [r] = await new Noise({ norm, restarts: 3 }).run(
      lin.model,
      { x, labels: [0, 0, 0] },
      [0.2],
    );
    const size = tf.tidy(() => impl.distance(tf.sub(r.xAdv, x)));
    for (const s of await size.data()) {
      assert.ok(Math.abs(s - 0.2) <= 1e-5, `${norm}: ‖δ‖ = ${s}, expected ε = 0.2`);
    }
    // Robust everywhere: every draw was queried.
    assert.deepEqual(r.queries, [3, 3, 3]);
    assert.deepEqual(r.success, [false, false, false]);
    size.dispose();
    disposeResults([r]);
  }
});

test('seeded: the same seed repeats the draws, another seed changes them', async () => {
  const attack = new Noise({ norm: 'l2', restarts: 2 });
  const run = async (seed: number) => {
    const [r] = await attack.run(lin.model, { x, labels: [0, 0, 0], seed }, [0.3]);
    const v = Float32Array.from(await r.xAdv.data());
    disposeResults([r]);
    return v;
  };
  const [a, b, c] = [await run(4), await run(4), await run(5)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('the first adversarial draw ends the queries; otherwise the highest-loss draw is kept', async () => {
  // z₀ = mean(x) − 0.49, z₁ = 0: class 0 by a margin of 0.01 at x = 0.5; at ε = 0.5 (L∞) a
  // draw flips it when its mean coordinate is below −0.01 — about half of the draws.
  const d = 32;
  const near = linearModel([new Array(d).fill(1 / d), new Array(d).fill(0)], [-0.49, 0], [4, 4, 2]);
  const [r] = await new Noise({ restarts: 8 }).run(near.model, { x, labels: [0, 0, 0] }, [0.5]);
  r.success.forEach((s, i) => {
    const q = r.queries?.[i] ?? 0;
    assert.ok(q >= 1 && q <= 8, `example ${i}: ${q} queries`);
    if (!s) assert.equal(q, 8, `example ${i} robust after fewer than 8 draws`);
  });
  // Measured with these seeds: all three fooled, after 1, 1 and 3 draws.
  assert.deepEqual(r.queries, [1, 1, 3]);
  disposeResults([r]);
  // Loss ranking: with 1 draw vs 6, the kept draw's margin loss is never lower.
  const one = await new Noise({ restarts: 1 }).run(lin.model, { x, labels: [0, 0, 0] }, [0.4]);
  const six = await new Noise({ restarts: 6 }).run(lin.model, { x, labels: [0, 0, 0] }, [0.4]);
  one[0].loss.forEach((l, i) => {
    assert.ok(
      six[0].loss[i] >= l - 1e-6,
      `example ${i}: best of 6 (${six[0].loss[i]}) < first (${l})`,
    );
  });
  disposeResults([...one, ...six]);
  near.dispose();
});

test('bad options: l1, a surrogate, restarts', () => {
  assert.throws(
    () => new Noise({ norm: 'l1' }),
    (e: unknown) => e instanceof InputError && e.code === 'UNKNOWN_NORM',
  );
  assert.throws(
    () => new Noise({ surrogate: lin.model } as never),
    (e: unknown) => e instanceof InputError && /no surrogate/.test(e.message),
  );
  for (const restarts of [0, 1.5, -2]) {
    assert.throws(
      () => new Noise({ restarts }),
      (e: unknown) => e instanceof InputError && /restarts/.test(e.message),
      `restarts ${restarts}`,
    );
  }
  assert.deepEqual(new Noise().describe().options.restarts, 10);
});
