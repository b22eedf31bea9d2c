/**
 * Goals and target rules. Targeting is data passed with each attack call,
 * not a mode stored on the attack.
 */
import { InputError } from '../errors.js';
import { exampleRng, Stream } from './rng.js';

export type TargetRule =
  | { kind: 'fixed'; target: number }
  | { kind: 'random' }
  | { kind: 'least-likely' }
  | { kind: 'list'; targets: readonly number[] };

export type Goal = { kind: 'untargeted' } | { kind: 'targeted'; rule: TargetRule };

export const UNTARGETED: Goal = { kind: 'untargeted' };

export function targeted(rule: TargetRule): Goal {
  return { kind: 'targeted', rule };
}

/** "untargeted", "targeted (least-likely)", "targeted (class 3)" … for reports. */
export function describeGoal(goal: Goal): string {
  if (goal.kind === 'untargeted') return 'untargeted';
  const r = goal.rule;
  switch (r.kind) {
    case 'fixed':
      return `targeted (fixed class ${r.target})`;
    case 'random':
      return 'targeted (random class ≠ label, seeded)';
    case 'least-likely':
      return 'targeted (least-likely class on the clean input)';
    case 'list':
      return 'targeted (user-given list)';
  }
}

/**
 * Parse a CLI-style target rule: "least-likely", "random", a class index, or
 * a comma-separated list of class indices.
 */
export function parseTargetRule(text: string): TargetRule {
  const t = text.trim().toLowerCase();
  if (t === 'least-likely' || t === 'll') return { kind: 'least-likely' };
  if (t === 'random') return { kind: 'random' };
  if (/^\d+$/.test(t)) return { kind: 'fixed', target: Number(t) };
  if (/^\d+(,\d+)+$/.test(t)) return { kind: 'list', targets: t.split(',').map(Number) };
  throw new InputError(
    'INVALID_OPTION',
    `target rule ${JSON.stringify(text)} not understood; expected least-likely, random, a class index, or a comma-separated list of class indices`,
  );
}

/**
 * Resolve the target class of each example. `leastLikely` is needed only for
 * that rule (argmin of the clean logits); `indices` are the examples' global
 * positions, which key both the random draw and list lookups.
 */
export function resolveTargets(
  rule: TargetRule,
  labels: ArrayLike<number>,
  numClasses: number,
  seed: number,
  indices: ArrayLike<number>,
  leastLikely?: ArrayLike<number>,
): Int32Array {
  const n = labels.length;
  const out = new Int32Array(n);
  const checkClass = (c: number, what: string) => {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
      throw new InputError(
        'INVALID_LABELS',
        `${what} must be an integer class in [0, ${numClasses - 1}]; received ${c}`,
      );
    }
  };
  if (rule.kind === 'random' && numClasses < 2) {
    throw new InputError('INVALID_OPTION', 'the random target rule needs at least 2 classes');
  }
  for (let i = 0; i < n; i++) {
    switch (rule.kind) {
      case 'fixed':
        checkClass(rule.target, 'target class');
        out[i] = rule.target;
        break;
      case 'random': {
        // Uniform over the classes other than the label.
        const r = exampleRng(seed, indices[i], Stream.target).int(numClasses - 1);
        out[i] = r >= labels[i] ? r + 1 : r;
        break;
      }
      case 'least-likely':
        if (!leastLikely)
          throw new Error('resolveTargets: least-likely rule needs clean predictions');
        out[i] = leastLikely[i];
        break;
      case 'list': {
        const pos = indices[i];
        if (pos >= rule.targets.length) {
          throw new InputError(
            'INVALID_LABELS',
            `target list has ${rule.targets.length} entries but example ${pos} needs one; give one target per example`,
          );
        }
        checkClass(rule.targets[pos], `targets[${pos}]`);
        out[i] = rule.targets[pos];
        break;
      }
    }
  }
  return out;
}
