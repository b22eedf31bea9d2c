/**
 * For the Vite CLI (`vite build explorer`, `vite explorer`).
 * ADVKIT_MODELS_DIR overrides the directory of shipped models.
 */
import path from 'node:path';
import { defineConfig } from 'vite';
import { explorerConfig } from './config.js';

export default defineConfig(
  explorerConfig({
    modelsDir: process.env.ADVKIT_MODELS_DIR
      ? path.resolve(process.env.ADVKIT_MODELS_DIR)
      : undefined,
  }),
);
