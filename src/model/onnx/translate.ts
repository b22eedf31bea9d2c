/**
 * ONNX graph → TranslatedGraph (`graph.ts`). Nodes are visited in file
 * order (ONNX requires topological order); each goes to its op's translator
 * (`ops/index.ts`) with an `OpContext` (`context.ts`). A node whose inputs
 * are all known is folded; the others become runtime nodes. Every runtime
 * node is also run on a dummy image at two batch sizes, which gives each
 * value its shape for the translators that need one (Shape, Flatten, pads)
 * and tells which dimensions follow the batch size.
 *
 * A file that fixes the batch size and bakes it into its reshapes fails at
 * the second batch size; it is translated again at its own batch size
 * alone and marked `fixedBatch` (its forward runs in chunks).
 */
import * as tf from '@tensorflow/tfjs';
import { LoadError } from '../../errors.js';
import { attributes, type Layout, type OpContext, TO_NCHW, TO_NHWC } from './context.js';
import type { TranslatedGraph, TranslatedNode, ValueInfo } from './graph.js';
import { translators } from './ops/index.js';
import type { NodeProto } from './proto.js';

type Val =
  | { kind: 'const'; worlds: tf.Tensor[] }
  | { kind: 'rt'; id: number; layout: Layout; flatNhwc?: [number, number, number] };

export interface TranslateInput {
  nodes: NodeProto[];
  /** Initializers (and anything else known), ONNX order. */
  constants: Map<string, tf.Tensor>;
  inputName: string;
  outputName: string;
  /** NHWC [h, w, c]. */
  inputShape: [number, number, number];
  /** The batch size the file fixes, or undefined when it is dynamic. */
  fileBatch?: number;
  opset: number;
  where: string;
}

class BatchMismatch extends Error {}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

const onnxShape = (held: number[], layout: Layout) =>
  layout === 'nhwc' ? TO_NCHW.map((a) => held[a]) : held;

function nodeName(node: NodeProto, index: number): string {
  return node.name || `${node.opType}_${index}`;
}

export function translateGraph(input: TranslateInput): TranslatedGraph {
  const first = input.fileBatch ?? 1;
  try {
    return new Translation(input, [first, first + 1]).run();
  } catch (e) {
    if (!(e instanceof BatchMismatch) || input.fileBatch === undefined) throw e;
    return new Translation(input, [first]).run();
  }
}

class Translation {
  private readonly names = new Map<string, Val>();
  private readonly nodes: TranslatedNode[] = [];
  private readonly values: ValueInfo[] = [];
  /** Per value, per world: the dummy tensor (freed after its last use). */
  private readonly dummies: (tf.Tensor[] | undefined)[] = [];
  private readonly lastUse: number[] = [];
  private readonly converted = new Map<string, number>();
  private readonly kept: tf.Tensor[] = [];
  private readonly foldedConsts: tf.Tensor[] = [];
  private readonly absorbed = new Set<NodeProto>();
  private readonly useIndex = new Map<string, number>();
  private readonly consumerMap = new Map<string, NodeProto[]>();
  private step = 0;

  constructor(
    private readonly inp: TranslateInput,
    private readonly worlds: number[],
  ) {
    inp.nodes.forEach((node, k) => {
      for (const name of node.input) {
        if (!name) continue;
        this.useIndex.set(name, k);
        const list = this.consumerMap.get(name) ?? [];
        list.push(node);
        this.consumerMap.set(name, list);
      }
    });
  }

  run(): TranslatedGraph {
    const { inp } = this;
    try {
      for (const [name, t] of inp.constants)
        this.names.set(name, { kind: 'const', worlds: this.worlds.map(() => t) });
      const [h, w, c] = inp.inputShape;
      this.values.push({ shape: [this.worlds[0], h, w, c], layout: 'nhwc' });
      this.dummies.push(this.worlds.map((b) => tf.zeros([b, h, w, c])));
      this.lastUse.push(this.useIndex.get(inp.inputName) ?? -1);
      this.names.set(inp.inputName, { kind: 'rt', id: 0, layout: 'nhwc' });
      inp.nodes.forEach((node, k) => {
        this.step = k;
        if (!this.absorbed.has(node)) this.translate(node, k);
        this.release(k);
      });
      return this.finish();
    } catch (e) {
      this.disposeAll();
      throw e;
    }
  }

