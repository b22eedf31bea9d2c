/**
 * advkit's wasm BatchMatMul and _FusedMatMul with transposed operands (laid
 * out with Transpose, then the stock kernel) against the cpu backend, for
 * every transpose combination, rank 2 and batched rank 3; the matmul
 * gradients (which are transposed products) against cpu too.
 */
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertWasmMatchesCpu, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const combos: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

for (const batch of [0, 3]) {
  for (const [ta, tb] of combos) {
    test(`matMul rank ${batch ? 3 : 2}, transposeA=${ta} transposeB=${tb}: wasm = cpu`, async () => {
      // a is 5×7 (or 7×5 when transposed), b is 7×4 (or 4×7): the product is 5×4.
      const lead = batch ? [batch] : [];
      const aShape = [...lead, ...(ta ? [7, 5] : [5, 7])];
      const bShape = [...lead, ...(tb ? [4, 7] : [7, 4])];
      await assertWasmMatchesCpu(`matMul ${ta} ${tb}`, () =>
        tf.matMul(tensor(aShape, 1), tensor(bShape, 2), ta, tb),
      );
      // Rank 2 only: TF.js 4.22's own wasm _FusedMatMul disagrees with cpu on
      // batched operands with a bias even untransposed (not advkit's code).
      if (batch) return;
      await assertWasmMatchesCpu(`fused matMul ${ta} ${tb}`, () =>
        tf.fused.matMul({
          a: tensor(aShape, 3),
          b: tensor(bShape, 4),
          transposeA: ta,
          transposeB: tb,
          bias: tensor([4], 5),
          activation: 'relu',
        }),
      );
    });
  }
}

test('dense-layer gradients (fused matmul + relu) w.r.t. input, weights and bias: wasm = cpu', async () => {
  await assertWasmMatchesCpu('fused matmul gradients', () => {
    const x = tensor([6, 33], 11);
    const w = tensor([33, 17], 12);
    const b = tensor([17], 13);
    const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
      tf.sum(
        tf.square(
          tf.fused.matMul({
            a: xi as tf.Tensor2D,
            b: wi as tf.Tensor2D,
            bias: bi,
            activation: 'relu',
          }),
        ),
      );
    return tf.grads(f)([x, w, b]);
  });
});
