/**
 * Refit vs rebuild: per network, the time to build an engine cold (GLSL compiled, pipelines made),
 * to rebuild it with new weights in the same process (SPIR-V cached), and to refit it instead
 * (replan with the new weights + upload), on a built engine and on one loaded from its file (the
 * first refit of a loaded engine also parses its stored graph); and
 * whether the refitted outputs equal the rebuilt ones bit for bit.
 *   npm run bench -- refit [--fp16]
 */
import { Builder } from '../src/api/session';
import { randomInputs } from '../src/cli/exec';
import { Model } from '../src/ir/graph';
import { Tensor } from '../src/ir/tensor';
import { googlenetLike, mobilenetV2Like } from '../src/models/nets';
import { rng } from '../src/models/rng';
import { NetworkDefinition } from '../src/network/network';
import { Engine } from '../src/runtime/engine';

/** A ResNet-18-shaped network (basic blocks, BN as channel scales) built with the network API. */
function resnetLike(builder: Builder, seed: number, size = 64): NetworkDefinition {
  const r = rng(seed);
  const vals = (n: number, s: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const net = builder.createNetwork('resnet18_like');
  let x = net.addInput('input', 'float32', [1, 3, size, size]);
  const convBn = (inp: typeof x, cin: number, cout: number, k: number, stride: number, name: string, relu: boolean) => {
    const c = net.addConvolution(inp, { name, outputMaps: cout, kernelSize: [k, k], stride: [stride, stride], padding: [(k - 1) / 2, (k - 1) / 2], kernel: vals(cout * cin * k * k, Math.sqrt(2 / (cin * k * k))) });
    const s = net.addScale(c.output, 'channel', { name: `${name}_bn`, scale: vals(cout, 0.2).map((v) => 1 + v), shift: vals(cout, 0.1) });
    return relu ? net.addActivation(s.output, 'relu', { name: `${name}_relu` }).output : s.output;
  };
  x = convBn(x, 3, 16, 7, 2, 'stem', true);
  x = net.addPooling(x, 'max', { windowSize: [3, 3], stride: [2, 2], padding: [1, 1], name: 'pool' }).output;
  let c = 16;
  [16, 32, 64, 128].forEach((cout, stage) => {
    for (let blk = 0; blk < 2; blk++) {
      const stride = stage > 0 && blk === 0 ? 2 : 1;
      const name = `layer${stage + 1}.${blk}`;
      const h = convBn(convBn(x, c, cout, 3, stride, `${name}.conv1`, true), cout, cout, 3, 1, `${name}.conv2`, false);
      const skip = stride !== 1 || c !== cout ? convBn(x, c, cout, 1, stride, `${name}.down`, false) : x;
      x = net.addActivation(net.addElementWise(h, skip, 'sum', { name: `${name}.add` }).output, 'relu', { name: `${name}.relu` }).output;
      c = cout;
    }
  });
  x = net.addReduce(x, 'avg', [2, 3], false, { name: 'gap' }).output;
  x = net.addFullyConnected(x, { name: 'fc', outputs: 10, kernel: vals(10 * c, 0.1), bias: vals(10, 0.1) }).output;
  net.markOutput(x);
  return net;
}

function floatWeights(m: Model): Map<string, Tensor> {
  return new Map([...m.graph.initializers].filter(([, t]) => t.dtype === 'float32'));
}

async function out(e: Engine, inputs: Map<string, Tensor>): Promise<Float32Array> {
  return [...(await e.createExecutionContext().execute(inputs)).values()][0].data as Float32Array;
}

const time = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
};

export async function run(argv: string[]): Promise<number> {
  const fp16 = argv.includes('--fp16');
  const builder = new Builder();
  const cases: [string, (seed: number) => Model][] = [
    ['resnet18-like 64x64 (network API)', (s) => resnetLike(builder, s).toModel()],
    ['googlenet-like 64x64', (s) => googlenetLike({ size: 64, seed: s })],
    ['mobilenetv2-like 64x64', (s) => mobilenetV2Like({ size: 64, seed: s })],
  ];
  console.log(`| network${fp16 ? ' (FP16)' : ''} | weights | params | layers | cold build ms | rebuild ms | refit ms (replan + upload) | load ms + refit ms (loaded engine) | refit == rebuild |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const [name, make] of cases) {
    const a = make(1), b = make(2);
    const [engine, cold] = time(() => builder.buildEngine(a, { refittable: true, fp16 }));
    const inputs = randomInputs(engine.inputs, 3);
    const [rebuilt, rebuild] = time(() => builder.buildEngine(b, { fp16 }));
    const w = floatWeights(b);
    // an engine in its first refit parses its stored graph once; time the second (steady state) too
    const [res1, refit1] = time(() => engine.refit(w));
    engine.refit(floatWeights(a));
    const [, refit2] = time(() => engine.refit(w));
    const file = engine.serialize();
    const [loaded, load] = time(() => Engine.deserialize(file, { device: builder.device }));
    const [, loadedRefit] = time(() => loaded.refit(floatWeights(a)));
    loaded.dispose();
    const x = await out(engine, inputs), y = await out(rebuilt, inputs);
    const same = x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
    const params = [...w.values()].reduce((s, t) => s + t.size, 0);
    console.log(`| ${name} | ${w.size} | ${params} | ${engine.plan.layers.length} | ${cold.toFixed(0)} | ${rebuild.toFixed(0)} | ${refit1.toFixed(0)} first, ${refit2.toFixed(0)} next (${res1.replanMs.toFixed(0)} + ${res1.uploadMs.toFixed(1)}) | ${load.toFixed(0)} + ${loadedRefit.toFixed(0)} | ${same ? 'bit for bit' : 'DIFFERS'} |`);
    engine.dispose();
    rebuilt.dispose();
  }
  builder.dispose();
  return 0;
}
