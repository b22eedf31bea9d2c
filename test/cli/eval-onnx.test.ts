/**
 * `advkit eval --model m.onnx --mean … --std …` end to end on a committed
 * torchvision export (test/model/fixtures/onnx/resnet-basic-external: a
 * ResNet BasicBlock network at 48 × 48 whose weights are in model.onnx.data
 * beside it): the report names the ONNX model with the sha256 of both
 * files, and two worker threads (which receive the file bytes and import
 * the model again) give the in-process numbers exactly.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { cli, ROOT, tempDir } from './helpers.js';

const FIXTURE = path.join(ROOT, 'test', 'model', 'fixtures', 'onnx', 'resnet-basic-external');
const MODEL = path.join(FIXTURE, 'model.onnx');
let data: string;

before(async () => {
  data = tempDir('advkit-onnx-photos-');
  for (const [k, label] of ['1', '4', '8'].entries()) {
    mkdirSync(path.join(data, label));
    for (let i = 0; i < 2; i++)
      await sharp({
        create: {
          width: 48,
          height: 48,
          channels: 3,
          background: { r: 60 * k + 30 * i, g: 120, b: 200 - 50 * k },
        },
      })
        .png()
        .toFile(path.join(data, label, `${i}.png`));
  }
});

const evalArgs = (out: string, ...extra: string[]) => [
  'eval',
  '--model',
  MODEL,
  '--data',
  data,
  '--mean',
  '0.485,0.456,0.406',
  '--std',
  '0.229,0.224,0.225',
  '--attacks',
  'fgsm',
  '--eps',
  '0.01,0.03',
  '--batch-size',
  '2',
  '--out',
  out,
  ...extra,
];

describe('advkit eval on an ONNX model', () => {
  it('runs, reports the model as ONNX with its checksum, and two workers agree with one thread', async () => {
    const ref = JSON.parse(readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8'));
    const outs = [tempDir(), tempDir()];
    const [one, two] = await Promise.all([
      cli(evalArgs(outs[0])),
      cli(evalArgs(outs[1], '--workers', '2')),
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    assert.match(
      one.stdout,
      /model .*model\.onnx \(sha256 [0-9a-f]{12}…, eval mode, output logits: graph ends in Gemm/,
    );
    const [a, b] = outs.map((o) => JSON.parse(readFileSync(path.join(o, 'report.json'), 'utf8')));
    assert.equal(a.model.kind, 'onnx');
    assert.equal(a.model.checksum, ref.graph.sha256, 'sha256 of model.onnx and model.onnx.data');
    assert.deepEqual(a.model.inputShape, [48, 48, 3]);
    assert.match(
      a.model.preprocessing,
      /mean \[0\.485, 0\.456, 0\.406\], std \[0\.229, 0\.224, 0\.225\]/,
    );
    assert.equal(a.data.examples, 6);
    assert.deepEqual(b.clean, a.clean, 'clean results: workers = one thread');
    assert.deepEqual(b.attacks, a.attacks, 'attack results: workers = one thread');
  });
});
