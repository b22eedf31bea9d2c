/** Every ONNX op advkit translates, one table (default domain). */
import { convOps } from './conv.js';
import { elementwiseOps } from './elementwise.js';
import { matmulOps } from './matmul.js';
import { normOps } from './norm.js';
import { poolOps } from './pool.js';
import { shapeOps } from './shape.js';
import type { TranslatorTable } from './types.js';

export const translators: TranslatorTable = {
  ...convOps,
  ...poolOps,
  ...elementwiseOps,
  ...matmulOps,
  ...normOps,
  ...shapeOps,
};

export type { Translator } from './types.js';
