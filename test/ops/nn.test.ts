/** Unit tests of the nn operator family: shape inference and the edge cases golden data misses. */
import { strict as assert } from 'assert';
import { GraphError, UnsupportedError } from '../../src/errors';
import { DType } from '../../src/ir/dtype';
import { Attr, Dim, Node, ValueType } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { NN_OPS } from '../../src/ops/nn';
import { OpContext, OpDef, RuntimeValue, ShapeContext } from '../../src/ops/types';
import { Attrs } from '../../src/ir/attrs';

type AttrIn = number | string | number[];

function attrsOf(a: Record<string, AttrIn>): Record<string, Attr> {
  const out: Record<string, Attr> = {};
  for (const [k, v] of Object.entries(a)) {
    if (Array.isArray(v)) out[k] = { type: 'ints', value: v };
    else if (typeof v === 'string') out[k] = { type: 'string', value: v };
    else out[k] = { type: Number.isInteger(v) ? 'int' : 'float', value: v };
  }
  return out;
}

function def(op: string): OpDef {
  const d = NN_OPS.find((x) => x.opType === op);
  assert.ok(d, `${op} is registered`);
  return d;
}

function mkNode(op: string, nIn: number, nOut: number, attrs: Record<string, AttrIn>): Node {
  return new Node({ name: 'n', opType: op, inputs: Array.from({ length: nIn }, (_, i) => `i${i}`), outputs: Array.from({ length: nOut }, (_, i) => `o${i}`), attrs: attrsOf(attrs) });
}

function run(op: string, inputs: (Tensor | undefined)[], attrs: Record<string, AttrIn> = {}, opts: { opset?: number; outputs?: number } = {}): Tensor[] {
  const node = mkNode(op, inputs.length, opts.outputs ?? 1, attrs);
  const ctx: OpContext = {
    node, opset: opts.opset ?? 21, attrs: new Attrs(node), values: inputs, outputCount: opts.outputs ?? 1,
    runGraph: () => [] as RuntimeValue[],
    fail: (m) => { throw new GraphError(m, node); },
    unsupported: (m) => { throw new UnsupportedError(m, node); },
  };
  return def(op).reference(ctx, inputs) as Tensor[];
}

function infer(op: string, inputs: (ValueType | undefined)[], attrs: Record<string, AttrIn> = {}, opts: { opset?: number; outputs?: number; constants?: Tensor[] } = {}): ValueType[] {
  const node = mkNode(op, inputs.length, opts.outputs ?? 1, attrs);
  const ctx: ShapeContext = {
    node, opset: opts.opset ?? 21, attrs: new Attrs(node), outputCount: opts.outputs ?? 1,
    constant: (i) => opts.constants?.[i],
    fail: (m) => { throw new GraphError(m, node); },
    unsupported: (m) => { throw new UnsupportedError(m, node); },
  };
  return def(op).inferShape!(ctx, inputs);
}

const T = (dtype: DType, dims: number[], vals: (number | bigint)[]) => Tensor.from(dtype, dims, vals);
const F = (dims: number[], vals: number[]) => T('float32', dims, vals);
const iota = (dims: number[]) => F(dims, Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => i + 1));
const vt = (dtype: DType, shape?: Dim[]): ValueType => ({ dtype, shape });
const nums = (t: Tensor) => Array.from(t.toNumbers());

