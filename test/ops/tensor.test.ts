/** The tensor family (shape and data movement): shape inference and edge cases golden data misses. */
import { strict as assert } from 'assert';
import { GraphError, UnsupportedError } from '../../src/errors';
import { DType } from '../../src/ir/dtype';
import { Attr, ValueType } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { TENSOR_OPS } from '../../src/ops/tensor';
import { RuntimeValue } from '../../src/ops/types';
import { AttrMap, runInferShape, runReference, testNode } from '../helpers/op-run';
import { Mt19937 } from '../../src/ops/util/tensor-mt19937';

function runAll(opType: string, inputs: (Tensor | undefined)[], attrs: AttrMap = {}, opset = 25, outputs = 1): RuntimeValue[] {
  return runReference(testNode(opType, inputs.length, attrs, outputs), opset, inputs);
}

const run = (opType: string, inputs: (Tensor | undefined)[], attrs: AttrMap = {}, opset = 25): Tensor =>
  runAll(opType, inputs, attrs, opset)[0] as Tensor;

function inferAll(opType: string, types: (ValueType | undefined)[], attrs: AttrMap = {}, consts: Record<number, Tensor> = {}, opset = 25, outputs = 1): ValueType[] {
  return runInferShape(testNode(opType, types.length, attrs, outputs), opset, types, (k) => consts[k]);
}

const infer = (opType: string, types: (ValueType | undefined)[], attrs: AttrMap = {}, consts: Record<number, Tensor> = {}, opset = 25): ValueType =>
  inferAll(opType, types, attrs, consts, opset)[0];

const T = (dtype: DType, dims: number[], v: ArrayLike<number | bigint | string | boolean>) => Tensor.from(dtype, dims, v);
const F = (dims: number[], v?: number[]) => T('float32', dims, v ?? Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, k) => k));
const I64 = (v: (number | bigint)[], dims = [v.length]) => T('int64', dims, v);
const vals = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>);
const nums = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>, Number);
const i = (v: number): Attr => ({ type: 'int', value: v });
const fl = (v: number): Attr => ({ type: 'float', value: v });
const s = (v: string): Attr => ({ type: 'string', value: v });
const ints = (v: number[]): Attr => ({ type: 'ints', value: v });
const ten = (v: Tensor): Attr => ({ type: 'tensor', value: v });
const ty = (dtype: DType, shape?: (number | string)[]): ValueType => ({ dtype, shape });

