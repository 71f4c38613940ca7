import { strict as assert } from 'assert';
import { Tensor } from '../src/ir/tensor';
import { loadModel } from '../src/onnx/parse';
import { interpret } from '../src/ops/interpreter';
import { argmax, errorStats, modelCases } from './helpers/model-cases';

describe('real models on the reference interpreter', () => {
  const cases = modelCases();
  it('has the model data unpacked', () => {
    assert.ok(cases.length >= 20, `expected the .data/models cases (run ../shared/data/unpack.sh .data); found ${cases.length}`);
  });
  for (const c of cases) {
    it(`${c.name} matches its reference outputs`, () => {
      const model = loadModel(c.modelPath);
      const out = interpret(model, c.inputs);
      for (const [name, expected] of c.outputs) {
        const actual = out.get(name);
        assert.ok(actual instanceof Tensor, `output ${name} missing`);
        assert.deepEqual(actual.dims, expected.dims, `dims of ${name}`);
        if (c.argmaxOnly) {
          assert.equal(argmax(actual), argmax(expected), `class of ${name}`);
        } else {
          const { maxAbs } = errorStats(expected, actual);
          assert.ok(maxAbs <= c.atol, `${name}: max abs error ${maxAbs} > ${c.atol}`);
        }
      }
    });
  }
});
