/**
 * The attack settings as the user chose them, the advkit attack they build,
 * and the report-ready JSON (the spec's checklist fields).
 */
import {
  ATTACK_NAMES,
  ATTACKS,
  type Attack,
  type AttackName,
  type Classifier,
  describeGoal,
  type Goal,
  type NormName,
  type TargetRule,
  targeted,
  UNTARGETED,
} from 'advkit';

/**
 * Attacks in advkit's registry that the explorer leaves to the CLI and the
 * suite, and why. Every other registry row is offered here, with the
 * controls its shared options call for.
 */
export const NOT_IN_EXPLORER = {
  apgd: 'APGD-CE runs in the AutoAttack suite (advkit eval --attacks autoattack); the explorer offers APGD-T',
  'fab-t':
    'FAB-T is a minimum-norm search, reported by the suite beside APGD-T; run it with advkit eval',
} as const satisfies Partial<Record<AttackName, string>>;

/** The attacks the explorer offers. */
export type ExplorerAttack = Exclude<AttackName, keyof typeof NOT_IN_EXPLORER>;

/** The registry's attacks the explorer offers, in the registry's order. */
export const EXPLORER_ATTACKS = ATTACK_NAMES.filter(
  (n): n is ExplorerAttack => !Object.hasOwn(NOT_IN_EXPLORER, n),
);

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

/** The explorer's controls for one attack, and its step-size slider's start (× ε). */
export interface AttackControls {
  steps: boolean;
  relStep?: number;
  restarts: boolean;
  decay: boolean;
  queries?: boolean;
  label: string;
  /** Whether it needs the model's gradient (false: it only queries the logits). */
  needsGradient: boolean;
}

/**
 * What the registry cannot say: where the step-size slider starts (the
 * attack's default for the explorer's default steps, 10: PGD 2.5/steps,
 * MI-FGSM 1/steps) and the attack-specific controls (momentum decay,
 * Square's query budget). An attack without a row here gets the controls
 * of its shared options and a slider starting at 0.25·ε.
 */
const OWN_CONTROLS: Partial<
  Record<ExplorerAttack, { relStep?: number; decay?: true; queries?: true }>
> = {
  'fgsm-rs': { relStep: 1.25 },
  bim: { relStep: 0.25 },
  pgd: { relStep: 0.25 },
  mifgsm: { relStep: 0.1, decay: true },
  square: { queries: true },
};

function controlsOf(name: ExplorerAttack): AttackControls {
  const entry = ATTACKS[name];
  const own = OWN_CONTROLS[name] ?? {};
  // APGD-T sets its own step size (2ε, halved at checkpoints): no slider.
  const relStep = entry.shared.includes('stepSize') ? (own.relStep ?? 0.25) : undefined;
  return {
    steps: entry.shared.includes('steps'),
    ...(relStep !== undefined ? { relStep } : {}),
    restarts: entry.shared.includes('restarts'),
    decay: own.decay === true,
    ...(own.queries ? { queries: true } : {}),
    label: entry.label,
    needsGradient: entry.needsGradient,
  };
}

/** Which controls an attack uses, and its step-size default (× ε). */
export const ATTACK_PARAMS = Object.fromEntries(
  EXPLORER_ATTACKS.map((n) => [n, controlsOf(n)]),
) as Record<ExplorerAttack, AttackControls>;

export function goalOf(s: AttackSettings): Goal {
  if (s.goal === 'untargeted') return UNTARGETED;
  const rule: TargetRule =
    s.targetRule === 'fixed' ? { kind: 'fixed', target: s.targetClass } : { kind: s.targetRule };
  return targeted(rule);
}

/** The advkit attack for the settings: the options of the controls the attack shows. */
export function buildAttack(s: AttackSettings): Attack {
  const p = ATTACK_PARAMS[s.attack];
  const options: Record<string, unknown> = { norm: s.norm };
  if (p.steps) options.steps = s.steps;
  if (p.relStep !== undefined) options.relStepSize = s.relStep;
  if (p.restarts) options.restarts = s.restarts;
  if (p.decay) options.decay = s.decay;
  if (p.queries) options.queries = s.queries;
  return ATTACKS[s.attack].create(options as never);
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
    gradientPath: !ATTACK_PARAMS[s.attack].needsGradient
      ? `none: ${ATTACK_PARAMS[s.attack].label} queries the logits only (preprocessing: ${c.model.info.preprocessing})`
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
