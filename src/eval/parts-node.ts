/**
 * Node-only: part files of a sharded evaluation — written atomically, read
 * back by path, a folder standing for the part files in it.
 *
 *   await writePart('runs/x/part-03-of-16.json', part);
 *   const parts = await readParts(['runs/x']); // every part-*.json there
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic.js';
import type { NamedPart } from './merge.js';
import { type EvaluationPart, parsePart } from './shard.js';

export function writePart(file: string, part: EvaluationPart): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(part));
}

/** Part files matching `part-*.json` in a folder, in name order. */
export async function partFilesIn(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /^part-.*\.json$/.test(n)).sort();
  return names.map((n) => path.join(dir, n));
}

/** Read and parse parts; a folder contributes every `part-*.json` in it. */
export async function readParts(paths: readonly string[]): Promise<NamedPart[]> {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch {
      throw new InputError('INVALID_OPTION', `part ${p} does not exist`);
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const found = await partFilesIn(p);
    if (found.length === 0) {
      throw new InputError('INVALID_OPTION', `folder ${p} holds no part-*.json files`);
    }
    files.push(...found);
  }
  return Promise.all(
    files.map(async (f) => ({ location: f, part: parsePart(await readFile(f, 'utf8'), f) })),
  );
}
