/**
 * Vite plugin serving what the explorer needs from this checkout, under
 * /advkit-assets/: the list of shipped models and their files (live from the
 * models directory), the MNIST sample set, and TF.js's wasm binaries (so the
 * wasm backend never fetches from a CDN). `vite build` emits the same files,
 * so the built bundle also works from any static server.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Connect, Plugin } from 'vite';
import { mnistSampleSet } from './mnist-samples.js';

export const ASSET_PREFIX = '/advkit-assets/';

export interface ExplorerAssetOptions {
  /** Directory whose sub-directories hold model.json + weights. */
  modelsDir: string;
  /** How many MNIST test images to ship. Default 100. */
  sampleCount?: number;
}

export interface ShippedModel {
  name: string;
  url: string;
}

function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

function listModels(modelsDir: string): ShippedModel[] {
  if (!existsSync(modelsDir)) return [];
  return readdirSync(modelsDir)
    .filter((d) => existsSync(path.join(modelsDir, d, 'model.json')))
    .sort()
    .map((name) => ({ name, url: `${ASSET_PREFIX}models/${name}/model.json` }));
}

function modelFiles(modelsDir: string): { rel: string; abs: string }[] {
  const out: { rel: string; abs: string }[] = [];
  for (const m of listModels(modelsDir)) {
    const dir = path.join(modelsDir, m.name);
    for (const f of readdirSync(dir)) {
      const abs = path.join(dir, f);
      if (statSync(abs).isFile()) out.push({ rel: `models/${m.name}/${f}`, abs });
    }
  }
  return out;
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

function send(res: ServerResponse, body: string | Uint8Array, file: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.end(body);
}

/** Resolve `rel` inside `dir`, refusing anything that escapes it. */
function inside(dir: string, rel: string): string | undefined {
  const abs = path.resolve(dir, rel);
  return abs.startsWith(path.resolve(dir) + path.sep) && existsSync(abs) && statSync(abs).isFile()
    ? abs
    : undefined;
}

export function explorerAssets(options: ExplorerAssetOptions): Plugin {
  const count = options.sampleCount ?? 100;
  let samples: string | undefined;
  const sampleJson = () => {
    samples ??= JSON.stringify(mnistSampleSet(count));
    return samples;
  };
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (!url.startsWith(ASSET_PREFIX)) return next();
    const rel = url.slice(ASSET_PREFIX.length);
    if (rel === 'models.json') return send(res, JSON.stringify(listModels(options.modelsDir)), rel);
    if (rel === 'mnist-samples.json') return send(res, sampleJson(), rel);
    let file: string | undefined;
    if (rel.startsWith('models/')) file = inside(options.modelsDir, rel.slice('models/'.length));
    else if (rel.startsWith('wasm/') && rel.endsWith('.wasm'))
      file = inside(wasmDir(), rel.slice('wasm/'.length));
    if (!file) {
      res.statusCode = 404;
      res.end(`not found: ${url}`);
      return;
    }
    send(res, readFileSync(file), file);
  };
  return {
    name: 'advkit-explorer-assets',
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
    generateBundle() {
      const emit = (rel: string, source: string | Uint8Array) =>
        this.emitFile({ type: 'asset', fileName: `advkit-assets/${rel}`, source });
      emit('models.json', JSON.stringify(listModels(options.modelsDir)));
      emit('mnist-samples.json', sampleJson());
      for (const f of modelFiles(options.modelsDir)) emit(f.rel, readFileSync(f.abs));
      for (const f of readdirSync(wasmDir()).filter((n) => n.endsWith('.wasm'))) {
        emit(`wasm/${f}`, readFileSync(path.join(wasmDir(), f)));
      }
    },
  };
}
