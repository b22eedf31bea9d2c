/**
 * Flag groups shared by the commands, and their maps to library options:
 * model flags → ClassifierOptions, threat-model flags → attack options and
 * goal, runtime flags → backend.
 */

import { availableParallelism } from 'node:os';
import { AUTOATTACK_VERSIONS, type AutoAttackVersion, type SuiteAttack } from '../eval/types.js';
import {
  ATTACK_NAMES,
  ATTACKS,
  type Attack,
  type AttackName,
  type AttackOptionsByName,
  type BackendName,
  createAttack,
  type Goal,
  NORM_NAMES,
  type NormName,
  parseTargetRule,
  type SharedOption,
  setBackend,
  targeted,
  UNTARGETED,
} from '../index.js';
import type { ModelFileOptions } from '../model/load-node.js';
import { imageDataFlags } from './data.js';
import {
  epsilonList,
  nameList,
  nonNegativeInt,
  number,
  numberList,
  oneOf,
  pair,
  positiveInt,
  seedValue,
  text,
  toggle,
  UsageError,
  value,
} from './flags.js';

export const modelFlags = {
  model: value(
    'PATH',
    text,
    'model.json of a TF.js layers or graph model, or an .onnx file (a PyTorch export; external-data files beside it); logits or softmax output',
    {
      required: true,
    },
  ),
  bounds: value('LO,HI', pair, 'pixel bounds of the inputs; ε is in these units', {
    default: [0, 1] as [number, number],
  }),
  mean: value('M[,M,M]', numberList, 'per-channel mean subtracted inside the model (pixel units)'),
  std: value('S[,S,S]', numberList, 'per-channel std the model divides by (pixel units)'),
  mode: value(
    'eval|train',
    oneOf(['eval', 'train'] as const),
    'model mode (dropout / batch norm)',
    {
      default: 'eval' as const,
    },
  ),
  output: value(
    'logits|probabilities',
    oneOf(['logits', 'probabilities'] as const),
    'what the network outputs',
    {
      defaultText:
        'detected: probabilities if the model ends in a softmax (a graph: its logits are read before it), else logits',
    },
  ),
  'num-classes': value('K', positiveInt, 'expected number of classes (checked against the model)'),
  'input-shape': value(
    'H,W,C',
    inputShape,
    "the model's input [height, width, channels] in the data's layout (NHWC): needed for an .onnx model with dynamic spatial dimensions; checked against a fixed one",
    { defaultText: "the model's own" },
  ),
};

/** `--input-shape 224,224,3`: three positive integers. */
function inputShape(raw: string, flag: string): [number, number, number] {
  const list = numberList(raw, flag);
  if (list.length !== 3 || !list.every((d) => Number.isInteger(d) && d > 0)) {
    throw new UsageError(
      `--${flag} must be three positive integers H,W,C (height, width, channels), e.g. 224,224,3; received ${JSON.stringify(raw)}`,
    );
  }
  return [list[0], list[1], list[2]];
}

export const dataFlags = {
  data: value(
    'SOURCE',
    text,
    'mnist:test, mnist:train, mnist:test:3,7 (those digits, relabelled 0..k-1), or an image folder with one subfolder per class',
    { required: true },
  ),
  'labels-csv': value(
    'PATH',
    text,
    'for an image folder: a CSV of file,label instead of subfolders',
  ),
  classes: value(
    'FILE|a,b,c',
    text,
    "for an image folder: the model's class names in order (a file of one name per line, or a comma-separated list); sub-folders and CSV labels are matched to them",
    { defaultText: 'numeric names are class indices, other names sorted' },
  ),
  ...imageDataFlags,
  limit: value('N', positiveInt, 'use the first N examples'),
  offset: value('N', nonNegativeInt, 'skip this many examples first', { default: 0 }),
};

/** The attacks a shared option applies to, from the registry, for the flags' help. */
const takes = (option: SharedOption): string =>
  ATTACK_NAMES.filter((n) => ATTACKS[n].shared.includes(option)).join(', ');

export const threatFlags = {
  norm: value('linf|l2|l1', oneOf(NORM_NAMES), 'threat-model norm', {
    default: 'linf' as NormName,
  }),
  targeted: value('RULE', text, 'targeted attack: least-likely, random, or a class index', {
    defaultText: 'untargeted',
  }),
  steps: value('N', positiveInt, `steps of the iterative attacks (${takes('steps')})`, {
    defaultText: "each attack's paper default",
  }),
  'step-size': value('A', number, `absolute step size of ${takes('stepSize')} (pixel units)`, {
    defaultText: "each attack's paper default",
  }),
  restarts: value('N', positiveInt, `random restarts (draws, for noise) of ${takes('restarts')}`, {
    defaultText: "1; noise's default 10",
  }),
  seed: value('N', seedValue, 'seed for random starts and random targets', { default: 0 }),
};

export const runFlags = {
  backend: value('wasm|cpu', oneOf(['wasm', 'cpu'] as const), 'TF.js backend', {
    default: 'wasm' as BackendName,
  }),
  threads: value(
    'N',
    threadCount,
    'XNNPACK threads of the wasm backend (results do not depend on it)',
    { defaultText: 'the available cores, at most 4' },
  ),
  quiet: toggle('no progress bar or status lines on stderr', 'q'),
  help: toggle('show this help', 'h'),
};

/** `--workers` of the commands that evaluate data sets (eval, demo). */
export const workersFlag = {
  workers: value(
    'N',
    workerCount,
    'evaluate on N worker threads, each with its own wasm backend on 1 thread and copy of the model, taking whole batches; the same report; faster than --threads for small models, slower for convolution-heavy ones; not with --threads above 1',
    { defaultText: 'none: batches run one after another in this process' },
  ),
};

