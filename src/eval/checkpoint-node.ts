/**
 * Node-only: a checkpoint kept in a file, written atomically (temp file in
 * the same folder, then rename), so an interrupted write never leaves a
 * half-written checkpoint behind.
 *
 *   await evaluate(model, data, suite, { checkpoint: fileCheckpoint('run.ckpt.json') });
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../files/atomic.js';
import type { CheckpointStore } from './types.js';

export function fileCheckpoint(path: string): CheckpointStore {
  return {
    location: path,
    async load() {
      try {
        return await readFile(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    save: (text) => writeFileAtomic(path, text),
  };
}
