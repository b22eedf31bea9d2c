/**
 * Backend choice. This module (with `register.ts`) is the only one with side
 * effects: importing it registers advkit's kernels and gradients.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { AdvkitError } from '../errors.js';
import { registerAdvkitKernels } from './register.js';
import { startWasm, wasmThreads } from './wasm-threads.js';

export { inputOnlyGradients, withInputOnlyGradients } from './input-only.js';
export {
  registerAdvkitKernels,
  stockGradient,
  stockKernel,
  useKernels,
} from './register.js';
export { unrefThreads, wasmThreads } from './wasm-threads.js';

export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu';

export interface BackendOptions {
  /**
   * wasm in Node: XNNPACK threads (default 1). With more than 1, advkit
   * starts TF.js's multi-threaded wasm build, which TF.js keeps off in Node
   * (see `wasm-threads.ts`); results are identical to 1 thread. Changing the
   * count restarts the wasm backend: tensors held on it are lost, so choose
   * the count before loading models. Ignored by the other backends.
   */
  threads?: number;
}

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
export async function setBackend(
  name?: BackendName,
  options: BackendOptions = {},
): Promise<BackendName> {
  silenceNodeBanner();
  registerAdvkitKernels();
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 8) {
    throw new AdvkitError(
      'INVALID_OPTION',
      `setBackend(name, { threads }): threads must be an integer from 1 to 8 (XNNPACK's pool in TF.js holds 8); received ${options.threads}`,
    );
  }
  const wanted: BackendName[] = name
    ? [name]
    : isNode()
      ? ['wasm', 'cpu']
      : ['webgl', 'wasm', 'cpu'];
  let failure = '';
  for (const b of wanted) {
    try {
      if (b === 'wasm' && isNode() && wasmThreadCount() !== threads) {
        await startWasm(threads);
        return b;
      }
      if (await tf.setBackend(b)) {
        await tf.ready();
        return b;
      }
    } catch (e) {
      failure = ` (${b}: ${(e as Error).message})`; // then try the next one
    }
  }
  throw new AdvkitError(
    'BACKEND',
    `could not start TF.js backend ${wanted.join(' or ')}${failure}; known backends: wasm, cpu, webgl, webgpu`,
  );
}

/** The backend TF.js is using now. */
export function currentBackend(): string {
  return tf.getBackend();
}

/** XNNPACK threads of the started wasm backend; undefined before it starts. */
function wasmThreadCount(): number | undefined {
  if (tf.engine().registry.wasm == null) return undefined;
  return wasmThreads();
}
