/**
 * Every `assert.ok` (and bare `assert`) in the tests carries a message. On a
 * message-less failure Node 20 builds the text by reading the source at the
 * failing call's line and column and re-parsing it; under tsx those
 * positions are the transpiled file's, and its re-read loop can spin for
 * minutes on the .ts text (seen on `layer-plan.test.ts`): a failing test
 * would hang CI instead of failing.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const testRoot = fileURLToPath(new URL('..', import.meta.url));

function messageLessAsserts(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && n.arguments.length < 2) {
      const callee = n.expression.getText(sf);
      if (callee === 'assert' || callee === 'assert.ok') {
        const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
        found.push(`${file}:${line + 1}`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

test('every assert.ok in the tests has a message', () => {
  const files = readdirSync(testRoot, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(testRoot, f));
  assert.ok(files.length > 20, `found only ${files.length} test sources under ${testRoot}`);
  assert.deepEqual(files.flatMap(messageLessAsserts), []);
});
