/**
 * Every bad input gives exactly one line `advkit: error: …` on stderr, no
 * stack trace, and exit code 2.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { setBackend } from '../../src/index.js';
import { writeFixtureModel } from './fixture-model.js';
import { cli, errorLine, tempDir } from './helpers.js';

let model10: string;
let model2: string;
let corrupt: string;

before(async () => {
  await setBackend('wasm');
  const dir = tempDir();
  model10 = await writeFixtureModel(path.join(dir, 'm10'));
  model2 = await writeFixtureModel(path.join(dir, 'm2'), 2);
  corrupt = path.join(dir, 'corrupt.json');
  writeFileSync(corrupt, '{"modelTopology": {"class_name": "Sequential", ');
});

const attack = (...args: string[]) => [
  'attack',
  '--data',
  'mnist:test',
  '--limit',
  '4',
  '--eps',
  '0.1',
  '--no-png',
  '--out',
  tempDir(),
  ...args,
];

describe('bad input: one line, exit 2', () => {
  const cases: [string, () => string[], RegExp][] = [
    [
      'missing model file',
      () => attack('--model', '/nonexistent/model.json'),
      /model file .* does not exist/,
    ],
    ['corrupt model.json', () => attack('--model', corrupt), /is not valid JSON/],
    [
      'unknown attack',
      () => attack('--model', model10, '--attack', 'deepfool'),
      /unknown attack "deepfool"; expected one of fgsm/,
    ],
    [
      'bad eps',
      () => attack('--model', model10, '--eps', '0.1x'),
      /--eps must be a comma-separated list of numbers/,
    ],
    ['negative eps', () => attack('--model', model10, '--eps=-0.1'), /--eps values must be ≥ 0/],
    ['eps value missing', () => attack('--model', model10, '--eps', '-0.1'), /--eps needs a value/],
    [
      'unknown norm',
      () => attack('--model', model10, '--norm', 'l3'),
      /--norm must be one of linf, l2, l1; received "l3"/,
    ],
    [
      'labels/class-count mismatch',
      () => attack('--model', model2),
      /10 classes but the model outputs 2/,
    ],
    [
      '--num-classes mismatch',
      () => attack('--model', model10, '--num-classes', '2'),
      /expected 2 classes but the model outputs 10/,
    ],
    [
      'pixels outside the bounds',
      () => attack('--model', model10, '--bounds', '0,0.5'),
      /outside the model's bounds \[0, 0\.5\]/,
    ],
    [
      'unknown flag',
      () => attack('--model', model10, '--epsilon', '0.1'),
      /unknown flag '--epsilon'/,
    ],
    ['unknown command', () => ['attak'], /unknown command "attak"/],
    [
      'too many threads',
      () => attack('--model', model10, '--threads', '9'),
      /--threads must be from 1 to 8; received 9/,
    ],
    [
      'missing --model',
      () => ['attack', '--data', 'mnist:test', '--eps', '0.1'],
      /--model is required/,
    ],
    [
      'bad target rule',
      () => attack('--model', model10, '--targeted', 'most-likely'),
      /target rule "most-likely" not understood/,
    ],
    [
      'bad data source',
      () => attack('--model', model10, '--data', 'mnist:val'),
      /--data "mnist:val" not understood/,
    ],
    [
      'missing data folder',
      () => attack('--model', model10, '--data', '/nonexistent/images'),
      /neither mnist:test, mnist:train nor an existing folder/,
    ],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const r = await cli(args());
      assert.equal(r.code, 2, `exit code; stderr:\n${r.stderr}`);
      assert.match(errorLine(r), pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
