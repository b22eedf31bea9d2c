/**
 * The optimizers adversarial training steps with: Adam (Kingma & Ba; the
 * optimizer of Wong et al.'s MNIST runs) and SGD with momentum. They own
 * their slot tensors, take the learning rate with every step (so a schedule
 * needs no mutable setter), and export/import their full state for exact
 * resumption.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';

export type OptimizerName = 'adam' | 'sgd';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['adam', 'sgd'];

export interface OptimizerState {
  name: OptimizerName;
  step: number;
  /** Slot tensors in a fixed order (Adam: m then v per variable; SGD: velocity). */
  slots: Float32Array[];
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;
const MOMENTUM = 0.9;

export class TrainOptimizer {
  readonly name: OptimizerName;
  step = 0;
  private slots: tf.Variable[];
  private readonly vars: tf.Variable[];

  constructor(name: OptimizerName, vars: tf.Variable[]) {
    if (!OPTIMIZER_NAMES.includes(name)) {
      throw new InputError(
        'INVALID_OPTION',
        `optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}; received ${JSON.stringify(name)}`,
      );
    }
    this.name = name;
    this.vars = vars;
    const per = name === 'adam' ? 2 : 1;
    this.slots = [];
    for (let k = 0; k < per; k++) {
      for (const v of vars) this.slots.push(tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
    }
  }

  /** One update with learning rate `lr`; `grads` maps variable name → gradient. */
  apply(grads: tf.NamedTensorMap, lr: number): void {
    this.step += 1;
    const t = this.step;
    const n = this.vars.length;
    tf.tidy(() => {
      this.vars.forEach((v, i) => {
        const g = grads[v.name];
        if (!g) return;
        if (this.name === 'adam') {
          const m = this.slots[i];
          const s = this.slots[n + i];
          m.assign(tf.add(tf.mul(m, BETA1), tf.mul(g, 1 - BETA1)));
          s.assign(tf.add(tf.mul(s, BETA2), tf.mul(tf.square(g), 1 - BETA2)));
          const mHat = tf.div(m, 1 - BETA1 ** t);
          const sHat = tf.div(s, 1 - BETA2 ** t);
          v.assign(tf.sub(v, tf.mul(tf.div(mHat, tf.add(tf.sqrt(sHat), ADAM_EPSILON)), lr)));
        } else {
          const vel = this.slots[i];
          vel.assign(tf.add(tf.mul(vel, MOMENTUM), g));
          v.assign(tf.sub(v, tf.mul(vel, lr)));
        }
      });
    });
  }

  async getState(): Promise<OptimizerState> {
    const slots = await Promise.all(this.slots.map(async (s) => new Float32Array(await s.data())));
    return { name: this.name, step: this.step, slots };
  }

  setState(state: OptimizerState): void {
    if (state.name !== this.name || state.slots.length !== this.slots.length) {
      throw new InputError(
        'RESUME_MISMATCH',
        `the checkpoint holds ${state.name} state with ${state.slots.length} slots; this run uses ${this.name} with ${this.slots.length}`,
      );
    }
    this.slots.forEach((s, i) => {
      if (state.slots[i].length !== s.size) {
        throw new InputError(
          'RESUME_MISMATCH',
          `optimizer slot ${i} has ${state.slots[i].length} values in the checkpoint; the model needs ${s.size}`,
        );
      }
      tf.tidy(() => s.assign(tf.tensor(state.slots[i], s.shape)));
    });
    this.step = state.step;
  }

  dispose(): void {
    tf.dispose(this.slots);
    this.slots = [];
  }
}
