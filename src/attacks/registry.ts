/**
 * Every attack advkit offers, one row each: its factory, its family, whether
 * it needs the model's gradient, the norms it supports and which of the
 * shared options apply to it. `createAttack`, the evaluation plan, the CLI's
 * flags and the explorer's attack list all read this table, so a new attack
 * is its own file and one row here.
 */
import { APGD, type APGDOptions } from './apgd.js';
import { APGDT, type APGDTOptions } from './apgd-t.js';
import { BIM, type BIMOptions } from './bim.js';
import { FABT, type FABTOptions } from './fab.js';
import { FGSM, type FGSMOptions } from './fgsm.js';
import { FGSMRandomStart, type FGSMRandomStartOptions } from './fgsm-random-start.js';
import { MIFGSM, type MIFGSMOptions } from './mifgsm.js';
import { Noise, type NoiseOptions } from './noise.js';
import { PGD, type PGDOptions } from './pgd.js';
import { RFGSM, type RFGSMOptions } from './rfgsm.js';
import { Square, type SquareOptions } from './square.js';
import type { Attack } from './types.js';

/** Options of every attack, by name, for `createAttack`. */
export interface AttackOptionsByName {
  fgsm: FGSMOptions;
  'fgsm-rs': FGSMRandomStartOptions;
  rfgsm: RFGSMOptions;
  bim: BIMOptions;
  pgd: PGDOptions;
  mifgsm: MIFGSMOptions;
  apgd: APGDOptions;
  'apgd-t': APGDTOptions;
  square: SquareOptions;
  'fab-t': FABTOptions;
  noise: NoiseOptions;
}
export type AttackName = keyof AttackOptionsByName;

/**
 * 'one-step': one gradient step (FGSM and its variants); 'iterative': many
 * gradient steps; 'query': logits only, no gradient (runs on query-only
 * models).
 */
export type AttackFamily = 'one-step' | 'iterative' | 'query';

/**
 * The options several attacks share, by their option name: the CLI's
 * threat-model flags set these (--norm, --steps, --step-size, --restarts)
 * on the attacks they apply to. ε, the goal and the seed come with each call
 * and apply to every attack.
 */
export type SharedOption = 'norm' | 'loss' | 'steps' | 'stepSize' | 'restarts' | 'surrogate';

export interface AttackEntry<K extends AttackName = AttackName> {
  readonly name: K;
  /** Display name, e.g. 'MI-FGSM'. */
  readonly label: string;
  readonly family: AttackFamily;
  /** Needs the model's input gradient: refused on a query-only model (NOT_DIFFERENTIABLE). */
  readonly needsGradient: boolean;
  /**
   * Counts as a stronger baseline than FGSM (reports and the gradient-masking
   * checks compare it with FGSM); false for the one-step attacks and the
   * noise baseline.
   */
  readonly stronger: boolean;
  readonly norms: readonly ('linf' | 'l2' | 'l1')[];
  /** The shared options this attack takes. */
  readonly shared: readonly SharedOption[];
  /** Relative step size (× ε) it defaults to, where it takes one; the explorer's slider starts there. */
  readonly relStepDefault?: number;
  readonly create: (options: AttackOptionsByName[K]) => Attack;
}

const ALL_NORMS = ['linf', 'l2', 'l1'] as const;
const LINF_L2 = ['linf', 'l2'] as const;

export const ATTACKS: { readonly [K in AttackName]: AttackEntry<K> } = {
  fgsm: {
    name: 'fgsm',
    label: 'FGSM',
    family: 'one-step',
    needsGradient: true,
    stronger: false,
    norms: ALL_NORMS,
    shared: ['norm', 'loss', 'surrogate'],
    create: (o) => new FGSM(o),
  },
  'fgsm-rs': {
    name: 'fgsm-rs',
    label: 'FGSM-RS',
    family: 'one-step',
    needsGradient: true,
    stronger: false,
    norms: ALL_NORMS,
    shared: ['norm', 'loss', 'stepSize', 'surrogate'],
    relStepDefault: 1.25,
    create: (o) => new FGSMRandomStart(o),
  },
  rfgsm: {
    name: 'rfgsm',
    label: 'R+FGSM',
    family: 'one-step',
    needsGradient: true,
    stronger: false,
    norms: ALL_NORMS,
    shared: ['norm', 'loss', 'surrogate'],
    create: (o) => new RFGSM(o),
  },
  bim: {
    name: 'bim',
    label: 'BIM',
    family: 'iterative',
    needsGradient: true,
    stronger: true,
    norms: ALL_NORMS,
    shared: ['norm', 'loss', 'steps', 'stepSize', 'surrogate'],
    relStepDefault: 0.25,
    create: (o) => new BIM(o),
  },
  pgd: {
    name: 'pgd',
    label: 'PGD',
    family: 'iterative',
    needsGradient: true,
    stronger: true,
    norms: ALL_NORMS,
    shared: ['norm', 'loss', 'steps', 'stepSize', 'restarts', 'surrogate'],
    relStepDefault: 0.25,
    create: (o) => new PGD(o),
  },
  mifgsm: {
    name: 'mifgsm',
    label: 'MI-FGSM',
    family: 'iterative',
    needsGradient: true,
    stronger: true,
    norms: ALL_NORMS,
    shared: ['norm', 'loss', 'steps', 'stepSize', 'surrogate'],
    relStepDefault: 0.1,
    create: (o) => new MIFGSM(o),
  },
  apgd: {
    name: 'apgd',
    label: 'APGD',
    family: 'iterative',
    needsGradient: true,
    stronger: true,
    norms: LINF_L2,
    shared: ['norm', 'loss', 'steps', 'restarts', 'surrogate'],
    create: (o) => new APGD(o),
  },
  'apgd-t': {
    name: 'apgd-t',
    label: 'APGD-T',
    family: 'iterative',
    needsGradient: true,
    stronger: true,
    norms: LINF_L2,
    shared: ['norm', 'loss', 'steps', 'restarts', 'surrogate'],
    create: (o) => new APGDT(o),
  },
  square: {
    name: 'square',
    label: 'Square',
    family: 'query',
    needsGradient: false,
    stronger: true,
    norms: LINF_L2,
    shared: ['norm', 'loss', 'restarts'],
    create: (o) => new Square(o),
  },
  'fab-t': {
    name: 'fab-t',
    label: 'FAB-T',
    family: 'iterative',
    needsGradient: true,
    stronger: true,
    norms: LINF_L2,
    shared: ['norm', 'steps', 'restarts', 'surrogate'],
    create: (o) => new FABT(o),
  },
  noise: {
    name: 'noise',
    label: 'Noise',
    family: 'query',
    needsGradient: false,
    stronger: false,
    norms: LINF_L2,
    shared: ['norm', 'loss', 'restarts'],
    create: (o) => new Noise(o),
  },
};

/** Every attack name, in the table's order. */
export const ATTACK_NAMES = Object.keys(ATTACKS) as AttackName[];

/** The row of `name`, or undefined for a name advkit does not know. */
export function attackEntry(name: string): AttackEntry | undefined {
  return Object.hasOwn(ATTACKS, name) ? (ATTACKS[name as AttackName] as AttackEntry) : undefined;
}

/** The attacks that need no gradient (they run on a query-only model). */
export function queryAttackNames(): AttackName[] {
  return ATTACK_NAMES.filter((n) => !ATTACKS[n].needsGradient);
}
