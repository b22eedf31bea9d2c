/**
 * Loading a saved TF.js model (layers-model or graph-model format) into a
 * Classifier, with a checksum of its topology and weights for reports.
 * Browser-safe: the source is any tf.io.IOHandler (a URL here; files in
 * `load-node.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { LoadError } from '../errors.js';
import { Classifier, type ClassifierOptions } from './classifier.js';

export interface LoadedClassifier {
  model: Classifier;
  /** sha256 (hex) of the topology JSON and the weight bytes. */
  checksum: string;
  format: 'layers-model' | 'graph-model';
  /** The TF.js model, for saving or training. */
  network: tf.LayersModel | tf.GraphModel;
}

function weightBytes(data: tf.io.ModelArtifacts['weightData']): Uint8Array[] {
  if (!data) return [];
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((b) => new Uint8Array(b));
}

async function sha256Hex(chunks: Uint8Array[]): Promise<string> {
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.byteLength;
  }
  const digest = await globalThis.crypto.subtle.digest('SHA-256', all);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** sha256 over the model's topology JSON and its weight bytes. */
export function checksumArtifacts(artifacts: tf.io.ModelArtifacts): Promise<string> {
  const topo = new TextEncoder().encode(JSON.stringify(artifacts.modelTopology ?? null));
  return sha256Hex([topo, ...weightBytes(artifacts.weightData)]);
}

export function artifactsFormat(artifacts: tf.io.ModelArtifacts): 'layers-model' | 'graph-model' {
  const topo = artifacts.modelTopology as { node?: unknown } | undefined;
  if (artifacts.format === 'graph-model' || (topo && Array.isArray(topo.node))) return 'graph-model';
  return 'layers-model';
}

/** Load from any IOHandler; `where` names the source in error messages. */
export async function loadClassifierFrom(
  handler: tf.io.IOHandler,
  where: string,
  options: ClassifierOptions = {},
): Promise<LoadedClassifier> {
  if (!handler.load) throw new LoadError('MODEL_LOAD', `cannot load a model from ${where}: the handler has no load()`);
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (e) {
    if (e instanceof LoadError) throw e;
    throw new LoadError('MODEL_LOAD', `cannot read the model at ${where}: ${(e as Error).message}`, e);
  }
  if (!artifacts.modelTopology) {
    throw new LoadError('MODEL_LOAD', `${where} has no modelTopology; is it a TF.js model.json?`);
  }
  const format = artifactsFormat(artifacts);
  let network: tf.LayersModel | tf.GraphModel;
  try {
    network =
      format === 'graph-model'
        ? await tf.loadGraphModel(tf.io.fromMemory(artifacts))
        : await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new LoadError('MODEL_LOAD', `${where} is not a loadable TF.js ${format}: ${(e as Error).message}`, e);
  }
  const checksum = await checksumArtifacts(artifacts);
  const model = Classifier.create(network, { name: options.name ?? where, ...options });
  return { model, checksum, format, network };
}

/** Load a model.json (and its weight files) over HTTP, e.g. in the browser. */
export function loadClassifierFromUrl(url: string, options: ClassifierOptions = {}): Promise<LoadedClassifier> {
  return loadClassifierFrom(tf.io.http(url), url, options);
}
