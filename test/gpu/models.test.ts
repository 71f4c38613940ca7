/**
 * Real models on the GPU: every model in .data/models with reference data, and the
 * PyTorch-converted node tests, must match (relative L2 error under 1e-4 in FP32, or the class for
 * the quantized MNIST whose reference is the float model's).
 */
import { strict as assert } from 'assert';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { loadModel } from '../../src/onnx/parse';
import { argmax, errorStats, modelCasesByModel } from '../helpers/model-cases';
import { openDevice } from '../helpers/gpu';
import { buildEngine } from '../../src/api/build';

describe('real models on the GPU', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  for (const [modelPath, cases] of modelCasesByModel()) {
    it(`${cases[0].name.split('/').slice(0, -1).join('/') || cases[0].name}: ${cases.length} case(s) match the reference data`, async () => {
      const model = loadModel(modelPath);
      const shapes: Record<string, number[]> = {};
      for (const [k, v] of cases[0].inputs) shapes[k] = [...(v as Tensor).dims];
      const engine = buildEngine(model, { device, inputShapes: shapes });
      try {
        const ctx = engine.createExecutionContext();
        for (const c of cases) {
          const out = await ctx.execute(c.inputs as Map<string, Tensor>);
          for (const [name, expected] of c.outputs) {
            const got = out.get(name);
            assert.ok(got, `${c.name}: output ${name} missing`);
            if (c.argmaxOnly) assert.equal(argmax(got), argmax(expected), `${c.name}: class`);
            else {
              const { maxAbs, relL2 } = errorStats(expected, got);
              assert.ok(maxAbs <= c.atol || relL2 < 1e-4, `${c.name} ${name}: max abs ${maxAbs}, rel L2 ${relL2}`);
            }
          }
        }
      } finally {
        engine.dispose();
      }
    });
  }
});
