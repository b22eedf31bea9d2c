/**
 * Node-only: a checkpoint kept in a file, written atomically (temp file in
 * the same folder, then rename), so an interrupted write never leaves a
 * half-written checkpoint behind.
 *
 *   await evaluate(model, data, suite, { checkpoint: fileCheckpoint('run.ckpt.json') });
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CheckpointStore } from './types.js';

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

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
