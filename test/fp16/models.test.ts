/**
 * Real models in FP16 engines: every model in .data/models with reference data (test/helpers/
 * model-cases.ts) runs in FP32 and FP16 on the same inputs; the FP16 error against the reference
 * data and against the FP32 engine is printed per case. Classification models (10-class MNIST
 * logits) must keep their top-1 class; every float model must stay under 1e-2 relative L2 against
 * the FP32 engine over its test set (the bound for CNNs; the MLPs here meet it too), with
 * no NaN/Inf.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tensorError } from '../../src/cli/compare';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { loadModel } from '../../src/onnx/parse';
import { Engine } from '../../src/runtime/engine';
import { openDevice } from '../helpers/gpu';
import { argmax, modelCasesByModel, MODELS } from '../helpers/model-cases';
import { buildEngine } from '../../src/api/build';

describe('real models in FP16', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  for (const [modelPath, cases] of modelCasesByModel()) {
    const label = path.relative(MODELS, modelPath);
    it(`${label}: FP16 keeps the class, rel L2 < 1e-2 against FP32 over ${cases.length} case(s)`, async () => {
      const shapes: Record<string, number[]> = {};
      for (const [k, v] of cases[0].inputs) shapes[k] = [...(v as Tensor).dims];
      const e32 = buildEngine(loadModel(modelPath), { device, inputShapes: shapes });
      const e16 = buildEngine(loadModel(modelPath), { device, inputShapes: shapes, fp16: true });
      try {
        const n16 = e16.plan.layers.filter((l) => l.precision === 'fp16').length;
        const c32 = e32.createExecutionContext(), c16 = e16.createExecutionContext();
        // the error over the model's whole test set (a scalar output near 0, like tfl-sine's, has a
        // meaningless relative error on its own)
        let num = 0, den = 0;
        for (const c of cases) {
          const o32 = await c32.execute(c.inputs as Map<string, Tensor>);
          const o16 = await c16.execute(c.inputs as Map<string, Tensor>);
          for (const [name, expected] of c.outputs) {
            const a = o32.get(name)!, b = o16.get(name)!;
            assert.equal(b.dtype, a.dtype, `${c.name} ${name}: FP16 engine output keeps its ONNX type`);
            const vsRef = tensorError(name, expected, b);
            const vs32 = tensorError(name, a, b);
            console.log(`      ${c.name} ${name}: ${n16}/${e16.plan.layers.length} layers FP16; rel L2 vs FP32 engine ${vs32.relL2.toExponential(2)}, vs reference data ${vsRef.relL2.toExponential(2)}, max abs ${vs32.maxAbs.toExponential(2)}, cosine ${vs32.cosine.toFixed(6)}`);
            assert.equal(vs32.newNonFinite, 0, `${c.name} ${name}: NaN/Inf in FP16`);
            if (c.argmaxOnly || expected.size === 10) assert.equal(argmax(b), argmax(expected), `${c.name} ${name}: top-1 class`);
            if (!c.argmaxOnly) {
              const x = a.toNumbers(), y = b.toNumbers();
              for (let i = 0; i < x.length; i++) { num += (x[i] - y[i]) ** 2; den += x[i] ** 2; }
            }
          }
        }
        if (cases.every((c) => c.argmaxOnly)) return;
        const rel = Math.sqrt(num / Math.max(den, 1e-30));
        console.log(`      ${label}: rel L2 over all cases vs FP32 engine ${rel.toExponential(2)}`);
        assert.ok(rel < 1e-2, `${label}: rel L2 ${rel} against FP32 over ${cases.length} case(s)`);
      } finally {
        e32.dispose();
        e16.dispose();
      }
    });
  }

  // MNIST variants without reference data: seeded digits-like inputs, FP16 vs FP32 engine
  for (const file of ['rten-mnist/mnist.onnx', 'rten-mnist/mnist-external/mnist.onnx', 'wonnx-opt-mnist/opt-mnist.onnx'].filter((f) => fs.existsSync(path.join(MODELS, f)))) {
    it(`${file}: FP16 keeps the class and rel L2 < 1e-2 on seeded inputs`, async function () {
      const model = loadModel(path.join(MODELS, file));
      let e32: Engine;
      try {
        e32 = buildEngine(model, { device, inputShapes: mnistShapes(model) });
      } catch (e) {
        this.skip(); // not an FP32 model of this engine either (reported by test/gpu)
        return;
      }
      const e16 = buildEngine(loadModel(path.join(MODELS, file)), { device, inputShapes: mnistShapes(model), fp16: true });
      try {
        for (let seed = 1; seed <= 3; seed++) {
          const feeds = new Map(e32.inputs.map((io) => [io.name, digit(io.dims, seed)]));
          const a = await e32.createExecutionContext().execute(feeds);
          const b = await e16.createExecutionContext().execute(feeds);
          for (const [name, t] of a) {
            const err = tensorError(name, t, b.get(name)!);
            console.log(`      ${file} seed ${seed} ${name}: rel L2 ${err.relL2.toExponential(2)}, max abs ${err.maxAbs.toExponential(2)}`);
            assert.equal(err.newNonFinite, 0);
            assert.ok(err.relL2 < 1e-2, `rel L2 ${err.relL2}`);
            if (t.size === 10) assert.equal(argmax(b.get(name)!), argmax(t));
          }
        }
      } finally {
        e32.dispose();
        e16.dispose();
      }
    });
  }
});

function mnistShapes(model: ReturnType<typeof loadModel>): Record<string, number[]> {
  const g = model.graph;
  const out: Record<string, number[]> = {};
  for (const i of g.inputs.filter((x) => !g.initializers.has(x))) out[i] = (g.types.get(i)?.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
  return out;
}

/** A seeded blob-like image in [0, 1] (MNIST inputs are non-negative intensities). */
function digit(dims: number[], seed: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const side = Math.round(Math.sqrt(dims[dims.length - 1] * (dims.length >= 2 ? dims[dims.length - 2] : 1)));
  const cx = 10 + (seed * 3) % 8, cy = 9 + (seed * 5) % 10;
  const v = Array.from({ length: n }, (_, i) => {
    const x = i % side, y = Math.floor(i / side) % side;
    const r = Math.hypot(x - cx, y - cy);
    return r > 4 && r < 8 ? 1 : 0;
  });
  return Tensor.from('float32', dims, v);
}
