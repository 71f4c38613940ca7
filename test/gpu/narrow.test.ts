/**
 * Narrow types on the GPU against the CPU reference, bit for bit: the packed float8/float4 storage
 * (upload, kernels, readback), Cast/CastLike between every dtype pair the GPU holds (saturate 0/1,
 * float8e8m0 round modes), QuantizeLinear/DequantizeLinear to and from float8/float4, BitCast, and
 * the integer bit operators (BitShift, BitwiseAnd/Or/Xor/Not) and integer Pow on every integer
 * dtype. Inputs are edge values (every code of each format, the ties between neighbours and the
 * floats next to them, the saturation thresholds, NaN, ±Inf, ±0, subnormals) on odd sizes.
 */
import { strict as assert } from 'assert';
import { Attr, Graph, Model, Node } from '../../src/ir/graph';
import { DType, onnxDTypeCode } from '../../src/ir/dtype';
import { miniFloatLimits, miniFloatToNumber, MiniFloat } from '../../src/ir/float';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { buildEngine } from '../../src/api/build';
import { Engine } from '../../src/runtime/engine';
import { Device } from '../../src/gpu';
import { fromGpuArray, gpuTypeOf, toGpuArray } from '../../src/kernel/storage';
import { openDevice } from '../helpers/gpu';
import { OpCase, randomTensor, rng, singleNodeModel } from '../helpers/gpu-op';

const MINI: MiniFloat[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0', 'float4e2m1'];
const f32 = (v: number): number => Math.fround(v);
const next = (v: number, dir: 1 | -1): number => {
  const a = new Float32Array([v]), u = new Int32Array(a.buffer);
  if (v === 0) { u[0] = dir; return a[0]; }
  u[0] += (v > 0 ? 1 : -1) * dir;
  return a[0];
};

/** Edge values of a format as float32: every value, midpoints and their neighbours, thresholds, specials. */
function edgeValues(fmt: MiniFloat): number[] {
  const n = fmt === 'float4e2m1' ? 16 : 256;
  const vals = new Set<number>();
  const pos: number[] = [];
  for (let c = 0; c < n; c++) {
    const v = miniFloatToNumber(fmt, c);
    if (Number.isFinite(v)) { vals.add(v); if (v >= 0) pos.push(v); }
  }
  pos.sort((a, b) => a - b);
  for (let k = 0; k + 1 < pos.length; k++) {
    const mid = f32((pos[k] + pos[k + 1]) / 2);
    for (const v of [mid, next(mid, 1), next(mid, -1)]) { vals.add(v); vals.add(-v); }
  }
  const { max, half } = miniFloatLimits(fmt);
  for (const v of [max, half, next(half, -1), next(half, 1), next(max, 1), 2 * max, 1e30, 3.4e38, 1e-30, 1e-40, 1.4e-45, 0]) { vals.add(f32(v)); vals.add(-f32(v)); }
  vals.add(-0); vals.add(Infinity); vals.add(-Infinity); vals.add(NaN);
  return [...vals].map(f32);
}

/** Equal bit for bit as values: same number (-0 and +0 differ), or both NaN. */
function sameValues(e: Tensor, a: Tensor, inputs?: ArrayLike<unknown>): string | undefined {
  if (e.dtype !== a.dtype) return `dtype ${a.dtype}, expected ${e.dtype}`;
  const ed = e.normalized().data, ad = a.normalized().data;
  for (let i = 0; i < ed.length; i++) {
    const x = ed[i] as number | bigint, y = ad[i] as number | bigint;
    if (typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y)) continue;
    if (!Object.is(x, y)) return `element ${i}: ${Object.is(y, -0) ? "-0" : String(y)}, expected ${Object.is(x, -0) ? "-0" : String(x)} (input ${String((inputs?.[i]))})`;
  }
  return undefined;
}

