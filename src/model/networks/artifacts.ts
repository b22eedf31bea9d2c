/**
 * TF.js model artifacts (topology JSON + weight bytes) of the layers and
 * graph adapters: saved to memory, checksummed, and loaded back in a worker.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../errors.js';

export function weightBytes(data: tf.io.ModelArtifacts['weightData']): Uint8Array[] {
  if (!data) return [];
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((b) => new Uint8Array(b));
}

export async function sha256Hex(chunks: Uint8Array[]): Promise<string> {
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

/** The network's artifacts as `save` writes them, held in memory. */
export async function savedArtifacts(
  net: tf.LayersModel | tf.GraphModel,
): Promise<tf.io.ModelArtifacts | undefined> {
  let saved: tf.io.ModelArtifacts | undefined;
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved;
}

/** The artifacts a worker is sent: data only; InputError when the network cannot be saved. */
export async function sendableArtifacts(
  net: tf.LayersModel | tf.GraphModel,
  name: string,
): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  try {
    saved = await savedArtifacts(net);
  } catch (e) {
    throw new InputError(
      'INVALID_OPTION',
      `workerThreads: the model ${JSON.stringify(name)} cannot be saved to send to the worker threads (${(e as Error).message}); evaluate without workers`,
    );
  }
  if (!saved?.modelTopology || saved.weightData === undefined) {
    throw new InputError(
      'INVALID_OPTION',
      `workerThreads: the model ${JSON.stringify(name)} did not save its topology and weights (a graph model loaded with streamed weights keeps none); load it without streaming, or evaluate without workers`,
    );
  }
  // Only data travels: drop anything that is not (a weight stream function).
  return Object.fromEntries(
    Object.entries(saved).filter(([, v]) => typeof v !== 'function'),
  ) as tf.io.ModelArtifacts;
}
