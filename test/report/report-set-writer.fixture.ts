/**
 * Child process for the kill-during-write test: writes report sets into
 * argv[2] over and over, generation after generation, each file tagged with
 * its generation, until it is killed.
 */
import { writeFileSetAtomic } from '../../src/files/atomic.js';

const dir = process.argv[2];
const padding = 'x'.repeat(2 * 1024 * 1024);
let gen = Number(process.argv[3]);
process.stdout.write('started\n');
for (;;) {
  gen += 1;
  await writeFileSetAtomic(dir, {
    'report.json': JSON.stringify({ gen, padding: padding.slice(0, 200_000) }),
    'report.md': `# generation ${gen}\n${padding.slice(0, 50_000)}`,
    'report.html': `<!-- generation ${gen} -->${padding}`,
  });
}
