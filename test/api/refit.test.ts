/**
 * Refit: a refittable engine given new weights computes exactly what an engine built with those
 * weights computes (bit for bit, FP32 and FP16), through BatchNormalization folding, Gemm/Conv
 * re-layout and FP16 conversion; from an ONNX file of the same graph; on an engine loaded from a
 * file (and saved again); and it refuses unknown names, wrong shapes and dtypes, engines not built
 * refittable, values the build folded into kernel parameters (named), and runs in flight.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildEngine } from '../../src/api/build';
import { RefitError } from '../../src/errors';
import { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { googlenetLike, mobilenetV2Like } from '../../src/models/nets';
import { serializeModel } from '../../src/onnx/serialize';
import { Engine } from '../../src/runtime/engine';
import { randomInputs } from '../../src/cli/exec';
import { useGpu } from '../helpers/gpu';
import { runCli } from '../cli/run-cli';

function bits(t: Tensor): string {
  const d = t.data as Float32Array;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64');
}

/** The float initializers of a model, by name (what refit takes). */
function floatWeights(m: Model): Record<string, Float32Array> {
  return Object.fromEntries([...m.graph.initializers].filter(([, t]) => t.dtype === 'float32').map(([k, t]) => [k, t.data as Float32Array]));
}

async function run(engine: Engine, inputs: Map<string, Tensor>): Promise<Tensor> {
  return (await engine.createExecutionContext().execute(inputs)).get('logits')!;
}

