/**
 * Every rewrite rule on a small graph: the ops before and after (with the rule's match count),
 * and the numbers: the rewritten graph computes the original's outputs in the reference
 * interpreter, and engines built with and without fusion match the reference on the GPU.
 */
import { strict as assert } from 'assert';
import { attr, GraphBuilder } from '../../../src/ir/builder';
import { Model } from '../../../src/ir/graph';
import { Tensor } from '../../../src/ir/tensor';
import { useGpu } from '../../helpers/gpu';
import { randomTensor } from '../../helpers/gpu-op';
import { feedsFor, ops, optimized, sameGpu, sameReference } from './check';

interface Case {
  /** The rule that must fire (its match count >= 1). */
  rule: string;
  title: string;
  build(): Model;
  /** Ops after the whole optimizer. */
  after: string[];
  /** Ops after only these passes (default: the whole optimizer). */
  passes?: string[];
  /** No GPU kernel for the original (e.g. an op new in its opset): reference check only. */
  referenceOnly?: boolean;
  tol?: number;
}

let seed = 100;
const w = (b: GraphBuilder, dims: number[], lo = -1, hi = 1) => b.constant(randomTensor('float32', dims, seed++, lo, hi), 'w');
const scalar = (b: GraphBuilder, v: number) => b.constant(Tensor.scalar('float32', v), 'c');
const i64 = (b: GraphBuilder, v: number[]) => b.constant(Tensor.from('int64', [v.length], v.map(BigInt)), 'i');