/** Runs `c` on the GPU in each parameter mode (the long sweeps: spec constants only) and compares bit for bit. */
async function exact(device: Device, c: OpCase, modes: readonly ('spec' | 'push')[] = ['spec', 'push']): Promise<void> {
  const { model, feeds } = singleNodeModel(c);
  const ref = interpret(model, feeds);
  for (const mode of modes) {
    const engine = buildEngine(model, { device, paramMode: mode });
    try {
      const out = await engine.createExecutionContext().execute(feeds);
      for (const [name, expected] of ref) {
        const m = sameValues(expected as Tensor, out.get(name)!, c.inputs[0]?.normalized().data as ArrayLike<unknown>);
        assert.equal(m, undefined, `${c.op} ${JSON.stringify(c.attrs ?? {})} (${mode}) ${c.inputs.map((t) => t?.dtype).join(',')} output ${name}: ${m}`);
      }
    } finally {
      engine.dispose();
    }
  }
}

const to = (dtype: DType, extra: Record<string, Attr> = {}): Record<string, Attr> => ({ to: { type: 'int', value: onnxDTypeCode(dtype) }, ...extra });

describe('GPU narrow types', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('packed storage round-trips every code on the host', () => {
    for (const fmt of MINI) {
      const vals = Array.from({ length: fmt === 'float4e2m1' ? 16 : 256 }, (_, c) => miniFloatToNumber(fmt, c));
      const t = new Tensor(fmt, [vals.length], Float32Array.from(vals));
      const gpu = gpuTypeOf(fmt)!;
      const back = fromGpuArray(fmt, t.dims, gpu, new Uint8Array(toGpuArray(t, gpu).buffer));
      assert.equal(sameValues(t, back), undefined, fmt);
    }
  });

  it('Cast float32 -> narrow floats, saturate 1 and 0, edge values', async () => {
    for (const fmt of MINI) {
      for (const saturate of [1, 0]) {
        const x = Tensor.from('float32', [0], []);
        const vals = edgeValues(fmt);
        await exact(device, { op: 'Cast', opset: 25, attrs: to(fmt, { saturate: { type: 'int', value: saturate } }), inputs: [new Tensor('float32', [vals.length], Float32Array.from(vals))] });
        void x;
      }
    }
  });

  it('Cast float16 -> narrow floats (odd sizes), float8e8m0 round modes', async () => {
    for (const fmt of MINI) {
      const vals = edgeValues(fmt).filter((v) => !Number.isFinite(v) || Math.abs(v) <= 65504);
      await exact(device, { op: 'Cast', opset: 25, attrs: to(fmt), inputs: [Tensor.from('float16', [vals.length], vals)] });
      await exact(device, { op: 'Cast', opset: 25, attrs: to(fmt, { saturate: { type: 'int', value: 0 } }), inputs: [Tensor.from('float16', [vals.length], vals)] });
    }
    const vals = edgeValues('float8e8m0');
    for (const mode of ['up', 'down', 'nearest']) {
      for (const saturate of [0, 1]) {
        await exact(device, { op: 'Cast', opset: 25, attrs: to('float8e8m0', { round_mode: { type: 'string', value: mode }, saturate: { type: 'int', value: saturate } }), inputs: [new Tensor('float32', [vals.length], Float32Array.from(vals))] });
      }
    }
  });

  it('Cast from every narrow float to float32, float16, bfloat16, float64, the integers, bool and every narrow float', async () => {
    const targets: DType[] = ['float32', 'float16', 'bfloat16', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'bool', ...MINI];
    for (const fmt of MINI) {
      const all = Array.from({ length: fmt === 'float4e2m1' ? 16 : 256 }, (_, c) => miniFloatToNumber(fmt, c));
      const x = new Tensor(fmt, [all.length], Float32Array.from(all));
      for (const [k, t] of targets.entries()) {
        if (t === 'int64' && fmt === 'float8e8m0') continue; // up to 2^127: int64 is held as int32 values (clamped)
        await exact(device, { op: 'Cast', opset: 25, attrs: to(t), inputs: [x] }, k === 0 ? ['spec', 'push'] : ['spec']);
        if (MINI.includes(t as MiniFloat)) await exact(device, { op: 'Cast', opset: 25, attrs: to(t, { saturate: { type: 'int', value: 0 } }), inputs: [x] }, ['spec']);
      }
      // CastLike takes the target from its second input
      await exact(device, { op: 'CastLike', opset: 25, inputs: [x, Tensor.from('float32', [1], [0])] });
    }
  });

  it('Cast integers, bool and bfloat16 to the narrow floats; float32 -> bfloat16', async () => {
    for (const fmt of MINI) {
      await exact(device, { op: 'Cast', opset: 25, attrs: to(fmt), inputs: [randomTensor('int32', [127], 30, -70000, 70000)] });
      await exact(device, { op: 'Cast', opset: 25, attrs: to(fmt), inputs: [randomTensor('int8', [13], 31, -128, 127)] });
      await exact(device, { op: 'Cast', opset: 25, attrs: to(fmt), inputs: [randomTensor('bool', [13], 32)] });
      await exact(device, { op: 'Cast', opset: 25, attrs: to(fmt), inputs: [randomTensor('bfloat16', [127], 33, -600, 600)] });
      await exact(device, { op: 'CastLike', opset: 25, inputs: [randomTensor('float32', [1000], 34, -500, 500), new Tensor(fmt, [1], Float32Array.from([1]))] });
    }
    const vals = [...edgeValues('float8e5m2'), 3.3895314e38, 3.4028235e38, 1.0000001, 1.0039062, 1.0117188, -1.0039062, 1e-40, -1e-45];
    await exact(device, { op: 'Cast', opset: 25, attrs: to('bfloat16'), inputs: [new Tensor('float32', [vals.length], Float32Array.from(vals.map(f32)))] });
  });

  it('QuantizeLinear to and DequantizeLinear from float8/float4 (per tensor, per axis, zero points, saturate)', async () => {
    const Q_FORMATS: MiniFloat[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float4e2m1'];
    for (const fmt of Q_FORMATS) {
      const vals = edgeValues(fmt);
      const x = new Tensor('float32', [vals.length], Float32Array.from(vals));
      for (const saturate of [1, 0]) {
        await exact(device, { op: 'QuantizeLinear', opset: 25, attrs: { saturate: { type: 'int', value: saturate } }, inputs: [x, Tensor.from('float32', [], [1]), new Tensor(fmt, [], Float32Array.from([0]))], constant: [1, 2] });
        await exact(device, { op: 'QuantizeLinear', opset: 25, attrs: { saturate: { type: 'int', value: saturate } }, inputs: [x, Tensor.from('float32', [], [0.37]), new Tensor(fmt, [], Float32Array.from([0]))], constant: [1, 2] });
      }
      // per axis, scale and zero point as run-time inputs, odd sizes
      const x2 = randomTensor('float32', [3, 13, 5], 40, -700, 700);
      await exact(device, { op: 'QuantizeLinear', opset: 25, attrs: { axis: { type: 'int', value: 1 } }, inputs: [x2, randomTensor('float32', [13], 41, 0.5, 3), new Tensor(fmt, [13], new Float32Array(13))] });
      await exact(device, { op: 'QuantizeLinear', opset: 25, inputs: [randomTensor('float16', [127], 42, -100, 100), Tensor.from('float16', [], [0.75]), new Tensor(fmt, [], Float32Array.from([0]))], constant: [1, 2] });
      // Dequantize: every code, per tensor and per axis, with a zero point of the format
      const n = fmt === 'float4e2m1' ? 16 : 256;
      const codes = Array.from({ length: n }, (_, c) => miniFloatToNumber(fmt, c));
      const xq = new Tensor(fmt, [n], Float32Array.from(codes));
      await exact(device, { op: 'DequantizeLinear', opset: 25, inputs: [xq, Tensor.from('float32', [], [0.3])], constant: [1] });
      await exact(device, { op: 'DequantizeLinear', opset: 25, inputs: [xq, Tensor.from('float16', [], [2])], constant: [1] });
      const xq2 = new Tensor(fmt, [2, n / 2], Float32Array.from(codes));
      await exact(device, { op: 'DequantizeLinear', opset: 25, attrs: { axis: { type: 'int', value: 0 } }, inputs: [xq2, Tensor.from('float32', [2], [0.5, 3]), new Tensor(fmt, [2], Float32Array.from([0, fmt === 'float4e2m1' ? 1 : 2]))] });
    }
  });

  it('int4/uint4/int2/uint2 packed: Cast to and from floats and integers (wrapping), odd sizes', async () => {
    for (const t of ['int4', 'uint4', 'int2', 'uint2'] as DType[]) {
      for (const n of [1, 3, 13, 127, 1000]) {
        await exact(device, { op: 'Cast', opset: 25, attrs: to(t), inputs: [randomTensor('float32', [n], 50 + n, -40, 40)] });
        await exact(device, { op: 'Cast', opset: 25, attrs: to('float32'), inputs: [randomTensor(t, [n], 60 + n, -8, 15)] });
      }
      const edge = [0, -0, 0.9, -0.9, 1.5, -1.5, 7, 8, -8, -9, 15, 16, 17, 1e9, -1e9, NaN, Infinity, -Infinity];
      await exact(device, { op: 'Cast', opset: 25, attrs: to(t), inputs: [Tensor.from('float32', [edge.length], edge)] });
      await exact(device, { op: 'Cast', opset: 25, attrs: to(t), inputs: [randomTensor('int32', [127], 70, -300, 300)] });
      await exact(device, { op: 'Cast', opset: 25, attrs: to(t), inputs: [randomTensor('float16', [13], 71, -20, 20)] });
      for (const u of ['int8', 'uint8', 'int32', 'float16', 'bool', 'int4', 'uint4', 'int2', 'uint2', 'float4e2m1'] as DType[]) {
        await exact(device, { op: 'Cast', opset: 25, attrs: to(u), inputs: [randomTensor(t, [13], 72, -8, 15)] });
      }
    }
  });

  it('int4/uint4/int2/uint2 packed: QuantizeLinear and DequantizeLinear per tensor, per axis and blocked', async () => {
    for (const t of ['int4', 'uint4', 'int2', 'uint2'] as DType[]) {
      const zp = (n: number, seed: number) => randomTensor(t, [n], seed, t.startsWith('u') ? 0 : -2, 1);
      const x = randomTensor('float32', [3, 13, 5], 80, -20, 20);
      await exact(device, { op: 'QuantizeLinear', opset: 25, inputs: [x, Tensor.from('float32', [], [0.7]), zp(1, 81).reshape([])], constant: [1, 2] });
      await exact(device, { op: 'QuantizeLinear', opset: 25, attrs: { axis: { type: 'int', value: 1 } }, inputs: [x, randomTensor('float32', [13], 82, 0.5, 4), zp(13, 83)] });
      await exact(device, { op: 'QuantizeLinear', opset: 25, attrs: { axis: { type: 'int', value: 1 }, block_size: { type: 'int', value: 4 } }, inputs: [x, randomTensor('float32', [3, 4, 5], 84, 0.5, 4), randomTensor(t, [3, 4, 5], 85, -1, 1)] });
      const q = randomTensor(t, [3, 13, 5], 86, -8, 15);
      await exact(device, { op: 'DequantizeLinear', opset: 25, inputs: [q, Tensor.from('float32', [], [0.3]), zp(1, 87).reshape([])], constant: [1, 2] });
      await exact(device, { op: 'DequantizeLinear', opset: 25, attrs: { axis: { type: 'int', value: 1 } }, inputs: [q, randomTensor('float32', [13], 88, 0.5, 4), zp(13, 89)] });
      await exact(device, { op: 'DequantizeLinear', opset: 25, attrs: { axis: { type: 'int', value: 1 }, block_size: { type: 'int', value: 4 } }, inputs: [q, randomTensor('float32', [3, 4, 5], 90, 0.5, 4), randomTensor(t, [3, 4, 5], 91, -1, 1)], constant: [0, 1, 2] });
    }
  });

  it('FP16 engines: float8/float4 casts around FP16 layers match the reference', async () => {
    const g = new Graph('fp16');
    g.inputs.push('x', 'q');
    g.types.set('x', { kind: 'tensor', dtype: 'float32', shape: [127] });
    g.types.set('q', { kind: 'tensor', dtype: 'float8e4m3fn', shape: [127] });
    g.nodes = [
      new Node({ name: 'relu', opType: 'Relu', inputs: ['x'], outputs: ['r'] }),
      new Node({ name: 'c8', opType: 'Cast', inputs: ['r'], outputs: ['r8'], attrs: { to: { type: 'int', value: onnxDTypeCode('float8e5m2') } } }),
      new Node({ name: 'back', opType: 'Cast', inputs: ['r8'], outputs: ['rf'], attrs: { to: { type: 'int', value: 1 } } }),
      new Node({ name: 'cq', opType: 'Cast', inputs: ['q'], outputs: ['qf'], attrs: { to: { type: 'int', value: 1 } } }),
      new Node({ name: 'add', opType: 'Add', inputs: ['rf', 'qf'], outputs: ['s'] }),
      new Node({ name: 'c4', opType: 'Cast', inputs: ['s'], outputs: ['y'], attrs: { to: { type: 'int', value: onnxDTypeCode('float4e2m1') } } }),
    ];
    g.outputs = ['y', 'r8'];
    const m = new Model(g);
    m.opsets.set('', 21);
    const qv = Array.from({ length: 127 }, (_, i) => miniFloatToNumber('float8e4m3fn', (i * 2) % 126));
    const feeds = new Map([['x', randomTensor('float32', [127], 94, -8, 8)], ['q', new Tensor('float8e4m3fn', [127], Float32Array.from(qv))]]);
    const ref = interpret(m, feeds);
    const engine = buildEngine(m, { device, fp16: true });
    try {
      const out = await engine.createExecutionContext().execute(feeds);
      for (const name of ['y', 'r8']) assert.equal(sameValues(ref.get(name) as Tensor, out.get(name)!), undefined, name);
    } finally {
      engine.dispose();
    }
  });

  it('engine files carry packed weights and packed I/O (float8 zero point, int4 weights, float4 output)', async () => {
    const g = new Graph('file');
    g.initializers.set('w', randomTensor('int4', [13], 95, -8, 7));
    g.initializers.set('s', Tensor.from('float32', [], [0.5]));
    g.initializers.set('z8', new Tensor('float8e4m3fn', [], Float32Array.from([0])));
    g.inputs.push('x', 'q');
    g.types.set('x', { kind: 'tensor', dtype: 'float32', shape: [13] });
    g.types.set('q', { kind: 'tensor', dtype: 'float8e5m2', shape: [13] });
    g.nodes = [
      new Node({ name: 'dq', opType: 'DequantizeLinear', inputs: ['w', 's'], outputs: ['wf'] }),
      new Node({ name: 'add', opType: 'Add', inputs: ['wf', 'x'], outputs: ['a'] }),
      new Node({ name: 'q8', opType: 'QuantizeLinear', inputs: ['a', 's', 'z8'], outputs: ['y8'] }),
      new Node({ name: 'cq', opType: 'Cast', inputs: ['q'], outputs: ['y4'], attrs: { to: { type: 'int', value: onnxDTypeCode('float4e2m1') } } }),
    ];
    g.outputs = ['y8', 'y4'];
    const m = new Model(g);
    m.opsets.set('', 25);
    const qv = Array.from({ length: 13 }, (_, i) => miniFloatToNumber('float8e5m2', i * 9));
    const feeds = new Map([['x', randomTensor('float32', [13], 96, -9, 9)], ['q', new Tensor('float8e5m2', [13], Float32Array.from(qv))]]);
    const ref = interpret(m, feeds);
    const built = buildEngine(m, { device });
    const loaded = Engine.deserialize(built.serialize(), { device });
    try {
      const out = await loaded.createExecutionContext().execute(feeds);
      for (const name of ['y8', 'y4']) assert.equal(sameValues(ref.get(name) as Tensor, out.get(name)!), undefined, name);
    } finally {
      loaded.dispose();
      built.dispose();
    }
  });

  it('packed tensors pass whole through views (Reshape of int4 weights into DequantizeLinear) and other ops refuse them by name', async () => {
    const g = new Graph('view');
    // w a run-time input, so nothing folds at build time: the upload packs it, Reshape aliases it
    g.initializers.set('shape', Tensor.from('int64', [2], [3, 10]));
    g.initializers.set('s', Tensor.from('float32', [], [0.25]));
    g.inputs.push('w', 'x');
    g.types.set('w', { kind: 'tensor', dtype: 'int4', shape: [6, 5] });
    g.types.set('x', { kind: 'tensor', dtype: 'float32', shape: [3, 10] });
    g.nodes = [
      new Node({ name: 'r', opType: 'Reshape', inputs: ['w', 'shape'], outputs: ['wr'] }),
      new Node({ name: 'dq', opType: 'DequantizeLinear', inputs: ['wr', 's'], outputs: ['wf'] }),
      new Node({ name: 'add', opType: 'Add', inputs: ['wf', 'x'], outputs: ['y'] }),
    ];
    g.outputs = ['y'];
    const m = new Model(g);
    m.opsets.set('', 21);
    const feeds = new Map([['w', randomTensor('int4', [6, 5], 92, -8, 7)], ['x', randomTensor('float32', [3, 10], 93)]]);
    const ref = interpret(m, feeds).get('y') as Tensor;
    const engine = buildEngine(m, { device, fusion: false });
    try {
      assert.equal(engine.plan.layers.length, 2, 'Reshape is a view: DequantizeLinear and Add are the layers');
      const out = await engine.createExecutionContext().execute(feeds);
      assert.equal(sameValues(ref, out.get('y')!), undefined);
    } finally {
      engine.dispose();
    }
    const g2 = new Graph('refuse');
    g2.inputs.push('a');
    g2.types.set('a', { kind: 'tensor', dtype: 'float8e4m3fn', shape: [4] });
    g2.nodes = [new Node({ name: 'neg', opType: 'Neg', inputs: ['a'], outputs: ['b'] })];
    g2.outputs = ['b'];
    const m2 = new Model(g2);
    m2.opsets.set('', 21);
    assert.throws(() => buildEngine(m2, { device }), /neg \(Neg, opset 21\): a float8e4m3fn tensor is stored packed on the GPU \(u8x4\)/);
  });

  it('BitCast between every pair of one width (32, 16, 8 and 4 bits), int64 <-> uint64', async () => {
    const groups: DType[][] = [
      ['float32', 'int32', 'uint32'],
      ['float16', 'bfloat16', 'int16', 'uint16'],
      ['int8', 'uint8', 'bool', 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0'],
      ['int4', 'uint4', 'float4e2m1'],
    ];
    // every bit pattern of the width (32 bits: a spread of patterns, NaN payloads left out)
    const patterns = (w: number): number[] => (w <= 16 ? Array.from({ length: 2 ** w }, (_, i) => i)
      : [0, 1, 0x7f7fffff, 0x80000000, 0xff7fffff, 0x7f800000, 0xff800000, 0x00000001, 0x807fffff, 0x3f800000, 0xdeadbeef & 0x7f7fffff, 0x12345678]);
    for (const group of groups) {
      const w = group[0] === 'float32' ? 32 : group[0] === 'float16' ? 16 : group[0] === 'int8' ? 8 : 4;
      const bitsIn = patterns(w);
      for (const from of group) {
        // the source tensor: each bit pattern read as `from` (through the reference's BitCast from the unsigned type)
        const u: DType = w === 32 ? 'uint32' : w === 16 ? 'uint16' : w === 8 ? 'uint8' : 'uint4';
        const src = from === 'bool' ? Tensor.from('bool', [13], Array.from({ length: 13 }, (_, i) => i % 2))
          : from === u ? Tensor.from(u, [bitsIn.length], bitsIn)
            : interpret(singleNodeModel({ op: 'BitCast', opset: 26, attrs: to(from), inputs: [Tensor.from(u, [bitsIn.length], bitsIn)] }).model, new Map([['in0', Tensor.from(u, [bitsIn.length], bitsIn)]])).get('out0') as Tensor;
        for (const [k, t] of group.entries()) await exact(device, { op: 'BitCast', opset: 26, attrs: to(t), inputs: [src] }, k === 0 ? ['spec', 'push'] : ['spec']);
      }
    }
    await exact(device, { op: 'BitCast', opset: 26, attrs: to('uint64'), inputs: [Tensor.from('int64', [5], [-1, 0, 5, -2147483648, 2147483647])] });
    await exact(device, { op: 'BitCast', opset: 26, attrs: to('int64'), inputs: [Tensor.from('uint64', [3], [0, 5, 2147483647])] });
  });

  it('float to integer casts truncate and wrap as the reference (NaN, Inf: 0)', async () => {
    const vals = [0, -0, 0.5, -0.5, 1.9, -1.9, 127.5, 128, 255.9, 256, -129, 32768, 65535.5, 2147483520, 2147483648, 4294967296, 6e9, -6e9, 1e20, -2147483648, NaN, Infinity, -Infinity];
    const x = Tensor.from('float32', [vals.length], vals);
    for (const t of ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'bool'] as DType[]) await exact(device, { op: 'Cast', attrs: to(t), inputs: [x] });
  });
});

