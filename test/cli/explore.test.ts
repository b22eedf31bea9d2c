/**
 * The explorer's server serves what the page needs and nothing else: model
 * folders give only model.json and the weight files it names (no dotfiles,
 * no other files, nothing through a symlink out), the photos folder gives
 * only its plain JPEG/PNG files, a malformed `%` is a 400
 * without a stack trace, the dev server refuses the checkout's root and
 * files outside its allow list, `advkit explore` serves the built page by
 * default, and a port out of range is one line and exit 2.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningExplorer, startExplorer } from '../../explorer/server.js';
import { writeFixtureModel } from './fixture-model.js';
import { cli, errorLine, ROOT, tempDir } from './helpers.js';

describe('explorer dev server: only what the page needs', { timeout: 120_000 }, () => {
  let server: RunningExplorer;
  let base: string;
  let photos: string;
  const get = async (p: string) => {
    const r = await fetch(new URL(p, base));
    return { status: r.status, text: await r.text() };
  };

  before(async () => {
    const models = path.join(tempDir(), 'models');
    const m = path.join(models, 'fixture');
    await writeFixtureModel(m, 2);
    writeFileSync(path.join(m, '.env'), 'SECRET=1');
    writeFileSync(path.join(m, 'notes.txt'), 'private notes');
    const outside = path.join(tempDir(), 'outside.bin');
    writeFileSync(outside, 'outside');
    symlinkSync(outside, path.join(m, 'linked.bin'));
    mkdirSync(path.join(models, '.hidden'));
    writeFileSync(path.join(models, '.hidden', 'model.json'), '{}');
    photos = path.join(tempDir(), 'photos');
    mkdirSync(photos);
    writeFileSync(path.join(photos, 'cat.jpg'), 'jpeg bytes');
    writeFileSync(path.join(photos, 'notes.txt'), 'private notes');
    writeFileSync(path.join(photos, '.hidden.png'), 'hidden');
    symlinkSync(outside, path.join(photos, 'linked.png'));
    server = await startExplorer({
      mode: 'dev',
      modelsDir: models,
      photosDir: photos,
      port: 0,
      watch: false,
    });
    base = server.url;
  });
  after(async () => {
    await server?.close();
  });

  it('serves model.json, its weights, the model list and the page', async () => {
    assert.equal((await get('advkit-assets/models/fixture/model.json')).status, 200);
    assert.equal((await get('advkit-assets/models/fixture/weights.bin')).status, 200);
    const list = JSON.parse((await get('advkit-assets/models.json')).text) as { name: string }[];
    assert.deepEqual(
      list.map((x) => x.name),
      ['fixture'],
      'dot-folders are not listed',
    );
    assert.equal((await get('/')).status, 200, 'index.html');
    assert.equal((await get('/src/main.ts')).status, 200, 'the page source');
  });

  it('refuses dotfiles, files the manifest does not name, links out of the folder, traversal', async () => {
    for (const p of [
      'advkit-assets/models/fixture/.env',
      'advkit-assets/models/fixture/notes.txt',
      'advkit-assets/models/fixture/linked.bin',
      'advkit-assets/models/.hidden/model.json',
      'advkit-assets/models/fixture/..%2f..%2fpackage.json',
      'advkit-assets/models/%2e%2e/package.json',
      'advkit-assets/wasm/..%2f..%2f..%2fpackage.json',
    ]) {
      const r = await get(p);
      assert.equal(r.status, 404, `${p}: ${r.status} ${r.text.slice(0, 80)}`);
      assert.equal(r.text, 'not found', `${p}: the answer names nothing on disk`);
    }
  });

  it('serves the JPEG and PNG files of the photos folder only: no dotfiles, other files or links', async () => {
    const list = JSON.parse((await get('advkit-assets/photos.json')).text) as { name: string }[];
    assert.deepEqual(
      list.map((x) => x.name),
      ['cat.jpg'],
    );
    assert.equal((await get('advkit-assets/photos/cat.jpg')).text, 'jpeg bytes');
    for (const p of ['notes.txt', '.hidden.png', 'linked.png', '..%2fphotos%2fcat.jpg']) {
      const r = await get(`advkit-assets/photos/${p}`);
      assert.equal(r.status, 404, `photos/${p}: ${r.status}`);
    }
  });

  it('answers a malformed % with 400 and no stack trace or absolute path', async () => {
    const r = await get('advkit-assets/models/%E0%A4%A/model.json');
    assert.equal(r.status, 400, r.text.slice(0, 200));
    assert.doesNotMatch(r.text, /\n\s+at |\/work\/|URIError/, 'no stack, no path');
  });

  it('refuses the checkout outside the allow list: /@fs/…/package.json, .git, advkit-out, node_modules', async () => {
    // A report in the checkout's advkit-out/, as any earlier run leaves one.
    mkdirSync(path.join(ROOT, 'advkit-out'), { recursive: true });
    const runDir = mkdtempSync(path.join(ROOT, 'advkit-out', 'explore-test-'));
    const marker = `report-${path.basename(runDir)}`;
    writeFileSync(path.join(runDir, 'report.json'), JSON.stringify({ marker }));
    try {
      for (const p of [
        `/@fs${path.join(ROOT, 'package.json')}`,
        `/@fs${path.join(ROOT, '.git', 'config')}`,
        `/@fs${path.join(ROOT, 'node_modules', 'tsx', 'package.json')}`,
        `/@fs${path.join(runDir, 'report.json')}`,
        `/@fs${path.join(ROOT, 'src', 'index.ts')}?raw&x=/../../package.json`,
        '/@fs/etc/passwd',
        '/../package.json',
      ]) {
        const r = await get(p);
        assert.doesNotMatch(
          r.text,
          new RegExp(`"name":\\s*"advkit"|root:x:0|\\[core\\]|"name":\\s*"tsx"|${marker}`),
          `${p}: nothing outside the allow list is served (status ${r.status})`,
        );
      }
      assert.equal((await get(`/@fs${path.join(ROOT, 'package.json')}`)).status, 403);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});

describe('advkit explore flags', () => {
  it('--port 70000: one line, exit 2', async () => {
    const r = await cli(['explore', '--port', '70000']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(errorLine(r), /--port must be an integer from 0 to 65535; received "70000"/);
  });
  it('--dev and --preview together: one line, exit 2', async () => {
    const r = await cli(['explore', '--dev', '--preview']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(errorLine(r), /--dev and --preview/);
  });
});
