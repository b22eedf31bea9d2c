// Starts a worker thread from the TypeScript sources (evaluation workers in
// tests and `npm run`, `bench/data-parallel.ts`): Node 20 does not pass
// `--import tsx` on to worker threads, so the worker registers tsx itself,
// then imports `workerData.module`. The compiled package (dist/) starts
// `eval-worker-node.js` directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
