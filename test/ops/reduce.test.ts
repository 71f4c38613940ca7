/** The reduce family: shape inference and the edge cases the ONNX golden data misses. */
import { strict as assert } from 'assert';
import { GraphError, UnsupportedError } from '../../src/errors';
import { DType } from '../../src/ir/dtype';
import { Attr, Graph, Node, ValueType } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { registry } from '../../src/ops';
import { REDUCE_OPS } from '../../src/ops/reduce';
import { OpContext, RuntimeValue } from '../../src/ops/types';
import { AttrMap, runInferShape, runReference, testNode } from '../helpers/op-run';
import { Attrs } from '../../src/ir/attrs';
import { inferShapes } from '../../src/ops/infer-shapes';

function runAll(opType: string, inputs: (Tensor | undefined)[], attrs: AttrMap = {}, opset = 18, outputs = 1): RuntimeValue[] {
  return runReference(testNode(opType, inputs.length, attrs, outputs), opset, inputs);
}

const run = (opType: string, inputs: (Tensor | undefined)[], attrs: AttrMap = {}, opset = 18): Tensor =>
  runAll(opType, inputs, attrs, opset)[0] as Tensor;

function inferAll(opType: string, types: (ValueType | undefined)[], attrs: AttrMap = {}, consts: Record<number, Tensor> = {}, opset = 18, outputs = 1): ValueType[] {
  return runInferShape(testNode(opType, types.length, attrs, outputs), opset, types, (k) => consts[k]);
}

const infer = (opType: string, types: (ValueType | undefined)[], attrs: AttrMap = {}, consts: Record<number, Tensor> = {}, opset = 18): ValueType =>
  inferAll(opType, types, attrs, consts, opset)[0];

const T = (dtype: DType, dims: number[], v: ArrayLike<number | bigint | boolean>) => Tensor.from(dtype, dims, v);
const F = (dims: number[], v?: number[]) => T('float32', dims, v ?? Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, k) => k));
const I64 = (v: (number | bigint)[], dims = [v.length]) => T('int64', dims, v);
const vals = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>);
const nums = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>, Number);
const i = (v: number): Attr => ({ type: 'int', value: v });
const fl = (v: number): Attr => ({ type: 'float', value: v });
const s = (v: string): Attr => ({ type: 'string', value: v });
const ints = (v: number[]): Attr => ({ type: 'ints', value: v });
const ty = (dtype: DType, shape?: (number | string)[]): ValueType => ({ dtype, shape });
const close = (a: number[], b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length, `length ${a.length} vs ${b.length}`);
  a.forEach((x, k) => assert.ok(Math.abs(x - b[k]) <= tol * (1 + Math.abs(b[k])), `element ${k}: ${x} vs ${b[k]}`));
};

