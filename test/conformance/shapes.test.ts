/**
 * Shape inference checked against the ONNX golden data: for every node test, the inferred type of
 * each graph output (given the test's input shapes) must agree with the expected output wherever
 * inference claims to know it.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { listTestDirs, loadTestCase } from '../../src/conformance/cases';
import { ValueType } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { inferShapes } from '../../src/ops/infer-shapes';
import { DATA } from '../helpers/model-cases';

describe('shape inference against ONNX golden outputs', function () {
  this.timeout(10 * 60 * 1000);
  it('agrees with every expected output it claims to know', () => {
    const root = path.join(DATA, 'onnx-node');
    assert.ok(fs.existsSync(root), 'run ../shared/data/unpack.sh .data');
    const wrong: string[] = [];
    let checked = 0, known = 0;
    for (const dir of listTestDirs(root)) {
      let tc;
      try { tc = loadTestCase(dir); } catch { continue; }
      const ds = tc.dataSets[0];
      if (!ds) continue;
      const inputTypes = new Map<string, ValueType>();
      let tensorsOnly = true;
      for (const [name, v] of ds.inputs) {
        if (v instanceof Tensor) inputTypes.set(name, { kind: 'tensor', dtype: v.dtype, shape: [...v.dims] });
        else tensorsOnly = false;
      }
      if (!tensorsOnly) continue;
      let res;
      try {
        res = inferShapes(tc.model.graph, tc.model.opsets, { inputTypes });
      } catch (e) {
        wrong.push(`${tc.name}: inference threw ${(e as Error).message}`);
        continue;
      }
      for (const [name, expected] of ds.outputs) {
        if (!(expected instanceof Tensor)) continue;
        checked++;
        const t = res.types.get(name);
        if (!t || !t.shape || t.shape.some((d) => typeof d !== 'number')) continue;
        known++;
        if (t.dtype !== expected.dtype || t.shape.join(',') !== expected.dims.join(',')) {
          wrong.push(`${tc.name} output ${name}: inferred ${t.dtype}[${t.shape.join(',')}], expected ${expected.dtype}[${expected.dims.join(',')}]`);
        }
      }
    }
    console.log(`      shape inference knew ${known} of ${checked} outputs exactly`);
    assert.deepEqual(wrong, []);
  });
});
