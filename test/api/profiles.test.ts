/**
 * Optimization profiles (docs/dynamic-shapes.md): one engine, built once, runs every shape inside
 * its profiles and computes what the reference interpreter does at each; tactics stay those chosen
 * at opt, no shader is compiled for a shape inside a profile, programs are cached per shape; a shape
 * outside every profile is a ProfileShapeError naming the input, the shape and the ranges; engine
 * files carry the profiles; InferenceSession runs varying batches.
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { InferenceSession } from '../../src/api/session';
import { EngineFileError, InputError, ProfileShapeError } from '../../src/errors';
import { Device } from '../../src/gpu/device';
import type { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { serializeModel } from '../../src/onnx/serialize';
import { Engine } from '../../src/runtime/engine';
import { readEngineFile, writeEngineFile } from '../../src/runtime/engine-file';
import { bertEmbeddings, dynamicBatchMlp } from '../helpers/dynamic-models';
import { assertNoValidationMessages, testDeviceIndex, useGpu, validationWanted } from '../helpers/gpu';

function rewrite(bytes: Uint8Array, change: (parts: ReturnType<typeof readEngineFile>) => void): Uint8Array {
  const parts = readEngineFile(bytes);
  change(parts);
  return writeEngineFile(parts);
}

function input(dims: number[], seed: number): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return new Tensor('float32', dims, Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 2));
}

function assertClose(got: Tensor, want: Tensor, where: string, tol = 1e-4): void {
  assert.deepEqual([...got.dims], [...want.dims], `${where}: shape`);
  const a = got.data as Float32Array, b = want.data as Float32Array;
  for (let i = 0; i < b.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])))) assert.fail(`${where}: element ${i} is ${a[i]}, the reference gives ${b[i]}`);
  }
}

function reference(model: Model, feeds: Record<string, Tensor>): Tensor {
  return interpret(model, feeds).get(model.graph.outputs[0]) as Tensor;
}

describe('optimization profiles', function () {
  this.timeout(300000);
  const gpu = useGpu();

  describe('a dynamic-batch MLP with one profile (batch 1..8, tuned at 4)', () => {
    let engine: Engine;
    const model = dynamicBatchMlp();
    before(() => {
      engine = buildEngine(dynamicBatchMlp(), { device: gpu.device, profiles: [{ x: { min: [1, 4, 4], opt: [4, 4, 4], max: [8, 4, 4] } }] });
    });
    after(() => engine?.dispose());

    it('the engine is the opt shape and lists its profile', () => {
      assert.deepEqual(engine.inputs[0].dims, [4, 4, 4]);
      assert.deepEqual(engine.profiles, [{ x: { min: [1, 4, 4], opt: [4, 4, 4], max: [8, 4, 4] } }]);
      assert.equal(engine.plan.paramMode, 'push', 'profile engines take push constants by default');
    });

    it('runs min, opt, max and every batch between against the reference interpreter; no shader compiled, tactics kept', async () => {
      const ctx = engine.createExecutionContext();
      for (const batch of [1, 4, 8, 3, 5, 2, 7, 6, 1, 8]) {
        const x = input([batch, 4, 4], batch);
        const out = await ctx.execute({ x });
        const y = out.get(model.graph.outputs[0])!;
        assertClose(y, reference(model, { x }), `batch ${batch}`);
        const cost = ctx.lastTiming!.specialization;
        if (cost) assert.equal(cost.shadersCompiled, 0, `batch ${batch}: a shader was compiled`);
        if (cost) assert.ok(cost.weightsShared, `batch ${batch}: the weights were copied`);
      }
      const base = engine.specializations.base;
      const kernels = engine.plan.profiles!.profiles[0].kernels;
      const spec = engine.specializations.get(0, { x: [7, 4, 4] });
      assert.notEqual(spec, base);
      for (const l of spec.plan.layers) if (kernels[l.name]) assert.equal(l.kernel, kernels[l.name], `layer ${l.name} kept its tactic`);
      ctx.dispose();
    });

    it('a shape seen before runs from the cache: no plan made, no program recorded', async () => {
      const ctx = engine.createExecutionContext();
      await ctx.execute({ x: input([5, 4, 4], 1) });
      const made = engine.specializations.made;
      const y = (await ctx.execute({ x: input([5, 4, 4], 2) })).get(model.graph.outputs[0])!;
      assert.equal(engine.specializations.made, made, 'no new plan');
      assert.equal(ctx.lastTiming!.specialization, undefined);
      assert.equal(ctx.lastTiming!.recordMs, undefined, 'no program recorded');
      assertClose(y, reference(model, { x: input([5, 4, 4], 2) }), 'batch 5 again');
      ctx.dispose();
    });

    it('a shape outside every profile is a ProfileShapeError naming the input, the shape and the ranges', async () => {
      const ctx = engine.createExecutionContext();
      await assert.rejects(ctx.execute({ x: input([9, 4, 4], 0) }), (e: unknown) => {
        assert.ok(e instanceof ProfileShapeError && e instanceof InputError, String(e));
        assert.equal(e.code, 'SHAPE_OUT_OF_PROFILE');
        assert.equal(e.input, 'x');
        assert.deepEqual(e.shape, [9, 4, 4]);
        assert.match(e.message, /input 'x' has shape \[9,4,4\], outside every optimization profile of the engine \(profile 0: min \[1,4,4\], opt \[4,4,4\], max \[8,4,4\]\)/);
        return true;
      });
      assert.throws(() => ctx.setInputShape('x', [0, 4, 4]), ProfileShapeError);
      assert.throws(() => ctx.setInputShape('x', [2, 4]), /input 'x' has shape \[2,4\], outside every/);
      // the context still runs
      assert.deepEqual((await ctx.execute({ x: input([2, 4, 4], 3) })).get(model.graph.outputs[0])!.dims, [2, 8]);
      ctx.dispose();
    });

    it('setInputShape prepares the shape (plan and program) and getTensorShape gives the outputs\' shapes', async () => {
      const ctx = engine.createExecutionContext();
      ctx.setInputShape('x', [6, 4, 4]);
      assert.deepEqual(ctx.getTensorShape('x'), [6, 4, 4]);
      assert.deepEqual(ctx.getTensorShape(model.graph.outputs[0]), [6, 8]);
      await ctx.execute({ x: input([6, 4, 4], 6) });
      assert.equal(ctx.lastTiming!.recordMs, undefined, 'recorded by setInputShape already');
      ctx.dispose();
    });

    it('serializes with its profile; the loaded engine runs every shape without compiling a shader', async () => {
      const bytes = engine.serialize();
      const loaded = Engine.deserialize(bytes, { device: gpu.device });
      try {
        assert.deepEqual(loaded.profiles, engine.profiles);
        const ctx = loaded.createExecutionContext();
        for (const batch of [1, 8, 3]) {
          const x = input([batch, 4, 4], 10 + batch);
          const y = (await ctx.execute({ x })).get(model.graph.outputs[0])!;
          assertClose(y, reference(model, { x }), `loaded, batch ${batch}`);
          assert.equal(ctx.lastTiming!.specialization?.shadersCompiled ?? 0, 0);
        }
        // the same bytes again: deterministic
        assert.deepEqual(Buffer.from(loaded.serialize()).equals(Buffer.from(bytes)), true);
      } finally {
        loaded.dispose();
      }
    });

    it('an untrusted load compiles the profile shaders again and runs every shape', async () => {
      const untrustedDevice = Device.create({ index: testDeviceIndex(), validation: validationWanted(), robustBufferAccess: true });
      try {
        const loaded = Engine.deserialize(engine.serialize(), { device: untrustedDevice, untrusted: true });
        const ctx = loaded.createExecutionContext();
        for (const batch of [2, 8]) {
          const x = input([batch, 4, 4], 30 + batch);
          assertClose((await ctx.execute({ x })).get(model.graph.outputs[0])!, reference(model, { x }), `untrusted, batch ${batch}`);
        }
        loaded.dispose();
        assertNoValidationMessages(untrustedDevice, 'the untrusted profile engine');
      } finally {
        untrustedDevice.dispose();
      }
    });

    it('engine files: format 3 carries the profiles; a format 2 file of fixed shapes still loads, one claiming profiles is refused', () => {
      const bytes = engine.serialize();
      assert.equal(readEngineFile(bytes).formatVersion, 3);
      const asV2 = (b: Uint8Array) => { const c = b.slice(); new DataView(c.buffer).setUint32(8, 2, true); return c; };
      assert.throws(() => Engine.deserialize(asV2(bytes), { device: gpu.device }), (e: unknown) => e instanceof EngineFileError && e.reason === 'corrupt' && /format 2 file holds no optimization profiles/.test(e.message));
      const fixed = buildEngine(dynamicBatchMlp(), { device: gpu.device, inputShapes: { x: [2, 4, 4] } });
      try {
        const old = Engine.deserialize(asV2(fixed.serialize()), { device: gpu.device });
        assert.deepEqual(old.profiles, []);
        assert.deepEqual(old.inputs[0].dims, [2, 4, 4]);
        old.dispose();
      } finally {
        fixed.dispose();
      }
      // a profile shader table that does not fit the plan is a damaged file
      const broken = rewrite(bytes, (p) => { (p.manifest as { profileShaders?: number[] }).profileShaders = [999]; });
      assert.throws(() => Engine.deserialize(broken, { device: gpu.device }), (e: unknown) => e instanceof EngineFileError && e.reason === 'corrupt' && /profile shader table/.test(e.message));
    });

    it('with paramMode spec the pipelines are made per shape (specialization constants) and the results agree', async () => {
      const spec = buildEngine(dynamicBatchMlp(), { device: gpu.device, paramMode: 'spec', profiles: [{ x: { min: [1, 4, 4], opt: [2, 4, 4], max: [5, 4, 4] } }] });
      try {
        const ctx = spec.createExecutionContext();
        const x = input([5, 4, 4], 5);
        assertClose((await ctx.execute({ x })).get(model.graph.outputs[0])!, reference(model, { x }), 'spec mode, batch 5');
        const cost = ctx.lastTiming!.specialization!;
        assert.equal(cost.shadersCompiled, 0);
        assert.ok(cost.pipelinesCreated > 0, 'new specialization constants make new pipelines');
        ctx.dispose();
      } finally {
        spec.dispose();
      }
    });
  });

  it('two profiles: each shape runs in the first profile that holds it, or in the one the context chooses', async () => {
    const model = dynamicBatchMlp();
    const engine = buildEngine(model, {
      device: gpu.device,
      profiles: [{ x: { min: [1, 4, 4], opt: [2, 4, 4], max: [4, 4, 4] } }, { x: { min: [3, 4, 4], opt: [16, 4, 4], max: [32, 4, 4] } }],
    });
    try {
      assert.equal(engine.profiles.length, 2);
      const ctx = engine.createExecutionContext();
      for (const batch of [1, 4, 5, 32, 17]) {
        const x = input([batch, 4, 4], batch);
        assertClose((await ctx.execute({ x })).get(model.graph.outputs[0])!, reference(model, { x }), `batch ${batch}`);
      }
      ctx.optimizationProfile = 1;
      const x = input([3, 4, 4], 3);
      assertClose((await ctx.execute({ x })).get(model.graph.outputs[0])!, reference(model, { x }), 'batch 3 in profile 1');
      assert.ok(engine.specializations.get(1, { x: [3, 4, 4] }).profile === 1);
      await assert.rejects(ctx.execute({ x: input([2, 4, 4], 0) }), /outside optimization profile 1 \(profile 1: min \[3,4,4\]/);
      assert.throws(() => { ctx.optimizationProfile = 2; }, /2 is not one/);
      ctx.dispose();
    } finally {
      engine.dispose();
    }
  });

  it('BERT embeddings with a dynamic batch and sequence: Range over Shape folds at every shape', async () => {
    const model = bertEmbeddings(32, 16, 64);
    const engine = buildEngine(model, { device: gpu.device, profiles: [{ input_ids: { min: [1, 1], opt: [2, 8], max: [4, 16] } }] });
    try {
      const ctx = engine.createExecutionContext();
      for (const [b, s, again] of [[1, 1], [2, 8], [4, 16], [3, 5], [3, 5, 1]]) {
        const ids = Tensor.from('int64', [b, s], Array.from({ length: b * s }, (_, i) => (i * 7) % 16));
        const y = (await ctx.execute({ input_ids: ids })).get(model.graph.outputs[0])!;
        assertClose(y, reference(model, { input_ids: ids }), `batch ${b}, seq ${s}`);
        // the position embeddings fold to a constant of the sequence length: another length, other weights
        const cost = ctx.lastTiming!.specialization;
        if (cost && s !== 8) assert.equal(cost.weightsShared, false, `seq ${s}: the folded position embeddings differ from opt's`);
        if (again) assert.equal(cost, undefined, `batch ${b}, seq ${s} was planned twice`);
      }
      ctx.dispose();
    } finally {
      engine.dispose();
    }
  });

  it('refuses profiles that do not fit the model, naming the profile, input and dimension', () => {
    const p = (x: object) => () => buildEngine(dynamicBatchMlp(), { device: gpu.device, profiles: [x as never] });
    assert.throws(p({ y: { min: [1, 4, 4], opt: [1, 4, 4], max: [1, 4, 4] } }), /profile 0 names 'y', which is not an input of the model/);
    assert.throws(p({ x: { min: [2, 4, 4], opt: [1, 4, 4], max: [4, 4, 4] } }), /profile 0, input 'x' dimension 0: min 2 <= opt 1 <= max 4 does not hold/);
    assert.throws(p({ x: { min: [1, 4, 4], opt: [1, 4, 4], max: [4, 4, 5] } }), /dimension 2 is fixed at 4 by the model; the profile gives 4..5/);
    assert.throws(p({ x: { min: [1, 4], opt: [1, 4], max: [4, 4] } }), /the model gives it rank 3/);
  });

  it('InferenceSession with profiles runs varying batches', async () => {
    const model = dynamicBatchMlp();
    const session = await InferenceSession.create(serializeModel(model), { device: gpu.device, profiles: [{ x: { min: [1, 4, 4], opt: [2, 4, 4], max: [6, 4, 4] } }] });
    try {
      assert.deepEqual(session.inputMetadata[0].shape, [2, 4, 4], 'the opt shape');
      for (const batch of [1, 6, 2, 5]) {
        const x = input([batch, 4, 4], 20 + batch);
        const out = await session.run({ x });
        assertClose(out[model.graph.outputs[0]] as Tensor, reference(model, { x }), `session, batch ${batch}`);
      }
      await assert.rejects(session.run({ x: input([7, 4, 4], 0) }), ProfileShapeError);
    } finally {
      await session.release();
    }
  });
});
