import type { OpContext } from '../context.js';

export interface Translator {
  translate(c: OpContext): void;
  /** Folded at load from its inputs' shapes alone (Shape). */
  shapeOnly?: boolean;
}

export type TranslatorTable = Record<string, Translator>;
