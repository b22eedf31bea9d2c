// Starts an evaluation worker from the TypeScript sources (tests, `npm run`):
// Node 20 does not pass `--import tsx` on to worker threads, so the worker
// registers tsx itself, then imports its module. The compiled package (dist/)
// starts `eval-worker-node.js` directly and never loads this file.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
