import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { encodeRgbaPng } from '../../src/data/png.js';
import { type EvaluationReport, evaluate } from '../../src/eval/index.js';
import { setBackend } from '../../src/index.js';
import { encodePngStored, fromJson, toHtml, toJson, toMarkdown } from '../../src/report/index.js';
import { markdownText } from '../../src/report/markdown.js';
import { writeReport } from '../../src/report/write-node.js';
import { syntheticData } from '../eval/helpers.js';
import { tinyCnn } from '../fixtures.js';

let report: EvaluationReport;
let net: ReturnType<typeof tinyCnn>;
before(async () => {
  await setBackend();
  net = tinyCnn();
  report = await evaluate(
    net.model,
    { ...syntheticData(12, [8, 8, 1], 4), classNames: ['a', 'b', 'c', 'd'] },
    {
      epsilons: [0, 0.05, 0.1, 0.2],
      attacks: [{ name: 'fgsm' }, { name: 'pgd', options: { steps: 5, restarts: 2 } }],
    },
    { batchSize: 6, exampleImages: 2, minimalEpsilon: { bisectionSteps: 2 } },
  );
});
after(() => net.dispose());

test('JSON: versioned, stable key order, round trip', () => {
  const text = toJson(report);
  const keys = Object.keys(JSON.parse(text));
  assert.deepEqual(keys.slice(0, 3), ['schemaVersion', 'advkitVersion', 'createdAt']);
  // Same report built with keys in another order serialises identically.
  const shuffled = Object.fromEntries(Object.entries(report).reverse()) as EvaluationReport;
  assert.equal(toJson(shuffled), text);
  const back = fromJson(text);
  assert.equal(toJson(back), text);
  assert.throws(() => fromJson('{"schemaVersion": 99}'), /schemaVersion 99/);
});

test('Markdown: a table per attack with both denominators, warnings, checklist', () => {
  const md = toMarkdown(report);
  const correct = report.clean.accuracy.numerator;
  assert.match(md, /## fgsm/);
  assert.match(md, /## pgd/);
  assert.match(md, /\| ε \| robust accuracy \| attack success rate \|/);
  assert.ok(md.includes(`/12 (`), 'robust accuracy over all 12 examples');
  assert.ok(md.includes(`/${correct} (`), 'success rate over the clean-correct examples');
  assert.match(md, /NO_MODEL_CHECKSUM/);
  assert.match(md, /## Reporting checklist/);
  for (const c of report.checklist) assert.ok(md.includes(`| ${c.field} |`), c.field);
});

test('Markdown: a hostile model path and data folder name stay literal text', () => {
  const name =
    'models/<img src=x onerror=alert(1)>/[click](http://evil)/**bold**|x\nnext/model.json';
  const source = 'folder <script>alert(1)</script> `code` _u_ ![i](j) # h';
  const hostile = {
    ...report,
    model: { ...report.model, name },
    data: { ...report.data, source },
  } as EvaluationReport;
  const md = toMarkdown(hostile);
  const head = md.split('\n').slice(0, 3).join('\n');
  assert.doesNotMatch(md, /<img|<script/i, 'no raw HTML tag');
  assert.doesNotMatch(head, /(^|[^\\])\[click\]\(/, 'no live link');
  assert.doesNotMatch(head, /(^|[^\\])\*\*bold/, 'no emphasis');
  assert.doesNotMatch(head, /(^|[^\\])`code/, 'no code span');
  assert.ok(
    head.includes(
      '# advkit evaluation: models/&lt;img src=x onerror=alert(1)&gt;/\\[click\\](http://evil)/\\*\\*bold\\*\\*\\|x next/model.json',
    ),
    `escaped heading, one line; got:\n${head}`,
  );
  assert.ok(
    head.includes(
      'of folder &lt;script&gt;alert(1)&lt;/script&gt; \\`code\\` \\_u\\_ \\!\\[i\\](j) \\# h ·',
    ),
    `escaped data source; got:\n${head}`,
  );
  assert.equal(markdownText('a & b'), 'a &amp; b');
});

test('HTML: self-contained, SVG plots, embedded PNG grids, no external URLs', async () => {
  const html = await toHtml(report);
  assert.equal((html.match(/<svg/g) ?? []).length, 2, 'accuracy curve and minimal-ε histogram');
  assert.match(html, /Robust accuracy vs ε/);
  assert.match(html, /minimal ε/);
  // 2 attacks × 2 examples × (original, perturbation, adversarial).
  assert.equal((html.match(/src="data:image\/png;base64,/g) ?? []).length, 12);
  assert.match(html, /perturbation ×/);
  assert.match(html, /label \d \([abcd]\)/);
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
  assert.doesNotMatch(html, /url\(\s*["']?https?:/i);
  assert.doesNotMatch(html, /<script|<link/i);
});

test('PNG encoders: the built-in and pngjs give the same pixels', () => {
  const w = 3;
  const h = 2;
  const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 37) % 256);
  for (const enc of [encodePngStored, encodeRgbaPng]) {
    const png = PNG.sync.read(Buffer.from(enc(rgba, w, h)));
    assert.equal(png.width, w);
    assert.equal(png.height, h);
    assert.deepEqual(new Uint8Array(png.data), rgba);
  }
  // Large enough to need several stored blocks.
  const big = new Uint8Array(200 * 100 * 4).fill(7);
  assert.equal(PNG.sync.read(Buffer.from(encodePngStored(big, 200, 100))).data.length, big.length);
});

test('writeReport writes report.json, .md and .html atomically', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'advkit-report-'));
  try {
    const before = tf.memory().numTensors;
    const paths = await writeReport(dir, report);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(
      paths.map((p) => p.slice(dir.length + 1)),
      ['report.json', 'report.md', 'report.html'],
    );
    assert.deepEqual((await readdir(dir)).sort(), ['report.html', 'report.json', 'report.md']);
    assert.equal(await readFile(join(dir, 'report.json'), 'utf8'), toJson(report));
    const only = await writeReport(join(dir, 'md'), report, { formats: ['md'] });
    assert.equal(only.length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
