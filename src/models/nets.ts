/**
 * Small networks built in code with the shapes of real architectures (seeded random weights): the
 * bundled default model of `npm start` / `vkrt demo`, and test subjects.
 */
import { attr, GraphBuilder } from '../ir/builder';
import { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weights(b: GraphBuilder, name: string, dims: number[], r: () => number, scale: number): string {
  const n = dims.reduce((a, c) => a * c, 1);
  return b.initializer(name, Tensor.from('float32', dims, Array.from({ length: n }, () => (r() * 2 - 1) * scale)));
}

/**
 * A MobileNetV2-shaped network: stem conv, inverted residual blocks (1x1 expand + ReLU6, 3x3
 * depthwise + ReLU6, 1x1 project, residual Add when shapes allow), global pool, classifier.
 */
export function mobilenetV2Like(opts: { batch?: number; size?: number; seed?: number } = {}): Model {
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