describe('reduce family', () => {
  it('registers each op once, each with inferShape', () => {
    const names = REDUCE_OPS.map((d) => `${d.domain ?? ''}::${d.opType}`);
    assert.equal(new Set(names).size, names.length);
    for (const d of REDUCE_OPS) assert.ok(d.inferShape, `${d.opType} lacks inferShape`);
  });

  describe('Reduce*', () => {
    const x = F([2, 3], [1, 2, 3, 4, 5, 6]);
    it('axes input (opset 13 ReduceSum, 18 others), negative axes, keepdims', () => {
      assert.deepEqual(nums(run('ReduceSum', [x, I64([-1])], {}, 13)), [6, 15]);
      assert.deepEqual(run('ReduceSum', [x, I64([-1])], {}, 13).dims, [2, 1]);
      assert.deepEqual(run('ReduceMean', [x, I64([0])], { keepdims: i(0) }).dims, [3]);
      assert.deepEqual(nums(run('ReduceMean', [x, I64([0])], { keepdims: i(0) })), [2.5, 3.5, 4.5]);
    });
    it('axes attribute before the input form', () => {
      assert.deepEqual(nums(run('ReduceSum', [x], { axes: ints([1]) }, 11)), [6, 15]);
      assert.deepEqual(nums(run('ReduceMax', [x], { axes: ints([0]), keepdims: i(0) }, 13)), [4, 5, 6]);
      assert.throws(() => run('ReduceMax', [x], { axes: ints([0]) }, 18), GraphError);
    });
    it('empty axes reduce everything unless noop_with_empty_axes', () => {
      assert.deepEqual(nums(run('ReduceSum', [x], {}, 13)), [21]);
      assert.deepEqual(run('ReduceSum', [x], {}, 13).dims, [1, 1]);
      assert.deepEqual(nums(run('ReduceSum', [x, I64([])], { noop_with_empty_axes: i(1) }, 13)), [1, 2, 3, 4, 5, 6]);
      // noop reduces each element alone: SumSquare squares, as the ONNX function body does
      assert.deepEqual(nums(run('ReduceSumSquare', [x], { noop_with_empty_axes: i(1) })), [1, 4, 9, 16, 25, 36]);
    });
    it('empty reductions give the identity', () => {
      const e = F([2, 0, 3], []);
      const ax = I64([1]);
      assert.deepEqual(nums(run('ReduceSum', [e, ax], {}, 13)), [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(nums(run('ReduceProd', [e, ax])), [1, 1, 1, 1, 1, 1]);
      assert.deepEqual(nums(run('ReduceMax', [e, ax])), new Array(6).fill(-Infinity));
      assert.deepEqual(nums(run('ReduceMin', [e, ax])), new Array(6).fill(Infinity));
      assert.deepEqual(nums(run('ReduceLogSumExp', [e, ax])), new Array(6).fill(-Infinity));
      assert.deepEqual(nums(run('ReduceMax', [T('int32', [0, 2], []), I64([0])])), [-(2 ** 31), -(2 ** 31)]);
      assert.deepEqual(nums(run('ReduceMin', [T('bool', [2, 0], []), I64([1])], {}, 20)), [1, 1]);
      // reducing a zero-size axis that is kept gives an empty output
      assert.deepEqual(run('ReduceSum', [e, I64([2])], {}, 13).dims, [2, 0, 1]);
    });
    it('int64 is exact and int32 wraps', () => {
      const big = I64([2n ** 53n, 1n, 1n], [3]);
      assert.deepEqual(vals(run('ReduceSum', [big, I64([0])], { keepdims: i(0) }, 13)), [2n ** 53n + 2n]);
      assert.deepEqual(vals(run('ReduceProd', [I64([2n ** 40n, 2n ** 20n]), I64([0])])), [2n ** 60n]);
      assert.deepEqual(nums(run('ReduceSum', [T('int32', [2], [2 ** 31 - 1, 1]), I64([0])], {}, 13)), [-(2 ** 31)]);
      assert.deepEqual(vals(run('ReduceMean', [I64([7, 8]), I64([0])])), [7n]);
      assert.deepEqual(vals(run('ReduceMax', [I64([-(2n ** 62n), 2n ** 62n + 1n]), I64([0])])), [2n ** 62n + 1n]);
    });
    it('LogSumExp is stable for large inputs; L1/L2/LogSum', () => {
      close(nums(run('ReduceLogSumExp', [T('float64', [2], [1000, 1000]), I64([0])])), [1000 + Math.log(2)]);
      close(nums(run('ReduceL1', [F([2], [-3, 4]), I64([0])])), [7]);
      close(nums(run('ReduceL2', [F([2], [-3, 4]), I64([0])])), [5]);
      close(nums(run('ReduceLogSum', [F([2], [1, 2]), I64([0])])), [Math.log(3)]);
    });
    it('bad axes and types give typed errors', () => {
      assert.throws(() => run('ReduceSum', [x, I64([2])], {}, 13), GraphError);
      assert.throws(() => run('ReduceSum', [x, I64([1, -1])], {}, 13), GraphError);
      assert.throws(() => run('ReduceSum', [T('bool', [2], [1, 0]), I64([0])], {}, 13), GraphError);
      assert.throws(() => run('ReduceMax', [T('bool', [2], [1, 0]), I64([0])], {}, 18), GraphError); // bool needs opset 20
    });
    it('shape inference: static, symbolic, unknown axes', () => {
      assert.deepEqual(infer('ReduceSum', [ty('float32', ['N', 3, 4]), ty('int64', [1])], {}, { 1: I64([-1]) }, 13), ty('float32', ['N', 3, 1]));
      assert.deepEqual(infer('ReduceMean', [ty('float32', ['N', 3, 4]), ty('int64', [1])], { keepdims: i(0) }, { 1: I64([1]) }), ty('float32', ['N', 4]));
      assert.deepEqual(infer('ReduceMean', [ty('float32', ['N', 3, 4])], { axes: ints([0, 2]), keepdims: i(0) }, {}, 13), ty('float32', [3]));
      assert.deepEqual(infer('ReduceMax', [ty('float16', [2, 3])]), ty('float16', [1, 1]));
      assert.equal(infer('ReduceSum', [ty('float32', [2, 3]), ty('int64', [1])], {}, {}, 13).shape, undefined);
      assert.equal(infer('ReduceSum', [ty('float32')], {}, {}, 13).shape, undefined);
    });
  });

  describe('ArgMax / ArgMin', () => {
    const x = F([2, 3], [1, 5, 5, 7, 0, 7]);
    it('first or last index, keepdims, negative axis, int64 output', () => {
      const a = run('ArgMax', [x], { axis: i(-1) }, 13);
      assert.equal(a.dtype, 'int64');
      assert.deepEqual(a.dims, [2, 1]);
      assert.deepEqual(vals(a), [1n, 0n]);
      assert.deepEqual(vals(run('ArgMax', [x], { axis: i(1), select_last_index: i(1), keepdims: i(0) }, 13)), [2n, 2n]);
      assert.deepEqual(vals(run('ArgMin', [x], { axis: i(0), keepdims: i(0) }, 13)), [0n, 1n, 0n]);
      assert.deepEqual(vals(run('ArgMax', [I64([2n ** 60n, 2n ** 60n + 1n])], {}, 13)), [1n]);
    });
    it('errors and shapes', () => {
      assert.throws(() => run('ArgMax', [F([2, 0])], { axis: i(1) }, 13), GraphError);
      assert.throws(() => run('ArgMax', [x], { axis: i(2) }, 13), GraphError);
      assert.deepEqual(infer('ArgMin', [ty('float32', ['N', 5])], { axis: i(1), keepdims: i(0) }, {}, 13), ty('int64', ['N']));
    });
  });

  describe('Softmax / LogSoftmax / Hardmax', () => {
    const x = F([2, 2], [1, 2, 3, 4]);
    it('opset 13 works along one axis; before 13 coerces to 2-D', () => {
      const a = nums(run('Softmax', [x], { axis: i(0) }, 13));
      close(a, [1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(-2))]);
      // opset 11, axis 0: one softmax over all four elements
      const b = nums(run('Softmax', [x], { axis: i(0) }, 11));
      const z = [1, 2, 3, 4].map(Math.exp).reduce((p, q) => p + q);
      close(b, [1, 2, 3, 4].map((v) => Math.exp(v) / z));
      // default axis differs: 1 (2-D coerce) before 13, -1 after; both equal for 2-D
      close(nums(run('Softmax', [x], {}, 11)), nums(run('Softmax', [x], {}, 13)));
    });
    it('is stable for large inputs and handles -inf', () => {
      close(nums(run('LogSoftmax', [F([2], [1e30, 1e30])], {}, 13)), [-Math.log(2), -Math.log(2)]);
      close(nums(run('Softmax', [F([2], [-Infinity, 0])], {}, 13)), [0, 1]);
    });
    it('Hardmax picks the first maximum', () => {
      assert.deepEqual(nums(run('Hardmax', [F([1, 4], [3, 7, 7, 1])], {}, 13)), [0, 1, 0, 0]);
    });
    it('rejects integers and keeps shapes', () => {
      assert.throws(() => run('Softmax', [T('int32', [2], [1, 2])], {}, 13), GraphError);
      assert.deepEqual(infer('Softmax', [ty('float16', ['B', 'S', 8])], {}, {}, 13), ty('float16', ['B', 'S', 8]));
      assert.throws(() => infer('Softmax', [ty('float32', [2, 3])], { axis: i(2) }, {}, 13), GraphError);
    });
  });

  describe('TopK', () => {
    it('ties keep the lower index; largest and smallest', () => {
      const x = I64([3, 1, 3, 2]);
      const [v, ix] = runAll('TopK', [x, I64([3])], {}, 11, 2) as Tensor[];
      assert.deepEqual(vals(v), [3n, 3n, 2n]);
      assert.deepEqual(vals(ix), [0n, 2n, 3n]);
      const [v2, ix2] = runAll('TopK', [F([4], [3, 1, 1, 2]), I64([2])], { largest: i(0) }, 11, 2) as Tensor[];
      assert.deepEqual(nums(v2), [1, 1]);
      assert.deepEqual(vals(ix2), [1n, 2n]);
    });
    it('k attribute before opset 10, along a middle axis', () => {
      const [v] = runAll('TopK', [F([2, 3, 1], [1, 9, 5, 4, 2, 8])], { k: i(1), axis: i(1) }, 1, 2) as Tensor[];
      assert.deepEqual(v.dims, [2, 1, 1]);
      assert.deepEqual(nums(v), [9, 8]);
    });
    it('k = 0 gives empty outputs; k > size fails', () => {
      const [v] = runAll('TopK', [F([3]), I64([0])], {}, 11, 2) as Tensor[];
      assert.deepEqual(v.dims, [0]);
      assert.throws(() => runAll('TopK', [F([3]), I64([4])], {}, 11, 2), GraphError);
      assert.throws(() => runAll('TopK', [F([3]), I64([-1])], {}, 11, 2), GraphError);
    });
    it('shape inference with constant or unknown k', () => {
      const [a, b] = inferAll('TopK', [ty('float32', ['N', 10]), ty('int64', [1])], {}, { 1: I64([4]) }, 11, 2);
      assert.deepEqual(a, ty('float32', ['N', 4]));
      assert.deepEqual(b, ty('int64', ['N', 4]));
      const [c] = inferAll('TopK', [ty('float32', ['N', 10]), ty('int64', [1])], {}, {}, 11, 2);
      assert.equal(c.shape!.length, 2);
      assert.equal(typeof c.shape![1], 'string');
    });
  });

  describe('CumSum / CumProd', () => {
    it('exclusive and reverse, int64 exact, int32 wraps', () => {
      const x = F([4], [1, 2, 3, 4]);
      const ax = T('int32', [], [0]);
      assert.deepEqual(nums(run('CumSum', [x, ax], { exclusive: i(1), reverse: i(1) }, 14)), [9, 7, 4, 0]);
      assert.deepEqual(nums(run('CumProd', [x, ax], { exclusive: i(1) }, 26)), [1, 1, 2, 6]);
      assert.deepEqual(vals(run('CumSum', [I64([2n ** 53n, 1n]), I64([0])], {}, 14)), [2n ** 53n, 2n ** 53n + 1n]);
      assert.deepEqual(nums(run('CumProd', [T('int32', [2], [65536, 65536]), ax], {}, 26)), [65536, 0]);
    });
    it('negative axis over 2-D; bad axis fails', () => {
      assert.deepEqual(nums(run('CumSum', [F([2, 2], [1, 2, 3, 4]), I64([-1])], {}, 14)), [1, 3, 3, 7]);
      assert.throws(() => run('CumSum', [F([2]), I64([1])], {}, 14), GraphError);
      assert.throws(() => run('CumSum', [F([2]), I64([0, 0])], {}, 14), GraphError);
    });
  });

  describe('NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss', () => {
    const x = F([2, 3], [-1, -2, -3, -4, -5, -6]);
    it('reductions, weights and ignore_index', () => {
      const t = I64([2, 0]);
      assert.deepEqual(nums(run('NegativeLogLikelihoodLoss', [x, t], { reduction: s('none') }, 13)), [3, 4]);
      assert.deepEqual(nums(run('NegativeLogLikelihoodLoss', [x, t], { reduction: s('sum') }, 13)), [7]);
      assert.deepEqual(nums(run('NegativeLogLikelihoodLoss', [x, t, F([3], [1, 1, 3])], {}, 13)), [(9 + 4) / 4]);
      // the ignored target weighs nothing, even when out of range
      assert.deepEqual(nums(run('NegativeLogLikelihoodLoss', [x, I64([7, 0])], { ignore_index: i(7) }, 13)), [4]);
    });
    it('out-of-range targets and bad reductions fail', () => {
      assert.throws(() => run('NegativeLogLikelihoodLoss', [x, I64([3, 0])], {}, 13), GraphError);
      assert.throws(() => run('NegativeLogLikelihoodLoss', [x, I64([0, 0])], { reduction: s('avg') }, 13), GraphError);
      assert.throws(() => run('NegativeLogLikelihoodLoss', [x, I64([0, 0, 0])], {}, 13), GraphError);
    });
    it('SCE is NLL of LogSoftmax over axis 1 and outputs log_prob', () => {
      const [loss, lp] = runAll('SoftmaxCrossEntropyLoss', [F([1, 2], [0, 0]), I64([1])], {}, 13, 2) as Tensor[];
      close(nums(loss), [Math.log(2)]);
      assert.deepEqual(lp.dims, [1, 2]);
      const types = inferAll('SoftmaxCrossEntropyLoss', [ty('float32', ['N', 5, 7]), ty('int64', ['N', 7])], { reduction: s('none') }, {}, 13, 2);
      assert.deepEqual(types, [ty('float32', ['N', 7]), ty('float32', ['N', 5, 7])]);
      assert.deepEqual(infer('NegativeLogLikelihoodLoss', [ty('float32', ['N', 5]), ty('int64', ['N'])], {}, {}, 13), ty('float32', []));
    });
  });

  describe('Attention', () => {
    it('matches a hand computation, with a fully masked row giving zeros', () => {
      // one head, q_len 2, kv_len 2, head size 1; scale 1
      const q = F([1, 1, 2, 1], [1, 1]), k = F([1, 1, 2, 1], [0, Math.log(3)]), v = F([1, 1, 2, 1], [10, 20]);
      const mask = T('bool', [2, 2], [1, 1, 0, 0]);
      const [y] = runAll('Attention', [q, k, v, mask], { scale: fl(1) }, 23) as Tensor[];
      close(nums(y), [0.25 * 10 + 0.75 * 20, 0]);
    });
    it('causal with past aligns to the past length; GQA and 3-D inputs', () => {
      const q = F([1, 2, 1, 2], [1, 0, 0, 1]);
      const k = F([1, 1, 1, 2], [1, 1]), v = F([1, 1, 1, 2], [5, 6]);
      const pk = F([1, 1, 1, 2], [0, 0]), pv = F([1, 1, 1, 2], [1, 2]);
      const [y, pkOut] = runAll('Attention', [q, k, v, undefined, pk, pv], { is_causal: i(1), scale: fl(1) }, 23, 3) as Tensor[];
      assert.deepEqual(pkOut.dims, [1, 1, 2, 2]);
      const w = Math.E / (1 + Math.E);
      close(nums(y), [(1 - w) * 1 + w * 5, (1 - w) * 2 + w * 6, (1 - w) * 1 + w * 5, (1 - w) * 2 + w * 6]);
      const q3 = F([1, 1, 4]), k3 = F([1, 1, 2]), v3 = F([1, 1, 2]);
      assert.deepEqual(run('Attention', [q3, k3, v3], { q_num_heads: i(2), kv_num_heads: i(1) }, 23).dims, [1, 1, 4]);
      assert.throws(() => run('Attention', [q3, k3, v3], {}, 23), GraphError);
      assert.throws(() => run('Attention', [F([1, 3, 1, 2]), F([1, 2, 1, 2]), F([1, 2, 1, 2])], {}, 23), GraphError);
    });
    it('shape inference', () => {
      const types = inferAll('Attention', [ty('float32', ['B', 8, 'S', 64]), ty('float32', ['B', 2, 'S', 64]), ty('float32', ['B', 2, 'S', 32]), undefined, ty('float32', ['B', 2, 10, 64]), ty('float32', ['B', 2, 10, 32])], {}, {}, 23, 4);
      assert.deepEqual(types[0], ty('float32', ['B', 8, 'S', 32]));
      assert.equal(types[1].shape!.length, 4);
      const [y3] = inferAll('Attention', [ty('float16', [2, 5, 64]), ty('float16', [2, 7, 32]), ty('float16', [2, 7, 48])], { q_num_heads: i(4), kv_num_heads: i(2) }, {}, 23, 1);
      assert.deepEqual(y3, ty('float16', [2, 5, 96]));
    });
  });

  describe('RotaryEmbedding, TfIdfVectorizer, LinearAttention', () => {
    it('RotaryEmbedding rotates pairs by the cached angles', () => {
      const x = F([1, 1, 1, 4], [1, 2, 3, 4]);
      const cos = F([1, 2], [0, 1]), sin = F([1, 2], [1, 0]);
      // pair (x0, x2) rotated by 90 degrees, pair (x1, x3) by 0
      close(nums(run('RotaryEmbedding', [x, cos, sin, I64([0], [1, 1])], {}, 23)), [-3, 2, 1, 4]);
      close(nums(run('RotaryEmbedding', [x, cos, sin, I64([0], [1, 1])], { interleaved: i(1) }, 23)), [-2, 1, 3, 4]);
      assert.throws(() => run('RotaryEmbedding', [x, cos, sin, I64([5], [1, 1])], {}, 23), GraphError);
    });
    it('TfIdfVectorizer counts uni- and bigrams with skips', () => {
      const attrs = {
        min_gram_length: i(1), max_gram_length: i(2), max_skip_count: i(1), mode: s('TF'),
        ngram_counts: ints([0, 2]), ngram_indexes: ints([0, 1, 2]), pool_int64s: ints([1, 2, 1, 2]),
      };
      // 1 3 2: unigrams 1 and 2 once each; bigram (1,2) only with skip 1
      assert.deepEqual(nums(run('TfIdfVectorizer', [T('int32', [3], [1, 3, 2])], attrs, 9)), [1, 1, 1]);
      assert.deepEqual(infer('TfIdfVectorizer', [ty('int32', ['N', 6])], attrs, {}, 9), ty('float32', ['N', 3]));
      assert.throws(() => run('TfIdfVectorizer', [T('int32', [3], [1, 3, 2])], { ...attrs, ngram_indexes: ints([0, 1, 2 ** 31]) }, 9), GraphError);
      // a hostile max_skip_count does not make the loop long
      assert.deepEqual(nums(run('TfIdfVectorizer', [T('int32', [3], [1, 3, 2])], { ...attrs, max_skip_count: i(2 ** 30) }, 9)), [1, 1, 1]);
    });
    it('LinearAttention linear rule accumulates k v^T', () => {
      const q = F([1, 2, 1], [1, 1]), k = F([1, 2, 1], [1, 2]), v = F([1, 2, 1], [3, 4]);
      const [o, st] = runAll('LinearAttention', [q, k, v], { q_num_heads: i(1), kv_num_heads: i(1), update_rule: s('linear') }, 27, 2) as Tensor[];
      close(nums(o), [3, 11]);
      close(nums(st), [11]);
      assert.throws(() => runAll('LinearAttention', [q, k, v], { q_num_heads: i(1), kv_num_heads: i(1) }, 27, 2), GraphError); // gated_delta needs decay
    });
  });

  it('FlexAttention runs its score_mod subgraph', () => {
    const g = new Graph('mod');
    g.inputs = ['s'];
    g.outputs = ['o'];
    g.nodes = [new Node({ opType: 'Neg', inputs: ['s'], outputs: ['o'] })];
    const nd = testNode('FlexAttention', 3, { score_mod: { type: 'graph', value: g } }, 1, 'ai.onnx.preview');
    const def = registry.resolve(nd, 1);
    let called = 0;
    const ctx: OpContext = {
      node: nd, opset: 1, attrs: new Attrs(nd), values: [], outputCount: 1,
      runGraph: (_g, ins) => { called++; const t = ins[0] as Tensor; return [Tensor.from(t.dtype, t.dims, nums(t).map((x) => -x))]; },
      fail: (m) => { throw new GraphError(m, nd); },
      unsupported: (m) => { throw new UnsupportedError(m, nd); },
    };
    const q = F([1, 1, 1, 1], [1]), k = F([1, 1, 2, 1], [0, Math.log(3)]), v = F([1, 1, 2, 1], [10, 20]);
    const [y] = def.reference(ctx, [q, k, v]) as Tensor[];
    assert.equal(called, 1);
    close(nums(y), [0.75 * 10 + 0.25 * 20]);
  });
});

describe('shape inference backwards through shape-preserving ops', () => {
  // ReduceSum over run-time axes -> Log -> Cast -> a graph output whose shape the model declares
  function graph(declared: ValueType | undefined): Graph {
    const g = new Graph('back');
    g.inputs = ['x', 'axes'];
    g.types.set('x', { kind: 'tensor', dtype: 'float32', shape: [3, 4, 5] });
    g.types.set('axes', { kind: 'tensor', dtype: 'int64', shape: [1] });
    g.nodes = [
      new Node({ opType: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['s'], attrs: { keepdims: { type: 'int', value: 0 } } }),
      new Node({ opType: 'Log', inputs: ['s'], outputs: ['l'] }),
      new Node({ opType: 'Cast', inputs: ['l'], outputs: ['y'], attrs: { to: { type: 'int', value: 11 } } }),
    ];
    g.outputs = ['y'];
    if (declared) g.types.set('y', declared);
    return g;
  }
  const opsets = new Map([['', 18]]);
  it('gives the reduction the declared output shape', () => {
    const { types } = inferShapes(graph({ kind: 'tensor', dtype: 'float64', shape: [3, 5] }), opsets);
    assert.deepEqual(types.get('s')?.shape, [3, 5]);
    assert.deepEqual(types.get('l')?.shape, [3, 5]);
  });
  it('leaves the shape open without a declared output shape', () => {
    const { types } = inferShapes(graph(undefined), opsets);
    assert.equal(types.get('s')?.shape, undefined);
  });
});
