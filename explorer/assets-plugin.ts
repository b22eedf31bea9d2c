/**
 * Vite plugin serving what the explorer needs from this checkout, under
 * /advkit-assets/: the list of shipped models and their files (live from the
 * models directory), the MNIST sample set, the committed photos
 * (examples/photos: JPEG and PNG files only), and TF.js's wasm binaries (so the
 * wasm backend never fetches from a CDN). `vite build` emits the same files,
 * so the built bundle also works from any static server.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
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
  /** Folder of photos (JPEG, PNG) offered as inputs. Default: none. */
  photosDir?: string;
}

export interface ShippedPhoto {
  name: string;
  url: string;
}

const PHOTO = /\.(png|jpe?g)$/i;

/** The photos of `dir` the page may fetch: plain-named JPEG/PNG regular files directly inside it. */
function listPhotos(dir: string | undefined): ShippedPhoto[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => plainName(n) && PHOTO.test(n) && isRegularFile(path.join(dir, n)))
    .sort()
    .map((name) => ({ name, url: `${ASSET_PREFIX}photos/${encodeURIComponent(name)}` }));
}

/** A regular file, not a link (a link could point out of the folder). */
function isRegularFile(p: string): boolean {
  try {
    return lstatSync(p).isFile();
  } catch {
    return false;
  }
}

export interface ShippedModel {
  name: string;
  url: string;
}

function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

/** A name the explorer serves: no dotfiles (.git, .env, editor droppings), no separators. */
const plainName = (n: string) => n !== '' && !n.startsWith('.') && !/[\\/\0]/.test(n);

function listModels(modelsDir: string): ShippedModel[] {
  if (!existsSync(modelsDir)) return [];
  return readdirSync(modelsDir)
    .filter((d) => plainName(d) && isFile(path.join(modelsDir, d, 'model.json')))
    .sort()
    .map((name) => ({ name, url: `${ASSET_PREFIX}models/${name}/model.json` }));
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The files of model `name` that the page may fetch: its model.json and the
 * weight files its manifest names, each a regular file inside the model's
 * folder once symlinks are resolved, none of them a dotfile. Anything else
 * in the folder (reports, metrics, keys someone left there) is not served.
 */
function servedModelFiles(modelsDir: string, name: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!plainName(name)) return out;
  const dir = path.join(modelsDir, name);
  const root = (() => {
    try {
      return realpathSync(dir);
    } catch {
      return undefined;
    }
  })();
  const json = path.join(dir, 'model.json');
  if (!root || !isFile(json)) return out;
  const add = (rel: string) => {
    const norm = path.posix.normalize(rel.replace(/^\.\//, ''));
    if (norm.split('/').some((seg) => !plainName(seg))) return;
    try {
      const real = realpathSync(path.join(dir, norm));
      if (real.startsWith(root + path.sep) && statSync(real).isFile()) out.set(norm, real);
    } catch {
      // A missing weight file: the page's loader reports it.
    }
  };
  add('model.json');
  try {
    const manifest = (JSON.parse(readFileSync(json, 'utf8')) as { weightsManifest?: unknown })
      .weightsManifest;
    if (Array.isArray(manifest)) {
      for (const g of manifest) {
        const paths = (g as { paths?: unknown }).paths;
        if (Array.isArray(paths)) for (const p of paths) if (typeof p === 'string') add(p);
      }
    }
  } catch {
    // An unreadable model.json is still served, so the page can say what is wrong with it.
  }
  return out;
}

function modelFiles(modelsDir: string): { rel: string; abs: string }[] {
  return listModels(modelsDir).flatMap((m) =>
    [...servedModelFiles(modelsDir, m.name)].map(([rel, abs]) => ({
      rel: `models/${m.name}/${rel}`,
      abs,
    })),
  );
}

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
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
  return abs.startsWith(path.resolve(dir) + path.sep) && isFile(abs) ? abs : undefined;
}

function fail(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(text);
}

export function explorerAssets(options: ExplorerAssetOptions): Plugin {
  const count = options.sampleCount ?? 100;
  let samples: string | undefined;
  const sampleJson = () => {
    samples ??= JSON.stringify(mnistSampleSet(count));
    return samples;
  };
  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const raw = (req.url ?? '').split('?')[0];
    if (!raw.startsWith(ASSET_PREFIX)) return next();
    let url: string;
    try {
      url = decodeURIComponent(raw);
    } catch {
      return fail(res, 400, 'bad request: malformed percent-encoding in the URL');
    }
    const rel = url.slice(ASSET_PREFIX.length);
    if (rel === 'models.json') return send(res, JSON.stringify(listModels(options.modelsDir)), rel);
    if (rel === 'mnist-samples.json') return send(res, sampleJson(), rel);
    if (rel === 'photos.json') return send(res, JSON.stringify(listPhotos(options.photosDir)), rel);
    let file: string | undefined;
    const model = /^models\/([^/]+)\/(.+)$/.exec(rel);
    const photo = /^photos\/([^/]+)$/.exec(rel);
    if (model) file = servedModelFiles(options.modelsDir, model[1]).get(model[2]);
    else if (
      photo &&
      options.photosDir &&
      listPhotos(options.photosDir).some((p) => p.name === photo[1])
    )
      file = path.join(options.photosDir, photo[1]);
    else if (/^wasm\/[^/]+\.wasm$/.test(rel)) file = inside(wasmDir(), rel.slice('wasm/'.length));
    if (!file) return fail(res, 404, 'not found');
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
      const photos = listPhotos(options.photosDir);
      emit('photos.json', JSON.stringify(photos));
      for (const p of photos)
        emit(`photos/${p.name}`, readFileSync(path.join(options.photosDir as string, p.name)));
      for (const f of modelFiles(options.modelsDir)) emit(f.rel, readFileSync(f.abs));
      for (const f of readdirSync(wasmDir()).filter((n) => n.endsWith('.wasm'))) {
        emit(`wasm/${f}`, readFileSync(path.join(wasmDir(), f)));
      }
    },
  };
}
