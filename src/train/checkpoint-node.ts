/**
 * Node-only checkpoint files. Each save writes the data file
 * `checkpoint-<epoch>.bin`, then swaps `checkpoint.json` (which names that
 * file, its size and sha256) into place by rename, then removes older data
 * files — so a crash at any point leaves the previous or the new checkpoint
 * whole, never a mix. The best-epoch copy is kept the same way as
 * `best.json` + `best-<epoch>.bin`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LoadError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic.js';
import type { Checkpoint, CheckpointMeta, TrainingCheckpointStore } from './options.js';

interface Pointer {
  meta: CheckpointMeta;
  dataFile: string;
  bytes: number;
  sha256: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function writePair(dir: string, stem: string, ckpt: Checkpoint): Promise<void> {
  await mkdir(dir, { recursive: true });
  const bytes = new Uint8Array(ckpt.data);
  const dataFile = `${stem}-${ckpt.meta.epoch}.bin`;
  await writeFileAtomic(join(dir, dataFile), bytes);
  const pointer: Pointer = {
    meta: ckpt.meta,
    dataFile,
    bytes: bytes.byteLength,
    sha256: sha256(bytes),
  };
  await writeFileAtomic(join(dir, `${stem}.json`), JSON.stringify(pointer));
  for (const f of await readdir(dir)) {
    if (f.startsWith(`${stem}-`) && f.endsWith('.bin') && f !== dataFile)
      await rm(join(dir, f), { force: true });
  }
}

async function readPair(dir: string, stem: string): Promise<Checkpoint | undefined> {
  const where = join(dir, `${stem}.json`);
  let text: string;
  try {
    text = await readFile(where, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LoadError(
      'DATA_LOAD',
      `cannot read the checkpoint ${where}: ${(e as Error).message}`,
      e,
    );
  }
  let pointer: Pointer;
  try {
    pointer = JSON.parse(text) as Pointer;
  } catch (e) {
    throw new LoadError('DATA_LOAD', `${where} is not valid JSON: ${(e as Error).message}`, e);
  }
  if (pointer.meta?.format !== 'advkit-train-checkpoint') {
    throw new LoadError('DATA_LOAD', `${where} is not an advkit training checkpoint`);
  }
  const bytes = new Uint8Array(await readFile(join(dir, pointer.dataFile)));
  if (bytes.byteLength !== pointer.bytes || sha256(bytes) !== pointer.sha256) {
    throw new LoadError(
      'DATA_LOAD',
      `${join(dir, pointer.dataFile)} does not match ${where} (size or sha256 differs); the checkpoint is damaged — delete ${dir} to start afresh`,
    );
  }
  return {
    meta: pointer.meta,
    data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  };
}

/** Checkpoints as files in `dir` (created on the first save). */
export function fileCheckpointStore(dir: string): TrainingCheckpointStore {
  return {
    load: () => readPair(dir, 'checkpoint'),
    save: (c) => writePair(dir, 'checkpoint', c),
    saveBest: (c) => writePair(dir, 'best', c),
    loadBest: () => readPair(dir, 'best'),
  };
}
