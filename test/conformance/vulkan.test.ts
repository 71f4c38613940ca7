/**
 * The ONNX backend node tests on the GPU (lavapipe in CI): every test must pass or be a known
 * failure with a reason (test/conformance/policy/vulkan.json); at least 70% must pass outright.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadPolicy, runConformance } from '../../src/conformance/runner';
import { DATA } from '../helpers/model-cases';
import { ensureDriver } from '../helpers/gpu';

const POLICY = path.join(__dirname, 'policy');

describe('ONNX conformance, vulkan backend', function () {
  this.timeout(60 * 60 * 1000);
  before(() => ensureDriver());
  for (const suite of ['onnx-node', 'onnx-node-extra', 'onnx-other']) {
    it(`${suite}: no unexpected failures`, async () => {
      const root = path.join(DATA, suite);
      assert.ok(fs.existsSync(root), `${root} is missing: run ../shared/data/unpack.sh .data`);
      const s = await runConformance([root], { backend: 'vulkan', policy: loadPolicy(POLICY, 'vulkan'), workers: 2 });
      const failures = s.results.filter((r) => r.final === 'fail').map((r) => `${r.name}: ${r.message}`);
      console.log(`      ${suite} (vulkan): ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped of ${s.total}`);
      assert.deepEqual(failures, [], `${failures.length} tests failed that are not known failures`);
      assert.deepEqual(s.unexpectedPasses, [], 'known failures that now pass: remove them from the policy');
      if (suite === 'onnx-node') assert.ok(s.passed / s.total >= 0.7, `pass rate ${s.passed}/${s.total} is under 70%`);
    });
  }
});
