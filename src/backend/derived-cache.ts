/**
 * Tensors derived from a weight once and reused while the weight lives:
 * the rotated, channel-swapped filter of a convolution's input gradient and
 * the transposed matrix of a dense layer's. XNNPACK caches its packed
 * operator on the id of the weight tensor it is given, so handing it a
 * fresh derived tensor on every call repacks the weights and rebuilds the
 * operator every time (for a dense layer's gradient, ten times the cost of
 * the product itself). TF.js never changes a tensor's data in place
 * (`Variable.assign` points the variable at new data), so a value derived
 * from one data id stays valid for as long as that id exists; an entry is
 * dropped, and its memory freed, the first time the cache is used after its
 * source's reference count reaches zero.
 */
import type { Info } from './kernel-util.js';

interface Backend {
  refCount(dataId: object): number;
  disposeData(dataId: object, force?: boolean): boolean;
}

interface Entry {
  source: object;
  value: Info;
}

const caches = new WeakMap<object, Map<string, Map<object, Entry>>>();

function table(backend: Backend, kind: string): Map<object, Entry> {
  let byKind = caches.get(backend);
  if (byKind == null) {
    byKind = new Map();
    caches.set(backend, byKind);
  }
  let t = byKind.get(kind);
  if (t == null) {
    t = new Map();
    byKind.set(kind, t);
  }
  return t;
}

function evictDead(backend: Backend): void {
  const byKind = caches.get(backend);
  if (byKind == null) return;
  for (const t of byKind.values()) {
    for (const [id, e] of t) {
      if (backend.refCount(e.source) === 0) {
        backend.disposeData(e.value.dataId, true);
        t.delete(id);
      }
    }
  }
}

/**
 * `make(source)`, computed once per source tensor and kind. The returned
 * tensor belongs to the cache: the caller must not free it. Falls back to
 * a fresh value (which the caller then owns, `owned: true`) on a backend
 * without reference counts.
 */
export function derived(
  backendObj: object,
  kind: string,
  source: Info,
  make: () => Info,
): { value: Info; owned: boolean } {
  const backend = backendObj as Partial<Backend>;
  if (typeof backend.refCount !== 'function' || typeof backend.disposeData !== 'function')
    return { value: make(), owned: true };
  const b = backend as Backend;
  evictDead(b);
  const t = table(b, kind);
  const hit = t.get(source.dataId);
  if (hit != null) return { value: hit.value, owned: false };
  const value = make();
  t.set(source.dataId, { source: source.dataId, value });
  return { value, owned: false };
}

/** Frees every cached value on `backend` (tests; switching kernels). */
export function clearDerived(backendObj: object): void {
  const byKind = caches.get(backendObj);
  if (byKind == null) return;
  for (const t of byKind.values())
    for (const e of t.values()) (backendObj as Backend).disposeData(e.value.dataId, true);
  caches.delete(backendObj);
}
