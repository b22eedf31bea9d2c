/**
 * Checkpoint encoding, browser-safe: the model's weights and the optimizer's
 * slots packed into one float32 buffer, with a JSON description of every
 * block, the epoch reached, the options fingerprint and the history. The
 * epoch is the whole RNG position: shuffles and attack starts are derived
 * from (seed, epoch, example), so nothing else needs saving.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import type { TrainOptimizer } from './optimizer.js';
import type { Checkpoint, CheckpointMeta, EpochRecord } from './options.js';

/** The model's weights (trainable and not) as float32 copies. */
export async function weightValues(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.weights.map(async (w) => new Float32Array(await w.read().data())));
}

export function setWeightValues(model: tf.LayersModel, values: readonly Float32Array[]): void {
  const shapes = model.weights.map((w) => w.shape as number[]);
  if (values.length !== shapes.length) {
    throw new InputError(
      'RESUME_MISMATCH',
      `the checkpoint holds ${values.length} weight tensors; the model has ${shapes.length}`,
    );
  }
  const tensors = values.map((v, i) => {
    const size = shapes[i].reduce((a, b) => a * b, 1);
    if (v.length !== size) {
      throw new InputError(
        'RESUME_MISMATCH',
        `weight ${i} (${model.weights[i].name}) has ${v.length} values in the checkpoint; the model needs ${size} for shape [${shapes[i].join(', ')}]`,
      );
    }
    return tf.tensor(v, shapes[i]);
  });
  model.setWeights(tensors);
  tf.dispose(tensors);
}

export async function encodeCheckpoint(
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
  meta: {
    epoch: number;
    fingerprint: CheckpointMeta['fingerprint'];
    history: EpochRecord[];
    best: CheckpointMeta['best'];
  },
  weights?: Float32Array[],
): Promise<Checkpoint> {
  const w = weights ?? (await weightValues(model));
  const state = await optimizer.getState();
  const blocks = [...w, ...state.slots];
  const total = blocks.reduce((a, b) => a + b.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  for (const b of blocks) {
    data.set(b, o);
    o += b.length;
  }
  const tensors: CheckpointMeta['tensors'] = [
    ...model.weights.map((v) => ({
      name: v.name,
      shape: v.shape as number[],
      role: 'weight' as const,
    })),
    ...state.slots.map((s, i) => ({
      name: `${state.name}/slot${i}`,
      shape: [s.length],
      role: 'slot' as const,
    })),
  ];
  return {
    meta: {
      format: 'advkit-train-checkpoint',
      version: 1,
      ...meta,
      optimizer: { name: state.name, step: state.step },
      tensors,
    },
    data: data.buffer,
  };
}

/** Split a checkpoint's buffer back into weight and slot blocks. */
export function decodeBlocks(ckpt: Checkpoint): { weights: Float32Array[]; slots: Float32Array[] } {
  const all = new Float32Array(ckpt.data);
  const weights: Float32Array[] = [];
  const slots: Float32Array[] = [];
  let o = 0;
  for (const t of ckpt.meta.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (o + size > all.length) {
      throw new InputError(
        'RESUME_MISMATCH',
        `the checkpoint's data ends before tensor ${t.name} (needs ${o + size} values, has ${all.length})`,
      );
    }
    (t.role === 'weight' ? weights : slots).push(all.slice(o, o + size));
    o += size;
  }
  return { weights, slots };
}

/** Put a checkpoint's weights and optimizer state back in place. */
export function restoreCheckpoint(
  model: tf.LayersModel,
  optimizer: TrainOptimizer,
  ckpt: Checkpoint,
): void {
  const { weights, slots } = decodeBlocks(ckpt);
  setWeightValues(model, weights);
  optimizer.setState({ name: ckpt.meta.optimizer.name, step: ckpt.meta.optimizer.step, slots });
}

/** Throw RESUME_MISMATCH naming every option that differs from the checkpoint's. */
export function checkFingerprint(
  saved: CheckpointMeta['fingerprint'],
  now: CheckpointMeta['fingerprint'],
): void {
  const keys = new Set([...Object.keys(saved), ...Object.keys(now)]);
  const diff = [...keys].filter((k) => saved[k] !== now[k]);
  if (diff.length > 0) {
    throw new InputError(
      'RESUME_MISMATCH',
      `cannot resume: the checkpoint was made with different options (${diff
        .map((k) => `${k}: ${saved[k]} there, ${now[k]} now`)
        .join('; ')}); use the same options or start afresh in an empty directory`,
    );
  }
}
