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

const RULE_KINDS = ['fixed', 'random', 'least-likely', 'list'] as const;

/**
 * A goal as given by a caller (JavaScript callers get no type check):
 * undefined is untargeted; an unknown kind or rule is an INVALID_OPTION
 * error, never a silent untargeted run.
 */
export function checkGoal(goal: unknown, name = 'goal'): Goal {
  if (goal === undefined) return UNTARGETED;
  const g = goal as {
    kind?: unknown;
    rule?: { kind?: unknown; target?: unknown; targets?: unknown };
  };
  const got = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  if (
    typeof goal !== 'object' ||
    goal === null ||
    (g.kind !== 'untargeted' && g.kind !== 'targeted')
  ) {
    throw new InputError(
      'INVALID_OPTION',
      `${name}.kind must be 'untargeted' or 'targeted' (with a rule); received ${typeof goal === 'object' && goal !== null ? got(g.kind) : got(goal)}`,
    );
  }
  if (g.kind === 'untargeted') return UNTARGETED;
  const r = g.rule;
  if (typeof r !== 'object' || r === null || !(RULE_KINDS as readonly unknown[]).includes(r.kind)) {
    throw new InputError(
      'INVALID_OPTION',
      `${name}.rule.kind must be one of ${RULE_KINDS.join(', ')}; received ${typeof r === 'object' && r !== null ? got(r.kind) : got(r)}`,
    );
  }
  if (r.kind === 'fixed' && typeof r.target !== 'number') {
    throw new InputError(
      'INVALID_OPTION',
      `${name}.rule.target must be a class index; received ${got(r.target)}`,
    );
  }
  if (r.kind === 'list' && !Array.isArray(r.targets) && !ArrayBuffer.isView(r.targets)) {
    throw new InputError(
      'INVALID_OPTION',
      `${name}.rule.targets must be an array of class indices; received ${typeof r.targets}`,
    );
  }
  return goal as Goal;
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