describe('nn ops', () => {
  describe('Conv', () => {
    it('infers static, symbolic and unknown shapes', () => {
      assert.deepEqual(infer('Conv', [vt('float32', [1, 3, 32, 32]), vt('float32', [8, 3, 3, 3])], { pads: [1, 1, 1, 1], strides: [2, 2] })[0].shape, [1, 8, 16, 16]);
      assert.deepEqual(infer('Conv', [vt('float32', ['N', 3, 'H', 10]), vt('float32', [8, 3, 3, 3])], { auto_pad: 'SAME_UPPER' })[0].shape, ['N', 8, 'H', 10]);
      const s = infer('Conv', [vt('float32', ['N', 3, 'H', 10]), vt('float32', [8, 3, 3, 3])], { strides: [2, 2] })[0].shape!;
      assert.equal(typeof s[2], 'string');
      assert.equal(s[3], 4);
      assert.equal(infer('Conv', [vt('float16'), vt('float16', [8, 3, 3, 3])])[0].shape, undefined);
      assert.equal(infer('Conv', [vt('float16', [1, 3, 5]), vt('float16', [2, 3, 3])])[0].dtype, 'float16');
    });
    it('computes a grouped 1-D convolution with bias and dilation', () => {
      // X [1, 2, 5], W [2, 1, 2] (depthwise), dilation 2
      const y = run('Conv', [iota([1, 2, 5]), F([2, 1, 2], [1, 1, 1, -1]), F([2], [10, 20])], { group: 2, dilations: [2] })[0];
      assert.deepEqual(y.dims, [1, 2, 3]);
      assert.deepEqual(nums(y), [1 + 3 + 10, 2 + 4 + 10, 3 + 5 + 10, 6 - 8 + 20, 7 - 9 + 20, 8 - 10 + 20]);
    });
    it('handles SAME_LOWER padding and an empty batch', () => {
      const y = run('Conv', [iota([1, 1, 4]), F([1, 1, 2], [1, 1])], { auto_pad: 'SAME_LOWER' })[0];
      assert.deepEqual(nums(y), [1, 3, 5, 7]);
      const e = run('Conv', [F([0, 1, 4], []), F([3, 1, 2], [1, 1, 1, 1, 1, 1])])[0];
      assert.deepEqual(e.dims, [0, 3, 3]);
    });
    it('gives typed errors for bad models', () => {
      assert.throws(() => run('Conv', [iota([1, 3, 4]), F([1, 2, 2], [1, 1, 1, 1])]), GraphError);
      assert.throws(() => run('Conv', [iota([1, 1, 4]), F([1, 1, 2], [1, 1])], { auto_pad: 'BOGUS' }), GraphError);
      assert.throws(() => run('Conv', [iota([1, 1, 4]), F([1, 1, 8], new Array(8).fill(1))]), GraphError);
      assert.throws(() => run('Conv', [iota([1, 1, 4]), F([1, 1, 2], [1, 1])], { strides: [0] }), GraphError);
    });
  });

  describe('ConvTranspose', () => {
    it('uses output_shape and output_padding', () => {
      const x = iota([1, 1, 3]);
      const w = F([1, 1, 3], [1, 1, 1]);
      assert.deepEqual(run('ConvTranspose', [x, w], { strides: [2] })[0].dims, [1, 1, 7]);
      assert.deepEqual(run('ConvTranspose', [x, w], { strides: [2], output_padding: [1] })[0].dims, [1, 1, 8]);
      assert.deepEqual(run('ConvTranspose', [x, w], { strides: [2], output_shape: [6] })[0].dims, [1, 1, 6]);
      assert.deepEqual(infer('ConvTranspose', [vt('float32', [1, 4, 5, 5]), vt('float32', [4, 2, 3, 3])], { group: 2, strides: [2, 2] })[0].shape, [1, 4, 11, 11]);
    });
    it('refuses outputs beyond 2^31 elements', () => {
      assert.throws(() => run('ConvTranspose', [iota([1, 1, 3]), F([1, 1, 1], [1])], { strides: [2 ** 31] }), GraphError);
    });
  });

  describe('MatMul and Gemm', () => {
    it('infers numpy shapes, symbolic and 1-D', () => {
      assert.deepEqual(infer('MatMul', [vt('float32', ['B', 1, 4, 5]), vt('float32', [3, 5, 6])])[0].shape, ['B', 3, 4, 6]);
      assert.deepEqual(infer('MatMul', [vt('float32', [5]), vt('float32', [2, 5, 6])])[0].shape, [2, 6]);
      assert.deepEqual(infer('MatMul', [vt('float32', [5]), vt('float32', [5])])[0].shape, []);
      assert.equal(infer('MatMul', [vt('float32'), vt('float32', [5])])[0].shape, undefined);
      assert.throws(() => infer('MatMul', [vt('float32', [2, 4]), vt('float32', [5, 6])]), GraphError);
    });
    it('broadcasts batches and handles 1-D operands', () => {
      const y = run('MatMul', [iota([2, 1, 2]), F([2, 1], [1, 1])])[0];
      assert.deepEqual(y.dims, [2, 1, 1]);
      assert.deepEqual(nums(y), [3, 7]);
      assert.deepEqual(nums(run('MatMul', [F([2], [1, 2]), F([2], [3, 4])])[0]), [11]);
      assert.deepEqual(run('MatMul', [F([0, 3], []), F([3, 2], [1, 2, 3, 4, 5, 6])])[0].dims, [0, 2]);
    });
    it('keeps int64 products exact', () => {
      const a = T('int64', [1, 1], [3037000499n]);
      const y = run('MatMul', [a, a])[0];
      assert.equal(y.dtype, 'int64');
      assert.equal((y.data as BigInt64Array)[0], 3037000499n * 3037000499n);
    });
    it('Gemm broadcasts C and applies alpha, beta, transposes', () => {
      const a = F([2, 2], [1, 2, 3, 4]);
      const b = F([2, 2], [1, 0, 0, 1]);
      assert.deepEqual(nums(run('Gemm', [a, b, F([2], [10, 20])], { alpha: 2.0, beta: 0.5 })[0]), [7, 14, 11, 18]);
      assert.deepEqual(nums(run('Gemm', [a, b, F([], [1])], { transA: 1 })[0]), [2, 4, 3, 5]);
      assert.deepEqual(nums(run('Gemm', [a, b])[0]), [1, 2, 3, 4]);
      assert.throws(() => run('Gemm', [a, b, F([3], [1, 2, 3])]), GraphError);
      assert.deepEqual(infer('Gemm', [vt('float32', ['K', 'M']), vt('float32', [7, 'K'])], { transA: 1, transB: 1 })[0].shape, ['M', 7]);
    });
  });

  describe('quantization', () => {
    it('QuantizeLinear rounds half to even and saturates, per axis with a negative axis', () => {
      const x = F([2, 3], [0.5, 1.5, 2.5, -300, 300, 1]);
      const y = run('QuantizeLinear', [x, F([2], [1, 1]), T('int8', [2], [0, 1])], { axis: -2 })[0];
      assert.equal(y.dtype, 'int8');
      assert.deepEqual(nums(y), [0, 2, 2, -128, 127, 2]);
      assert.deepEqual(nums(run('QuantizeLinear', [F([3], [-1, 7.4, 9]), F([], [1]), T('int4', [], [0])])[0]), [-1, 7, 7]);
      assert.equal(run('QuantizeLinear', [F([1], [1]), F([], [1])])[0].dtype, 'uint8');
    });
    it('QuantizeLinear to float8 honours saturate', () => {
      const z = T('float8e4m3fn', [], [0]);
      assert.deepEqual(nums(run('QuantizeLinear', [F([1], [10000]), F([], [1]), z])[0]), [448]);
      assert.ok(Number.isNaN(nums(run('QuantizeLinear', [F([1], [10000]), F([], [1]), z], { saturate: 0 })[0])[0]));
    });
    it('DequantizeLinear supports blocks and refuses bad parameter shapes', () => {
      const x = T('int8', [1, 4], [1, 2, 3, 4]);
      const y = run('DequantizeLinear', [x, F([1, 2], [1, 10]), T('int8', [1, 2], [0, 1])], { axis: 1, block_size: 2 })[0];
      assert.deepEqual(nums(y), [1, 2, 20, 30]);
      assert.throws(() => run('DequantizeLinear', [x, F([3], [1, 2, 3])], { axis: 1 }), GraphError);
      assert.deepEqual(infer('DequantizeLinear', [vt('int8', ['N', 4]), vt('float16', [])])[0], { dtype: 'float16', shape: ['N', 4] });
    });
    it('DynamicQuantizeLinear handles all-zero input', () => {
      const [y, s, z] = run('DynamicQuantizeLinear', [F([2], [0, 0])], {}, { outputs: 3 });
      assert.deepEqual(nums(y), [0, 0]);
      assert.equal(s.get(0), 0);
      assert.equal(z.get(0), 0);
    });
  });

  describe('pools', () => {
    it('MaxPool returns indices in both storage orders', () => {
      const x = F([1, 1, 2, 3], [1, 6, 2, 5, 3, 4]);
      const [y, i] = run('MaxPool', [x], { kernel_shape: [2, 2] }, { outputs: 2 });
      assert.deepEqual(nums(y), [6, 6]);
      assert.deepEqual(nums(i), [1, 1]);
      const [, ic] = run('MaxPool', [x], { kernel_shape: [2, 2], storage_order: 1 }, { outputs: 2 });
      assert.deepEqual(nums(ic), [2, 2]);
      assert.equal(i.dtype, 'int64');
    });
    it('AveragePool with and without count_include_pad, ceil_mode shapes', () => {
      const x = F([1, 1, 3], [3, 6, 9]);
      assert.deepEqual(nums(run('AveragePool', [x], { kernel_shape: [2], pads: [1, 0] })[0]), [3, 4.5, 7.5]);
      assert.deepEqual(nums(run('AveragePool', [x], { kernel_shape: [2], pads: [1, 0], count_include_pad: 1 })[0]), [1.5, 4.5, 7.5]);
      assert.deepEqual(infer('AveragePool', [vt('float32', [1, 1, 5, 5])], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })[0].shape, [1, 1, 3, 3]);
      assert.deepEqual(infer('MaxPool', [vt('float32', ['N', 'C', 8])], { kernel_shape: [2], strides: [2] }, { outputs: 2 }).map((t) => t.dtype), ['float32', 'int64']);
      assert.throws(() => run('MaxPool', [x], {}), GraphError); // kernel_shape is required
    });
    it('global pools and MaxUnpool', () => {
      const x = iota([1, 2, 2]);
      assert.deepEqual(nums(run('GlobalAveragePool', [x])[0]), [1.5, 3.5]);
      assert.deepEqual(nums(run('GlobalMaxPool', [x])[0]), [2, 4]);
      assert.deepEqual(nums(run('GlobalLpPool', [F([1, 1, 2], [3, 4])])[0]), [5]);
      const y = run('MaxUnpool', [F([1, 1, 1], [7]), T('int64', [1, 1, 1], [1])], { kernel_shape: [2], strides: [2] })[0];
      assert.deepEqual(nums(y), [0, 7]);
      assert.throws(() => run('MaxUnpool', [F([1, 1, 1], [7]), T('int64', [1, 1, 1], [5])], { kernel_shape: [2], strides: [2] }), GraphError);
    });
  });

  describe('normalization', () => {
    it('LayerNormalization with a negative axis returns Mean and InvStdDev', () => {
      const [y, m, inv] = run('LayerNormalization', [F([2, 2], [1, 3, 5, 5]), F([2], [1, 1])], { axis: -1, epsilon: 0 }, { opset: 17, outputs: 3 });
      assert.deepEqual(nums(y).slice(0, 2), [-1, 1]);
      assert.deepEqual(m.dims, [2, 1]);
      assert.deepEqual(nums(m), [2, 5]);
      assert.equal(inv.get(0), 1);
      assert.deepEqual(infer('LayerNormalization', [vt('float16', ['B', 'S', 8]), vt('float16', [8])], { axis: -2 }, { opset: 17, outputs: 3 }).map((t) => [t.dtype, t.shape]),
        [['float16', ['B', 'S', 8]], ['float32', ['B', 1, 1]], ['float32', ['B', 1, 1]]]);
    });
    it('GroupNormalization: per-group scale at opset 18, per-channel at 21', () => {
      const x = F([1, 4, 1], [1, 3, 5, 7]);
      const y18 = run('GroupNormalization', [x, F([2], [1, 2]), F([2], [0, 10])], { num_groups: 2, epsilon: 0 }, { opset: 18 })[0];
      assert.deepEqual(nums(y18), [-1, 1, 8, 12]);
      const y21 = run('GroupNormalization', [x, F([4], [1, 1, 2, 2]), F([4], [0, 0, 10, 10])], { num_groups: 2, epsilon: 0 }, { opset: 21 })[0];
      assert.deepEqual(nums(y21), [-1, 1, 8, 12]);
      assert.throws(() => run('GroupNormalization', [x, F([2], [1, 2]), F([2], [0, 10])], { num_groups: 2 }, { opset: 21 }), GraphError);
      assert.throws(() => run('GroupNormalization', [x, F([4], [1, 1, 1, 1]), F([4], [0, 0, 0, 0])], { num_groups: 3 }), GraphError);
    });
    it('BatchNormalization inference and training outputs', () => {
      const x = F([2, 1, 1], [1, 3]);
      const one = F([1], [1]), zero = F([1], [0]);
      assert.deepEqual(nums(run('BatchNormalization', [x, one, zero, zero, one], { epsilon: 0 }, { opset: 15 })[0]), [1, 3]);
      const [y, rm, rv] = run('BatchNormalization', [x, one, zero, zero, one], { epsilon: 0, training_mode: 1 }, { opset: 15, outputs: 3 });
      assert.deepEqual(nums(y), [-1, 1]);
      assert.ok(Math.abs(rm.get(0) - 0.2) < 1e-6 && Math.abs(rv.get(0) - 1) < 1e-6);
    });
    it('RMSNormalization, LpNormalization of zeros, LRN, MVN, InstanceNormalization', () => {
      assert.deepEqual(nums(run('RMSNormalization', [F([2], [3, 4]), F([2], [1, 2])], { epsilon: 0 }, { opset: 23 })[0]).map((v) => +v.toFixed(5)), [0.84853, 2.26274]);
      assert.deepEqual(nums(run('LpNormalization', [F([2, 2], [0, 0, 3, 4])])[0]), [0, 0, 0.6000000238418579, 0.800000011920929]);
      assert.deepEqual(run('LRN', [iota([1, 3, 2])], { size: 3 })[0].dims, [1, 3, 2]);
      assert.deepEqual(nums(run('MeanVarianceNormalization', [F([1, 1, 1, 2], [1, 3])])[0]).map((v) => Math.round(v)), [-1, 1]);
      assert.deepEqual(nums(run('InstanceNormalization', [F([1, 1, 2], [1, 3]), F([1], [2]), F([1], [1])], { epsilon: 0 })[0]), [-1, 3]);
      assert.throws(() => run('LpNormalization', [F([2], [1, 1])], { p: 3 }), GraphError);
    });
  });

  describe('Einsum', () => {
    it('implicit output, diagonal, trace and ellipsis broadcasting', () => {
      const m = iota([2, 2]);
      assert.deepEqual(nums(run('Einsum', [m], { equation: 'ij' })[0]), [1, 2, 3, 4]);
      assert.deepEqual(nums(run('Einsum', [m], { equation: 'ji' })[0]), [1, 3, 2, 4]);
      assert.deepEqual(nums(run('Einsum', [m], { equation: 'ii->i' })[0]), [1, 4]);
      assert.deepEqual(nums(run('Einsum', [m], { equation: 'ii' })[0]), [5]);
      const y = run('Einsum', [iota([2, 1, 2]), iota([2, 3])], { equation: '...ij,jk' })[0];
      assert.deepEqual(y.dims, [2, 1, 3]);
      assert.deepEqual(nums(y).slice(0, 3), [9, 12, 15]);
      assert.deepEqual(run('Einsum', [iota([2, 1, 2]), iota([2, 3])], { equation: '...j, jk -> ...k' })[0].dims, [2, 1, 3]);
      assert.deepEqual(nums(run('Einsum', [T('int64', [2], [2, 3]), T('int64', [2], [4, 5])], { equation: 'i,i->' })[0]), [23]);
      assert.deepEqual(infer('Einsum', [vt('float32', ['B', 4, 5]), vt('float32', ['B', 5, 6])], { equation: 'bij,bjk->bik' })[0].shape, ['B', 4, 6]);
    });
    it('rejects malformed equations', () => {
      assert.throws(() => run('Einsum', [iota([2, 2])], { equation: 'i->i' }), GraphError);
      assert.throws(() => run('Einsum', [iota([2, 2])], { equation: 'ij->k' }), GraphError);
      assert.throws(() => run('Einsum', [iota([2, 2]), iota([3])], { equation: 'ij,j->i' }), GraphError);
    });
  });

  describe('sampling and misc', () => {
    it('GridSample identity grid with align_corners reproduces the input', () => {
      const x = iota([1, 1, 2, 2]);
      const grid = F([1, 2, 2, 2], [-1, -1, 1, -1, -1, 1, 1, 1]);
      assert.deepEqual(nums(run('GridSample', [x, grid], { align_corners: 1 })[0]), [1, 2, 3, 4]);
      assert.deepEqual(nums(run('GridSample', [x, grid], { align_corners: 1, mode: 'nearest' })[0]), [1, 2, 3, 4]);
      assert.throws(() => run('GridSample', [x, grid], { mode: 'area' }), GraphError);
      assert.deepEqual(infer('GridSample', [vt('float32', ['N', 3, 8, 8]), vt('float32', ['N', 4, 5, 2])])[0].shape, ['N', 3, 4, 5]);
    });
    it('AffineGrid, Col2Im and CausalConvWithState shapes', () => {
      assert.deepEqual(run('AffineGrid', [F([1, 2, 3], [1, 0, 0, 0, 1, 0]), T('int64', [4], [1, 1, 2, 3])], {}, { opset: 20 })[0].dims, [1, 2, 3, 2]);
      assert.deepEqual(infer('AffineGrid', [vt('float32', [1, 2, 3]), vt('int64', [4])], {}, { constants: [undefined as unknown as Tensor, T('int64', [4], [1, 1, 2, 3])] })[0].shape, [1, 2, 3, 2]);
      assert.deepEqual(nums(run('Col2Im', [F([1, 2, 2], [1, 2, 3, 4]), T('int64', [1], [3]), T('int64', [1], [2])])[0]), [1, 2 + 3, 4]);
      assert.throws(() => run('Col2Im', [F([1, 2, 3], [1, 2, 3, 4, 5, 6]), T('int64', [1], [3]), T('int64', [1], [2])]), GraphError);
      const [y, st] = run('CausalConvWithState', [F([1, 1, 2], [1, 2]), F([1, 1, 2], [1, 1]), undefined, F([1, 1, 1], [5])], {}, { opset: 27, outputs: 2 });
      assert.deepEqual(nums(y), [6, 3]);
      assert.deepEqual(nums(st), [2]);
    });
    it('RoiAlign avg of a constant image is that constant', () => {
      const x = F([1, 1, 4, 4], new Array(16).fill(2));
      const y = run('RoiAlign', [x, F([1, 4], [0, 0, 3, 3]), T('int64', [1], [0])], { output_height: 2, output_width: 2 }, { opset: 16 })[0];
      assert.deepEqual(nums(y), [2, 2, 2, 2]);
      assert.throws(() => run('RoiAlign', [x, F([1, 4], [0, 0, 3, 3]), T('int64', [1], [4])]), GraphError);
    });
    it('QLinearConv and ConvInteger subtract zero points', () => {
      const x = T('uint8', [1, 1, 2], [3, 5]);
      const w = T('uint8', [1, 1, 1], [2]);
      assert.deepEqual(nums(run('ConvInteger', [x, w, T('uint8', [], [1]), T('uint8', [], [1])])[0]), [2, 4]);
      const y = run('QLinearConv', [x, F([], [1]), T('uint8', [], [1]), w, F([], [1]), T('uint8', [], [0]), F([], [2]), T('uint8', [], [10])])[0];
      assert.equal(y.dtype, 'uint8');
      assert.deepEqual(nums(y), [12, 14]);
    });
    it('QLinearConv and QLinearMatMul apply a fused activation to the real value before requantizing', () => {
      // real values (x - 10) * 0.1 = [-1, 0, 1]; y = rint(act(real) / 0.05) + 128
      const conv = (attrs: Record<string, AttrIn>) => nums(run('QLinearConv', [T('uint8', [1, 1, 3], [0, 10, 20]), F([], [0.1]), T('uint8', [], [10]),
        T('int8', [1, 1, 1], [1]), F([], [1]), T('int8', [], [0]), F([], [0.05]), T('uint8', [], [128])], attrs)[0]);
      const mm = (attrs: Record<string, AttrIn>) => nums(run('QLinearMatMul', [T('uint8', [3, 1], [0, 10, 20]), F([], [0.1]), T('uint8', [], [10]),
        T('int8', [1, 1], [1]), F([], [1]), T('int8', [], [0]), F([], [0.05]), T('uint8', [], [128])], attrs)[0]);
      for (const f of [conv, mm]) {
        assert.deepEqual(f({}), [108, 128, 148]);
        assert.deepEqual(f({ vkrt_activation: 'None' }), [108, 128, 148]);
        assert.deepEqual(f({ vkrt_activation: 'Relu' }), [128, 128, 148]);
        assert.deepEqual(f({ vkrt_activation: 'Clip', vkrt_alpha: -0.5, vkrt_beta: 0.5 }), [118, 128, 138]);
        assert.deepEqual(f({ vkrt_activation: 'LeakyRelu', vkrt_alpha: 0.5 }), [118, 128, 148]);
        assert.deepEqual(f({ vkrt_activation: 'Sigmoid' }), [133, 138, 143]);
        assert.throws(() => f({ vkrt_activation: 'Softmax' }), GraphError);
      }
    });
  });
});

describe('nn ops against hostile attributes', () => {
  it('refuses absurd pool windows without allocating them', () => {
    assert.throws(() => run('MaxPool', [F([1, 1, 1], [1])], { kernel_shape: [2 ** 30], pads: [2 ** 30, 0] }), GraphError);
    assert.throws(() => run('AveragePool', [F([1, 1, 1], [1])], { kernel_shape: [1], strides: [2 ** 40] }), GraphError);
  });
});
