/** Hashes for reports and resume fingerprints (Web Crypto: browser and Node). */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../model/classifier.js';
import { checksumArtifacts } from '../model/load.js';

export async function sha256Text(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The checksum `loadModel` would give a LayersModel (topology + weights), by
 * saving it to memory; null for graph models and plain functions, whose
 * weights cannot be read back here.
 */
export async function modelChecksum(model: Classifier): Promise<string | null> {
  const net = model.network;
  if (!(net instanceof tf.LayersModel)) return null;
  let artifacts: tf.io.ModelArtifacts | undefined;
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts ? checksumArtifacts(artifacts) : null;
}
