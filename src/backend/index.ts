/**
 * Backend choice. This module (with `register.ts`) is the only one with side
 * effects: importing it registers advkit's kernels and gradients.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { AdvkitError } from '../errors.js';
import { registerAdvkitKernels } from './register.js';

export { inputOnlyGradients, withInputOnlyGradients } from './input-only.js';
export { registerAdvkitKernels, stockGradient, stockKernel } from './register.js';

export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu';

let bannerSilenced = false;

function silenceNodeBanner(): void {
  if (bannerSilenced) return;
  bannerSilenced = true;
  // TF.js prints an "install tfjs-node" hint the first time the cpu backend
  // runs in Node; advkit deliberately does not use tfjs-node, so the hint is
  // noise. Production mode is the public switch that silences TF.js warnings.
  if (tf.env().getBool('IS_NODE')) tf.enableProdMode();
}

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/**
 * Select the TF.js backend advkit computes on and register advkit's kernels
 * for it. Defaults: wasm in Node (cpu if wasm cannot start), webgl in the
 * browser (wasm, then cpu, as fallbacks). Returns the backend in use.
 */
export async function setBackend(name?: BackendName): Promise<BackendName> {
  silenceNodeBanner();
  registerAdvkitKernels();
  const wanted: BackendName[] = name
    ? [name]
    : isNode()
      ? ['wasm', 'cpu']
      : ['webgl', 'wasm', 'cpu'];
  for (const b of wanted) {
    try {
      if (await tf.setBackend(b)) {
        await tf.ready();
        return b;
      }
    } catch {
      // try the next one
    }
  }
  throw new AdvkitError(
    'BACKEND',
    `could not start TF.js backend ${wanted.join(' or ')}; known backends: wasm, cpu, webgl, webgpu`,
  );
}

/** The backend TF.js is using now. */
export function currentBackend(): string {
  return tf.getBackend();
}
