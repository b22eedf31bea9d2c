/**
 * Node-only: writes that readers see whole or not at all.
 *
 * - `writeFileAtomic`: one file — a temporary sibling, then a rename.
 *   Checkpoints and model files go through here.
 * - `writeFileSetAtomic`: several files that belong together (a report's
 *   JSON, Markdown and HTML) — the whole folder is rebuilt as a temporary
 *   sibling folder (the files it already held hard-linked in, the new ones
 *   written) and swapped into place, so the folder holds the previous
 *   complete set or the new one, never a mix.
 * - `removeStaleTemporaries`: what a killed writer left behind (`*.tmp-PID-*`
 *   files and folders, a folder set aside mid-swap) is removed, or put back,
 *   by the next write; temporaries of a process still running are kept.
 */
import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

const tag = () => `${process.pid}-${Math.random().toString(36).slice(2)}`;

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${tag()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * The folder itself when `dir` is a symlink to one: renaming the link would
 * replace the link, not the set in the folder it names.
 */
function realTarget(dir: string): string {
  const abs = resolve(dir);
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
}

/** `name.tmp-PID-…` (a temporary) or `name.old-PID-…` (a folder set aside mid-swap). */
const TEMPORARY = /^(.*)\.(tmp|old)-(\d+)-[0-9a-z]+$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporaries that writers no longer running left in `dir` and
 * beside it; returns their paths. If `dir` itself is missing because a
 * writer was killed between setting the old folder aside and moving the new
 * one in, the new complete set (or else the old one) is moved back first.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const target = realTarget(dir);
  const parent = dirname(target);
  const base = basename(target);
  const removed: string[] = [];
  const stale = (name: string, want?: string) => {
    const m = TEMPORARY.exec(name);
    return m && (want === undefined || m[1] === want) && !alive(Number(m[3])) ? m : undefined;
  };
  if (!existsSync(parent)) return removed;
  const siblings = readdirSync(parent);
  if (!existsSync(target)) {
    // The new set is complete once it is renamed to .tmp's final name; a
    // folder is only ever set aside after its replacement was complete.
    const set = siblings.filter((n) => stale(n, base));
    const aside = set.find((n) => stale(n)?.[2] === 'old');
    const built = aside
      ? set.find((n) => stale(n)?.[2] === 'tmp' && completeMarker(parent, n))
      : undefined;
    const back = built ?? aside;
    if (back) await rename(join(parent, back), target);
  }
  for (const name of readdirSync(parent)) {
    if (!stale(name, base)) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed.push(join(parent, name));
  }
  if (existsSync(target) && lstatSync(target).isDirectory()) {
    await rm(join(target, COMPLETE), { force: true });
    for (const name of await readdir(target)) {
      if (!stale(name)) continue;
      await rm(join(target, name), { recursive: true, force: true });
      removed.push(join(target, name));
    }
  }
  return removed;
}

/** A finished temporary set holds this empty file until it is swapped in. */
const COMPLETE = '.advkit-set-complete';

function completeMarker(parent: string, name: string): boolean {
  return existsSync(join(parent, name, COMPLETE));
}

/**
 * Hard-link `from` (a file, a link or a folder, recursively) at `to`; a
 * file system without hard links (or a file on another device) gets a copy.
 */
async function linkTree(from: string, to: string): Promise<void> {
  const st = lstatSync(from);
  if (st.isSymbolicLink()) return symlink(await readlink(from), to);
  if (!st.isDirectory()) {
    return link(from, to).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'EPERM' || e.code === 'EXDEV' || e.code === 'ENOTSUP' || e.code === 'EMLINK')
        return copyFile(from, to);
      throw e;
    });
  }
  await mkdir(to);
  for (const name of await readdir(from)) await linkTree(join(from, name), join(to, name));
}

async function writeSynced(file: string, data: string | Uint8Array): Promise<void> {
  const fh = await open(file, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write `files` (name → content) into `dir` as one set: afterwards `dir`
 * holds all of them, with everything else it held before; a process killed
 * at any point leaves `dir` with the previous set or the new one. Returns
 * the paths written, in the order given. Names in `drop` belong to the set
 * but have no part in this one (a file an earlier set had): they go with
 * the swap, so no stale member outlives the set it came from.
 */
export async function writeFileSetAtomic(
  dir: string,
  files: Record<string, string | Uint8Array>,
  drop: readonly string[] = [],
): Promise<string[]> {
  const target = realTarget(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  await removeStaleTemporaries(target);
  const exists = existsSync(target);
  const t = tag();
  const tmp = join(parent, `${basename(target)}.tmp-${t}`);
  await mkdir(tmp);
  try {
    if (exists) {
      for (const name of await readdir(target)) {
        if (name in files || drop.includes(name) || name === COMPLETE || TEMPORARY.test(name))
          continue;
        await linkTree(join(target, name), join(tmp, name));
      }
    }
    for (const [name, data] of Object.entries(files)) await writeSynced(join(tmp, name), data);
    await writeSynced(join(tmp, COMPLETE), '');
    if (exists) {
      const aside = join(parent, `${basename(target)}.old-${t}`);
      await rename(target, aside);
      await rename(tmp, target);
      await rm(aside, { recursive: true, force: true });
    } else {
      await rename(tmp, target);
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await rm(join(target, COMPLETE), { force: true });
  return Object.keys(files).map((name) => join(dir, name));
}
