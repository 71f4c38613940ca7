/**
 * Small networks built in code with the shapes of real architectures (seeded random weights): the
 * bundled default model of `npm start` / `vkrt demo`, and test subjects.
 */
import { attr, GraphBuilder } from '../ir/builder';
import { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { rng } from './rng';


function weights(b: GraphBuilder, name: string, dims: number[], r: () => number, scale: number): string {
  const n = dims.reduce((a, c) => a * c, 1);
  return b.initializer(name, Tensor.from('float32', dims, Array.from({ length: n }, () => (r() * 2 - 1) * scale)));
}

/**
 * A MobileNetV2-shaped network: stem conv, inverted residual blocks (1x1 expand + ReLU6, 3x3
 * depthwise + ReLU6, 1x1 project, residual Add when shapes allow), global pool, classifier.
 * `batch` may be a name (a symbolic batch dimension, as exported models for servers have).
 */
export function mobilenetV2Like(opts: { batch?: number | string; size?: number; seed?: number } = {}): Model {
  const { batch = 1, size = 32, seed = 7 } = opts;
  const r = rng(seed);
  const b = new GraphBuilder('mobilenetv2_like', { '': 13 });
  let x = b.input('input', 'float32', [batch, 3, size, size]);
  let c = 8;
  const conv = (inp: string, cin: number, cout: number, k: number, stride: number, group: number, name: string) => {
    const w = weights(b, `${name}.w`, [cout, cin / group, k, k], r, Math.sqrt(2 / ((cin / group) * k * k)));
    const bias = weights(b, `${name}.b`, [cout], r, 0.1);
    const p = (k - 1) / 2;
    return b.node('Conv', [inp, w, bias], { kernel_shape: [k, k], strides: [stride, stride], pads: [p, p, p, p], group }, { name })[0];
  };
  const relu6 = (inp: string, name: string) => b.node('Clip', [inp, b.constant(Tensor.scalar('float32', 0), `${name}.min`), b.constant(Tensor.scalar('float32', 6), `${name}.max`)], {}, { name })[0];
  x = relu6(conv(x, 3, c, 3, 2, 1, 'stem'), 'stem_relu');
  const blocks: [number, number, number][] = [[1, 8, 1], [4, 12, 2], [4, 12, 1], [4, 16, 2], [4, 16, 1], [4, 16, 1], [4, 24, 1]];
  blocks.forEach(([t, cout, s], i) => {
    const hidden = c * t;
    let h = x;
    if (t !== 1) h = relu6(conv(h, c, hidden, 1, 1, 1, `b${i}.expand`), `b${i}.expand_relu`);
    h = relu6(conv(h, hidden, hidden, 3, s, hidden, `b${i}.dw`), `b${i}.dw_relu`);
    h = conv(h, hidden, cout, 1, 1, 1, `b${i}.project`);
    if (s === 1 && cout === c) h = b.node('Add', [x, h], {}, { name: `b${i}.add` })[0];
    x = h;
    c = cout;
  });
  x = b.node('GlobalAveragePool', [x], {}, { name: 'pool' })[0];
  x = b.node('Flatten', [x], { axis: attr.int(1) }, { name: 'flatten' })[0];
  const w = weights(b, 'fc.w', [10, c], r, 0.3);
  const bias = weights(b, 'fc.b', [10], r, 0.1);
  const y = b.node('Gemm', [x, w, bias], { transB: 1 }, { name: 'fc', outputs: ['logits'] })[0];
  b.output(y);
  return b.build();
}

/** Channel counts of one Inception block: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection. */
export type InceptionChannels = [number, number, number, number, number, number];

/**
 * One GoogLeNet Inception block on `x` (cin channels): four branches (1x1; 1x1 -> 3x3; 1x1 -> 5x5;
 * 3x3 max pool -> 1x1), each convolution followed by Relu, concatenated along channels. 14 ONNX
 * nodes. Returns the output name and its channel count.
 */
export function inceptionBlock(b: GraphBuilder, x: string, cin: number, ch: InceptionChannels, name: string, r: () => number = rng(11)): { y: string; channels: number } {
  const [c1, c3r, c3, c5r, c5, cp] = ch;
  const convRelu = (inp: string, ci: number, co: number, k: number, part: string) => {
    const w = weights(b, `${name}.${part}.w`, [co, ci, k, k], r, Math.sqrt(2 / (ci * k * k)));
    const bias = weights(b, `${name}.${part}.b`, [co], r, 0.1);
    const p = (k - 1) / 2;
    const y = b.node('Conv', [inp, w, bias], { kernel_shape: [k, k], pads: [p, p, p, p] }, { name: `${name}.${part}` })[0];
    return b.node('Relu', [y], {}, { name: `${name}.${part}_relu` })[0];
  };
  const b1 = convRelu(x, cin, c1, 1, '1x1');
  const b2 = convRelu(convRelu(x, cin, c3r, 1, '3x3_reduce'), c3r, c3, 3, '3x3');
  const b3 = convRelu(convRelu(x, cin, c5r, 1, '5x5_reduce'), c5r, c5, 5, '5x5');
  const pooled = b.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }, { name: `${name}.pool` })[0];
  const b4 = convRelu(pooled, cin, cp, 1, 'pool_proj');
  const y = b.node('Concat', [b1, b2, b3, b4], { axis: 1 }, { name: `${name}.concat` })[0];
  return { y, channels: c1 + c3 + c5 + cp };
}

