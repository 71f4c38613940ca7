/**
 * The packaging test (scripts/test-package.mjs): npm pack, install into a fresh app with no compiler
 * on PATH, mnist-8 from CJS, ESM and TypeScript. About a minute (prepack compiles dist/), so it runs
 * when VKRT_TEST_PACKAGE=1 (`npm run test:package` runs the script directly).
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

describe('the npm package', function () {
  this.timeout(600000);
  it('packs, installs without a compiler and runs mnist-8 from CJS, ESM and TypeScript (VKRT_TEST_PACKAGE=1)', function () {
    if (process.env.VKRT_TEST_PACKAGE !== '1') this.skip();
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'test-package.mjs')], { encoding: 'utf8' });
    console.log(r.stdout.split('\n').filter((l) => /^(PASS|FAIL|npm pack|package test)/.test(l)).map((l) => `      ${l}`).join('\n'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
