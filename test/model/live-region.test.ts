/**
 * `liveInput` (src/model/live-region.ts) on small graphs: rows a floor-mode
 * window leaves unread are dead upstream through valid windows, pointwise
 * layers and zero padding; a layer that reads its whole input, or inputs
 * of an add that would be cropped differently, keep the whole input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Extent,
  liveInput,
  type RegionNode,
  type RegionRule,
} from '../../src/model/live-region.js';

const window = (k: number, s: number): RegionRule => ({
  kind: 'window',
  kernel: [k, k],
  strides: [s, s],
});
const pointwise: RegionRule = { kind: 'pointwise' };
const whole: RegionRule = { kind: 'whole' };

/** Tensors 0 (the input) … n; `shapes[i]` is tensor i's [rows, cols]. */
function graph(nodes: RegionNode[], shapes: Extent[]) {
  const full = new Map(shapes.map((s, i) => [i, s]));
  return liveInput(nodes, 0, nodes[nodes.length - 1].output, full);
}

test('the MNIST CNN reads 26 × 26 of its 28 × 28 input', () => {
  // conv 3×3 → pool 2 → conv 3×3 → pool 2 (11 → 5 leaves row 10) → flatten → dense.
  const nodes: RegionNode[] = [
    { inputs: [0], output: 1, rule: window(3, 1) },
    { inputs: [1], output: 2, rule: window(2, 2) },
    { inputs: [2], output: 3, rule: window(3, 1) },
    { inputs: [3], output: 4, rule: window(2, 2) },
    { inputs: [4], output: 5, rule: whole },
    { inputs: [5], output: 6, rule: whole },
  ];
  assert.deepEqual(
    graph(nodes, [[28, 28], [26, 26], [13, 13], [11, 11], [5, 5], undefined, undefined]),
    [26, 26],
  );
});

test('windows that cover their input, and whole-input layers, leave nothing dead', () => {
  const covered: RegionNode[] = [
    { inputs: [0], output: 1, rule: window(2, 2) },
    { inputs: [1], output: 2, rule: whole },
  ];
  assert.equal(graph(covered, [[8, 8], [4, 4], undefined]), undefined);
  // A 'same' convolution that pads (whole) between the input and the dead rows.
  const padded: RegionNode[] = [
    { inputs: [0], output: 1, rule: whole },
    { inputs: [1], output: 2, rule: window(2, 2) },
    { inputs: [2], output: 3, rule: whole },
  ];
  assert.equal(graph(padded, [[9, 9], [9, 9], [4, 4], undefined]), undefined);
});

test('zero padding shifts the live rows; pointwise layers and two readers keep the largest', () => {
  // 13×12 → conv 3×3 → 11×10 → pad top/left 1 → 12×11 → relu → pool 3 stride 2 → 5×5
  // (reads rows 0–10 of 12 and all 11 columns).
  const nodes: RegionNode[] = [
    { inputs: [0], output: 1, rule: window(3, 1) },
    { inputs: [1], output: 2, rule: { kind: 'pad', before: [1, 1], after: [0, 0] } },
    { inputs: [2], output: 3, rule: pointwise },
    { inputs: [3], output: 4, rule: window(3, 2) },
    { inputs: [4], output: 5, rule: whole },
  ];
  const shapes: Extent[] = [[13, 12], [11, 10], [12, 11], [12, 11], [5, 5], undefined];
  assert.deepEqual(graph(nodes, shapes), [12, 12]);
  // A second reader of the input that needs it all.
  const both: RegionNode[] = [
    ...nodes.slice(0, 4),
    { inputs: [0], output: 6, rule: window(13, 1) },
    { inputs: [4], output: 5, rule: whole },
    { inputs: [6, 5], output: 7, rule: whole },
  ];
  assert.equal(graph(both, [...shapes, [1, 0], undefined]), undefined);
});

test('an add whose inputs would be cropped to different sizes keeps the whole input', () => {
  // 9 rows → a: pool 2 stride 2 (4 rows) and b: conv 6×6 (4 rows) → add → pool 3 stride 3
  // (1 row, reading rows 0–2). a needs 6 input rows, b 8: cropped to 8, a keeps 4 rows
  // and b has 3, which an add cannot take.
  const add = (b: RegionNode['rule']): RegionNode[] => [
    { inputs: [0], output: 1, rule: window(2, 2) },
    { inputs: [0], output: 2, rule: b },
    { inputs: [1, 2], output: 3, rule: pointwise },
    { inputs: [3], output: 4, rule: window(3, 3) },
    { inputs: [4], output: 5, rule: whole },
  ];
  const shapes: Extent[] = [[9, 9], [4, 4], [4, 4], [4, 4], [1, 1], undefined];
  assert.equal(graph(add(window(6, 1)), shapes), undefined);
  // Both branches pool 2 stride 2: both keep 3 rows of 6, and the crop holds.
  assert.deepEqual(graph(add(window(2, 2)), shapes), [6, 6]);
});