  private finish(): TranslatedGraph {
    const out = this.names.get(this.inp.outputName);
    if (out?.kind !== 'rt')
      throw new LoadError(
        'MODEL_LOAD',
        `${this.inp.where}: the graph output ${JSON.stringify(this.inp.outputName)} does not depend on the input image`,
      );
    let id = out.id;
    id = this.convert(id, out.layout, 'plain', 'output');
    const shapes = this.dummies[id]?.map((t) => t.shape) ?? [];
    if (this.worlds.length === 2 && shapes[1]?.[0] !== this.worlds[1]) {
      if (this.inp.fileBatch !== undefined) throw new BatchMismatch();
      throw new LoadError(
        'MODEL_LOAD',
        `${this.inp.where}: the output's first dimension does not follow the batch size (shape [${shapes[1]}] for a batch of ${this.worlds[1]})`,
      );
    }
    for (const d of this.dummies) for (const t of d ?? []) t.dispose();
    for (const t of this.foldedConsts) if (!this.kept.includes(t)) t.dispose();
    const kept = this.kept;
    return {
      nodes: this.nodes,
      output: id,
      values: this.values,
      batch: this.worlds[0],
      fixedBatch: this.worlds.length === 1 ? this.worlds[0] : undefined,
      dispose: () => {
        for (const t of kept) t.dispose();
        kept.length = 0;
      },
    };
  }

  private disposeAll(): void {
    for (const d of this.dummies) for (const t of d ?? []) t.dispose();
    for (const t of this.foldedConsts) t.dispose();
    for (const t of this.kept) if (!this.foldedConsts.includes(t)) t.dispose();
  }

  /** Frees dummies no later node reads. */
  private release(k: number): void {
    const outName = this.inp.outputName;
    const outVal = this.names.get(outName);
    const keepId = outVal?.kind === 'rt' ? outVal.id : -1;
    this.dummies.forEach((d, id) => {
      if (d && id !== 0 && this.lastUse[id] <= k && id !== keepId) {
        for (const t of d) t.dispose();
        this.dummies[id] = undefined;
      }
    });
  }

  private bind(name: string, val: Val): void {
    this.names.set(name, val);
    if (val.kind === 'rt') {
      const use =
        name === this.inp.outputName ? Number.POSITIVE_INFINITY : (this.useIndex.get(name) ?? -1);
      this.lastUse[val.id] = Math.max(this.lastUse[val.id], use);
    }
  }

  private lookup(node: NodeProto, i: number): Val {
    const name = node.input[i];
    const val = this.names.get(name);
    if (!val)
      throw new LoadError(
        'MODEL_LOAD',
        `${this.inp.where}: node ${JSON.stringify(node.name)} (${node.opType}) reads ${JSON.stringify(name)}, which no earlier node, initializer or input provides`,
      );
    return val;
  }

  /** Adds a node; runs it on every world's dummy. */
  private addNode(
    name: string,
    op: string,
    inputs: number[],
    apply: (xs: tf.Tensor[]) => tf.Tensor,
    spec: TranslatedNode['spec'],
    layout: Layout,
  ): number {
    const id = this.values.length;
    const dummies: tf.Tensor[] = [];
    for (const w of this.worlds.keys()) {
      const xs = inputs.map((i) => {
        const d = this.dummies[i];
        if (!d) throw new Error(`value ${i} freed before node ${name}`);
        return d[w];
      });
      try {
        dummies.push(tf.tidy(() => apply(xs)));
      } catch (e) {
        // Earlier worlds' outputs are not in this.dummies yet: disposeAll would miss them.
        tf.dispose(dummies);
        if (w > 0) throw new BatchMismatch();
        throw new LoadError(
          'MODEL_LOAD',
          `${this.inp.where}: node ${JSON.stringify(name)} (${op}) cannot run on inputs of shapes ${xs.map((x) => `[${x.shape}]`).join(', ')}: ${(e as Error).message}`,
          e,
        );
      }
    }
    this.nodes.push({ name, op, inputs, output: id, apply, spec });
    this.values.push({ shape: dummies[0].shape, layout: dummies[0].rank === 4 ? layout : 'plain' });
    this.dummies.push(dummies);
    this.lastUse.push(this.step);
    for (const i of inputs) this.lastUse[i] = Math.max(this.lastUse[i], this.step);
    return id;
  }

  /** The value `id`, read as `from`, held as `want` (an inserted transpose when they differ). */
  private convert(id: number, from: Layout, want: Layout, by: string): number {
    if (this.values[id].shape.length !== 4 || from === want) return id;
    const key = `${id}:${want}`;
    const done = this.converted.get(key);
    if (done !== undefined) {
      this.lastUse[done] = Math.max(this.lastUse[done], this.step);
      return done;
    }
    const perm = want === 'plain' ? TO_NCHW : TO_NHWC;
    const out = this.addNode(
      `${by}/to_${want === 'plain' ? 'nchw' : 'nhwc'}`,
      'Transpose',
      [id],
      ([x]) => tf.transpose(x, perm),
      { kind: 'transpose', perm },
      want,
    );
    this.converted.set(key, out);
    return out;
  }

