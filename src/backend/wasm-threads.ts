/**
 * Multi-threaded wasm in Node. The ONE module that reaches into TF.js
 * internals; `test/backend/wasm-threads.test.ts` fails loudly when a TF.js
 * release changes any of the behaviour relied on here.
 *
 * TF.js 4.22 keeps the XNNPACK thread pool off under Node in three ways, each
 * undone here:
 *
 * 1. the `WASM_HAS_MULTITHREAD_SUPPORT` flag's evaluator returns false when
 *    `IS_NODE` — set the flag ourselves (a public `env().set`);
 * 2. Emscripten's pthread workers are started from a `blob:` URL (the worker
 *    script) and then load the main script from a `Blob`; `node:worker_threads`
 *    can load neither. While the backend starts, `URL.createObjectURL` hands
 *    out a file holding the worker script instead (written once per TF.js
 *    version to the temp folder), and that file, prefixed with a line of ours,
 *    resolves the main-script Blob to the package's own
 *    `wasm-out/tfjs-backend-wasm-threaded-simd.js`;
 * 3. the C++ side caps the pool at half the logical cores, which it reads
 *    once, at module start, through `os.cpus().length` (Emscripten's
 *    `emscripten_num_logical_cores` in Node): while the backend starts,
 *    `os.cpus()` reports twice the threads asked for; the count itself is set
 *    with the public `setThreadsCount`.
 *
 * Running pthreads keep Node alive; `unrefThreads` lets the process exit on
 * its own once the main thread is done (`PThread.runningWorkers`, internal).
 *
 * Also here: `wasmMemory`, the backend's `WebAssembly.Memory`, which advkit's
 * SIMD kernels import (Emscripten's `Module.wasmMemory` in the threaded
 * build, the exported `Module.asm.memory` in the single-threaded one).
 */
import * as tf from '@tensorflow/tfjs';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';

const WORKER_MODULE =
  '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';
const MAIN_SCRIPT = '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';

interface NodeBuiltins {
  fs: typeof import('node:fs');
  os: typeof import('node:os');
  path: typeof import('node:path');
  module: typeof import('node:module');
}

/** Node's built-ins without an import statement (this module also ships to browsers). */
function builtins(): NodeBuiltins {
  const get = (
    process as unknown as { getBuiltinModule?: (id: string) => unknown }
  ).getBuiltinModule?.bind(process);
  if (get == null)
    throw new Error('advkit: wasm threads need Node ≥ 20.16 (process.getBuiltinModule)');
  return {
    fs: get('node:fs') as NodeBuiltins['fs'],
    os: get('node:os') as NodeBuiltins['os'],
    path: get('node:path') as NodeBuiltins['path'],
    module: get('node:module') as NodeBuiltins['module'],
  };
}

/**
 * The pthread worker script as a file Node can start: TF.js's worker script
 * (`wasmWorkerContents`) after one line that makes the worker's
 * `URL.createObjectURL(mainScriptBlob)` name the package's threaded main
 * script, which the worker then reads with `fs.readFileSync`.
 */
export function pthreadWorkerFile(): string {
  const { fs, os, path, module } = builtins();
  const require = module.createRequire(import.meta.url);
  const contents = (require(WORKER_MODULE) as { wasmWorkerContents?: unknown }).wasmWorkerContents;
  if (typeof contents !== 'string' || !contents.includes('importScripts(objectUrl)')) {
    throw new Error(
      `advkit: ${WORKER_MODULE} no longer exports the worker script advkit patches (wasmWorkerContents with importScripts(objectUrl)); wasm threads are unsupported with this TF.js version`,
    );
  }
  const mainScript = require.resolve(MAIN_SCRIPT);
  // TF.js does the same `\n` escape before it makes its Blob: the script sits in
  // a template literal whose `\n`s became real newlines inside string literals.
  const source =
    `URL.createObjectURL=()=>${JSON.stringify(mainScript)};URL.revokeObjectURL=()=>{};\n` +
    contents.replace(/\n/g, '\\n');
  const file = path.join(
    os.tmpdir(),
    `advkit-tfjs-wasm-${tf.version_core}-${hash(source)}.worker.cjs`,
  );
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, source);
    fs.renameSync(tmp, file); // atomic: concurrent processes never see half a file
  }
  return file;
}

function hash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16);
}

/**
 * Start (or restart) the wasm backend with `threads` XNNPACK threads. With 1,
 * the single-threaded SIMD module TF.js uses by default in Node. Restarting
 * disposes every tensor held on the old wasm backend.
 */
export async function startWasm(threads: number): Promise<void> {
  const factory = tf.findBackendFactory('wasm');
  if (factory == null) throw new Error('advkit: the TF.js wasm backend is not registered');
  if (tf.engine().registry.wasm != null) {
    const old = tf.engine().registry.wasm as unknown as WasmInternals;
    if (tf.getBackend() === 'wasm') await tf.setBackend('cpu');
    tf.removeBackend('wasm');
    old.wasm?.PThread?.terminateAllThreads?.();
    tf.registerBackend('wasm', factory, 2);
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);
  wasmBackend.setThreadsCount(threads);
  const { os } = builtins();
  const restore = URL.createObjectURL;
  const cpus = os.cpus;
  const logical = cpus.call(os);
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => logical[i % logical.length]);
  let workerFile: string | undefined;
  URL.createObjectURL = (obj: Blob | MediaSource) => {
    if (obj instanceof Blob && obj.type === 'application/javascript') {
      workerFile ??= pthreadWorkerFile();
      return workerFile;
    }
    return restore(obj as Blob);
  };
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
    await tf.ready();
  } finally {
    URL.createObjectURL = restore;
    os.cpus = cpus;
  }
  if (!ok) throw new Error('advkit: the TF.js wasm backend failed to start');
  const got = wasmBackend.getThreadsCount();
  if (got !== threads) {
    throw new Error(`advkit: asked TF.js wasm for ${threads} threads, XNNPACK reports ${got}`);
  }
  unrefThreads();
}

interface WasmInternals {
  wasm?: {
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
    PThread?: {
      runningWorkers?: { unref?: () => void }[];
      unusedWorkers?: { unref?: () => void }[];
      terminateAllThreads?: () => void;
    };
  };
}

/**
 * Let Node exit while XNNPACK's pthreads are parked (they are `ref`'d while
 * they run). Returns the number of worker threads touched.
 */
export function unrefThreads(): number {
  const backend = tf.engine().registry.wasm as unknown as WasmInternals | undefined;
  const pthread = backend?.wasm?.PThread;
  if (pthread == null) return 0;
  const workers = [...(pthread.runningWorkers ?? []), ...(pthread.unusedWorkers ?? [])];
  for (const w of workers) w.unref?.();
  return workers.length;
}

/** XNNPACK threads of the running wasm backend (1 when it runs single-threaded). */
export function wasmThreads(): number {
  return wasmBackend.getThreadsCount();
}

/** The wasm backend's memory (undefined for any other backend object). */
export function wasmMemory(backend: object): WebAssembly.Memory | undefined {
  const wasm = (backend as WasmInternals).wasm;
  const memory = wasm?.wasmMemory ?? wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}