describe('GPU integer bit operators and Pow', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  const RANGES: Partial<Record<DType, [number, number]>> = {
    int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
    int32: [-2147483648, 2147483647], uint32: [0, 4294967295], int64: [-2147483648, 2147483647], uint64: [0, 2147483647],
  };
  /** Random values over the dtype's whole range (int64/uint64: the int32 range the GPU holds), with the extremes. */
  function full(dtype: DType, n: number, seed: number): Tensor {
    const [lo, hi] = RANGES[dtype]!;
    const r = rng(seed);
    const vals = Array.from({ length: n }, (_, i) => (i === 0 ? lo : i === 1 ? hi : i === 2 ? 0 : Math.floor(lo + (hi - lo + 1) * r())));
    return Tensor.from(dtype, [n], vals);
  }

  for (const dt of ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'] as const) {
    it(`BitwiseAnd/Or/Xor/Not on ${dt}`, async () => {
      for (const op of ['BitwiseAnd', 'BitwiseOr', 'BitwiseXor']) {
        await exact(device, { op, opset: 18, inputs: [full(dt, 127, 1), full(dt, 127, 2)] });
        await exact(device, { op, opset: 18, inputs: [full(dt, 13, 3), full(dt, 1, 4)] });
      }
      await exact(device, { op: 'BitwiseNot', opset: 18, inputs: [full(dt, 1000, 5)] });
    });
  }
  for (const dt of ['uint8', 'uint16', 'uint32', 'uint64'] as const) {
    it(`BitShift LEFT/RIGHT on ${dt}, shift counts 0..40`, async () => {
      // uint64 is held as int32 values: left shifts there stay below 2^31
      const wide = dt === 'uint64';
      const shifts = Tensor.from(dt, [41], Array.from({ length: 41 }, (_, i) => (wide ? i % 24 : i)));
      for (const direction of ['LEFT', 'RIGHT']) {
        const x = wide && direction === 'LEFT' ? Tensor.from(dt, [41], Array.from({ length: 41 }, (_, i) => (i * 37) % 128)) : full(dt, 41, 6);
        await exact(device, { op: 'BitShift', opset: 11, attrs: { direction: { type: 'string', value: direction } }, inputs: [x, shifts] });
        await exact(device, { op: 'BitShift', opset: 11, attrs: { direction: { type: 'string', value: direction } }, inputs: [wide ? Tensor.from(dt, [13], Array.from({ length: 13 }, (_, i) => i * 1000)) : full(dt, 13, 7), Tensor.from(dt, [1], [3])] });
      }
    });
  }
  it('integer Pow (int32/int64 base, integer and float exponents, negative exponents)', async () => {
    const base = Tensor.from('int32', [13], [0, 1, -1, 2, -2, 3, -3, 7, 10, 2, 3, -5, 65537]);
    const e = Tensor.from('int32', [13], [0, 5, 7, 31, 3, 20, 21, -1, 9, 32, -3, 13, 3]);
    await exact(device, { op: 'Pow', opset: 15, inputs: [base, e] });
    // int64 is held as int32 values: results that fit
    await exact(device, { op: 'Pow', opset: 15, inputs: [Tensor.from('int64', [13], [0, 1, -1, 2, -2, 3, -3, 7, 10, 2, 3, -5, 1290]), Tensor.from('int64', [13], [0, 5, 7, 30, 3, 19, 19, -1, 9, 30, -3, 13, 3])] });
    await exact(device, { op: 'Pow', opset: 15, inputs: [base, Tensor.from('float32', [13], [0, 5, 7, 30, 3, 4, 5, -1, 9, 0.5, -3, 1, 1])] });
    await exact(device, { op: 'Pow', opset: 15, inputs: [Tensor.from('int64', [3], [1, 2, 3]), Tensor.from('float32', [3], [4, 5, 6])] });
  });
  it('uint32 keeps its 32 bits: comparisons, Div, Max and Cast to float across 2^31', async () => {
    const a = full('uint32', 127, 8), b = full('uint32', 127, 9);
    for (const op of ['Less', 'Greater', 'Equal', 'Max', 'Min', 'Add', 'Mul']) await exact(device, { op, inputs: [a, b] });
    await exact(device, { op: 'Div', inputs: [a, Tensor.from('uint32', [1], [7])] });
    await exact(device, { op: 'Cast', attrs: to('float32'), inputs: [a] });
  });
});

