/**
 * The explorer's Vite configuration, as a function so that the CLI and the
 * tests can point it at another models directory. `advkit` is aliased to the
 * library's public entry point (src/index.ts): the explorer sees only what a
 * user sees.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig } from 'vite';
import { explorerAssets } from './assets-plugin.js';

export const EXPLORER_ROOT = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(EXPLORER_ROOT, '..');

export interface ExplorerConfigOptions {
  /** Directory of shipped models (sub-directories with model.json). Default <repo>/models. */
  modelsDir?: string;
  /** Output directory of `vite build`. Default explorer/dist. */
  outDir?: string;
  /** Photos offered as inputs (JPEG, PNG). Default <repo>/examples/photos. */
  photosDir?: string;
}

/**
 * What the dev server may serve from disk: the page, the library's sources
 * (the `advkit` alias), its pre-bundled dependencies and the packages they
 * come from. Not the checkout's root (package.json, .git, advkit-out/
 * reports), not the rest of node_modules.
 */
export function devServerAllow(): string[] {
  return [
    EXPLORER_ROOT,
    path.join(REPO_ROOT, 'src'),
    path.join(REPO_ROOT, 'node_modules/.vite/explorer'),
    path.join(REPO_ROOT, 'node_modules/@tensorflow'),
    path.join(REPO_ROOT, 'node_modules/vite/dist/client'),
  ];
}

/** Never served even inside an allowed folder (on top of Vite's own .env / key / .git rules). */
const DEV_DENY = ['.env', '.env.*', '*.{crt,pem,key}', '**/.*/**', '**/.*'];

export function explorerConfig(options: ExplorerConfigOptions = {}): InlineConfig {
  return {
    configFile: false,
    root: EXPLORER_ROOT,
    base: './',
    clearScreen: false,
    cacheDir: path.join(REPO_ROOT, 'node_modules/.vite/explorer'),
    logLevel: 'warn',
    resolve: { alias: { advkit: path.join(REPO_ROOT, 'src/index.ts') } },
    plugins: [
      explorerAssets({
        modelsDir: options.modelsDir ?? path.join(REPO_ROOT, 'models'),
        photosDir: options.photosDir ?? path.join(REPO_ROOT, 'examples', 'photos'),
      }),
    ],
    build: {
      outDir: options.outDir ?? path.join(EXPLORER_ROOT, 'dist'),
      emptyOutDir: true,
      chunkSizeWarningLimit: 4096,
      target: 'es2022',
    },
    optimizeDeps: { include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] },
    server: { host: '127.0.0.1', fs: { strict: true, allow: devServerAllow(), deny: DEV_DENY } },
    preview: { host: '127.0.0.1' },
  };
}
