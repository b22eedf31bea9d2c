/**
 * The attack settings as the user chose them, the advkit attack they build,
 * and the report-ready JSON (the spec's checklist fields).
 */
import {
  type Attack,
  type AttackName,
  type Classifier,
  createAttack,
  describeGoal,
  type Goal,
  type NormName,
  type TargetRule,
  targeted,
  UNTARGETED,
} from 'advkit';

/** The attacks the explorer offers (APGD-CE and FAB-T are left to the CLI and the suite). */
export type ExplorerAttack = Exclude<AttackName, 'apgd' | 'fab-t'>;

export interface AttackSettings {
  attack: ExplorerAttack;
  norm: NormName;
  eps: number;
  goal: 'untargeted' | 'targeted';
  targetRule: 'fixed' | 'random' | 'least-likely';
  targetClass: number;
  steps: number;
  /** Step size as a multiple of ε (iterative attacks and FGSM-RS). */
  relStep: number;
  restarts: number;
  decay: number;
  /** Square's query budget per restart. */
  queries: number;
  seed: number;
}

/** Which controls an attack uses, and its step-size default (× ε). */
export const ATTACK_PARAMS: Record<
  ExplorerAttack,
  {
    steps: boolean;
    relStep?: number;
    restarts: boolean;
    decay: boolean;
    queries?: boolean;
    label: string;
  }
> = {
  fgsm: { steps: false, restarts: false, decay: false, label: 'FGSM' },
  'fgsm-rs': { steps: false, relStep: 1.25, restarts: false, decay: false, label: 'FGSM-RS' },
  rfgsm: { steps: false, restarts: false, decay: false, label: 'R+FGSM' },
  bim: { steps: true, relStep: 0.25, restarts: false, decay: false, label: 'BIM' },
  pgd: { steps: true, relStep: 0.25, restarts: true, decay: false, label: 'PGD' },
  mifgsm: { steps: true, relStep: 0.1, restarts: false, decay: true, label: 'MI-FGSM' },
  // APGD-T sets its own step size (2ε, halved at checkpoints).
  'apgd-t': { steps: true, restarts: true, decay: false, label: 'APGD-T' },
  square: { steps: false, restarts: true, decay: false, queries: true, label: 'Square' },
};

export function goalOf(s: AttackSettings): Goal {
  if (s.goal === 'untargeted') return UNTARGETED;
  const rule: TargetRule =
    s.targetRule === 'fixed' ? { kind: 'fixed', target: s.targetClass } : { kind: s.targetRule };
  return targeted(rule);
}

export function buildAttack(s: AttackSettings): Attack {
  const p = ATTACK_PARAMS[s.attack];
  const common = { norm: s.norm };
  switch (s.attack) {
    case 'fgsm':
    case 'rfgsm':
      return createAttack(s.attack, common);
    case 'fgsm-rs':
      return createAttack('fgsm-rs', { ...common, relStepSize: s.relStep });
    case 'bim':
      return createAttack('bim', { ...common, steps: s.steps, relStepSize: s.relStep });
    case 'pgd':
      return createAttack('pgd', {
        ...common,
        steps: s.steps,
        relStepSize: s.relStep,
        restarts: p.restarts ? s.restarts : 1,
      });
    case 'mifgsm':
      return createAttack('mifgsm', {
        ...common,
        steps: s.steps,
        relStepSize: s.relStep,
        decay: s.decay,
      });
    case 'apgd-t':
      return createAttack('apgd-t', { ...common, steps: s.steps, restarts: s.restarts });
    case 'square':
      return createAttack('square', { ...common, queries: s.queries, restarts: s.restarts });
  }
}

export interface ReportContext {
  settings: AttackSettings;
  model: Classifier;
  modelSource: string;
  checksum: string;
  input: Record<string, unknown>;
  result?: Record<string, unknown>;
  curve?: Record<string, unknown>;
}

/** The reporting checklist of the spec, filled in for what is on screen. */
export function settingsReport(c: ReportContext): Record<string, unknown> {
  const s = c.settings;
  const attack = buildAttack(s).describe();
  const [lo, hi] = c.model.bounds;
  return {
    tool: 'advkit explorer',
    created: new Date().toISOString(),
    inputScale: {
      bounds: [lo, hi],
      description: `pixel space, every coordinate in [${lo}, ${hi}]; ε is in the same units`,
    },
    budget: { epsilon: s.eps, norm: s.norm, epsilonOver255OfRange: (s.eps / (hi - lo)) * 255 },
    goal: describeGoal(goalOf(s)),
    targetRule:
      s.goal === 'targeted'
        ? s.targetRule === 'fixed'
          ? { kind: 'fixed', target: s.targetClass }
          : { kind: s.targetRule }
        : null,
    gradientPath:
      s.attack === 'square'
        ? `none: Square queries the logits only (preprocessing: ${c.model.info.preprocessing})`
        : `${s.attack === 'apgd-t' ? 'targeted DLR' : 'cross-entropy'} gradient w.r.t. the pixel-space input, through preprocessing: ${c.model.info.preprocessing}`,
    clipping: attack.clipping,
    modelMode: c.model.info.mode,
    seed: s.seed,
    attack,
    model: {
      name: c.model.info.name,
      source: c.modelSource,
      checksum: `sha256:${c.checksum}`,
      kind: c.model.info.kind,
      inputShape: c.model.inputShape,
      numClasses: c.model.numClasses,
      output: c.model.info.output,
    },
    input: c.input,
    result: c.result ?? null,
    accuracyCurve: c.curve ?? null,
    baselines:
      c.curve !== undefined
        ? 'PGD (see accuracyCurve) was run after FGSM on the same examples'
        : 'none run yet: compute the accuracy curve to add PGD',
  };
}