describe('GPU string Equal (strings held as run-wide ids)', function () {
  this.timeout(120000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('Equal on string inputs, with broadcasting, matches the reference; string constants and outputs are refused by name', async () => {
    const words = ['', 'a', 'b', 'ab', 'é', 'a ', 'A', 'ba'];
    const r = rng(5);
    const pick = (n: number) => Array.from({ length: n }, () => words[Math.floor(r() * words.length)]);
    await exact(device, { op: 'Equal', opset: 19, inputs: [Tensor.from('string', [3, 13], pick(39)), Tensor.from('string', [3, 13], pick(39))] });
    await exact(device, { op: 'Equal', opset: 19, inputs: [Tensor.from('string', [5, 1, 3], pick(15)), Tensor.from('string', [4, 1], pick(4))] });
    const { model } = singleNodeModel({ op: 'Equal', opset: 19, inputs: [Tensor.from('string', [2], ['x', 'y']), Tensor.from('string', [2], ['x', 'z'])], constant: [1] });
    assert.throws(() => buildEngine(model, { device }), /string constant/);
    const { model: m2 } = singleNodeModel({ op: 'Identity', inputs: [Tensor.from('string', [2], ['x', 'y'])] });
    assert.throws(() => buildEngine(m2, { device }), /output 'out0' is a string tensor/);
  });
});