describe('tensor family', () => {
  it('registers each op once', () => {
    const names = TENSOR_OPS.map((d) => d.opType);
    assert.equal(new Set(names).size, names.length);
    for (const d of TENSOR_OPS) assert.ok(d.inferShape, `${d.opType} lacks inferShape`);
  });

  describe('Constant', () => {
    it('value_ints is int64, value_float float32, value_strings string', () => {
      const a = run('Constant', [], { value_ints: ints([1, -2]) });
      assert.equal(a.dtype, 'int64');
      assert.deepEqual(vals(a), [1n, -2n]);
      assert.equal(run('Constant', [], { value_float: fl(1.5) }).dtype, 'float32');
      assert.deepEqual(run('Constant', [], { value_strings: { type: 'strings', value: ['a', 'b'] } }).dims, [2]);
      assert.deepEqual(infer('Constant', [], { value: ten(F([2, 3])) }), ty('float32', [2, 3]));
    });
    it('refuses zero or two value attributes', () => {
      assert.throws(() => run('Constant', []), GraphError);
      assert.throws(() => run('Constant', [], { value_int: i(1), value_float: fl(2) }), GraphError);
    });
  });

  describe('Identity and Dropout', () => {
    it('Identity passes sequences and empty optionals', () => {
      const seq = [F([2])];
      const nd = testNode('Identity', 1, {}, 1);
      assert.equal(runReference(nd, 16, [seq])[0], seq);
      assert.equal(runReference(nd, 16, [null])[0], null);
      assert.deepEqual(infer('Identity', [{ kind: 'sequence', dtype: 'float32', shape: [2] }]), { kind: 'sequence', dtype: 'float32', shape: [2] });
    });
    it('Dropout is the identity at inference with a mask of ones', () => {
      const [y, m] = runAll('Dropout', [F([2, 2])], {}, 13, 2) as Tensor[];
      assert.deepEqual(nums(y), [0, 1, 2, 3]);
      assert.equal(m.dtype, 'bool');
      assert.deepEqual(nums(m), [1, 1, 1, 1]);
      assert.deepEqual(inferAll('Dropout', [ty('float16', ['N', 3])], {}, {}, 13, 2).map((t) => t.dtype), ['float16', 'bool']);
    });
    it('training mode keeps the scaled survivors, seeded', () => {
      const x = F([100], new Array(100).fill(1));
      const [y, m] = runAll('Dropout', [x, T('float32', [], [0.5]), T('bool', [], [1])], { seed: i(3) }, 13, 2) as Tensor[];
      const kept = nums(m).filter((v) => v === 1).length;
      assert.ok(kept > 20 && kept < 80);
      nums(y).forEach((v, k) => assert.equal(v, m.data[k] ? 2 : 0));
      const [y2] = runAll('Dropout', [x, T('float32', [], [0.5]), T('bool', [], [1])], { seed: i(3) }, 13, 2) as Tensor[];
      assert.deepEqual(nums(y2), nums(y));
    });
    it('MT19937 matches the reference stream of numpy seed 0', () => {
      // numpy: np.random.seed(0); np.random.random_sample(2) -> 0.5488135039273248, 0.7151893663724195
      const r = new Mt19937(0);
      assert.equal(r.random(), 0.5488135039273248);
      assert.equal(r.random(), 0.7151893663724195);
    });
  });

  describe('Reshape / Flatten / Squeeze / Unsqueeze', () => {
    it('Reshape copies 0 and infers -1; allowzero keeps 0', () => {
      assert.deepEqual(run('Reshape', [F([2, 3, 4]), I64([0, -1])]).dims, [2, 12]);
      assert.deepEqual(run('Reshape', [F([0, 3]), I64([3, 0])], { allowzero: i(1) }).dims, [3, 0]);
    });
    it('Reshape opset 1 reads the shape attribute', () => {
      assert.deepEqual(run('Reshape', [F([6])], { shape: ints([3, -1]) }, 1).dims, [3, 2]);
    });
    it('Reshape rejects bad shapes with GraphError', () => {
      assert.throws(() => run('Reshape', [F([6]), I64([-1, -1])]), GraphError);
      assert.throws(() => run('Reshape', [F([6]), I64([4, -1])]), GraphError);
      assert.throws(() => run('Reshape', [F([6]), I64([5])]), GraphError);
      assert.throws(() => run('Reshape', [F([0, 3]), I64([0, -1])], { allowzero: i(1) }), GraphError);
    });
    it('Reshape infers symbolic, static and unknown shapes', () => {
      assert.deepEqual(infer('Reshape', [ty('float32', ['N', 3, 4]), ty('int64', [2])], {}, { 1: I64([0, -1]) }).shape, ['N', 12]);
      assert.deepEqual(infer('Reshape', [ty('float32', ['N', 'S', 64]), ty('int64', [4])], {}, { 1: I64([0, 0, 8, -1]) }).shape, ['N', 'S', 8, 8]);
      assert.deepEqual(infer('Reshape', [ty('float32', ['B', 'S', 512]), ty('int64', [2])], {}, { 1: I64([-1, 512]) }).shape!.length, 2);
      const r = infer('Reshape', [ty('float32', ['B', 'S', 512]), ty('int64', [2])], {}, { 1: I64([-1, 512]) }).shape!;
      assert.equal(r[1], 512);
      assert.equal(typeof r[0], 'string');
      assert.deepEqual(infer('Reshape', [ty('float32', [2, 3]), ty('int64', [3])]).shape!.length, 3);
      assert.equal(infer('Reshape', [ty('float32', [2, 3]), ty('int64')]).shape, undefined);
      assert.deepEqual(infer('Reshape', [ty('float32', ['a', 'b']), ty('int64', [2])], {}, { 1: I64([-1, 1]) }).shape!.length, 2);
      assert.throws(() => infer('Reshape', [ty('float32', [2, 3]), ty('int64', [1])], {}, { 1: I64([7]) }), GraphError);
    });
    it('Flatten with negative axis and symbolic dims', () => {
      assert.deepEqual(run('Flatten', [F([2, 3, 4])], { axis: i(-1) }).dims, [6, 4]);
      assert.deepEqual(run('Flatten', [F([2, 3])], { axis: i(0) }).dims, [1, 6]);
      assert.deepEqual(infer('Flatten', [ty('float32', ['N', 3, 4])]).shape, ['N', 12]);
      assert.throws(() => run('Flatten', [F([2, 3])], { axis: i(3) }), GraphError);
    });
    it('Squeeze: attribute before 13, input since, and all 1s without axes', () => {
      assert.deepEqual(run('Squeeze', [F([1, 3, 1])], { axes: ints([-1]) }, 11).dims, [1, 3]);
      assert.deepEqual(run('Squeeze', [F([1, 3, 1]), I64([0])]).dims, [3, 1]);
      assert.deepEqual(run('Squeeze', [F([1, 3, 1])]).dims, [3]);
      assert.throws(() => run('Squeeze', [F([2, 3]), I64([0])]), GraphError);
      assert.deepEqual(infer('Squeeze', [ty('float32', ['N', 1, 4]), ty('int64', [1])], {}, { 1: I64([1]) }).shape, ['N', 4]);
      assert.equal(infer('Squeeze', [ty('float32', ['N', 1])]).shape, undefined);
    });
    it('Unsqueeze: negative and unsorted axes against the output rank', () => {
      assert.deepEqual(run('Unsqueeze', [F([3, 4]), I64([-1, 0])]).dims, [1, 3, 4, 1]);
      assert.deepEqual(run('Unsqueeze', [F([3])], { axes: ints([1]) }, 11).dims, [3, 1]);
      assert.deepEqual(run('Unsqueeze', [T('float32', [], [5]), I64([0])]).dims, [1]);
      assert.throws(() => run('Unsqueeze', [F([3]), I64([0, 0])]), GraphError);
      assert.deepEqual(infer('Unsqueeze', [ty('float32', ['S']), ty('int64', [1])], {}, { 1: I64([0]) }).shape, [1, 'S']);
    });
  });

  describe('Transpose / DepthToSpace / SpaceToDepth', () => {
    it('default perm reverses; works on int64 and strings', () => {
      const t = run('Transpose', [I64([1, 2, 3, 4, 5, 6], [2, 3])]);
      assert.deepEqual(t.dims, [3, 2]);
      assert.deepEqual(vals(t), [1n, 4n, 2n, 5n, 3n, 6n]);
      assert.deepEqual(vals(run('Transpose', [T('string', [2, 1], ['a', 'b'])], { perm: ints([1, 0]) })), ['a', 'b']);
      assert.deepEqual(infer('Transpose', [ty('float32', ['N', 3, 'W'])], { perm: ints([0, 2, 1]) }).shape, ['N', 'W', 3]);
      assert.throws(() => run('Transpose', [F([2, 3])], { perm: ints([0, 0]) }), GraphError);
    });
    it('DepthToSpace inverts SpaceToDepth (DCR) and CRD differs', () => {
      const x = F([1, 2, 4, 6]);
      const d = run('SpaceToDepth', [x], { blocksize: i(2) });
      assert.deepEqual(d.dims, [1, 8, 2, 3]);
      assert.deepEqual(nums(run('DepthToSpace', [d], { blocksize: i(2) })), nums(x));
      assert.notDeepEqual(nums(run('DepthToSpace', [d], { blocksize: i(2), mode: s('CRD') })), nums(x));
      assert.deepEqual(infer('DepthToSpace', [ty('float32', ['N', 8, 'H', 3])], { blocksize: i(2) }).shape!.slice(0, 2), ['N', 2]);
      assert.throws(() => run('DepthToSpace', [F([1, 3, 1, 1])], { blocksize: i(2) }), GraphError);
    });
  });

  describe('Concat / Split', () => {
    it('Concat negative axis, int64, empty inputs', () => {
      const c = run('Concat', [I64([1, 2], [1, 2]), I64([], [0, 2]), I64([3n, 2n ** 60n], [1, 2])], { axis: i(-2) });
      assert.deepEqual(c.dims, [2, 2]);
      assert.deepEqual(vals(c), [1n, 2n, 3n, 2n ** 60n]);
      assert.deepEqual(infer('Concat', [ty('float32', ['N', 2]), ty('float32', ['N', 3])], { axis: i(1) }).shape, ['N', 5]);
      assert.deepEqual(infer('Concat', [ty('int64', [1]), ty('int64', [2])], { axis: i(0) }).shape, [3]);
      assert.throws(() => run('Concat', [F([1, 2]), F([1, 3])], { axis: i(0) }), GraphError);
    });
    it('Split by num_outputs (uneven), by attribute, by input', () => {
      const parts = runAll('Split', [F([7])], { num_outputs: i(3) }, 18, 3) as Tensor[];
      assert.deepEqual(parts.map((p) => p.dims[0]), [3, 3, 1]);
      const b = runAll('Split', [F([2, 5])], { axis: i(-1), split: ints([2, 3]) }, 11, 2) as Tensor[];
      assert.deepEqual(nums(b[1]), [2, 3, 4, 7, 8, 9]);
      const c = runAll('Split', [F([6]), I64([1, 5])], {}, 13, 2) as Tensor[];
      assert.deepEqual(c.map((p) => p.dims[0]), [1, 5]);
      assert.throws(() => runAll('Split', [F([7])], {}, 13, 2), GraphError);
      assert.deepEqual(inferAll('Split', [ty('float32', ['N', 6])], { axis: i(1) }, {}, 13, 2).map((t) => t.shape), [['N', 3], ['N', 3]]);
    });
  });

  describe('Slice', () => {
    it('negative steps, clamping, INT64 bounds, empty results', () => {
      const x = F([5]);
      assert.deepEqual(nums(run('Slice', [x, I64([-1]), I64([-(2n ** 63n)]), I64([0]), I64([-2])])), [4, 2, 0]);
      assert.deepEqual(nums(run('Slice', [x, I64([1]), I64([2n ** 63n - 1n])])), [1, 2, 3, 4]);
      assert.deepEqual(run('Slice', [x, I64([3]), I64([1])]).dims, [0]);
      assert.deepEqual(nums(run('Slice', [F([2, 3]), I64([1]), I64([3]), I64([-1])])), [1, 2, 4, 5]);
      assert.deepEqual(nums(run('Slice', [x], { starts: ints([1]), ends: ints([3]) }, 9)), [1, 2]);
      assert.throws(() => run('Slice', [x, I64([0]), I64([1]), I64([0]), I64([0])]), GraphError);
    });
    it('infers from constants, keeps symbols on full ranges', () => {
      const c = { 1: I64([0]), 2: I64([2n ** 63n - 1n]), 3: I64([1]) };
      assert.deepEqual(infer('Slice', [ty('float32', ['N', 'S']), ty('int64', [1]), ty('int64', [1]), ty('int64', [1])], {}, c).shape, ['N', 'S']);
      const d = { 1: I64([1]), 2: I64([-1]), 3: I64([0]) };
      assert.deepEqual(infer('Slice', [ty('float32', [5, 'S']), ty('int64', [1]), ty('int64', [1]), ty('int64', [1])], {}, d).shape, [3, 'S']);
      const u = infer('Slice', [ty('float32', [5, 'S']), ty('int64', [1]), ty('int64', [1]), ty('int64', [1])], {}, { 3: I64([1]) }).shape!;
      assert.equal(u[0], 5);
      assert.equal(typeof u[1], 'string');
    });
  });

  describe('Gather family', () => {
    it('Gather with negative, int32 and scalar indices', () => {
      const x = F([3, 2]);
      assert.deepEqual(nums(run('Gather', [x, I64([-1])])), [4, 5]);
      const g = run('Gather', [x, T('int32', [], [1])], { axis: i(1) });
      assert.deepEqual(g.dims, [3]);
      assert.deepEqual(nums(g), [1, 3, 5]);
      assert.throws(() => run('Gather', [x, I64([3])]), GraphError);
      assert.deepEqual(infer('Gather', [ty('int64', [4]), ty('int64', [])], {}).shape, []);
      assert.deepEqual(infer('Gather', [ty('float32', ['V', 64]), ty('int64', ['B', 'S'])]).shape, ['B', 'S', 64]);
    });
    it('Gather on a constant shape tensor (what the builder folds)', () => {
      const shape = I64([1, 3, 224, 224]);
      assert.deepEqual(vals(run('Gather', [shape, I64([2, 3])])), [224n, 224n]);
    });
    it('GatherElements and GatherND with batch_dims', () => {
      assert.deepEqual(nums(run('GatherElements', [F([2, 2]), I64([1, 0, -1, 0], [2, 2])], { axis: i(1) })), [1, 0, 3, 2]);
      const nd = run('GatherND', [F([2, 2, 2]), I64([1, 0], [2, 1])], { batch_dims: i(1) });
      assert.deepEqual(nd.dims, [2, 2]);
      assert.deepEqual(nums(nd), [2, 3, 4, 5]);
      assert.deepEqual(infer('GatherND', [ty('float32', ['B', 4, 5]), ty('int64', ['B', 7, 1])], { batch_dims: i(1) }).shape, ['B', 7, 5]);
    });
  });

  describe('Scatter family', () => {
    it('ScatterElements add keeps int64 exact', () => {
      const big = 2n ** 62n;
      const y = run('ScatterElements', [I64([big, 0n]), I64([0, 0]), I64([1n, 2n])], { reduction: s('add') });
      assert.deepEqual(vals(y), [big + 3n, 0n]);
    });
    it('ScatterElements does not mutate its input; min and max', () => {
      const data = F([3], [5, 5, 5]);
      const y = run('ScatterElements', [data, I64([0, 2]), F([2], [1, 9])], { reduction: s('max') });
      assert.deepEqual(nums(y), [5, 5, 9]);
      assert.deepEqual(nums(data), [5, 5, 5]);
      assert.throws(() => run('ScatterElements', [data, I64([3]), F([1], [1])]), GraphError);
      assert.throws(() => run('ScatterElements', [data, I64([0]), F([1], [1])], { reduction: s('sum') }), GraphError);
    });
    it('ScatterND mul and shape checks', () => {
      const y = run('ScatterND', [F([2, 2], [1, 2, 3, 4]), I64([1, 1], [2, 1]), F([2, 2], [2, 2, 3, 3])], { reduction: s('mul') });
      assert.deepEqual(nums(y), [1, 2, 18, 24]);
      assert.throws(() => run('ScatterND', [F([2, 2]), I64([1], [1, 1]), F([3])]), GraphError);
    });
    it('TensorScatter circular wraps, linear refuses overflow', () => {
      const past = F([1, 3, 1], [0, 0, 0]);
      const upd = F([1, 2, 1], [7, 8]);
      assert.deepEqual(nums(run('TensorScatter', [past, upd, I64([2])], { mode: s('circular') })), [8, 0, 7]);
      assert.throws(() => run('TensorScatter', [past, upd, I64([2])]), GraphError);
    });
  });

  describe('Expand / Tile', () => {
    it('Expand broadcasts both ways', () => {
      const y = run('Expand', [F([3, 1]), I64([2, 1, 4])]);
      assert.deepEqual(y.dims, [2, 3, 4]);
      assert.deepEqual(run('Expand', [F([2, 3]), I64([1])]).dims, [2, 3]);
      assert.throws(() => run('Expand', [F([2, 3]), I64([4, 3])]), GraphError);
      assert.deepEqual(infer('Expand', [ty('float32', ['N', 1]), ty('int64', [2])], {}, { 1: I64([1, 5]) }).shape, ['N', 5]);
      assert.equal(infer('Expand', [ty('float32', ['N', 1]), ty('int64', [3])]).shape!.length, 3);
    });
    it('Tile with zero repeats and symbolic dims', () => {
      assert.deepEqual(nums(run('Tile', [F([2], [1, 2]), I64([2])])), [1, 2, 1, 2]);
      assert.deepEqual(run('Tile', [F([2, 2]), I64([0, 1])]).dims, [0, 2]);
      assert.deepEqual(infer('Tile', [ty('float32', ['N', 2]), ty('int64', [2])], {}, { 1: I64([1, 3]) }).shape, ['N', 6]);
    });
  });

  describe('Pad / CenterCropPad', () => {
    const x = F([3], [1, 2, 3]);
    it('every mode, negative pads, opset 2 attributes, axes input', () => {
      assert.deepEqual(nums(run('Pad', [x, I64([2, 2]), T('float32', [], [9])])), [9, 9, 1, 2, 3, 9, 9]);
      assert.deepEqual(nums(run('Pad', [x, I64([2, 2])], { mode: s('reflect') })), [3, 2, 1, 2, 3, 2, 1]);
      assert.deepEqual(nums(run('Pad', [x, I64([2, 2])], { mode: s('edge') })), [1, 1, 1, 2, 3, 3, 3]);
      assert.deepEqual(nums(run('Pad', [x, I64([2, 2])], { mode: s('wrap') })), [2, 3, 1, 2, 3, 1, 2]);
      assert.deepEqual(nums(run('Pad', [x, I64([-1, 1])])), [2, 3, 0]);
      assert.deepEqual(nums(run('Pad', [x], { pads: ints([1, 0]), value: fl(4) }, 2)), [4, 1, 2, 3]);
      assert.deepEqual(run('Pad', [F([2, 3]), I64([1, 1]), undefined, I64([-1])]).dims, [2, 5]);
      assert.throws(() => run('Pad', [x, I64([-4, 0])]), GraphError);
      assert.throws(() => run('Pad', [x, I64([1, 1])], { mode: s('wrap') }, 18), GraphError);
    });
    it('int64 constant value and inference', () => {
      assert.deepEqual(vals(run('Pad', [I64([1]), I64([1, 0]), I64([2n ** 60n], [])])), [2n ** 60n, 1n]);
      assert.deepEqual(infer('Pad', [ty('float32', ['N', 3]), ty('int64', [4])], {}, { 1: I64([0, 1, 0, 1]) }).shape, ['N', 5]);
    });
    it('CenterCropPad crops and pads around the centre', () => {
      const y = run('CenterCropPad', [F([5], [1, 2, 3, 4, 5]), I64([2])]);
      assert.deepEqual(nums(y), [2, 3]);
      assert.deepEqual(nums(run('CenterCropPad', [F([2], [1, 2]), I64([5])])), [0, 1, 2, 0, 0]);
    });
  });

  describe('Resize / Upsample', () => {
    it('nearest upsampling by 2 repeats; linear half_pixel interpolates', () => {
      const x = F([1, 1, 1, 2], [1, 3]);
      assert.deepEqual(nums(run('Resize', [x, undefined, T('float32', [4], [1, 1, 1, 2])])), [1, 1, 3, 3]);
      assert.deepEqual(nums(run('Resize', [x, undefined, T('float32', [4], [1, 1, 1, 2])], { mode: s('linear') })), [1, 1.5, 2.5, 3]);
      assert.deepEqual(nums(run('Upsample', [x, T('float32', [4], [1, 1, 1, 2])], {}, 9)), [1, 1, 3, 3]);
    });
    it('int8 and uint8 inputs keep their dtype', () => {
      const y = run('Resize', [T('uint8', [1, 2], [10, 20]), undefined, T('float32', [2], [1, 2])], { mode: s('linear') });
      assert.equal(y.dtype, 'uint8');
      assert.deepEqual(nums(y), [10, 12, 17, 20]);
    });
    it('infers from scales, sizes, keep_aspect_ratio_policy and axes', () => {
      const t = [ty('float32', ['N', 3, 10, 20]), ty('float32', [0]), ty('float32', [4])];
      assert.deepEqual(infer('Resize', t, {}, { 2: T('float32', [4], [1, 1, 2, 0.5]) }).shape, ['N', 3, 20, 10]);
      const u = [ty('float32', [1, 3, 10, 20]), undefined, undefined, ty('int64', [2])];
      assert.deepEqual(infer('Resize', u, { axes: ints([2, 3]), keep_aspect_ratio_policy: s('not_larger') }, { 3: I64([5, 5]) }).shape, [1, 3, 3, 5]);
      const v = infer('Resize', u, { axes: ints([2, 3]) }).shape!;
      assert.deepEqual(v.slice(0, 2), [1, 3]);
      assert.equal(typeof v[2], 'string');
    });
    it('shrinks before it grows, so intermediates stay bounded', () => {
      const y = run('Resize', [F([2 ** 16, 1]), undefined, undefined, I64([1, 2 ** 16])]);
      assert.deepEqual(y.dims, [1, 2 ** 16]);
    });
    it('bad arguments give typed errors', () => {
      const x = F([1, 2]);
      assert.throws(() => run('Resize', [x, undefined, T('float32', [2], [1, 0])]), GraphError);
      assert.throws(() => run('Resize', [x, undefined, T('float32', [2], [1, 2]), I64([1, 4])]), GraphError);
      assert.throws(() => run('Resize', [x, undefined, T('float32', [2], [1, 2])], { mode: s('area') }), GraphError);
      assert.throws(() => run('Resize', [x, undefined, T('float32', [2], [1, 2])], { coordinate_transformation_mode: s('tf_half_pixel_for_nn') }, 11), UnsupportedError);
    });
  });

  describe('Shape / Size / ConstantOfShape / Range / EyeLike', () => {
    it('Shape start/end clamp; Size counts', () => {
      const x = F([2, 3, 4]);
      assert.deepEqual(vals(run('Shape', [x], { start: i(-2) })), [3n, 4n]);
      assert.deepEqual(vals(run('Shape', [x], { start: i(5) })), []);
      assert.deepEqual(infer('Shape', [ty('float32', ['N', 3])], { end: i(-1) }).shape, [1]);
      assert.deepEqual(vals(run('Size', [F([0, 4])])), [0n]);
    });
    it('ConstantOfShape: value dtype, scalar from empty shape, hostile sizes refused', () => {
      const y = run('ConstantOfShape', [I64([2, 2])], { value: ten(I64([7], [1])) });
      assert.equal(y.dtype, 'int64');
      assert.deepEqual(vals(y), [7n, 7n, 7n, 7n]);
      assert.deepEqual(run('ConstantOfShape', [I64([])]).dims, []);
      assert.throws(() => run('ConstantOfShape', [I64([2 ** 20, 2 ** 20])]), GraphError);
      assert.throws(() => run('ConstantOfShape', [I64([-1])]), GraphError);
      assert.deepEqual(infer('ConstantOfShape', [ty('int64', [2])], {}, { 0: I64([3, 4]) }), ty('float32', [3, 4]));
    });
    it('Range: negative delta, exact int64, refuses huge or zero delta', () => {
      assert.deepEqual(nums(run('Range', [T('int32', [], [5]), T('int32', [], [0]), T('int32', [], [-2])])), [5, 3, 1]);
      const big = 2n ** 60n;
      assert.deepEqual(vals(run('Range', [I64([big], []), I64([big + 3n], []), I64([1], [])])), [big, big + 1n, big + 2n]);
      assert.throws(() => run('Range', [F([], [0]), F([], [1e12]), F([], [1])]), GraphError);
      assert.throws(() => run('Range', [F([], [0]), F([], [1]), F([], [0])]), GraphError);
      assert.deepEqual(infer('Range', [ty('float32', []), ty('float32', []), ty('float32', [])], {}, { 0: F([], [0]), 1: F([], [1]), 2: F([], [0.25]) }).shape, [4]);
    });
    it('EyeLike with k and dtype', () => {
      const y = run('EyeLike', [F([2, 3])], { k: i(1), dtype: i(7) });
      assert.equal(y.dtype, 'int64');
      assert.deepEqual(vals(y), [0n, 1n, 0n, 0n, 0n, 1n]);
    });
  });

  describe('OneHot / NonZero / Compress / Trilu / ReverseSequence / Unique / Det', () => {
    it('OneHot with negative and out-of-range indices', () => {
      const y = run('OneHot', [I64([-1, 5, 0]), F([], [3]), F([2], [0, 1])], {}, 11);
      assert.deepEqual(y.dims, [3, 3]);
      assert.deepEqual(nums(y), [0, 0, 1, 0, 0, 0, 1, 0, 0]);
      assert.deepEqual(infer('OneHot', [ty('int64', ['N']), ty('float32', []), ty('int32', [2])], { axis: i(0) }, { 1: F([], [4]) }, 11).shape, [4, 'N']);
    });
    it('NonZero and Compress', () => {
      const nz = run('NonZero', [F([2, 2], [0, 1, 1, 0])]);
      assert.deepEqual(nz.dims, [2, 2]);
      assert.deepEqual(vals(nz), [0n, 1n, 1n, 0n]);
      assert.deepEqual(nums(run('Compress', [F([2, 2]), T('bool', [2], [0, 1])], { axis: i(-1) })), [1, 3]);
      assert.throws(() => run('Compress', [F([2]), T('bool', [3], [0, 0, 1])], { axis: i(0) }), GraphError);
    });
    it('Trilu on batches, with k', () => {
      const x = F([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(nums(run('Trilu', [x])), [1, 2, 0, 4, 5, 6, 0, 8]);
      assert.deepEqual(nums(run('Trilu', [x, I64([-1], [])], { upper: i(0) })), [0, 0, 3, 0, 0, 0, 7, 0]);
    });
    it('ReverseSequence and its bad lengths', () => {
      const y = run('ReverseSequence', [F([3, 2], [1, 2, 3, 4, 5, 6]), I64([3, 1])], { batch_axis: i(1), time_axis: i(0) });
      assert.deepEqual(nums(y), [5, 2, 3, 4, 1, 6]);
      assert.throws(() => run('ReverseSequence', [F([3, 2]), I64([4, 1])]), GraphError);
    });
    it('Unique unsorted with all four outputs, and strings', () => {
      const [y, idx, inv, cnt] = runAll('Unique', [F([5], [3, 1, 3, 2, 1])], { sorted: i(0) }, 11, 4) as Tensor[];
      assert.deepEqual(nums(y), [3, 1, 2]);
      assert.deepEqual(vals(idx), [0n, 1n, 3n]);
      assert.deepEqual(vals(inv), [0n, 1n, 0n, 2n, 1n]);
      assert.deepEqual(vals(cnt), [2n, 2n, 1n]);
      assert.deepEqual(vals(run('Unique', [T('string', [3], ['b', 'a', 'b'])], {}, 11)), ['a', 'b']);
    });
    it('Det of a 3x3 and a singular matrix', () => {
      assert.ok(Math.abs(run('Det', [F([3, 3], [2, 0, 1, 1, 3, 2, 1, 1, 2])]).get(0) - 6) < 1e-6);
      assert.equal(run('Det', [F([2, 2], [1, 2, 2, 4])]).get(0), 0);
      assert.deepEqual(infer('Det', [ty('float32', ['B', 3, 3])]).shape, ['B']);
    });
  });

  describe('hostile inputs', () => {
    it('refuse unbounded outputs with GraphError', () => {
      assert.throws(() => run('Expand', [F([1]), I64([2 ** 16, 2 ** 16])]), GraphError);
      assert.throws(() => run('Tile', [F([2]), I64([2 ** 31])]), GraphError);
      assert.throws(() => run('Resize', [F([1, 1]), undefined, undefined, I64([2 ** 16, 2 ** 16])]), GraphError);
      assert.throws(() => run('OneHot', [I64([0, 1]), F([], [2 ** 31]), F([2], [0, 1])], {}, 11), GraphError);
    });
  });
});