/** x [1,4,6,6] -> Conv 3x3 (8 channels, pad 1) -> ... */
function convNet(opset: number, tail: (b: GraphBuilder, y: string) => string, opts: { bias?: boolean } = {}): Model {
  const b = new GraphBuilder('t', { '': opset });
  const x = b.input('x', 'float32', [1, 4, 6, 6]);
  const y = b.node('Conv', [x, w(b, [8, 4, 3, 3], -0.5, 0.5), opts.bias === false ? '' : w(b, [8])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv' })[0];
  b.output(tail(b, y));
  return b.build();
}

const act = (op: string, attrs: Record<string, number | string> = {}, extra: (b: GraphBuilder) => string[] = () => []) =>
  (b: GraphBuilder, y: string) => b.node(op, [y, ...extra(b)], attrs, { name: 'act' })[0];

const CASES: Case[] = [
  {
    rule: 'fold-constants', title: 'a constant subexpression folds to an initializer',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3]);
      const c = b.node('Mul', [w(b, [3]), scalar(b, 2)], {}, { name: 'c' })[0];
      const s = b.node('Shape', [x], {}, { name: 'shape' })[0];
      const r = b.node('Reshape', [b.node('Add', [x, c], {}, { name: 'add' })[0], s], {}, { name: 'reshape' })[0];
      b.output(r);
      return b.build();
    },
    after: ['Add'],
  },
  {
    rule: 'dead-code', title: 'an unused node goes',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [5]);
      b.node('Exp', [x], {}, { name: 'dead' });
      b.output(b.node('Relu', [x], {}, { name: 'relu' })[0]);
      return b.build();
    },
    after: ['Relu'],
  },
  {
    rule: 'remove-identity', title: 'Identity and Dropout are removed',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [5]);
      let y = b.node('Identity', [x], {}, { name: 'id' })[0];
      y = b.node('Relu', [y], {}, { name: 'relu' })[0];
      y = b.node('Dropout', [y], {}, { name: 'drop' })[0];
      b.output(b.node('Identity', [b.node('Neg', [y], {}, { name: 'neg' })[0]], {}, { name: 'id2' })[0]);
      return b.build();
    },
    passes: ['simplify'],
    after: ['Relu', 'Neg'],
  },
  {
    rule: 'collapse-reshapes', title: 'Reshape/Flatten/Unsqueeze chains become one Reshape',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3, 4]);
      let y = b.node('Relu', [x], {}, { name: 'relu' })[0];
      y = b.node('Reshape', [y, i64(b, [6, 4])], {}, { name: 'r1' })[0];
      y = b.node('Flatten', [y], { axis: 0 }, { name: 'flat' })[0];
      y = b.node('Unsqueeze', [y, i64(b, [0])], {}, { name: 'unsq' })[0];
      b.output(b.node('Neg', [y], {}, { name: 'neg' })[0]);
      return b.build();
    },
    passes: ['simplify'],
    after: ['Relu', 'Reshape', 'Neg'],
  },
  {
    rule: 'collapse-transposes', title: 'Transpose pairs compose (and cancel)',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3, 4]);
      let y = b.node('Transpose', [x], { perm: [1, 0, 2] }, { name: 't1' })[0];
      y = b.node('Transpose', [y], { perm: [0, 2, 1] }, { name: 't2' })[0];
      const z = b.node('Transpose', [b.node('Transpose', [x], { perm: [2, 0, 1] }, { name: 't3' })[0]], { perm: [1, 2, 0] }, { name: 't4' })[0];
      b.output(b.node('Sum', [b.node('Relu', [y], {}, { name: 'relu' })[0]], {}, { name: 's' })[0]);
      b.output(b.node('Neg', [z], {}, { name: 'neg' })[0]);
      return b.build();
    },
    passes: ['simplify'],
    after: ['Transpose', 'Relu', 'Sum', 'Neg'],
  },
  {
    rule: 'remove-no-op', title: 'zero Pad, full Slice, same-type Cast and same-shape Expand go',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3]);
      let y = b.node('Pad', [x, i64(b, [0, 0, 0, 0])], {}, { name: 'pad' })[0];
      y = b.node('Slice', [y, i64(b, [0]), i64(b, [3]), i64(b, [1])], {}, { name: 'slice' })[0];
      y = b.node('Cast', [y], { to: 1 }, { name: 'cast' })[0];
      y = b.node('Expand', [y, i64(b, [2, 3])], {}, { name: 'expand' })[0];
      b.output(b.node('Neg', [y], {}, { name: 'neg' })[0]);
      return b.build();
    },
    after: ['Neg'],
  },
  {
    rule: 'activation-activation', title: 'Relu then Clip is one Clip',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [7]);
      const y = b.node('Relu', [x], {}, { name: 'relu' })[0];
      b.output(b.node('Clip', [y, scalar(b, -1), scalar(b, 1.5)], {}, { name: 'clip' })[0]);
      return b.build();
    },
    after: ['Clip'],
  },
  {
    rule: 'matmul-add-to-gemm', title: 'MatMul + bias is a Gemm (with its Relu in the epilogue)',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [4, 8]);
      const m = b.node('MatMul', [x, w(b, [8, 5])], {}, { name: 'mm' })[0];
      b.output(b.node('Relu', [b.node('Add', [m, w(b, [5])], {}, { name: 'bias' })[0]], {}, { name: 'relu' })[0]);
      return b.build();
    },
    after: ['Gemm'],
  },
  {
    rule: 'matmul-add-to-gemm', title: 'batched MatMul + bias is one Gemm over the rows between two Reshape views',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3, 8]);
      const m = b.node('MatMul', [x, w(b, [8, 5])], {}, { name: 'mm' })[0];
      b.output(b.node('Add', [w(b, [5]), m], {}, { name: 'bias' })[0]);
      return b.build();
    },
    after: ['Reshape', 'Gemm', 'Reshape'],
  },
  {
    rule: 'activation-through-reshape', title: 'an activation after the Reshape of a batched Gemm moves into its epilogue',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3, 8]);
      const m = b.node('MatMul', [x, w(b, [8, 5])], {}, { name: 'mm' })[0];
      b.output(b.node('Tanh', [b.node('Add', [m, w(b, [1, 5])], {}, { name: 'bias' })[0]], {}, { name: 'act' })[0]);
      return b.build();
    },
    after: ['Reshape', 'Gemm', 'Reshape'],
  },
  {
    rule: 'scale-into-conv-gemm', title: 'per-channel Mul and Add fold into the Conv',
    build: () => convNet(13, (b, y) => b.node('Add', [b.node('Mul', [y, w(b, [8, 1, 1])], {}, { name: 'scale' })[0], w(b, [1, 8, 1, 1])], {}, { name: 'shift' })[0], { bias: false }),
    after: ['Conv'],
  },
  {
    rule: 'scale-into-conv-gemm', title: 'per-column Mul and Add fold into the Gemm',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [3, 6]);
      const g = b.node('Gemm', [x, w(b, [5, 6]), w(b, [5])], { transB: 1, beta: 0.5 }, { name: 'gemm' })[0];
      b.output(b.node('Add', [b.node('Mul', [g, w(b, [5])], {}, { name: 'scale' })[0], scalar(b, 0.25)], {}, { name: 'shift' })[0]);
      return b.build();
    },
    after: ['Gemm'],
  },
  {
    rule: 'conv-batchnorm', title: 'BatchNormalization folds into the Conv weights',
    build: () => convNet(13, (b, y) => b.node('BatchNormalization', [y, w(b, [8], 0.5, 1.5), w(b, [8]), w(b, [8]), w(b, [8], 0.5, 2)], { epsilon: 1e-3 }, { name: 'bn' })[0]),
    after: ['Conv'],
  },
  ...(([
    ['Relu', {}], ['LeakyRelu', { alpha: 0.2 }], ['Sigmoid', {}], ['HardSigmoid', { alpha: 0.3, beta: 0.4 }], ['Tanh', {}], ['Elu', { alpha: 0.7 }],
  ] as [string, Record<string, number>][]).map(([op, attrs]): Case => ({
    rule: 'layer-activation', title: `Conv + ${op} is one layer`, build: () => convNet(13, act(op, attrs)), after: ['Conv'],
  }))),
  { rule: 'layer-activation', title: 'Conv + Clip (Relu6) is one layer', build: () => convNet(13, act('Clip', {}, (b) => [scalar(b, 0), scalar(b, 6)])), after: ['Conv'] },
  { rule: 'layer-activation', title: 'Conv + Clip (opset 6 attributes) is one layer', build: () => convNet(6, act('Clip', { min: attr.float(-0.5) as never, max: attr.float(0.5) as never })), after: ['Conv'] },
  { rule: 'layer-activation', title: 'Conv + HardSwish is one layer', build: () => convNet(14, act('HardSwish')), after: ['Conv'] },
  { rule: 'layer-activation', title: 'Conv + Mish is one layer', build: () => convNet(18, act('Mish')), after: ['Conv'] },
  { rule: 'layer-activation', title: 'Conv + Gelu is one layer', build: () => convNet(20, act('Gelu')), after: ['Conv'] },
  { rule: 'layer-activation', title: 'Conv + Gelu (tanh) is one layer', build: () => convNet(20, act('Gelu', { approximate: 'tanh' })), after: ['Conv'] },
  {
    rule: 'layer-activation', title: 'MatMul + Sigmoid and ConvTranspose + LeakyRelu are one layer each',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3, 8]);
      b.output(b.node('Sigmoid', [b.node('MatMul', [x, w(b, [8, 4])], {}, { name: 'mm' })[0]], {}, { name: 'sig' })[0]);
      const z = b.input('z', 'float32', [1, 3, 5, 5]);
      const t = b.node('ConvTranspose', [z, w(b, [3, 2, 3, 3]), w(b, [2])], { strides: [2, 2] }, { name: 'deconv' })[0];
      b.output(b.node('LeakyRelu', [t], { alpha: 0.1 }, { name: 'lrelu' })[0]);
      return b.build();
    },
    after: ['MatMul', 'ConvTranspose'],
  },
  { rule: 'layer-silu', title: 'Conv + x*Sigmoid(x) is one layer', build: () => convNet(13, (b, y) => b.node('Mul', [y, b.node('Sigmoid', [y], {}, { name: 'sig' })[0]], {}, { name: 'mul' })[0]), after: ['Conv'] },
  {
    rule: 'conv-residual-add', title: 'Conv + residual Add + Relu is one layer',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [1, 8, 5, 5]);
      const y = b.node('Conv', [x, w(b, [8, 8, 3, 3], -0.3, 0.3), w(b, [8])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv' })[0];
      b.output(b.node('Relu', [b.node('Add', [x, y], {}, { name: 'add' })[0]], {}, { name: 'relu' })[0]);
      return b.build();
    },
    after: ['Conv'],
  },
  {
    rule: 'pad-conv', title: 'zero Pad moves into Conv pads',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [1, 4, 6, 6]);
      const p = b.node('Pad', [x, i64(b, [0, 0, 1, 2, 0, 0, 2, 1])], {}, { name: 'pad' })[0];
      b.output(b.node('Conv', [p, w(b, [8, 4, 3, 3]), w(b, [8])], { kernel_shape: [3, 3], pads: [1, 0, 0, 1] }, { name: 'conv' })[0]);
      return b.build();
    },
    after: ['Conv'],
  },
  {
    rule: 'gelu-erf', title: 'GELU written with Erf is one Gelu',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [3, 16]);
      const e = b.node('Erf', [b.node('Div', [x, scalar(b, Math.SQRT2)], {}, { name: 'div' })[0]], {}, { name: 'erf' })[0];
      const m = b.node('Mul', [x, b.node('Add', [e, scalar(b, 1)], {}, { name: 'add' })[0]], {}, { name: 'mul' })[0];
      b.output(b.node('Mul', [m, scalar(b, 0.5)], {}, { name: 'half' })[0]);
      return b.build();
    },
    passes: ['patterns'],
    after: ['vkrt::Gelu'],
  },
  {
    rule: 'gelu-tanh', title: 'GELU written with Tanh and Pow is one Gelu',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [3, 16]);
      const cube = b.node('Mul', [b.node('Pow', [x, scalar(b, 3)], {}, { name: 'pow' })[0], scalar(b, 0.044715)], {}, { name: 'cube' })[0];
      const inner = b.node('Mul', [scalar(b, Math.sqrt(2 / Math.PI)), b.node('Add', [x, cube], {}, { name: 'sum' })[0]], {}, { name: 'scale' })[0];
      const t = b.node('Add', [b.node('Tanh', [inner], {}, { name: 'tanh' })[0], scalar(b, 1)], {}, { name: 'one' })[0];
      b.output(b.node('Mul', [b.node('Mul', [x, scalar(b, 0.5)], {}, { name: 'half' })[0], t], {}, { name: 'mul' })[0]);
      return b.build();
    },
    passes: ['patterns'],
    after: ['vkrt::Gelu'],
  },
  {
    rule: 'hardswish', title: 'x * Relu6(x + 3) / 6 is one HardSwish',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 9]);
      const c = b.node('Clip', [b.node('Add', [x, scalar(b, 3)], {}, { name: 'add3' })[0], scalar(b, 0), scalar(b, 6)], {}, { name: 'relu6' })[0];
      b.output(b.node('Div', [b.node('Mul', [x, c], {}, { name: 'mul' })[0], scalar(b, 6)], {}, { name: 'div6' })[0]);
      return b.build();
    },
    passes: ['patterns'],
    after: ['vkrt::HardSwish'],
  },
  {
    rule: 'softmax', title: 'Exp(x - max) / sum is one Softmax',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3, 7]);
      const m = b.node('ReduceMax', [x], { axes: [-1], keepdims: 1 }, { name: 'max' })[0];
      const e = b.node('Exp', [b.node('Sub', [x, m], {}, { name: 'sub' })[0]], {}, { name: 'exp' })[0];
      const s = b.node('ReduceSum', [e, i64(b, [-1])], { keepdims: 1 }, { name: 'sum' })[0];
      b.output(b.node('Div', [e, s], {}, { name: 'div' })[0]);
      return b.build();
    },
    passes: ['patterns'],
    after: ['vkrt::Softmax'],
  },
  {
    rule: 'layernorm', title: 'the decomposed LayerNormalization is one layer',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 5, 16]);
      const mean = b.node('ReduceMean', [x], { axes: [-1] }, { name: 'mean' })[0];
      const d = b.node('Sub', [x, mean], {}, { name: 'sub' })[0];
      const v = b.node('ReduceMean', [b.node('Pow', [d, scalar(b, 2)], {}, { name: 'pow' })[0]], { axes: [-1] }, { name: 'var' })[0];
      const sd = b.node('Sqrt', [b.node('Add', [v, scalar(b, 1e-5)], {}, { name: 'eps' })[0]], {}, { name: 'sqrt' })[0];
      const n = b.node('Div', [d, sd], {}, { name: 'div' })[0];
      b.output(b.node('Add', [b.node('Mul', [n, w(b, [16])], {}, { name: 'gamma' })[0], w(b, [16])], {}, { name: 'beta' })[0]);
      return b.build();
    },
    passes: ['patterns'],
    after: ['vkrt::LayerNormalization'],
    tol: 1e-4,
  },
  {
    rule: 'pointwise-fusion', title: 'a chain of elementwise ops with a broadcast input is one kernel',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [2, 3, 5]);
      const y = b.input('y', 'float32', [3, 1]);
      let z = b.node('Add', [x, y], {}, { name: 'add' })[0];
      z = b.node('Mul', [z, scalar(b, 0.7)], {}, { name: 'mul' })[0];
      z = b.node('Tanh', [z], {}, { name: 'tanh' })[0];
      z = b.node('Sub', [z, x], {}, { name: 'sub' })[0];
      z = b.node('LeakyRelu', [z], { alpha: 0.3 }, { name: 'lrelu' })[0];
      b.output(b.node('Clip', [z, scalar(b, -1), scalar(b, 0.5)], {}, { name: 'clip' })[0]);
      return b.build();
    },
    after: ['vkrt::FusedElementwise'],
  },
  {
    rule: 'pointwise-fusion', title: 'x * Sigmoid(x) without a layer before it is one kernel',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [4, 33]);
      b.output(b.node('Mul', [x, b.node('Sigmoid', [x], {}, { name: 'sig' })[0]], {}, { name: 'mul' })[0]);
      return b.build();
    },
    after: ['vkrt::FusedElementwise'],
  },
  {
    rule: 'horizontal-fusion', title: 'sibling 1x1 Convs on one input are one wider Conv and a Split',
    build() {
      const b = new GraphBuilder('t', { '': 13 });
      const x = b.input('x', 'float32', [1, 6, 4, 4]);
      const heads = [4, 8, 4].map((c, k) => b.node('Relu', [b.node('Conv', [x, w(b, [c, 6, 1, 1]), w(b, [c])], { kernel_shape: [1, 1] }, { name: `head${k}` })[0]], {}, { name: `relu${k}` })[0]);
      heads.forEach((h, k) => b.output(b.node('MaxPool', [h], { kernel_shape: [2, 2] }, { name: `pool${k}` })[0]));
      return b.build();
    },
    after: ['Conv', 'Split', 'MaxPool', 'MaxPool', 'MaxPool'],
  },
  {
    rule: 'horizontal-fusion', title: 'sibling Gemms on one row are one wider Gemm and a Split',
    build() {
      const b = new GraphBuilder('t', { '': 11 });
      const x = b.input('x', 'float32', [1, 12]);
      [5, 7].forEach((n, k) => b.output(b.node('Neg', [b.node('Gemm', [x, w(b, [n, 12]), w(b, [n])], { transB: 1 }, { name: `fc${k}` })[0]], {}, { name: `neg${k}` })[0]));
      return b.build();
    },
    after: ['Gemm', 'Split', 'Neg', 'Neg'],
  },
];

describe('rewrite rules', function () {
  this.timeout(120000);
  const gpu = useGpu();
  for (const c of CASES) {
    describe(`${c.rule}: ${c.title}`, () => {
      it('rewrites the graph as expected', () => {
        const model = c.build();
        const before = ops(model);
        const { model: out, counts } = optimized(model, c.passes);
        assert.ok((counts.get(c.rule) ?? 0) >= 1, `rule ${c.rule} did not fire (counts: ${[...counts].map(([k, v]) => `${k}=${v}`).join(', ')})\n${out.graph.print()}`);
        assert.deepEqual(ops(out), c.after, `ops after (before: ${before.join(', ')})\n${out.graph.print()}`);
        assert.deepEqual(ops(model), before, 'the original model is not changed');
      });
      it('computes the same outputs (reference, GPU)', async () => {
        const model = c.build();
        const feeds = feedsFor(model);
        sameReference(model, optimized(model, c.passes).model, feeds, c.tol ?? 1e-5);
        if (!c.referenceOnly) await sameGpu(gpu.device, model, feeds, c.tol ?? 1e-4);
      });
    });
  }
});
