import { strict as assert } from 'assert';
import { GraphError, UnsupportedError } from '../../src/errors';
import { attr, GraphBuilder } from '../../src/ir/builder';
import { DType } from '../../src/ir/dtype';
import { Attr, ValueType } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { registry } from '../../src/ops';
import { loopLimits } from '../../src/ops/control/if-loop-scan';
import { re2ToRegExp, pySplit } from '../../src/ops/control/strings';
import { interpret } from '../../src/ops/interpreter';
import { RuntimeValue, ShapeContext } from '../../src/ops/types';
import { AttrMap, runInferShape, runReference, testNode } from '../helpers/op-run';
import { Attrs } from '../../src/ir/attrs';

function runAll(opType: string, values: (RuntimeValue | undefined)[], attrs: AttrMap = {}, opset = 21, domain = '', nOut = 1): RuntimeValue[] {
  return runReference(testNode(opType, values.length, attrs, nOut, domain), opset, values);
}
const run = (opType: string, values: (RuntimeValue | undefined)[], attrs: AttrMap = {}, opset = 21, domain = '') => runAll(opType, values, attrs, opset, domain)[0] as Tensor;

function infer(opType: string, types: (ValueType | undefined)[], attrs: AttrMap = {}, opset = 21, nOut = 1, consts: (Tensor | undefined)[] = []): ValueType[] {
  const nd = testNode(opType, types.length, attrs, nOut);
  types.forEach((t, k) => { if (!t) nd.inputs[k] = ''; });
  return runInferShape(nd, opset, types, (i) => consts[i]);
}

const T = (dtype: DType, dims: number[], v: ArrayLike<number | bigint | string | boolean>) => Tensor.from(dtype, dims, v);
const vals = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) <= tol, `element ${k}: ${a[k]} vs ${b[k]}`);
};
const i = (v: number): Attr => ({ type: 'int', value: v });
const f = (v: number): Attr => ({ type: 'float', value: v });
const s = (v: string): Attr => ({ type: 'string', value: v });
const ints = (v: number[]): Attr => ({ type: 'ints', value: v });

