/**
 * Loading a network for the explorer: a shipped model over HTTP, a
 * user-picked model.json with its weight files (both through one TF.js
 * IOHandler, so the same checks and messages apply), or a picked .onnx file
 * (with its external-data file if it has one) through the library's
 * `loadClassifierFromOnnx`. The network is wrapped in an advkit `Classifier`
 * separately (bounds and preprocessing can change without reloading the
 * weights).
 */
import * as tf from '@tensorflow/tfjs';
import { AdvkitError, loadClassifierFromOnnx, loadNetworkFrom, type OnnxNetwork } from 'advkit';

export interface ShippedModel {
  name: string;
  url: string;
}

export interface LoadedNetwork {
  name: string;
  source: string;
  network: tf.LayersModel | tf.GraphModel | OnnxNetwork;
  format: 'layers-model' | 'graph-model' | 'onnx';
  /** sha256 of the topology JSON and the weight bytes. */
  checksum: string;
  /** Optional explorer defaults from model.json's userDefinedMetadata.advkit. */
  defaults: { bounds?: number[]; mean?: number[]; std?: number[] };
}

/** A model that could not be read: the message says what and how to fix. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export async function listShippedModels(): Promise<ShippedModel[]> {
  const res = await fetch(new URL('advkit-assets/models.json', document.baseURI));
  if (!res.ok) return [];
  return (await res.json()) as ShippedModel[];
}

function readDefaults(metadata: Record<string, unknown> | undefined): LoadedNetwork['defaults'] {
  const meta = (metadata as { advkit?: Record<string, unknown> } | undefined)?.advkit;
  const nums = (v: unknown) =>
    Array.isArray(v) && v.every((n) => typeof n === 'number') ? (v as number[]) : undefined;
  return { bounds: nums(meta?.bounds), mean: nums(meta?.mean), std: nums(meta?.std) };
}

async function loadFrom(
  handler: tf.io.IOHandler,
  name: string,
  source: string,
): Promise<LoadedNetwork> {
  try {
    const loaded = await loadNetworkFrom(handler, source);
    if (loaded.format === 'onnx')
      throw new ModelLoadError('an ONNX file goes through loadOnnxFiles');
    return { name, source, ...loaded, defaults: readDefaults(loaded.metadata) };
  } catch (e) {
    const hint =
      e instanceof AdvkitError && /cannot read/.test(e.message)
        ? ' Pick the model.json together with every weight file it lists (e.g. weights.bin).'
        : '';
    throw new ModelLoadError(`${(e as Error).message}.${hint}`);
  }
}

export function loadShippedModel(m: ShippedModel): Promise<LoadedNetwork> {
  const url = new URL(m.url, document.baseURI).href;
  return loadFrom(tf.io.http(url), m.name, `models/${m.name}`);
}

/**
 * A picked model.json and its weight files. The JSON is checked first:
 * TF.js would otherwise load a model whose weight files were not picked with
 * freshly initialised weights, without a word.
 */
export async function loadModelFiles(files: readonly File[]): Promise<LoadedNetwork> {
  if (files.some((f) => /\.onnx$/i.test(f.name))) return loadOnnxFiles(files);
  const json = files.filter((f) => f.name.endsWith('.json'));
  if (json.length !== 1) {
    throw new ModelLoadError(
      `Pick exactly one model.json and its weight files; got ${json.length} .json files among ${files.length} files.`,
    );
  }
  const source = `uploaded ${files.map((f) => f.name).join(' + ')}`;
  let parsed: { modelTopology?: unknown; weightsManifest?: { paths?: string[] }[] };
  try {
    parsed = JSON.parse(await json[0].text());
  } catch (e) {
    throw new ModelLoadError(
      `${json[0].name} is not valid JSON (${(e as Error).message}); pick a TF.js model.json.`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || !parsed.modelTopology) {
    throw new ModelLoadError(
      `${json[0].name} has no "modelTopology": it is not a TF.js model.json (tfjs-converter or model.save output).`,
    );
  }
  const weights = files.filter((f) => f !== json[0]);
  const given = new Set(weights.map((f) => f.name));
  const listed = (parsed.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
  const missing = listed.map((p) => p.split('/').pop() ?? p).filter((p) => !given.has(p));
  if (missing.length) {
    throw new ModelLoadError(
      `${json[0].name} lists weight file(s) ${listed.join(', ')}; pick them together with it (missing: ${missing.join(', ')}).`,
    );
  }
  return loadFrom(
    tf.io.browserFiles([json[0], ...weights]),
    json[0].name.replace(/\.json$/, ''),
    source,
  );
}

/**
 * A picked .onnx file (a PyTorch export), and the file its weights are in
 * when it was saved with external data (pick both). The network keeps the
 * file's NCHW input as advkit's NHWC [h, w, c]; normalisation goes in the
 * mean/std fields as for any model.
 */
export async function loadOnnxFiles(files: readonly File[]): Promise<LoadedNetwork> {
  const onnx = files.filter((f) => /\.onnx$/i.test(f.name));
  if (onnx.length !== 1) {
    throw new ModelLoadError(
      `Pick exactly one .onnx file (with its external-data file if it has one); got ${onnx.length} .onnx files among ${files.length} files.`,
    );
  }
  const others = new Map<string, File>();
  for (const f of files) if (f !== onnx[0]) others.set(f.name, f);
  const byName = new Map<string, Uint8Array>();
  for (const [n, f] of others) byName.set(n, new Uint8Array(await f.arrayBuffer()));
  const source = `uploaded ${files.map((f) => f.name).join(' + ')}`;
  try {
    const loaded = await loadClassifierFromOnnx(
      new Uint8Array(await onnx[0].arrayBuffer()),
      {},
      {
        where: onnx[0].name,
        externalData: (location: string) => {
          const name = location.split('/').pop() ?? location;
          const bytes = byName.get(name);
          if (!bytes) {
            throw new ModelLoadError(
              `${onnx[0].name} keeps its weights in ${location}; pick that file together with it.`,
            );
          }
          return bytes;
        },
      },
    );
    // Only the network is kept: the page wraps it again whenever bounds or mean/std change.
    loaded.model.dispose();
    return {
      name: onnx[0].name.replace(/\.onnx$/i, ''),
      source,
      network: loaded.network as OnnxNetwork,
      format: 'onnx',
      checksum: loaded.checksum,
      defaults: {},
    };
  } catch (e) {
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`${(e as Error).message}.`);
  }
}
