/**
 * End to end: `advkit attack` writes PNGs and the tensor file with the same
 * numbers as calling the library; `advkit explain` prints the worked
 * examples; every command answers --help.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../../src/data/index.js';
import { createAttack, disposeResults, setBackend } from '../../src/index.js';
import { loadClassifierFromFile } from '../../src/model/load-node.js';
import { writeFixtureModel } from './fixture-model.js';
import { cli, tempDir } from './helpers.js';

let model10: string;

before(async () => {
  await setBackend('wasm');
  model10 = await writeFixtureModel(path.join(tempDir(), 'm10'));
});

describe('advkit attack', () => {
  it('writes one PNG per example and a float32 tensor whose header matches the library', async () => {
    const out = tempDir();
    const r = await cli([
      'attack',
      '--model',
      model10,
      '--data',
      'mnist:test',
      '--offset',
      '5',
      '--limit',
      '12',
      '--attack',
      'fgsm',
      '--eps',
      '0.1',
      '--batch-size',
      '5',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.examples, 12);
    const header = JSON.parse(readFileSync(path.join(out, 'adversarial.json'), 'utf8'));
    assert.deepEqual(header.shape, [12, 28, 28, 1]);
    assert.equal(header.dtype, 'float32');
    const bin = readFileSync(path.join(out, 'adversarial.bin'));
    assert.equal(bin.byteLength, 12 * 784 * 4);
    const pngs = readdirSync(out)
      .filter((f) => f.endsWith('.png'))
      .sort();
    assert.equal(pngs.length, 12);
    for (const f of pngs) assert.match(f, /^\d+_\d_to_\d\.png$/);
    const fifth = `5_${header.labels[0]}_to_${header.predictions[0]}.png`;
    assert.ok(pngs.includes(fifth), `${fifth} is missing from ${pngs.join(', ')}`);

    // The same attack through the library.
    const { model } = await loadClassifierFromFile(model10);
    const ds = loadMnist('test', { offset: 5, limit: 12 });
    const x = tf.tensor4d(ds.images, [12, 28, 28, 1]);
    const [res] = await createAttack('fgsm').run(model, { x, labels: ds.labels }, [0.1]);
    assert.deepEqual(header.labels, Array.from(ds.labels));
    assert.deepEqual(header.predictions, res.predicted);
    assert.equal(summary.successRate, res.success.filter(Boolean).length / 12);
    const adv = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
    const lib = await res.xAdv.data();
    let maxDiff = 0;
    for (let i = 0; i < adv.length; i++) maxDiff = Math.max(maxDiff, Math.abs(adv[i] - lib[i]));
    assert.ok(maxDiff < 1e-6, `tensor file differs from the library by ${maxDiff}`);
    disposeResults([res]);
    x.dispose();
    model.dispose();
  });
});

describe('advkit explain', () => {
  it('prints both worked examples and the linear explanation', async () => {
    const r = await cli(['explain', '--model', model10, '--index', '2', '--eps', '0.01,0.1']);
    assert.equal(r.code, 0, r.stderr);
    // Worked example 1: x = [0.2, 0.5, 0.7, 0.95], g = [0.3, −1.2, 0, 0.4], ε = 0.1.
    assert.match(r.stdout, /sign\(g\)\s+= \[ 1, −1, {2}0, {2}1 \]/);
    assert.match(r.stdout, /checked answer: x_adv = \[ 0\.3, {2}0\.4, {2}0\.7, {2}1 \]/);
    // Worked example 2: g = [2, −3, 0, 1], ε = 0.05 → ε‖g‖₁ = 0.3, never beaten by random points.
    assert.match(r.stdout, /= ε‖g‖₁ = 0\.05 × 6 = 0\.3/);
    assert.match(r.stdout, /none beats 0\.3/);
    assert.match(r.stdout, /‖g‖₁ = /);
    assert.match(r.stdout, /predicted ε‖g‖₁/);
    assert.match(r.stdout, /^0\.1 /m);
  });
});

describe('--help', () => {
  it('lists the commands and documents each one with examples', async () => {
    const names = ['eval', 'attack', 'explain', 'demo'];
    const [top, ...each] = await Promise.all([
      cli(['--help']),
      ...names.map((n) => cli([n, '--help'])),
    ]);
    assert.equal(top.code, 0);
    for (const n of names) assert.match(top.stdout, new RegExp(`^  ${n} `, 'm'));
    each.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: advkit ${names[i]}`));
      assert.match(r.stdout, /\nflags:\n/);
      assert.match(r.stdout, /\nexamples:\n {2}advkit /);
    });
  });
});
