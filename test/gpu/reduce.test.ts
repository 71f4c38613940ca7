/** GPU kernels of the reduce family against the reference (both param modes, validation layer on). */
import { strict as assert } from 'assert';
import { Attr } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { Device } from '../../src/gpu';
import { openDevice } from '../helpers/gpu';
import { checkOp, OpCase, randomTensor } from '../helpers/gpu-op';

const int = (value: number): Attr => ({ type: 'int', value });
const ints = (value: number[]): Attr => ({ type: 'ints', value });
const i64 = (v: number[]) => Tensor.from('int64', [v.length], v);

/** checkOp for inputs only known at run time (axes, axis): the model declares its output shapes. */
const checkDeclared = (device: Device, c: OpCase) => checkOp(device, c, { declareOutputs: true });

describe('GPU reduce kernels', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  const REDUCES = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];
  // shape, axes, keepdims
  const CASES: [number[], number[], number][] = [
    [[13], [0], 1], [[3, 127], [1], 0], [[3, 127], [0], 1], [[2, 3, 5], [0, 2], 1], [[2, 3, 5, 7], [1, 3], 0],
    [[1000], [0], 0], [[4, 1, 3000], [-1], 1], [[2, 3, 4, 5, 6, 7], [0, 2, 4], 1], [[5, 2, 3], [], 1], [[300, 7], [0], 0],
  ];
  for (const op of REDUCES) {
    it(`${op}: axes, keepdims, long and strided reductions`, async () => {
      const positive = op === 'ReduceLogSum' || op === 'ReduceProd';
      for (const [k, [dims, axes, keepdims]] of CASES.entries()) {
        const n = dims.reduce((a, b) => a * b, 1);
        // products over long axes over/underflow: keep those near 1
        const [lo, hi] = op === 'ReduceProd' ? [0.9, 1.1] : positive ? [0.1, 2] : [-2, 2];
        const x = randomTensor('float32', dims, 10 + k, lo, hi);
        const inputs = axes.length ? [x, i64(axes)] : [x];
        await checkOp(device, { op, attrs: { keepdims: int(keepdims) }, inputs, constant: [1], rtol: n > 1000 ? 1e-3 : 1e-4, atol: 1e-4 });
      }
    });
  }
  it('opset 13 axes attribute, noop_with_empty_axes, empty reductions', async () => {
    await checkOp(device, { op: 'ReduceMean', opset: 13, attrs: { axes: ints([-1]), keepdims: int(0) }, inputs: [randomTensor('float32', [3, 13], 1)] });
    await checkOp(device, { op: 'ReduceSum', opset: 11, attrs: { axes: ints([0, -1]) }, inputs: [randomTensor('float32', [3, 4, 13], 2)] });
    for (const op of ['ReduceSum', 'ReduceSumSquare', 'ReduceL2', 'ReduceLogSumExp']) {
      await checkOp(device, { op, attrs: { noop_with_empty_axes: int(1) }, inputs: [randomTensor('float32', [3, 5], 3)] });
      await checkOp(device, { op, attrs: { noop_with_empty_axes: int(1) }, inputs: [randomTensor('float32', [3, 5], 3), Tensor.from('int64', [0], [])], constant: [1] });
    }
    for (const op of REDUCES) {
      await checkOp(device, { op, attrs: { keepdims: int(1) }, inputs: [randomTensor('float32', [2, 0, 4], 4), i64([1])], constant: [1] });
    }
  });
  it('axes only known at run time: recovered from the shapes, or read on the GPU', async () => {
    const cases: [number[], number[], number, number][] = [
      [[3, 2, 2], [1], 0, 0], [[3, 2, 2], [-1], 0, 0], [[3, 2, 2], [1], 1, 0], [[3, 4, 5], [0, 2], 0, 0], [[2, 2, 2, 2], [0, 3], 0, 0],
      [[3, 5], [], 1, 1], [[3, 5], [], 0, 0], [[2, 0, 4], [1], 0, 0], [[2, 3, 4, 5, 6, 7, 2], [6, 1, 3], 0, 0],
    ];
    for (const op of REDUCES) {
      for (const [k, [dims, axes, keepdims, noop]] of cases.entries()) {
        const [lo, hi] = op === 'ReduceLogSum' || op === 'ReduceProd' ? [0.5, 1.5] : [-2, 2];
        await checkDeclared(device, { op, attrs: { keepdims: int(keepdims), noop_with_empty_axes: int(noop) }, inputs: [randomTensor('float32', dims, 100 + k, lo, hi), i64(axes)], rtol: 1e-3, atol: 1e-4 });
      }
    }
    await checkDeclared(device, { op: 'ReduceSum', attrs: { keepdims: int(0) }, inputs: [randomTensor('int32', [3, 3], 1, -5, 5), i64([0])], rtol: 0, atol: 0 });
    for (const op of ['CumSum', 'CumProd']) {
      for (const axis of [0, 1, -1, 2]) {
        await checkDeclared(device, { op, opset: 26, attrs: { reverse: int(axis & 1) }, inputs: [randomTensor('float32', [2, 3, 5], 5, 0.9, 1.1), Tensor.scalar('int32', axis)] });
      }
    }
  });
  it('integer and bool reductions are exact', async () => {
    for (const op of ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceSumSquare']) {
      for (const dt of ['int32', 'int64'] as const) {
        await checkOp(device, { op, inputs: [randomTensor(dt, [3, 4, 5], 5, -3, 3), i64([0, 2])], constant: [1], rtol: 0, atol: 0 });
        await checkOp(device, { op, inputs: [randomTensor(dt, [2, 700], 6, -3, 3), i64([1])], constant: [1], rtol: 0, atol: 0 });
      }
    }
    for (const op of ['ReduceMax', 'ReduceMin']) {
      await checkOp(device, { op, opset: 20, inputs: [randomTensor('bool', [3, 13], 7), i64([1])], constant: [1] });
      await checkOp(device, { op, opset: 20, inputs: [randomTensor('int32', [3, 0], 7), i64([1])], constant: [1] });
    }
  });
  it('ReduceMax/ReduceMin propagate NaN', async () => {
    const x = randomTensor('float32', [4, 300], 8);
    (x.data as Float32Array)[5] = NaN;
    (x.data as Float32Array)[700] = NaN;
    for (const op of ['ReduceMax', 'ReduceMin']) await checkOp(device, { op, inputs: [x, i64([1])], constant: [1] });
  });

  for (const op of ['ArgMax', 'ArgMin']) {
    it(`${op}: axes, keepdims, select_last_index, ties, NaN`, async () => {
      const shapes: [number[], number][] = [[[13], 0], [[3, 127], 1], [[3, 127], 0], [[2, 3, 5], -2], [[2, 5000], 1], [[1, 1], 0]];
      for (const [k, [dims, axis]] of shapes.entries()) {
        for (const last of [0, 1]) {
          for (const keepdims of [0, 1]) {
            // integers in a small range make ties common
            await checkOp(device, { op, attrs: { axis: int(axis), keepdims: int(keepdims), select_last_index: int(last) }, inputs: [randomTensor('float32', dims, 20 + k)] });
            await checkOp(device, { op, attrs: { axis: int(axis), select_last_index: int(last) }, inputs: [randomTensor('int32', dims, 30 + k, -3, 3)], rtol: 0, atol: 0 });
          }
        }
      }
      const x = randomTensor('float32', [3, 400], 9);
      (x.data as Float32Array)[10] = NaN; (x.data as Float32Array)[300] = NaN; (x.data as Float32Array)[420] = NaN;
      for (const last of [0, 1]) await checkOp(device, { op, attrs: { axis: int(1), select_last_index: int(last) }, inputs: [x] });
    });
  }

  for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
    it(`${op}: both opset semantics, long rows, inner axes, large values`, async () => {
      const shapes: [number[], number][] = [[[13], 0], [[3, 127], -1], [[3, 127], 0], [[2, 3, 5, 7], 1], [[2, 5000], 1], [[4, 1000, 3], 1], [[1], 0]];
      for (const [k, [dims, axis]] of shapes.entries()) {
        const [lo, hi] = op === 'Hardmax' ? [-3, 3] : [-50, 50];
        const x = op === 'Hardmax' ? randomTensor('int32', dims, 40 + k, -3, 3) : randomTensor('float32', dims, 40 + k, lo, hi);
        const xf = op === 'Hardmax' ? Tensor.from('float32', dims, Array.from(x.data as Int32Array)) : x;
        await checkOp(device, { op, attrs: { axis: int(axis) }, inputs: [xf] });
        await checkOp(device, { op, opset: 11, attrs: { axis: int(axis) }, inputs: [xf] });
      }
      await checkOp(device, { op, opset: 11, inputs: [randomTensor('float32', [2, 3, 4], 50)] });
    });
  }

  for (const op of ['CumSum', 'CumProd']) {
    it(`${op}: axes, exclusive, reverse, ints`, async () => {
      const opset = op === 'CumProd' ? 26 : 14;
      const shapes: [number[], number][] = [[[13], 0], [[3, 127], 1], [[3, 127], -2], [[2, 3, 5], 1]];
      for (const [k, [dims, axis]] of shapes.entries()) {
        for (const exclusive of [0, 1]) for (const reverse of [0, 1]) {
          const attrs = { exclusive: int(exclusive), reverse: int(reverse) };
          const [lo, hi] = op === 'CumProd' ? [0.95, 1.05] : [-2, 2];
          await checkOp(device, { op, opset, attrs, inputs: [randomTensor('float32', dims, 60 + k, lo, hi), Tensor.scalar('int64', axis)], constant: [1], rtol: 1e-4, atol: 1e-4 });
          await checkOp(device, { op, opset, attrs, inputs: [randomTensor('int32', dims, 70 + k, -2, 2), Tensor.scalar('int32', axis)], constant: [1], rtol: 0, atol: 0 });
        }
      }
    });
  }

  it('TopK: largest/smallest, axes, ties, NaN, long lines', async () => {
    const cases: [number[], number, number][] = [[[13], 0, 5], [[3, 127], 1, 3], [[3, 127], 0, 2], [[2, 3, 5], -2, 3], [[2, 5000], 1, 10], [[4, 7], 1, 7], [[4, 7], 1, 0]];
    for (const [k, [dims, axis, kk]] of cases.entries()) {
      for (const largest of [0, 1]) {
        const attrs = { axis: int(axis), largest: int(largest) };
        await checkOp(device, { op: 'TopK', attrs, inputs: [randomTensor('float32', dims, 80 + k), i64([kk])], constant: [1], outputs: 2 });
        await checkOp(device, { op: 'TopK', attrs, inputs: [randomTensor('int32', dims, 90 + k, -3, 3), i64([kk])], constant: [1], outputs: 2, rtol: 0, atol: 0 });
      }
    }
    const x = randomTensor('float32', [2, 300], 9);
    (x.data as Float32Array)[10] = NaN; (x.data as Float32Array)[301] = NaN;
    await checkOp(device, { op: 'TopK', inputs: [x, i64([4])], constant: [1], outputs: 2 });
    await checkOp(device, { op: 'TopK', opset: 1, attrs: { k: int(3) }, inputs: [randomTensor('float32', [3, 13], 11)], outputs: 2 });
  });
});