  private translate(node: NodeProto, index: number): void {
    const translator = translators[node.opType];
    if (!translator) throw new Error(`no translator for ${node.opType}`); // refused before translation
    const name = nodeName(node, index);
    const present = node.input.map((n) => n !== '');
    const vals = node.input.map((_n, i) => (present[i] ? this.lookup(node, i) : undefined));
    const allConst = vals.every((v) => v === undefined || v.kind === 'const');
    const foldable = allConst || translator.shapeOnly === true;
    if (foldable) {
      const results = this.worlds.map((_, w) => this.fold(node, name, vals, w));
      const outputs = results[0].length;
      for (let o = 0; o < outputs; o++) {
        const perWorld = results.map((r) => r[o]);
        if (
          perWorld.every((t) => t === perWorld[0]) ||
          perWorld[0].dtype === 'int32' ||
          perWorld[0].dtype === 'bool'
        ) {
          this.bind(node.output[o], { kind: 'const', worlds: perWorld });
          continue;
        }
        const differs = perWorld.some(
          (t) =>
            !sameShape(t.shape, perWorld[0].shape) ||
            tf.tidy(() => tf.any(tf.notEqual(t, perWorld[0])).dataSync()[0] === 1),
        );
        if (!differs)
          this.bind(node.output[o], { kind: 'const', worlds: perWorld.map(() => perWorld[0]) });
        else {
          this.runtime(node, name, vals, translator.translate);
          return;
        }
      }
      return;
    }
    this.runtime(node, name, vals, translator.translate);
  }

  /** Evaluates the node at world w; returns its outputs. */
  private fold(node: NodeProto, name: string, vals: (Val | undefined)[], w: number): tf.Tensor[] {
    const sameAcrossWorlds =
      w > 0 &&
      vals.every((v) => v === undefined || (v.kind === 'const' && v.worlds[w] === v.worlds[0]));
    if (sameAcrossWorlds) {
      const out: tf.Tensor[] = [];
      for (const o of node.output) {
        const v = this.names.get(o);
        if (v?.kind === 'const') out.push(v.worlds[0]);
      }
      if (out.length === node.output.length) return out;
    }
    const operands: tf.Tensor[] = [];
    const outputs: tf.Tensor[] = [];
    const ctx = this.context(node, name, vals, w, true, {
      input: (i) => {
        const v = vals[i];
        if (v?.kind !== 'const') throw ctx.fail(`input ${i} must be known at load here`);
        operands.push(v.worlds[w]);
        return operands.length - 1;
      },
      emit: (e) => {
        const t = tf.tidy(() => e.apply(e.inputs.map((h) => operands[h])));
        outputs[e.output ?? 0] = t;
        this.foldedConsts.push(t);
        for (const k of e.keep ?? []) if (k !== t) k.dispose();
      },
      alias: (i, o = 0) => {
        const v = vals[i];
        if (v?.kind === 'const') outputs[o] = v.worlds[w];
      },
    });
    translators[node.opType].translate(ctx);
    // First world's results are bound now so a same-across-worlds second world reuses them.
    if (w === 0)
      node.output.forEach((o, k) => {
        if (outputs[k])
          this.names.set(o, { kind: 'const', worlds: this.worlds.map(() => outputs[k]) });
      });
    return outputs;
  }

  private runtime(
    node: NodeProto,
    name: string,
    vals: (Val | undefined)[],
    translate: (c: OpContext) => void,
  ): void {
    let emitted = 0;
    const ctx = this.context(node, name, vals, 0, false, {
      input: (i, want) => {
        const v = vals[i];
        if (v?.kind !== 'rt')
          throw ctx.fail(
            `input ${i} (${JSON.stringify(node.input[i])}) is a constant where advkit expects a value computed from the image`,
          );
        this.lastUse[v.id] = Math.max(this.lastUse[v.id], this.step);
        return want ? this.convert(v.id, v.layout, want, name) : v.id;
      },
      emit: (e) => {
        const suffix = emitted > 0 || e.output ? `:${e.output ?? 0}` : '';
        const id = this.addNode(
          `${name}${suffix}`,
          node.opType,
          e.inputs,
          e.apply,
          e.spec,
          e.layout,
        );
        for (const t of e.keep ?? []) if (!this.kept.includes(t)) this.kept.push(t);
        emitted++;
        this.bind(node.output[e.output ?? 0], {
          kind: 'rt',
          id,
          layout: this.values[id].layout,
          flatNhwc: e.flatNhwc,
        });
      },
      alias: (i, o = 0) => {
        const v = vals[i];
        if (v) this.bind(node.output[o], v);
      },
      aliasAs: (i, layout) => {
        const v = vals[i];
        if (v?.kind === 'rt') this.bind(node.output[0], { kind: 'rt', id: v.id, layout });
      },
    });
    translate(ctx);
  }

