/**
 * onnxruntime-node parity (docs/onnxruntime.md, row by row): the Tensor constructors and checks,
 * float16 as half bits, getData/dispose, and InferenceSession's create overloads, metadata,
 * run(feeds, fetches, options), profiling, release, errors; and the same user code run against
 * onnxruntime-node itself and vkrt on mnist-8 giving the same answers.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Builder, InferenceSession } from '../../src/api/session';
import { DisposedError, InputError } from '../../src/errors';
import { Device } from '../../src/gpu/device';
import { GraphBuilder } from '../../src/ir/builder';
import { float16Bits, float16Values, Tensor } from '../../src/ir/tensor';
import { serializeModel } from '../../src/onnx/serialize';
import { ensureDriver } from '../helpers/gpu';
import { MODELS } from '../helpers/model-cases';

const MNIST = path.join(MODELS, 'mnist-8', 'model.onnx');

describe('onnxruntime-node parity: Tensor', () => {
  it('new Tensor(type, data, dims?) with the type\'s typed array or a plain array', () => {
    const t = new Tensor('float32', new Float32Array([1, 2, 3, 4]), [2, 2]);
    assert.equal(t.type, 'float32');
    assert.deepEqual(t.dims, [2, 2]);
    assert.equal(t.size, 4);
    assert.deepEqual(new Tensor('float32', new Float32Array(3)).dims, [3]);
    assert.deepEqual(Array.from(new Tensor('float32', [1, 2, 3, 4], [2, 2]).data as Float32Array), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(new Tensor('int64', [1, 2n], [2]).data as BigInt64Array), [1n, 2n]);
    assert.deepEqual(Array.from(new Tensor('bool', [true, false]).data as Uint8Array), [1, 0]);
    assert.deepEqual(new Tensor('string', ['a', 'b']).data, ['a', 'b']);
    assert.ok(new Tensor('uint8', new Uint8ClampedArray([1, 300])).data instanceof Uint8Array);
  });

  it('new Tensor(data, dims?) infers the type from the data', () => {
    const cases: [unknown, string][] = [
      [new Float32Array(2), 'float32'], [new Float64Array(2), 'float64'], [new Int8Array(2), 'int8'], [new Uint8Array(2), 'uint8'],
      [new Int16Array(2), 'int16'], [new Uint16Array(2), 'uint16'], [new Int32Array(2), 'int32'], [new Uint32Array(2), 'uint32'],
      [new BigInt64Array(2), 'int64'], [new BigUint64Array(2), 'uint64'], [['a', 'b'], 'string'], [[true, false], 'bool'],
      [new Uint8ClampedArray(2), 'uint8'],
    ];
    for (const [data, type] of cases) {
      const t = new Tensor(data as Float32Array, [1, 2]);
      assert.equal(t.type, type);
      assert.deepEqual(t.dims, [1, 2]);
    }
    assert.deepEqual(new Tensor(new Float32Array(6)).dims, [6]);
    assert.throws(() => new Tensor([] as unknown as Float32Array), /cannot be inferred from an empty array/);
    assert.throws(() => new Tensor([1, 2] as unknown as Float32Array), /cannot be inferred from an array of number/);
  });

  it('{ location: "cpu-pinned" } is a host tensor; GPU locations are refused in API terms', () => {
    const t = new Tensor({ location: 'cpu-pinned', type: 'float32', data: new Float32Array(4), dims: [2, 2] });
    assert.equal(t.location, 'cpu-pinned');
    assert.throws(() => new Tensor({ location: 'gpu-buffer', type: 'float32', data: new Float32Array(4), dims: [4] } as never), /location 'gpu-buffer' is not supported/);
  });

  it('strict type checks: the wrong typed array, non-integers for integers, numbers for float16', () => {
    assert.throws(() => new Tensor('float32', new Float64Array(4), [4]), (e: Error) => e instanceof InputError && /'float32' tensor's data must be a Float32Array, got a Float64Array/.test(e.message));
    assert.throws(() => new Tensor('int32', new Float32Array(4), [4]), /must be a Int32Array/);
    assert.throws(() => new Tensor('int32', [1.5, 2], [2]), /must hold integers, got 1\.5 at 0/);
    assert.throws(() => new Tensor('int64', [0.5], [1]), /must hold integers/);
    assert.throws(() => new Tensor('bool', [2], [1]), /booleans \(or 0 and 1\)/);
    assert.throws(() => new Tensor('float16', [1, 2], [2]), /Uint16Array.*float16Bits/);
    assert.throws(() => new Tensor('string', [1, 2] as unknown as string[], [2]), /array of strings/);
    assert.throws(() => new Tensor('float32', new Float32Array(3), [2, 2]), /needs 4 elements, got 3/);
    // vkrt's order (dtype, dims, data) checks the host array too
    assert.throws(() => new Tensor('float32', [2], new Int32Array(2)), /must be a Float32Array/);
  });

  it('float16 is Uint16Array half bits in and out, with helpers for values', () => {
    const bits = float16Bits([1, -2, 0.5, 65504]);
    assert.deepEqual(Array.from(bits), [0x3c00, 0xc000, 0x3800, 0x7bff]);
    assert.deepEqual(Array.from(float16Values(bits)), [1, -2, 0.5, 65504]);
    const t = new Tensor('float16', bits, [4]);
    assert.ok(t.data instanceof Uint16Array);
    assert.deepEqual(Array.from(t.toNumbers()), [1, -2, 0.5, 65504]);
    assert.equal(t.get(1), -2);
  });

  it('getData() resolves to the data; dispose() drops it (location "none"); reshape keeps it', async () => {
    const t = new Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]);
    assert.equal(t.location, 'cpu');
    assert.equal(await t.getData(), t.data);
    assert.deepEqual(t.reshape([2, 2]).dims, [2, 2]);
    t.dispose();
    assert.equal(t.location, 'none');
    assert.throws(() => t.data, /disposed/);
  });
});

describe('onnxruntime-node parity: InferenceSession', function () {
  this.timeout(300000);
  let dir: string;
  let device: Device;
  const input = () => new Tensor('float32', Float32Array.from({ length: 784 }, (_, i) => (i % 7) / 7), [1, 1, 28, 28]);

  before(() => {
    ensureDriver();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-ort-'));
    device = Device.create({ validation: !!process.env.VKRT_VALIDATION });
  });
  after(() => {
    device.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the same user code on onnxruntime-node and on vkrt gives the same answers', async function () {
    let ort: typeof import('onnxruntime-node');
    if (process.env.VKRT_SKIP_ORT === '1') this.skip(); // scripts/arm64/test.sh: onnxruntime's arm64 binary crashes under qemu-user
    try {
      ort = require('onnxruntime-node');
    } catch {
      this.skip(); // no onnxruntime-node for this platform (the ARM64 run under qemu)
    }
    // written once against the common API: create, names, metadata, run with fetches and options, release
    async function use(api: { InferenceSession: { create(p: string, o?: object): Promise<unknown> }; Tensor: new (t: 'float32', d: Float32Array, dims: number[]) => unknown }) {
      const s = (await api.InferenceSession.create(MNIST, { graphOptimizationLevel: 'all' })) as {
        inputNames: readonly string[]; outputNames: readonly string[]; inputMetadata: readonly { name: string; isTensor: boolean; type: string }[];
        run(f: object, fetches?: object, o?: object): Promise<Record<string, { data: Float32Array; dims: readonly number[]; type: string }>>; release(): Promise<void>;
      };
      const x = new api.Tensor('float32', input().data as Float32Array, [1, 1, 28, 28]);
      const out = await s.run({ [s.inputNames[0]]: x }, [s.outputNames[0]], { tag: 'parity' });
      const y = out[s.outputNames[0]];
      const r = { inputNames: [...s.inputNames], outputNames: [...s.outputNames], meta: s.inputMetadata.map((m) => [m.name, m.isTensor, m.type]), dims: [...y.dims], type: y.type, data: Array.from(y.data) };
      await s.release();
      return r;
    }
    const vkrt = { InferenceSession: { create: (p: string, o?: object) => InferenceSession.create(p, { ...o, device }) }, Tensor };
    const [a, b] = [await use(ort as never), await use(vkrt as never)];
    assert.deepEqual(b.inputNames, a.inputNames);
    assert.deepEqual(b.outputNames, a.outputNames);
    assert.deepEqual(b.meta, a.meta);
    assert.deepEqual(b.dims, a.dims);
    assert.equal(b.type, a.type);
    const err = Math.max(...a.data.map((v, i) => Math.abs(v - b.data[i])));
    assert.ok(err < 1e-2, `max abs diff ${err}`);
  });

  it('create(path | Uint8Array | ArrayBuffer | ArrayBuffer, offset, length); metadata', async () => {
    const bytes = fs.readFileSync(MNIST);
    const padded = new ArrayBuffer(bytes.length + 16);
    new Uint8Array(padded, 8, bytes.length).set(bytes);
    const plain = new Uint8Array(bytes).buffer;
    const sessions = [
      await InferenceSession.create(MNIST, { device }),
      await InferenceSession.create(new Uint8Array(bytes), { device }),
      await InferenceSession.create(plain, { device }),
      await InferenceSession.create(padded, 8, bytes.length, { device }),
    ];
    for (const s of sessions) {
      assert.deepEqual(s.inputMetadata, [{ name: 'Input3', isTensor: true, type: 'float32', shape: [1, 1, 28, 28] }]);
      assert.deepEqual(s.outputMetadata, [{ name: 'Plus214_Output_0', isTensor: true, type: 'float32', shape: [1, 10] }]);
      await s.release();
    }
    await assert.rejects(InferenceSession.create(padded, 8, bytes.length + 100, { device }), /do not fit a buffer/);
    await assert.rejects(InferenceSession.create(42 as unknown as string), InputError);
  });

  it('run(feeds), run(feeds, names), run(feeds, { name: null | preallocated }), run(feeds, options), run(feeds, fetches, options)', async () => {
    const s = await InferenceSession.create(MNIST, { device });
    const feeds = { Input3: input() };
    const all = await s.run(feeds);
    assert.deepEqual(Object.keys(all), ['Plus214_Output_0']);
    assert.deepEqual(Object.keys(await s.run(feeds, ['Plus214_Output_0'])), ['Plus214_Output_0']);
    assert.deepEqual(Object.keys(await s.run(feeds, { Plus214_Output_0: null })), ['Plus214_Output_0']);
    const pre = new Tensor('float32', new Float32Array(10), [1, 10]);
    const got = await s.run(feeds, { Plus214_Output_0: pre }, { tag: 'x' });
    assert.equal(got.Plus214_Output_0, pre);
    assert.deepEqual(Array.from(pre.data as Float32Array), Array.from(all.Plus214_Output_0.data as Float32Array));
    assert.ok(await s.run(feeds, { logSeverityLevel: 3, tag: 'options only' }));
    assert.ok(await s.run(feeds, ['Plus214_Output_0'], { tag: 'both' }));
    await assert.rejects(s.run(feeds, ['nope']), /'nope' is not an output of this model \(outputs: Plus214_Output_0\)/);
    await assert.rejects(s.run(feeds, { tag: 5 } as never), /options.tag must be a string/);
    await assert.rejects(s.run(feeds, { Plus214_Output_0: new Tensor('float32', new Float32Array(4), [4]) }), /preallocated 'Plus214_Output_0' is float32\[4\]/);
    // wrong inputs are InputErrors in API terms
    await assert.rejects(s.run({ Input3: new Tensor('int32', new Int32Array(784), [1, 1, 28, 28]) }), /input 'Input3' must be float32, got int32/);
    await assert.rejects(s.run({}), /input 'Input3' is missing/);
    await assert.rejects(s.run({ Input3: input(), extra: input() }), /'extra' is not an input/);
    await s.release();
    await s.release(); // idempotent
    await assert.rejects(s.run(feeds), DisposedError);
  });

  it('startProfiling / endProfiling write a trace of the runs in between; enableProfiling', async () => {
    const prefix = path.join(dir, 'prof');
    const s = await InferenceSession.create(MNIST, { device, profileFilePrefix: prefix });
    await s.run({ Input3: input() }); // not profiled
    s.startProfiling();
    await s.run({ Input3: input() });
    await s.run({ Input3: input() });
    const file = s.endProfiling()!;
    assert.ok(file.startsWith(prefix) && file.endsWith('.json'), file);
    const trace = JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: { name: string; cat?: string }[]; otherData: { runs: number } };
    assert.equal(trace.otherData.runs, 2);
    assert.ok(trace.traceEvents.some((e) => e.cat === 'layer'), 'per-layer GPU events');
    assert.equal(s.endProfiling(), undefined);
    await s.release();
    const s2 = await InferenceSession.create(MNIST, { device, enableProfiling: true, profileFilePrefix: prefix });
    await s2.run({ Input3: input() });
    assert.ok(fs.existsSync(s2.endProfiling()!));
    await s2.release();
  });

  it('float16 inputs and outputs as half bits through a session', async () => {
    const b = new GraphBuilder('f16', { '': 17 });
    b.input('x', 'float16', [4]);
    b.node('Relu', ['x'], {}, { outputs: ['y'] });
    b.output('y', 'float16', [4]);
    const s = await InferenceSession.create(serializeModel(b.build()), { device });
    assert.deepEqual(s.inputMetadata[0], { name: 'x', isTensor: true, type: 'float16', shape: [4] });
    const { y } = await s.run({ x: new Tensor('float16', float16Bits([1.5, -2, 0.25, 3]), [4]) });
    assert.ok(y.data instanceof Uint16Array, `float16 output as ${y.data.constructor.name}`);
    assert.deepEqual(Array.from(float16Values(y.data as Uint16Array)), [1.5, 0, 0.25, 3]);
    await s.release();
  });

  it('freeDimensionOverrides fixes symbolic dimensions; without it they become 1 with a warning naming them', async () => {
    const b = new GraphBuilder('sym', { '': 17 });
    b.input('x', 'float32', ['batch', 4]);
    b.node('Relu', ['x'], {}, { outputs: ['y'] });
    b.output('y', 'float32', ['batch', 4]);
    const bytes = serializeModel(b.build());
    const warnings: string[] = [];
    const onWarning = (w: Error) => { if (w.name === 'VkrtWarning') warnings.push(w.message); };
    process.on('warning', onWarning);
    try {
      const s1 = await InferenceSession.create(bytes, { device });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.deepEqual(s1.inputMetadata[0].shape, [1, 4]);
      await s1.release();
    } finally {
      process.off('warning', onWarning);
    }
    assert.ok(warnings.some((w) => /input 'x' \[batch,4\]: dynamic dimension 0 \('batch'\) not given; using 1/.test(w)), warnings.join('\n'));
    const s = await InferenceSession.create(bytes, { device, freeDimensionOverrides: { batch: 3 } });
    assert.deepEqual(s.inputMetadata[0].shape, [3, 4]);
    const { y } = await s.run({ x: new Tensor('float32', new Float32Array(12).fill(-1), [3, 4]) });
    assert.deepEqual(y.dims, [3, 4]);
    await s.release();
  });

  it('engines outlive their Builder; the device closes with the last engine', async () => {
    const builder = new Builder();
    const e1 = builder.buildEngine(MNIST);
    const e2 = await builder.buildEngineAsync(MNIST);
    builder.dispose();
    assert.throws(() => builder.buildEngine(MNIST), DisposedError);
    const ctx = e1.createExecutionContext();
    const out = await ctx.execute({ Input3: input() });
    assert.deepEqual(out.get('Plus214_Output_0')!.dims, [1, 10]);
    e1.dispose();
    assert.equal(builder.device.disposed, false);
    assert.ok(await e2.createExecutionContext().execute({ Input3: input() }));
    e2.dispose();
    assert.equal(builder.device.disposed, true);
  });
});
