// Starts a TypeScript worker thread: Node ≥ 20 does not pass `--import tsx`
// on to workers, so the worker registers tsx itself, then loads its module.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
