/**
 * The ONNX backend node tests through the reference interpreter. Every test must pass, or be listed
 * in test/conformance/policy/*.json with a reason; and at least 80% must pass outright.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadPolicy, runConformance } from '../../src/conformance/runner';
import { DATA } from '../helpers/model-cases';

const POLICY = path.join(__dirname, 'policy');

describe('ONNX conformance, reference backend', function () {
  this.timeout(30 * 60 * 1000);
  for (const suite of ['onnx-node', 'onnx-node-extra', 'onnx-other']) {
    it(`${suite}: no unexpected failures`, async () => {
      const root = path.join(DATA, suite);
      assert.ok(fs.existsSync(root), `${root} is missing: run ../shared/data/unpack.sh .data`);
      const s = await runConformance([root], { backend: 'reference', policy: loadPolicy(POLICY, 'reference'), workers: 2 });
      const failures = s.results.filter((r) => r.final === 'fail').map((r) => `${r.name}: ${r.message}`);
      console.log(`      ${suite}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped of ${s.total}`);
      assert.deepEqual(failures, [], `${failures.length} tests failed that are not known failures`);
      assert.deepEqual(s.unexpectedPasses, [], 'known failures that now pass: remove them from the policy');
      if (suite === 'onnx-node') assert.ok(s.passed / s.total >= 0.8, `pass rate ${s.passed}/${s.total} is under 80%`);
    });
  }
});