/**
 * A GoogLeNet-shaped network: stem (7x7/2 conv + BatchNormalization + Relu, 3x3/2 max pool), two
 * Inception blocks, a 3x3/2 max pool, a third block, global average pool, classifier.
 */
export function googlenetLike(opts: { batch?: number; size?: number; seed?: number } = {}): Model {
  const { batch = 1, size = 32, seed = 5 } = opts;
  const r = rng(seed);
  const b = new GraphBuilder('googlenet_like', { '': 13 });
  let x = b.input('input', 'float32', [batch, 3, size, size]);
  const stemW = weights(b, 'stem.w', [16, 3, 7, 7], r, Math.sqrt(2 / (3 * 49)));
  x = b.node('Conv', [x, stemW], { kernel_shape: [7, 7], strides: [2, 2], pads: [3, 3, 3, 3] }, { name: 'stem' })[0];
  const bn = (k: string, lo: number, hi: number) => b.initializer(`stem_bn.${k}`, Tensor.from('float32', [16], Array.from({ length: 16 }, () => lo + r() * (hi - lo))));
  x = b.node('BatchNormalization', [x, bn('scale', 0.5, 1.5), bn('bias', -0.2, 0.2), bn('mean', -0.3, 0.3), bn('var', 0.5, 2)], { epsilon: 1e-5 }, { name: 'stem_bn' })[0];
  x = b.node('Relu', [x], {}, { name: 'stem_relu' })[0];
  x = b.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'pool1' })[0];
  let c = 16;
  const blocks: [InceptionChannels, string][] = [[[8, 12, 16, 4, 8, 4], 'inception_3a'], [[16, 16, 24, 4, 12, 8], 'inception_3b']];
  for (const [ch, name] of blocks) ({ y: x, channels: c } = inceptionBlock(b, x, c, ch, name, r));
  x = b.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name: 'pool2' })[0];
  ({ y: x, channels: c } = inceptionBlock(b, x, c, [24, 16, 28, 4, 8, 8], 'inception_4a', r));
  x = b.node('GlobalAveragePool', [x], {}, { name: 'pool' })[0];
  x = b.node('Flatten', [x], { axis: attr.int(1) }, { name: 'flatten' })[0];
  const w = weights(b, 'fc.w', [10, c], r, 0.3);
  const bias = weights(b, 'fc.b', [10], r, 0.1);
  b.output(b.node('Gemm', [x, w, bias], { transB: 1 }, { name: 'fc', outputs: ['logits'] })[0]);
  return b.build();
}