function expectRefitError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RefitError, `expected a RefitError, got ${(e as Error)?.stack ?? e}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('refit', function () {
  this.timeout(180000);
  const gpu = useGpu();
  const A = () => googlenetLike({ size: 16, seed: 5 });
  const B = () => googlenetLike({ size: 16, seed: 9 });
  let inputs: Map<string, Tensor>;

  for (const fp16 of [false, true]) {
    it(`${fp16 ? 'FP16' : 'FP32'}: refitted outputs equal a rebuild's bit for bit (BN folding, re-layout${fp16 ? ', FP16 conversion' : ''})`, async () => {
      const engine = buildEngine(A(), { device: gpu.device, refittable: true, fp16 });
      const rebuilt = buildEngine(B(), { device: gpu.device, fp16 });
      try {
        inputs ??= randomInputs(engine.inputs, 3);
        assert.ok(engine.refittable);
        assert.ok(engine.refittableWeights.some((w) => w.name === 'stem_bn.scale' && w.dims.join() === '16'));
        const before = await run(engine, inputs);
        const r = engine.refit(floatWeights(B()));
        assert.ok(r.weights > 0 && r.slots > 0 && r.bytes > 0, JSON.stringify(r));
        const after = await run(engine, inputs);
        assert.notEqual(bits(after), bits(before), 'the outputs changed');
        assert.equal(bits(after), bits(await run(rebuilt, inputs)), 'refit == rebuild');
      } finally {
        engine.dispose();
        rebuilt.dispose();
      }
    });
  }

  it('one folded weight (a BatchNormalization scale) alone: re-folded into the Conv', async () => {
    const engine = buildEngine(A(), { device: gpu.device, refittable: true });
    const m = A();
    const scale = m.graph.initializers.get('stem_bn.scale')!;
    const next = new Tensor('float32', scale.dims, (scale.data as Float32Array).map((v, i) => v * (i % 2 ? 1.5 : -0.5)));
    m.graph.initializers.set('stem_bn.scale', next);
    const rebuilt = buildEngine(m, { device: gpu.device });
    try {
      assert.ok(!engine.plan.tensors.has('stem_bn.scale'), 'the BN is folded away in the plan');
      const r = engine.refit({ 'stem_bn.scale': next });
      assert.equal(r.weights, 1);
      assert.equal(bits(await run(engine, inputs)), bits(await run(rebuilt, inputs)));
      assert.deepEqual(engine.refit({ 'stem_bn.scale': next }), { weights: 0, slots: 0, bytes: 0, replanMs: 0, uploadMs: 0 }, 'unchanged values are skipped');
    } finally {
      engine.dispose();
      rebuilt.dispose();
    }
  });

  it('refitFromOnnx takes every weight of an ONNX file of the same graph; the engine saves and loads refitted', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-refit-'));
    const engine = buildEngine(A(), { device: gpu.device, refittable: true });
    const rebuilt = buildEngine(B(), { device: gpu.device });
    try {
      const want = bits(await run(rebuilt, inputs));
      const file = path.join(dir, 'b.onnx');
      fs.writeFileSync(file, serializeModel(B()));
      // loaded from a file: refit works there too, and a refitted engine saves its new weights
      const loaded = Engine.deserialize(engine.serialize(), { device: gpu.device });
      try {
        assert.ok(loaded.refittable);
        loaded.refitFromOnnx(file);
        assert.equal(bits(await run(loaded, inputs)), want);
        const again = Engine.deserialize(loaded.serialize(), { device: gpu.device });
        try {
          assert.equal(bits(await run(again, inputs)), want, 'saved after refit: the new weights');
        } finally {
          again.dispose();
        }
      } finally {
        loaded.dispose();
      }
      const other = path.join(dir, 'other.onnx');
      fs.writeFileSync(other, serializeModel(mobilenetV2Like({ size: 16 })));
      expectRefitError(() => engine.refitFromOnnx(other), /not the same graph/);
      // the CLI: vkrt exec --refit builds a refittable engine; inspect lists its weights
      const saved = path.join(dir, 'a.engine');
      fs.writeFileSync(path.join(dir, 'a.onnx'), serializeModel(A()));
      const r = await runCli('exec', `--onnx=${path.join(dir, 'a.onnx')}`, '--refit', `--saveEngine=${saved}`, '--iterations=1', '--duration=0', '--warmUp=0', '--avgRuns=0');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\[I\] Refittable: 43 weights by ONNX initializer name/);
      const i = await runCli('inspect', saved, '--json');
      assert.ok(JSON.parse(i.stdout).refit.weights.some((w: { name: string }) => w.name === 'stem_bn.scale'));
    } finally {
      engine.dispose();
      rebuilt.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown names, wrong shapes and dtypes, non-refittable engines and runs in flight', async () => {
    const engine = buildEngine(A(), { device: gpu.device, refittable: true });
    const plain = buildEngine(A(), { device: gpu.device });
    try {
      expectRefitError(() => engine.refit({ 'stem.weight': new Float32Array(16 * 3 * 49) }), /'stem\.weight' is not a refittable weight of this engine \(it has \d+: stem\.w, /);
      expectRefitError(() => engine.refit({ 'stem.w': new Float32Array(10) }), /weight 'stem\.w' has shape \[16,3,7,7\] \(2352 values\); got 10 values/);
      expectRefitError(() => engine.refit({ 'stem.w': new Int32Array(2352) as unknown as Float32Array }), /weight 'stem\.w' is float32\[16,3,7,7\]: give a Float32Array \(or a Tensor\), not Int32Array/);
      expectRefitError(() => engine.refit({ 'fc.b': new Tensor('float32', [2, 5], new Float32Array(10)) }), /weight 'fc\.b' has shape \[10\]; got a tensor of shape \[2,5\]/);
      expectRefitError(() => plain.refit({ 'fc.b': new Float32Array(10) }), /not built refittable; build it with BuilderConfig\.refittable/);
      const ctx = engine.createExecutionContext();
      const pending = ctx.execute(inputs);
      expectRefitError(() => engine.refit({ 'fc.b': new Float32Array(10).fill(1) }), /run queued or in flight/);
      await pending;
      engine.refit({ 'fc.b': new Float32Array(10).fill(1) });
    } finally {
      engine.dispose();
      plain.dispose();
    }
  });

  it('a value the build folded into a kernel parameter is refused, naming the weight', () => {
    // mobilenetV2Like's ReLU6 bounds are Clip inputs; the Clip fuses into the Conv epilogue with
    // its bounds as kernel parameters, so new bounds would need another pipeline.
    const engine = buildEngine(mobilenetV2Like({ size: 16 }), { device: gpu.device, refittable: true });
    try {
      const w = engine.refittableWeights.find((x) => x.name === 'stem_relu.max');
      assert.ok(w);
      expectRefitError(() => engine.refit({ 'stem_relu.max': new Float32Array([3]), 'fc.b': new Float32Array(10) }), /the new value of 'stem_relu\.max' changes the engine beyond its weights \(layer \d+ 'stem\+stem_relu': .*parameters/);
    } finally {
      engine.dispose();
    }
  });
});
