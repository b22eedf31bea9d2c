/** Hashes for reports and resume fingerprints (Web Crypto: browser and Node). */
import type { Classifier } from '../model/classifier.js';

export async function sha256Text(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The checksum its adapter gives the model's network (`model/networks/`):
 * for a LayersModel what `loadModel` gives (topology + weights, saved to
 * memory); null for kinds whose weights cannot be read back here (graph
 * models, plain functions, query-only models).
 */
export function modelChecksum(model: Classifier): Promise<string | null> {
  return model.adapter.checksum(model.network);
}