export const epsFlag = (defaults: number[]) =>
  value('E[,E..]', epsilonList, 'ε values, comma-separated, in pixel units', { default: defaults });

export const attackName = (raw: string): AttackName => {
  const n = raw.trim().toLowerCase();
  if (!(ATTACK_NAMES as string[]).includes(n)) {
    throw new UsageError(
      `unknown attack ${JSON.stringify(raw)}; expected one of ${ATTACK_NAMES.join(', ')}`,
    );
  }
  return n as AttackName;
};

export const attackNames = (raw: string, flag: string): AttackName[] => {
  const list = nameList(raw, flag);
  for (const n of list) {
    if (!(ATTACK_NAMES as string[]).includes(n)) {
      throw new UsageError(
        `unknown attack ${JSON.stringify(n)} in --${flag}; expected one of ${ATTACK_NAMES.join(', ')}`,
      );
    }
  }
  return list as AttackName[];
};

/**
 * --attacks for `eval`: a list of attacks, or one AutoAttack preset
 * (autoattack, autoattack-fast, autoattack-rand), which runs as a cascade.
 */
export const attacksOrPreset = (raw: string, flag: string): AttackName[] | AutoAttackVersion => {
  const t = raw.trim().toLowerCase();
  if ((AUTOATTACK_VERSIONS as readonly string[]).includes(t)) return t as AutoAttackVersion;
  const list = nameList(raw, flag);
  const preset = list.find((n) => (AUTOATTACK_VERSIONS as readonly string[]).includes(n));
  if (preset && list.length > 1) {
    throw new UsageError(
      `--${flag} ${preset} is a whole suite (a cascade) and does not combine with other attacks; give --${flag} ${preset} alone, or a list of attacks`,
    );
  }
  for (const n of list) {
    if (!(ATTACK_NAMES as string[]).includes(n)) {
      throw new UsageError(
        `unknown attack ${JSON.stringify(n)} in --${flag}; expected one of ${ATTACK_NAMES.join(', ')}, or one preset: ${AUTOATTACK_VERSIONS.join(', ')}`,
      );
    }
  }
  return list as AttackName[];
};

export function modelOptions(f: {
  bounds: [number, number];
  mean?: number[];
  std?: number[];
  mode: 'eval' | 'train';
  output?: 'logits' | 'probabilities';
  'num-classes'?: number;
  'input-shape'?: [number, number, number];
}): ModelFileOptions {
  if ((f.mean === undefined) !== (f.std === undefined)) {
    throw new UsageError('--mean and --std go together; give both (one value, or one per channel)');
  }
  return {
    bounds: f.bounds,
    preprocess: f.mean && f.std ? { mean: f.mean, std: f.std } : undefined,
    mode: f.mode,
    output: f.output,
    numClasses: f['num-classes'],
    ...(f['input-shape'] ? { inputShape: f['input-shape'] } : {}),
  };
}

export function goalFrom(rule: string | undefined): Goal {
  return rule === undefined ? UNTARGETED : targeted(parseTargetRule(rule));
}

export interface ThreatFlags {
  norm: NormName;
  steps?: number;
  'step-size'?: number;
  restarts?: number;
}

/**
 * The options of attack `name` that the threat-model flags set: each flag
 * goes to the attacks whose registry row lists its option.
 */
export function attackOptions<K extends AttackName>(
  name: K,
  f: ThreatFlags,
): AttackOptionsByName[K] {
  const shared = ATTACKS[name].shared;
  const flagOf: Partial<Record<SharedOption, unknown>> = {
    norm: f.norm,
    steps: f.steps,
    stepSize: f['step-size'],
    restarts: f.restarts,
  };
  const options: Record<string, unknown> = {};
  for (const o of shared) if (o in flagOf) options[o] = flagOf[o];
  return options as AttackOptionsByName[K];
}

/** The attack `name` with the threat-model flags that apply to it. */
export function attackFrom(name: AttackName, f: ThreatFlags): Attack {
  return createAttack(name, attackOptions(name, f));
}

/** The attack as a suite entry for `evaluate`. */
export function suiteAttack(name: AttackName, f: ThreatFlags): SuiteAttack {
  return { name, options: attackOptions(name, f) } as SuiteAttack;
}

/**
 * The wasm backend's default thread count: one per available core, at most
 * 4. Two threads on two cores run an attack 1.5× faster than one; past
 * four, XNNPACK's small per-layer jobs gain little.
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

function threadCount(raw: string, flag: string): number {
  const n = positiveInt(raw, flag);
  if (n > 8) throw new UsageError(`--${flag} must be from 1 to 8; received ${raw}`);
  return n;
}

/** Each worker holds a backend and a copy of the model: 64 is far past any gain. */
export const MAX_WORKERS = 64;

function workerCount(raw: string, flag: string): number {
  const n = positiveInt(raw, flag);
  if (n > MAX_WORKERS) {
    throw new UsageError(`--${flag} must be from 1 to ${MAX_WORKERS}; received ${raw}`);
  }
  return n;
}

/**
 * This thread's XNNPACK threads: --threads, else the default; 1 with
 * --workers, where the workers do the work, each on one thread (so
 * --threads above 1 beside --workers is a usage error).
 */
export function mainThreads(f: { threads?: number; workers?: number }): number {
  if (f.workers === undefined) return f.threads ?? defaultThreads();
  if (f.threads !== undefined && f.threads > 1) {
    throw new UsageError(
      `--threads ${f.threads} and --workers ${f.workers} do not combine: each worker runs the wasm backend on 1 thread; give --workers N or --threads N`,
    );
  }
  return 1;
}

export async function startBackend(name: BackendName, threads = defaultThreads()): Promise<void> {
  await setBackend(name, name === 'wasm' ? { threads } : {});
}
