/**
 * Writes swiglu_mlp.onnx: a LLaMA-style MLP block, x -> MatMul(W_gate_up) -> com.example::SwiGLU ->
 * MatMul(W_down), the graph PyTorch's exporter writes for the module in README.md (its custom
 * symbolic emits the com.example::SwiGLU node). Weights are seeded random.
 *   npx tsx examples/plugins/make-model.ts [out.onnx] [seed]
 */
import * as fs from 'fs';
import * as path from 'path';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { Model } from '../../src/ir/graph';
import { rng } from '../../src/models/rng';
import { serializeModel } from '../../src/onnx/serialize';

/** The MLP block: batch x seq x dim in, same out; hidden = 2 * dim. */
export function swigluMlp(opts: { batch?: number; seq?: number; dim?: number; seed?: number } = {}): Model {
  const { batch = 1, seq = 8, dim = 16, seed = 1 } = opts;
  const r = rng(seed);
  const hidden = 2 * dim;
  const w = (dims: number[], scale: number) => Tensor.from('float32', dims, Array.from({ length: dims[0] * dims[1] }, () => (r() * 2 - 1) * scale));
  const b = new GraphBuilder('swiglu_mlp', { '': 17, 'com.example': 1 });
  const x = b.input('x', 'float32', [batch, seq, dim]);
  const wUp = b.initializer('mlp.gate_up.weight', w([dim, 2 * hidden], 1 / Math.sqrt(dim)));
  const wDown = b.initializer('mlp.down.weight', w([hidden, dim], 1 / Math.sqrt(hidden)));
  const [h] = b.node('MatMul', [x, wUp], {}, { name: 'gate_up' });
  const [g] = b.node('SwiGLU', [h], { axis: -1 }, { name: 'swiglu', domain: 'com.example' });
  const [y] = b.node('MatMul', [g, wDown], {}, { name: 'down', outputs: ['y'] });
  b.output(y, 'float32', [batch, seq, dim]);
  return b.build({ producerName: 'pytorch' });
}

if (require.main === module) {
  const out = process.argv[2] ?? path.join(__dirname, 'swiglu_mlp.onnx');
  fs.writeFileSync(out, serializeModel(swigluMlp({ seed: Number(process.argv[3] ?? 1) })));
  console.log(`wrote ${out}`);
}
