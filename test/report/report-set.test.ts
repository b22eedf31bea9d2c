/**
 * A report folder holds one complete set: a writer killed (SIGKILL) at
 * random points of writing the set leaves the previous generation's three
 * files or the next one's, never a mix, keeps the folder's other files
 * (the checkpoint), and the next write removes what the killed one left.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { removeStaleTemporaries, writeFileSetAtomic } from '../../src/files/atomic.js';

const FIXTURE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'report-set-writer.fixture.ts',
);

/** The generation of each report file in `dir`. */
function generations(dir: string): number[] {
  return [
    (JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as { gen: number }).gen,
    Number(/^# generation (\d+)/.exec(readFileSync(path.join(dir, 'report.md'), 'utf8'))?.[1]),
    Number(
      /^<!-- generation (\d+) -->/.exec(readFileSync(path.join(dir, 'report.html'), 'utf8'))?.[1],
    ),
  ];
}

function killAfter(dir: string, gen: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir, String(gen)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), ms));
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

test('killed while writing a report set: the folder holds the old set or the new one', {
  timeout: 120_000,
}, async () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'advkit-set-'));
  const dir = path.join(parent, 'run');
  await writeFileSetAtomic(dir, {
    'report.json': JSON.stringify({ gen: 0 }),
    'report.md': '# generation 0\n',
    'report.html': '<!-- generation 0 -->',
  });
  writeFileSync(path.join(dir, 'checkpoint.json'), '{"kept": true}');
  let gen = 0;
  let leftovers = 0;
  const delays = [0, 30, 80, 150, 250, 400];
  for (const ms of delays) {
    await killAfter(dir, gen, ms);
    assert.ok(
      existsSync(dir) || readdirSync(parent).some((n) => n.startsWith('run.old-')),
      `after a kill at ${ms} ms the folder or its set-aside copy exists`,
    );
    leftovers += readdirSync(parent).filter((n) => n !== 'run').length;
    if (existsSync(dir)) {
      const seen = generations(dir);
      assert.ok(
        seen.every((g) => g === seen[0]) && seen[0] >= gen,
        `right after a kill at ${ms} ms: one complete set, not older than generation ${gen}; got generations ${seen.join(', ')}`,
      );
    }
    // The next writer first tidies what the killed one left (and, killed in
    // the microseconds between its two renames, the folder is put back).
    await removeStaleTemporaries(dir);
    const gens = generations(dir);
    assert.ok(
      gens.every((g) => g === gens[0]) && gens[0] >= gen,
      `after tidying: one complete set, not older than generation ${gen}; got generations ${gens.join(', ')} after a kill at ${ms} ms`,
    );
    gen = gens[0];
    assert.equal(
      readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'),
      '{"kept": true}',
      'other files kept',
    );
    assert.deepEqual(readdirSync(parent), ['run'], 'no temporary folder left beside it');
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['checkpoint.json', 'report.html', 'report.json', 'report.md'],
      'no temporary left inside',
    );
  }
  assert.ok(gen > 0, `the writer finished some sets between kills (reached generation ${gen})`);
  console.log(
    `${delays.length} kills: reached generation ${gen}; ${leftovers} temporaries left by killed writers, all removed`,
  );
});

test("stale temporaries of a dead process are removed; a live one's are kept", async () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'advkit-set-'));
  const dir = path.join(parent, 'run');
  await writeFileSetAtomic(dir, { 'report.json': '{}' });
  // PID 2^22 + 1 is above Linux's pid_max ceiling: never a running process.
  const dead = 4194305;
  writeFileSync(path.join(dir, `report.md.tmp-${dead}-abc`), 'half');
  writeFileSync(path.join(dir, `report.md.tmp-${process.pid}-abc`), 'mine, in progress');
  writeFileSync(path.join(parent, `run.tmp-${dead}-xyz`), '');
  const removed = await removeStaleTemporaries(dir);
  assert.deepEqual(removed.map((p) => path.basename(p)).sort(), [
    `report.md.tmp-${dead}-abc`,
    `run.tmp-${dead}-xyz`,
  ]);
  assert.ok(
    existsSync(path.join(dir, `report.md.tmp-${process.pid}-abc`)),
    'a live writer keeps its temporary',
  );
});

test('a report folder reached through a symlink keeps the link; the set lands in the folder it names', async () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'advkit-set-'));
  const real = path.join(parent, 'real');
  await writeFileSetAtomic(real, { 'report.json': '{"gen": 1}' });
  const link = path.join(parent, 'link');
  symlinkSync(real, link);
  await writeFileSetAtomic(link, { 'report.json': '{"gen": 2}' });
  assert.ok(lstatSync(link).isSymbolicLink(), 'still a link');
  assert.equal(readFileSync(path.join(real, 'report.json'), 'utf8'), '{"gen": 2}');
  assert.deepEqual(readdirSync(parent).sort(), ['link', 'real'], 'nothing left beside them');
});

test("a member the new set drops goes with the swap (an earlier cascade's robustbench.json); other files stay", async () => {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'advkit-set-')), 'run');
  await writeFileSetAtomic(dir, { 'report.json': '{"gen": 1}', 'robustbench.json': '{}' });
  writeFileSync(path.join(dir, 'checkpoint.json'), '{}');
  await writeFileSetAtomic(dir, { 'report.json': '{"gen": 2}' }, ['robustbench.json']);
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoint.json', 'report.json']);
  assert.equal(readFileSync(path.join(dir, 'report.json'), 'utf8'), '{"gen": 2}');
});