describe('control family', () => {
  describe('Loop', () => {
    function countingLoop(withM: boolean) {
      const b = new GraphBuilder('loop', { '': 16 });
      const M = b.input('M', 'int64', []);
      const c = b.input('cond', 'bool', []);
      const x0 = b.input('x0', 'float32', [2]);
      const outer = b.initializer('step', T('float32', [2], [1, 10]));
      const body = b.subgraph('body', (g) => {
        g.input('iter', 'int64', []);
        const ci = g.input('c_in', 'bool', []);
        const x = g.input('x', 'float32', [2]);
        const [y] = g.node('Add', [x, outer]); // reads an outer-scope value
        const [co] = g.node('Identity', [ci]);
        const [sc] = g.node('Identity', [y]);
        g.output(co, 'bool', []).output(y, 'float32', [2]).output(sc, 'float32', [2]);
      });
      const [xf, scan] = b.node('Loop', [withM ? M : '', c, x0], { body }, { outputs: 2 });
      b.output(xf).output(scan);
      return b.build();
    }
    it('runs M iterations with carried and scan outputs, reading outer scope', () => {
      const out = interpret(countingLoop(true), { M: T('int64', [], [3]), cond: T('bool', [], [1]), x0: T('float32', [2], [0, 0]) });
      const [xf, scan] = [...out.values()] as Tensor[];
      assert.deepEqual(vals(xf), [3, 30]);
      assert.deepEqual(scan.dims, [3, 2]);
      assert.deepEqual(vals(scan), [1, 10, 2, 20, 3, 30]);
    });
    it('zero iterations gives empty scan outputs shaped from the body', () => {
      const out = interpret(countingLoop(true), { M: T('int64', [], [0]), cond: T('bool', [], [1]), x0: T('float32', [2], [5, 6]) });
      const [xf, scan] = [...out.values()] as Tensor[];
      assert.deepEqual(vals(xf), [5, 6]);
      assert.deepEqual(scan.dims, [0, 2]);
    });
    it('refuses an unbounded loop with a clear GraphError', () => {
      const saved = loopLimits.maxIterations;
      loopLimits.maxIterations = 50;
      try {
        assert.throws(() => interpret(countingLoop(false), { M: T('int64', [], [0]), cond: T('bool', [], [1]), x0: T('float32', [2], [0, 0]) }),
          (e: unknown) => e instanceof GraphError && /without ending/.test(e.message));
      } finally {
        loopLimits.maxIterations = saved;
      }
    });
    it('infers carried and scan output shapes', () => {
      const m = countingLoop(true);
      const n = m.graph.nodes[0];
      const ctx: ShapeContext = { node: n, opset: 16, attrs: new Attrs(n), outputCount: 2, constant: () => undefined, fail: (x) => { throw new GraphError(x); }, unsupported: (x) => { throw new UnsupportedError(x); } };
      const [c, sc] = registry.get('', 'Loop')!.inferShape!(ctx, [{ dtype: 'int64', shape: [] }, { dtype: 'bool', shape: [] }, { dtype: 'float32', shape: [2] }]);
      assert.deepEqual(c.shape, [2]);
      assert.deepEqual(sc.shape, ['loop_iterations', 2]);
    });
  });

  describe('If', () => {
    it('picks a branch and merges branch shapes in inference', () => {
      const b = new GraphBuilder('if', { '': 16 });
      const c = b.input('c', 'bool', []);
      const then = b.subgraph('then', (g) => { const [o] = g.node('Constant', [], { value: T('float32', [2], [1, 2]) }); g.output(o, 'float32', [2]); });
      const els = b.subgraph('else', (g) => { const [o] = g.node('Constant', [], { value: T('float32', [3], [3, 4, 5]) }); g.output(o, 'float32', [3]); });
      const [y] = b.node('If', [c], { then_branch: then, else_branch: els });
      b.output(y);
      const m = b.build();
      assert.deepEqual(vals(interpret(m, { c: T('bool', [], [1]) }).get(y) as Tensor), [1, 2]);
      assert.deepEqual(vals(interpret(m, { c: T('bool', [], [0]) }).get(y) as Tensor), [3, 4, 5]);
      const n = m.graph.nodes[0];
      const ctx: ShapeContext = { node: n, opset: 16, attrs: new Attrs(n), outputCount: 1, constant: () => undefined, fail: (x) => { throw new GraphError(x); }, unsupported: (x) => { throw new UnsupportedError(x); } };
      const [t] = registry.get('', 'If')!.inferShape!(ctx, [{ dtype: 'bool', shape: [] }]);
      assert.equal(t.dtype, 'float32');
      assert.equal(t.shape!.length, 1);
      assert.equal(typeof t.shape![0], 'string');
    });
  });

  describe('Scan', () => {
    it('scans a reversed input along axis 1 and stacks outputs on axis 1', () => {
      const b = new GraphBuilder('scan', { '': 16 });
      const init = b.input('init', 'float32', [2]);
      const x = b.input('x', 'float32', [2, 3]);
      const body = b.subgraph('body', (g) => {
        const st = g.input('st', 'float32', [2]);
        const xi = g.input('xi', 'float32', [2]);
        const [sum] = g.node('Add', [st, xi]);
        const [o] = g.node('Identity', [sum]);
        g.output(sum, 'float32', [2]).output(o, 'float32', [2]);
      });
      const [fin, ys] = b.node('Scan', [init, x], { body, num_scan_inputs: 1, scan_input_axes: [1], scan_input_directions: [1], scan_output_axes: [-1] }, { outputs: 2 });
      b.output(fin).output(ys);
      const out = interpret(b.build(), { init: T('float32', [2], [0, 0]), x: T('float32', [2, 3], [1, 2, 3, 10, 20, 30]) });
      assert.deepEqual(vals(out.get(fin) as Tensor), [6, 60]);
      const y = out.get(ys) as Tensor;
      assert.deepEqual(y.dims, [2, 3]);
      assert.deepEqual(vals(y), [3, 5, 6, 30, 50, 60]);
    });
  });

  describe('sequences and optionals', () => {
    const a = T('float32', [1, 2], [1, 2]), b2 = T('float32', [1, 2], [3, 4]), c = T('float32', [1, 2], [5, 6]);
    it('insert / at / erase take negative positions and refuse out-of-range ones', () => {
      const seq = runAll('SequenceConstruct', [a, b2])[0] as Tensor[];
      const ins = runAll('SequenceInsert', [seq, c, T('int64', [], [-1])])[0] as Tensor[];
      assert.deepEqual(ins.map((t) => vals(t)[0]), [1, 5, 3]);
      assert.deepEqual(vals(run('SequenceAt', [ins, T('int32', [], [-1])])), [3, 4]);
      assert.deepEqual((runAll('SequenceErase', [ins])[0] as Tensor[]).length, 2);
      assert.throws(() => run('SequenceAt', [ins, T('int64', [], [3])]), GraphError);
      assert.throws(() => runAll('SequenceErase', [[]]), GraphError);
      assert.deepEqual(vals(run('SequenceLength', [ins])), [3n]);
      assert.throws(() => run('SequenceLength', [a]), GraphError);
    });
    it('SplitToSequence: scalar split with remainder, keepdims=0 without split', () => {
      const x = T('int64', [5], [1, 2, 3, 4, 5]);
      const parts = runAll('SplitToSequence', [x, T('int64', [], [2])])[0] as Tensor[];
      assert.deepEqual(parts.map((p) => p.dims), [[2], [2], [1]]);
      const ones = runAll('SplitToSequence', [T('float32', [2, 2], [1, 2, 3, 4])], { axis: i(-1), keepdims: i(0) })[0] as Tensor[];
      assert.deepEqual(ones.map((p) => vals(p)), [[1, 3], [2, 4]]);
      assert.throws(() => runAll('SplitToSequence', [x, T('int64', [2], [1, 1])]), GraphError);
    });
    it('ConcatFromSequence with and without new_axis, and its shape inference', () => {
      assert.deepEqual(run('ConcatFromSequence', [[a, b2]], { axis: i(0) }).dims, [2, 2]);
      const st = run('ConcatFromSequence', [[a, b2]], { axis: i(-1), new_axis: i(1) });
      assert.deepEqual(st.dims, [1, 2, 2]);
      assert.deepEqual(vals(st), [1, 3, 2, 4]);
      assert.deepEqual(infer('ConcatFromSequence', [{ kind: 'sequence', dtype: 'float32', shape: ['N', 2] }], { axis: i(0), new_axis: i(1) })[0].shape, ['seq_len', 'N', 2]);
      assert.throws(() => run('ConcatFromSequence', [[]], { axis: i(0) }), GraphError);
    });
    it('optionals: empty is null, has-element and get-element', () => {
      assert.equal(runAll('Optional', [undefined], { type: attr.typeProto({ dtype: 'float32' }) })[0], null);
      assert.deepEqual(vals(run('OptionalHasElement', [null])), [0]);
      assert.deepEqual(vals(run('OptionalHasElement', [undefined])), [0]);
      assert.deepEqual(vals(run('OptionalHasElement', [[a]])), [1]);
      assert.throws(() => run('OptionalGetElement', [null]), GraphError);
      assert.deepEqual(infer('OptionalGetElement', [{ kind: 'optional', elemKind: 'sequence', dtype: 'float32' }])[0].kind, 'sequence');
    });
  });

  describe('recurrent', () => {
    // One hidden unit, input 1: h_t = tanh(w x_t + r h_{t-1} + wb + rb)
    const X = T('float32', [3, 1, 1], [1, 2, 3]);
    const W = T('float32', [1, 1, 1], [0.5]);
    const R = T('float32', [1, 1, 1], [0.25]);
    const B = T('float32', [1, 2], [0.1, -0.2]);
    it('RNN matches the hand-written recurrence and reverse runs backwards', () => {
      const [Y, Yh] = runAll('RNN', [X, W, R, B], { hidden_size: i(1) }, 14, '', 2) as Tensor[];
      let h = 0;
      const exp: number[] = [];
      for (const x of [1, 2, 3]) { h = Math.tanh(0.5 * x + 0.25 * h - 0.1); exp.push(h); }
      close(Array.from(Y.data as Float32Array), exp);
      close(Array.from(Yh.data as Float32Array), [exp[2]]);
      const [Yr] = runAll('RNN', [X, W, R, B], { direction: s('reverse') }, 14, '', 2) as Tensor[];
      h = 0;
      const rev: number[] = [];
      for (const x of [3, 2, 1]) { h = Math.tanh(0.5 * x + 0.25 * h - 0.1); rev.unshift(h); }
      close(Array.from(Yr.data as Float32Array), rev);
    });
    it('layout=1 is the transpose of layout=0; sequence_lens zero-pads Y', () => {
      const X2 = T('float32', [2, 2, 1], [1, 5, 2, 6]); // [seq, batch, in]
      const Wb = T('float32', [2, 3, 1], [0.1, 0.2, 0.3, -0.1, -0.2, -0.3]);
      const Rb = T('float32', [2, 3, 1], [0.5, 0.4, 0.3, 0.2, 0.1, 0.0]);
      const lens = T('int32', [2], [2, 1]);
      const [Y0, H0] = runAll('GRU', [X2, Wb, Rb, undefined, lens], { direction: s('bidirectional'), linear_before_reset: i(1) }, 14, '', 2) as Tensor[];
      const X2t = T('float32', [2, 2, 1], [1, 2, 5, 6]); // [batch, seq, in]
      const [Y1, H1] = runAll('GRU', [X2t, Wb, Rb, undefined, lens], { direction: s('bidirectional'), layout: i(1), linear_before_reset: i(1) }, 14, '', 2) as Tensor[];
      assert.deepEqual(Y0.dims, [2, 2, 2, 1]);
      assert.deepEqual(Y1.dims, [2, 2, 2, 1]);
      for (let t = 0; t < 2; t++) for (let d = 0; d < 2; d++) for (let b = 0; b < 2; b++) {
        assert.equal(Y0.get(((t * 2 + d) * 2 + b)), Y1.get(((b * 2 + t) * 2 + d)));
      }
      for (let d = 0; d < 2; d++) for (let b = 0; b < 2; b++) assert.equal(H0.get(d * 2 + b), H1.get(b * 2 + d));
      // batch 1 has length 1: its step t=1 output is zero in both directions
      assert.equal(Y0.get((1 * 2 + 0) * 2 + 1), 0);
      assert.equal(Y0.get((1 * 2 + 1) * 2 + 1), 0);
    });
    it('LSTM shape inference: static, symbolic, unknown; bad W gives a GraphError', () => {
      const W4 = { dtype: 'float32' as DType, shape: [2, 16, 3] };
      const R4 = { dtype: 'float32' as DType, shape: [2, 16, 4] };
      const out = infer('LSTM', [{ dtype: 'float32', shape: ['T', 'N', 3] }, W4, R4], { direction: s('bidirectional') }, 14, 3);
      assert.deepEqual(out.map((o) => o.shape), [['T', 2, 'N', 4], [2, 'N', 4], [2, 'N', 4]]);
      const lay = infer('LSTM', [{ dtype: 'float16', shape: [8, 5, 3] }, W4, R4], { direction: s('bidirectional'), layout: i(1) }, 14, 3);
      assert.deepEqual(lay[0], { dtype: 'float16', shape: [8, 5, 2, 4] });
      assert.equal(infer('LSTM', [{ dtype: 'float32' }, W4, R4], {}, 14, 3)[0].shape, undefined);
      assert.throws(() => runAll('LSTM', [X, W, R], { hidden_size: i(1) }, 14, '', 3), GraphError);
      assert.throws(() => runAll('RNN', [X, W, R], { activations: { type: 'strings', value: ['Gelu'] } }, 14, '', 2), UnsupportedError);
    });
  });

  describe('signal', () => {
    it('DFT then inverse DFT is the identity; rfft/irfft round trip', () => {
      const x = T('float32', [1, 5, 1], [1, -2, 3, 0.5, 4]);
      const X = run('DFT', [x, undefined, T('int64', [], [1])]);
      assert.deepEqual(X.dims, [1, 5, 2]);
      const back = run('DFT', [X, undefined, T('int64', [], [-2])], { inverse: i(1) });
      close(Array.from(back.data as Float32Array).filter((_, k) => k % 2 === 0), [1, -2, 3, 0.5, 4], 1e-5);
      const x6 = T('float32', [6, 1], [1, 2, 3, 4, 5, 6]);
      const half = run('DFT', [x6, undefined, T('int64', [], [0])], { onesided: i(1) });
      assert.deepEqual(half.dims, [4, 2]);
      const real = run('DFT', [half, undefined, T('int64', [], [0])], { onesided: i(1), inverse: i(1) });
      assert.deepEqual(real.dims, [6, 1]);
      close(Array.from(real.data as Float32Array), [1, 2, 3, 4, 5, 6], 1e-5);
      // opset 17: axis attribute, dft_length zero-pads
      const padded = run('DFT', [x6, T('int64', [], [8])], { axis: i(0) }, 17);
      assert.deepEqual(padded.dims, [8, 2]);
      assert.throws(() => run('DFT', [T('float32', [4, 3], new Array(12).fill(0))], {}, 17), GraphError);
    });
    it('DFT shape inference with a constant axis and unknown dft_length', () => {
      const [t] = infer('DFT', [{ dtype: 'float32', shape: ['N', 16, 1] }, undefined, { dtype: 'int64', shape: [] }], { onesided: i(1) }, 20, 1, [undefined, undefined, T('int64', [], [1])]);
      assert.deepEqual(t.shape, ['N', 9, 2]);
    });
    it('windows: periodic vs symmetric, output dtype', () => {
      const h = run('HannWindow', [T('int64', [], [4])], { output_datatype: i(11) });
      assert.equal(h.dtype, 'float64');
      close(Array.from(h.data as Float64Array), [0, 0.5, 1, 0.5]);
      close(Array.from(run('HannWindow', [T('int32', [], [3])], { periodic: i(0) }).data as Float32Array), [0, 1, 0]);
      assert.deepEqual(run('BlackmanWindow', [T('int64', [], [0])]).dims, [0]);
    });
  });

  describe('NonMaxSuppression', () => {
    it('center_point_box, thresholds and the per-class limit', () => {
      const boxes = T('float32', [1, 3, 4], [0.5, 0.5, 1, 1, 0.55, 0.5, 1, 1, 5, 5, 1, 1]);
      const scores = T('float32', [1, 1, 3], [0.9, 0.8, 0.7]);
      const sel = run('NonMaxSuppression', [boxes, scores, T('int64', [1], [10]), T('float32', [1], [0.5])], { center_point_box: i(1) });
      assert.deepEqual(sel.dims, [2, 3]);
      assert.deepEqual(vals(sel), [0n, 0n, 0n, 0n, 0n, 2n]);
      assert.deepEqual(run('NonMaxSuppression', [boxes, scores]).dims, [0, 3]);
      assert.deepEqual(run('NonMaxSuppression', [boxes, scores, T('int64', [1], [10]), T('float32', [1], [0.5]), T('float32', [1], [0.75])], { center_point_box: i(1) }).dims, [1, 3]);
      assert.throws(() => run('NonMaxSuppression', [boxes, scores], { center_point_box: i(2) }), GraphError);
    });
  });

  describe('strings', () => {
    it('StringConcat broadcasts; StringSplit follows Python split', () => {
      assert.deepEqual(vals(run('StringConcat', [T('string', [2], ['a', 'b']), T('string', [], ['!'])])), ['a!', 'b!']);
      assert.deepEqual(pySplit('  a b  c ', undefined, 1), ['a', 'b  c ']);
      assert.deepEqual(pySplit('a,,b', ',', undefined), ['a', '', 'b']);
      const [y, n] = runAll('StringSplit', [T('string', [2], ['a-b-c', 'd'])], { delimiter: s('-'), maxsplit: i(1) }, 20, '', 2) as Tensor[];
      assert.deepEqual(y.dims, [2, 2]);
      assert.deepEqual(vals(y), ['a', 'b-c', 'd', '']);
      assert.deepEqual(vals(n), [2n, 1n]);
      const [e] = runAll('StringSplit', [T('string', [0], [])], {}, 20, '', 2) as Tensor[];
      assert.deepEqual(e.dims, [0, 0]);
    });
    it('RegexFullMatch translates RE2 spellings and refuses what JS would do differently', () => {
      const nope = (m: string): never => { throw new UnsupportedError(m); };
      assert.ok(re2ToRegExp('(?i)ab+', nope).test('ABB'));
      assert.ok(re2ToRegExp('(?P<x>\\d+)-\\pL', nope).test('12-z'));
      assert.ok(!re2ToRegExp('ab', nope).test('abc'));
      assert.throws(() => re2ToRegExp('[[:alpha:]]+', nope), UnsupportedError);
      assert.throws(() => re2ToRegExp('(a)\\1', nope), UnsupportedError);
      assert.deepEqual(vals(run('RegexFullMatch', [T('string', [2], ['x1', 'y'])], { pattern: s('x\\d') }, 20)), [1, 0]);
    });
    it('StringNormalizer removes stopwords case-insensitively and keeps [1,C]', () => {
      const y = run('StringNormalizer', [T('string', [1, 3], ['Mon', 'tue', 'MON'])], { stopwords: { type: 'strings', value: ['mon'] }, case_change_action: s('UPPER') }, 10);
      assert.deepEqual(y.dims, [1, 1]);
      assert.deepEqual(vals(y), ['TUE']);
    });
  });

  describe('ai.onnx.ml', () => {
    it('LabelEncoder int64 -> string with default; ArrayFeatureExtractor on 1-D', () => {
      const y = run('LabelEncoder', [T('int64', [3], [1, 7, 2])], { keys_int64s: ints([1, 2]), values_strings: { type: 'strings', value: ['one', 'two'] } }, 4, 'ai.onnx.ml');
      assert.deepEqual(vals(y), ['one', '_Unused', 'two']);
      const z = run('ArrayFeatureExtractor', [T('float32', [3], [5, 6, 7]), T('int64', [2], [2, 0])], {}, 1, 'ai.onnx.ml');
      assert.deepEqual(z.dims, [1, 2]);
      assert.deepEqual(vals(z), [7, 5]);
      assert.throws(() => run('ArrayFeatureExtractor', [T('float32', [3], [5, 6, 7]), T('int64', [1], [3])], {}, 1, 'ai.onnx.ml'), GraphError);
      assert.deepEqual(vals(run('Binarizer', [T('int32', [3], [-1, 0, 4])], {}, 1, 'ai.onnx.ml')), [0, 0, 1]);
    });
    it('TreeEnsemble refuses a cyclic tree instead of looping', () => {
      const attrs: AttrMap = {
        n_targets: i(1), tree_roots: ints([0]), nodes_featureids: ints([0]), nodes_splits: attr.tensor(T('float32', [1], [0])),
        nodes_modes: attr.tensor(T('uint8', [1], [0])), nodes_truenodeids: ints([0]), nodes_falsenodeids: ints([0]),
        nodes_trueleafs: ints([0]), nodes_falseleafs: ints([0]), leaf_targetids: ints([0]), leaf_weights: attr.tensor(T('float32', [1], [1])),
      };
      assert.throws(() => run('TreeEnsemble', [T('float32', [1, 1], [0])], attrs, 5, 'ai.onnx.ml'), (e: unknown) => e instanceof GraphError && /malformed/.test(e.message));
    });
  });

  describe('random', () => {
    it('a seed makes draws reproducible; dtype and shape follow the attributes', () => {
      const a = run('RandomNormal', [], { shape: ints([2, 3]), seed: f(7), dtype: i(11) });
      const b = run('RandomNormal', [], { shape: ints([2, 3]), seed: f(7), dtype: i(11) });
      assert.equal(a.dtype, 'float64');
      assert.deepEqual(a.dims, [2, 3]);
      assert.deepEqual(vals(a), vals(b));
      const u = run('RandomUniformLike', [T('float16', [100], new Array(100).fill(0))], { low: f(2), high: f(3), seed: f(1) });
      assert.equal(u.dtype, 'float16');
      for (const v of u.data as Float32Array) assert.ok(v >= 2 && v <= 3);
      const bern = run('Bernoulli', [T('float32', [4], [0, 1, 0, 1])], { seed: f(3) });
      assert.deepEqual(vals(bern), [0, 1, 0, 1]);
      const mn = run('Multinomial', [T('float32', [2, 3], [-100, 0, -100, 0, -100, -100])], { sample_size: i(4), seed: f(5), dtype: i(7) }, 21);
      assert.deepEqual(vals(mn), [1n, 1n, 1n, 1n, 0n, 0n, 0n, 0n]);
      assert.throws(() => run('RandomUniform', [], { shape: ints([1 << 20, 1 << 20]) }), GraphError);
    });
  });

  describe('training', () => {
    it('Momentum nesterov and Adagrad follow the spec formulas', () => {
      const [x, v] = runAll('Momentum', [T('float32', [], [0.1]), T('int64', [], [0]), T('float32', [1], [1]), T('float32', [1], [2]), T('float32', [1], [3])],
        { alpha: f(0.9), beta: f(0.5), norm_coefficient: f(0), mode: s('nesterov') }, 1, 'ai.onnx.preview.training', 2) as Tensor[];
      // T = 0: beta_adjusted = 1; v = 0.9*3 + 2 = 4.7; x = 1 - 0.1*(2 + 0.9*4.7)
      close(Array.from(v.data as Float32Array), [4.7], 1e-6);
      close(Array.from(x.data as Float32Array), [1 - 0.1 * (2 + 0.9 * 4.7)], 1e-6);
      const adam = registry.get('ai.onnx.preview.training', 'Adam')!;
      const ty = (d: number) => ({ dtype: 'float32' as DType, shape: [d] });
      const outs = adam.inferShape!({} as ShapeContext, [ty(0), ty(0), ty(1), ty(2), ty(11), ty(12), ty(21), ty(22), ty(31), ty(32)]);
      assert.deepEqual(outs.map((o) => o.shape![0]), [1, 2, 21, 22, 31, 32]);
      assert.throws(() => runAll('Adagrad', [T('float32', [], [0.1]), T('int64', [], [0]), T('float32', [1], [1]), T('float32', [1], [2])], {}, 1, 'ai.onnx.preview.training', 2), GraphError);
    });
  });

  describe('ImageDecoder', () => {
    it('decodes a tiny PNM and refuses unknown formats with UnsupportedError', () => {
      const pnm = new TextEncoder().encode('P6\n2 1\n255\n');
      const bytes = new Uint8Array([...pnm, 1, 2, 3, 4, 5, 6]);
      const y = run('ImageDecoder', [new Tensor('uint8', [bytes.length], bytes)], { pixel_format: s('BGR') }, 20);
      assert.deepEqual(y.dims, [1, 2, 3]);
      assert.deepEqual(vals(y), [3, 2, 1, 6, 5, 4]);
      assert.throws(() => run('ImageDecoder', [T('uint8', [4], [0xff, 0xd8, 0xff, 0xe0])], {}, 20), UnsupportedError);
      const huge = new TextEncoder().encode('P6\n99999 99999\n255\n');
      assert.throws(() => run('ImageDecoder', [new Tensor('uint8', [huge.length], huge)], {}, 20), GraphError);
    });
  });
});