describe('GPU attention kernels', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());
  const f = (dims: number[], seed: number, lo = -1, hi = 1) => randomTensor('float32', dims, seed, lo, hi);
  const tol = { rtol: 1e-3, atol: 1e-4 };

  it('Attention 4-D: GQA, long key sequences, wide heads, scale, softcap', async () => {
    // [B, H, S, D] / [B, kvH, T, D]: blocks of 64 keys, Dv over one invocation's share
    const shapes: [number, number, number, number, number, number, number][] = [
      [1, 1, 1, 1, 1, 1, 1], [2, 4, 3, 2, 13, 8, 8], [1, 2, 5, 2, 130, 16, 100], [2, 6, 7, 3, 127, 64, 72], [1, 1, 2, 1, 1000, 4, 4],
    ];
    for (const [k, [B, H, S, kvH, T, D, Dv]] of shapes.entries()) {
      const inputs = [f([B, H, S, D], 1 + k), f([B, kvH, T, D], 2 + k), f([B, kvH, T, Dv], 3 + k)];
      await checkOp(device, { op: 'Attention', opset: 23, inputs, ...tol });
      await checkOp(device, { op: 'Attention', opset: 23, attrs: { scale: { type: 'float', value: 0.3 }, softcap: { type: 'float', value: 2 } }, inputs, ...tol });
    }
  });
  it('Attention 3-D with masks (bool, float, short, broadcast) and is_causal', async () => {
    const [B, S, T, H, kvH, D] = [2, 5, 70, 4, 2, 8];
    const attrs = { q_num_heads: int(H), kv_num_heads: int(kvH) };
    const base = [f([B, S, H * D], 1), f([B, T, kvH * D], 2), f([B, T, kvH * 6], 3)];
    const masks = [randomTensor('bool', [S, T], 4), f([B, 1, S, T], 5, -3, 1), f([T - 10], 6), randomTensor('bool', [B, H, S, T], 7)];
    for (const m of masks) await checkOp(device, { op: 'Attention', opset: 23, attrs, inputs: [...base, m], ...tol });
    await checkOp(device, { op: 'Attention', opset: 23, attrs: { ...attrs, is_causal: int(1) }, inputs: base, ...tol });
    // rows masked everywhere give zeros
    const none = Tensor.from('bool', [S, T], new Array(S * T).fill(0));
    await checkOp(device, { op: 'Attention', opset: 23, attrs, inputs: [...base, none], ...tol });
  });
  it('Attention with past key/value, present outputs, qk_matmul_output_mode', async () => {
    const [B, H, S, kvH, T, P, D] = [1, 4, 3, 2, 3, 70, 16];
    const inputs = [f([B, H, S, D], 1), f([B, kvH, T, D], 2), f([B, kvH, T, D], 3), f([S, P + T], 4, -1, 0), f([B, kvH, P, D], 5), f([B, kvH, P, D], 6)];
    await checkOp(device, { op: 'Attention', opset: 23, attrs: { is_causal: int(1) }, inputs, outputs: 3, ...tol });
    for (const mode of [0, 1, 2, 3]) {
      await checkOp(device, { op: 'Attention', opset: 23, attrs: { qk_matmul_output_mode: int(mode), softcap: { type: 'float', value: 1.5 } }, inputs, outputs: 4, ...tol });
    }
  });
  it('NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss: reductions, weights, ignore_index, log_prob', async () => {
    const [N, C, D1] = [3, 13, 127];
    const target = Tensor.from('int64', [N, D1], Array.from({ length: N * D1 }, (_, i) => (i * 7) % C));
    const w = f([C], 2, 0.1, 1);
    for (const reduction of ['none', 'sum', 'mean']) {
      const attrs = { reduction: { type: 'string', value: reduction } as Attr, ignore_index: int(3) };
      await checkOp(device, { op: 'NegativeLogLikelihoodLoss', opset: 13, attrs, inputs: [f([N, C, D1], 1), target, w], ...tol });
      await checkOp(device, { op: 'SoftmaxCrossEntropyLoss', opset: 13, attrs, inputs: [f([N, C, D1], 1, -5, 5), target, w], outputs: 2, ...tol });
      await checkOp(device, { op: 'SoftmaxCrossEntropyLoss', opset: 13, attrs: { reduction: attrs.reduction }, inputs: [f([N, C], 3), Tensor.from('int32', [N], [0, 12, 5])], ...tol });
    }
  });
  it('RotaryEmbedding: 4-D/3-D, interleaved, partial rotation, with and without position_ids', async () => {
    const [B, S, H, D] = [2, 5, 3, 8];
    const cos = f([12, 4], 1), sin = f([12, 4], 2);
    const pos = Tensor.from('int64', [B, S], [0, 1, 2, 3, 4, 11, 7, 3, 0, 5]);
    for (const interleaved of [0, 1]) {
      await checkOp(device, { op: 'RotaryEmbedding', opset: 23, attrs: { interleaved: int(interleaved) }, inputs: [f([B, H, S, D], 3), cos, sin, pos] });
      await checkOp(device, { op: 'RotaryEmbedding', opset: 23, attrs: { interleaved: int(interleaved), num_heads: int(H), rotary_embedding_dim: int(4) }, inputs: [f([B, S, H * D], 4), cos, sin, pos] });
      await checkOp(device, { op: 'RotaryEmbedding', opset: 23, attrs: { interleaved: int(interleaved) }, inputs: [f([B, H, S, D], 5), f([B, S, 4], 6), f([B, S, 4], 7)] });
    }
  });
});
