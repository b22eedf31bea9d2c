import { InputError } from '../errors.js';
import { ATTACK_NAMES, ATTACKS, type AttackName, type AttackOptionsByName } from './registry.js';
import type { Attack } from './types.js';

// The input gradient belongs to the model; re-exported here, where attacks' users found it.
export { objectiveGradient } from '../model/gradient.js';
export { setGradientBudget, WASM_GRADIENT_BUDGET } from '../model/memory-budget.js';
export { APGD, type APGDOptions, apgdCheckpoints } from './apgd.js';
export { APGDT, type APGDTOptions, rankedTargets } from './apgd-t.js';
export { BIM, type BIMOptions, bimPaperSchedule } from './bim.js';
export { FABT, type FABTOptions } from './fab.js';
export { FGSM, type FGSMOptions } from './fgsm.js';
export { FGSMRandomStart, type FGSMRandomStartOptions } from './fgsm-random-start.js';
export type { AttackContext, BaseOptions, Perturbed } from './fixed-epsilon.js';
export { FixedEpsilonAttack } from './fixed-epsilon.js';
export { MIFGSM, type MIFGSMOptions } from './mifgsm.js';
export { Noise, type NoiseOptions } from './noise.js';
export { PGD, type PGDOptions } from './pgd.js';
export {
  ATTACK_NAMES,
  ATTACKS,
  type AttackEntry,
  type AttackFamily,
  type AttackName,
  type AttackOptionsByName,
  attackEntry,
  queryAttackNames,
  type SharedOption,
} from './registry.js';
export { RFGSM, type RFGSMOptions } from './rfgsm.js';
export { Square, type SquareOptions } from './square.js';
export type { StepSizeOptions } from './step-size.js';
export * from './types.js';

/** Build an attack by name (see the registry, `registry.ts`, for the names and what each takes). */
export function createAttack<K extends AttackName>(
  name: K,
  options: AttackOptionsByName[K] = {},
): Attack {
  const entry = Object.hasOwn(ATTACKS, name) ? ATTACKS[name] : undefined;
  if (!entry) {
    throw new InputError(
      'INVALID_OPTION',
      `unknown attack ${JSON.stringify(name)}; expected one of ${ATTACK_NAMES.join(', ')}`,
    );
  }
  return entry.create(options);
}
