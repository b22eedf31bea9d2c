/**
 * The network kinds advkit wraps, one adapter each, asked in this order
 * (an object with a `query` function is checked after the TF.js model
 * classes; a plain function last). A new kind is one file and one row.
 */
import { functionAdapter } from './function.js';
import { graphAdapter } from './graph.js';
import { layersAdapter } from './layers.js';
import { onnxAdapter } from './onnx.js';
import { queryAdapter } from './query.js';
import type { NetworkAdapter, NetworkKind } from './types.js';

const ADAPTERS = [layersAdapter, graphAdapter, onnxAdapter, queryAdapter, functionAdapter] as const;

export const NETWORK_ADAPTERS: readonly NetworkAdapter<unknown>[] = ADAPTERS;

type NetworkOf<A> = A extends NetworkAdapter<infer N> ? N : never;
/** Anything an adapter in the table recognises (the type follows the table). */
export type Network = NetworkOf<(typeof ADAPTERS)[number]>;

/** The adapter that recognises `network`, or undefined. */
export function adapterFor(network: unknown): NetworkAdapter<unknown> | undefined {
  return NETWORK_ADAPTERS.find((a) => a.recognise(network));
}

/** The adapter of a kind (a worker receives the kind with the network's payload). */
export function adapterOfKind(kind: NetworkKind): NetworkAdapter<unknown> | undefined {
  return NETWORK_ADAPTERS.find((a) => a.kind === kind);
}

export type { ModelFunction } from './function.js';
export { type QueryFunction, type QueryOnlyNetwork, queryOnly } from './query.js';
export type * from './types.js';
