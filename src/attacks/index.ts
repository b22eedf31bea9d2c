import { InputError } from '../errors.js';
import { APGD, type APGDOptions } from './apgd.js';
import { APGDT, type APGDTOptions } from './apgd-t.js';
import { BIM, type BIMOptions } from './bim.js';
import { FABT, type FABTOptions } from './fab.js';
import { FGSM, type FGSMOptions } from './fgsm.js';
import { FGSMRandomStart, type FGSMRandomStartOptions } from './fgsm-random-start.js';
import { MIFGSM, type MIFGSMOptions } from './mifgsm.js';
import { PGD, type PGDOptions } from './pgd.js';
import { RFGSM, type RFGSMOptions } from './rfgsm.js';
import { Square, type SquareOptions } from './square.js';
import type { Attack } from './types.js';

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
export { PGD, type PGDOptions } from './pgd.js';
export { RFGSM, type RFGSMOptions } from './rfgsm.js';
export { Square, type SquareOptions } from './square.js';
export type { StepSizeOptions } from './step-size.js';
export * from './types.js';

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
}
export type AttackName = keyof AttackOptionsByName;

const FACTORIES: { [K in AttackName]: (o: AttackOptionsByName[K]) => Attack } = {
  fgsm: (o) => new FGSM(o),
  'fgsm-rs': (o) => new FGSMRandomStart(o),
  rfgsm: (o) => new RFGSM(o),
  bim: (o) => new BIM(o),
  pgd: (o) => new PGD(o),
  mifgsm: (o) => new MIFGSM(o),
  apgd: (o) => new APGD(o),
  'apgd-t': (o) => new APGDT(o),
  square: (o) => new Square(o),
  'fab-t': (o) => new FABT(o),
};

export const ATTACK_NAMES = Object.keys(FACTORIES) as AttackName[];

/** Build an attack by name: fgsm, fgsm-rs, rfgsm, bim, pgd, mifgsm, apgd, apgd-t, square, fab-t. */
export function createAttack<K extends AttackName>(
  name: K,
  options: AttackOptionsByName[K] = {},
): Attack {
  const make = FACTORIES[name] as ((o: AttackOptionsByName[K]) => Attack) | undefined;
  if (!make) {
    throw new InputError(
      'INVALID_OPTION',
      `unknown attack ${JSON.stringify(name)}; expected one of ${ATTACK_NAMES.join(', ')}`,
    );
  }
  return make(options);
}