  private context(
    node: NodeProto,
    name: string,
    vals: (Val | undefined)[],
    w: number,
    folding: boolean,
    hooks: Pick<OpContext, 'input' | 'emit' | 'alias'> & { aliasAs?: OpContext['aliasAs'] },
  ): OpContext {
    const attr = attributes(node);
    const worlds = this.worlds;
    const constOf = (i: number): tf.Tensor[] => {
      const v = vals[i];
      if (!v) throw ctx.fail(`input ${i} is missing`);
      if (v.kind !== 'const')
        throw ctx.fail(
          `input ${i} (${JSON.stringify(node.input[i])}) must be a constant, and it depends on the input image`,
        );
      return v.worlds;
    };
    const ctx: OpContext = {
      node,
      name,
      opset: this.inp.opset,
      folding,
      attr,
      has: (i) => vals[i] !== undefined,
      isConst: (i) => vals[i]?.kind === 'const',
      constant: (i) => {
        const ws = constOf(i);
        if (!folding && ws.some((t) => t !== ws[0])) {
          const a = Array.from(ws[0].dataSync());
          const same = ws.every(
            (t) => sameShape(t.shape, ws[0].shape) && t.dataSync().every((v, k) => v === a[k]),
          );
          if (!same)
            throw ctx.fail(`input ${i} depends on the batch size where advkit needs a constant`);
        }
        return ws[folding ? w : 0];
      },
      ints: (i) => Array.from(ctx.constant(i).dataSync()),
      batchInts: (i) => {
        const ws = constOf(i).map((t) => Array.from(t.dataSync()));
        if (ws.length === 1 || ws[1].every((v, k) => v === ws[0][k])) return () => ws[0];
        if (ws[1].length !== ws[0].length)
          throw ctx.fail(`input ${i}'s length depends on the batch size`);
        return (batch) => ws[0].map((v, k) => v + (ws[1][k] - v) * (batch - worlds[0]));
      },
      shape: (i) => {
        const v = vals[i];
        if (!v) throw ctx.fail(`input ${i} is missing`);
        if (v.kind === 'const') return v.worlds[w].shape;
        const d = this.dummies[v.id];
        const held = d ? d[w].shape : this.values[v.id].shape;
        return onnxShape(held, v.layout);
      },
      flatNhwc: (i) => {
        const v = vals[i];
        return v?.kind === 'rt' ? v.flatNhwc : undefined;
      },
      layout: (i) => {
        const v = vals[i];
        return v?.kind === 'rt' && this.values[v.id].shape.length === 4 ? v.layout : 'plain';
      },
      input: hooks.input,
      batchReader: (handles) => {
        if (worlds.length === 1) return { inputs: handles, read: () => worlds[0] };
        for (let j = 0; j < handles.length; j++) {
          const d = this.dummies[handles[j]];
          if (!d) continue;
          const [a, b] = [d[0].shape, d[1].shape];
          const k = a.findIndex((v, q) => v !== b[q]);
          if (k < 0) continue;
          const [a0, step] = [a[k], b[k] - a[k]];
          return { inputs: handles, read: (xs) => worlds[0] + (xs[j].shape[k] - a0) / step };
        }
        this.lastUse[0] = Math.max(this.lastUse[0], this.step);
        const j = handles.length;
        return { inputs: [...handles, 0], read: (xs) => xs[j].shape[0] };
      },
      emit: hooks.emit,
      alias: hooks.alias,
      aliasAs: (i, layout) => {
        const v = vals[i];
        if (!hooks.aliasAs || v?.kind !== 'rt') throw ctx.fail('internal: aliasAs on a constant');
        hooks.aliasAs(i, layout);
      },
      consumers: (o = 0) => ({
        nodes: this.consumerMap.get(node.output[o]) ?? [],
        graphOutput: node.output[o] === this.inp.outputName,
      }),
      absorb: (other) => {
        this.absorbed.add(other);
        // the absorbed node's output is written by this node's emit (its first output)
        if (node.output[0] === other.input[0]) node.output[0] = other.output[0];
      },
      constantOf: (n) => {
        const v = this.names.get(n);
        return v?.kind === 'const' ? v.worlds[0] : undefined;
      },
      fail: (message) =>
        new LoadError(
          'MODEL_LOAD',
          `${this.inp.where}: node ${JSON.stringify(name)} (${node.opType}): ${message}`,
        ),
    };
    return ctx;
  }
}
