/**
 * The live region of a network's input: the rows and columns its output
 * depends on. A valid-padded window (convolution or pooling) whose windows
 * do not reach the last rows of its input, like a 2×2 max pool over 11
 * rows, leaves those rows dead, and with them every row upstream that only
 * they read. The MNIST CNN's output reads 26 × 26 of its 28 × 28 input, so
 * its convolutions compute 15–17 % of their outputs for nothing, forward and
 * back. A layer plan crops the input to the live region before the first
 * layer and pads the input gradient back with zeros, which is what the
 * gradient is at dead pixels.
 *
 * Cropping the input is exact when every layer between the input and the
 * output computes its first rows (and columns) from the first rows of its
 * inputs alone, the same way whatever comes after them: valid windows,
 * pointwise layers, zero padding. A layer that reads a whole tensor (dense,
 * flatten, global pooling) or pads by its input's size ('same' windows wider
 * than one pixel, which could pad a cropped input differently) needs all of
 * its input; `liveInput` checks that it gets it.
 */

/** How a layer's output rows and columns depend on its inputs'. */
export type RegionRule =
  /** A valid-padded window: output o reads input rows [o·s, o·s + k). */
  | { kind: 'window'; kernel: [number, number]; strides: [number, number] }
  /** Output row o reads row o of every input (elementwise, add, channel concatenation). */
  | { kind: 'pointwise' }
  /** Zero padding: output row o is input row o − top. */
  | { kind: 'pad'; before: [number, number]; after: [number, number] }
  /** Reads all of its input. */
  | { kind: 'whole' };

export interface RegionNode {
  inputs: number[];
  output: number;
  rule: RegionRule;
}

/** [rows, columns] of a tensor; undefined for a tensor that is not an image batch. */
export type Extent = [number, number] | undefined;

/**
 * The [rows, columns] of the network input that the output depends on,
 * when that is less than the whole input; else undefined. `order` is
 * topological; `full` gives each tensor's whole extent.
 */
export function liveInput(
  order: RegionNode[],
  input: number,
  output: number,
  full: Map<number, Extent>,
): [number, number] | undefined {
  const whole = full.get(input);
  if (whole === undefined) return undefined;
  // Backward: the extent each tensor's consumers read (the largest of them).
  const need = new Map<number, [number, number]>();
  const fullOf = (id: number) => full.get(id);
  const out = fullOf(output);
  if (out) need.set(output, out);
  for (const node of [...order].reverse()) {
    const fullOut = fullOf(node.output);
    const needOut = fullOut ? need.get(node.output) : undefined;
    if (fullOut && needOut === undefined) continue; // nothing reads it
    for (const id of node.inputs) {
      const fullIn = fullOf(id);
      if (fullIn === undefined) continue;
      const n = needOut === undefined ? fullIn : needIn(node.rule, needOut, fullIn);
      const prev = need.get(id);
      need.set(id, prev ? [Math.max(prev[0], n[0]), Math.max(prev[1], n[1])] : n);
    }
  }
  const live = need.get(input);
  if (!live || (live[0] >= whole[0] && live[1] >= whole[1])) return undefined;
  // Forward: the extent each tensor has once the input is cropped. Every
  // layer must see at least what its consumers read, and a layer that reads
  // all of its input must see all of it.
  const extent = new Map<number, [number, number]>([[input, live]]);
  for (const node of order) {
    const ins = node.inputs.map((id) => extent.get(id) ?? fullOf(id));
    const fullOut = fullOf(node.output);
    if (fullOut === undefined || node.rule.kind === 'whole') {
      const complete = node.inputs.every((id, j) => {
        const f = fullOf(id);
        const e = ins[j];
        return f === undefined || (e !== undefined && e[0] === f[0] && e[1] === f[1]);
      });
      if (!complete) return undefined;
      if (fullOut) extent.set(node.output, fullOut);
      continue;
    }
    const first = ins[0];
    if (!first || ins.some((e) => !e || e[0] !== first[0] || e[1] !== first[1])) return undefined;
    const e = extentOut(node.rule, first);
    const needed = need.get(node.output);
    if (needed && (e[0] < needed[0] || e[1] < needed[1])) return undefined;
    extent.set(node.output, e);
  }
  return live;
}

function needIn(rule: RegionRule, needOut: [number, number], fullIn: [number, number]) {
  const axis = (a: 0 | 1): number => {
    switch (rule.kind) {
      case 'window':
        return (needOut[a] - 1) * rule.strides[a] + rule.kernel[a];
      case 'pointwise':
        return needOut[a];
      case 'pad':
        return Math.max(1, needOut[a] - rule.before[a]);
      case 'whole':
        return fullIn[a];
    }
  };
  return [Math.min(fullIn[0], axis(0)), Math.min(fullIn[1], axis(1))] as [number, number];
}

function extentOut(rule: RegionRule, e: [number, number]): [number, number] {
  const axis = (a: 0 | 1): number => {
    switch (rule.kind) {
      case 'window':
        return Math.floor((e[a] - rule.kernel[a]) / rule.strides[a]) + 1;
      case 'pad':
        return rule.before[a] + e[a] + rule.after[a];
      default:
        return e[a];
    }
  };
  return [axis(0), axis(1)];
}
