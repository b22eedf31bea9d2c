/**
 * Tensors derived from weights once and reused while the weights live: the
 * rotated, channel-swapped filter of a convolution's input gradient, the
 * transposed matrix of a dense layer's, a batch norm's per-channel affine
 * map. XNNPACK caches its packed operator on the id of the weight tensor it
 * is given, so handing it a fresh derived tensor on every call repacks the
 * weights and rebuilds the operator every time (for a dense layer's
 * gradient, ten times the cost of the product itself). TF.js never changes a
 * tensor's data in place (`Variable.assign` points the variable at new
 * data), so a value derived from some data ids stays valid for as long as
 * they all exist. Entries whose sources are gone are dropped, and their
 * memory freed, by a sweep every few hundred uses or when the table has
 * doubled since the last sweep.
 */
import type { Info } from './kernel-util.js';

interface Backend {
  refCount(dataId: object): number;
  disposeData(dataId: object, force?: boolean): boolean;
}

interface Entry {
  sources: object[];
  value: Info;
}

interface Cache {
  entries: Map<string, Entry>;
  uses: number;
  /** Entries left by the last sweep. */
  live: number;
}

const SWEEP_EVERY = 256;
const caches = new WeakMap<object, Cache>();
const ids = new WeakMap<object, number>();
let nextId = 1;

function idOf(dataId: object): number {
  let id = ids.get(dataId);
  if (id === undefined) {
    id = nextId++;
    ids.set(dataId, id);
  }
  return id;
}

function sweep(backend: Backend, cache: Cache): void {
  for (const [key, e] of cache.entries) {
    if (e.sources.some((s) => backend.refCount(s) === 0)) {
      backend.disposeData(e.value.dataId, true);
      cache.entries.delete(key);
    }
  }
  cache.live = cache.entries.size;
}

/**
 * `make()`, computed once per kind and set of source tensors. The returned
 * tensor belongs to the cache: the caller must not free it. Falls back to a
 * fresh value (which the caller then owns, `owned: true`) on a backend
 * without reference counts.
 */
export function derived(
  backendObj: object,
  kind: string,
  sources: Info | (Info | undefined)[],
  make: () => Info,
): { value: Info; owned: boolean } {
  const backend = backendObj as Partial<Backend>;
  if (typeof backend.refCount !== 'function' || typeof backend.disposeData !== 'function')
    return { value: make(), owned: true };
  const b = backend as Backend;
  let cache = caches.get(b);
  if (cache == null) {
    cache = { entries: new Map(), uses: 0, live: 0 };
    caches.set(b, cache);
  }
  if (++cache.uses % SWEEP_EVERY === 0 || cache.entries.size > 2 * cache.live + 64) sweep(b, cache);
  const list = (Array.isArray(sources) ? sources : [sources]).filter((s): s is Info => s != null);
  const key = `${kind}|${list.map((s) => idOf(s.dataId)).join(',')}`;
  const hit = cache.entries.get(key);
  if (hit?.sources.every((s) => b.refCount(s) > 0)) return { value: hit.value, owned: false };
  const value = make();
  cache.entries.set(key, { sources: list.map((s) => s.dataId), value });
  return { value, owned: false };
}
