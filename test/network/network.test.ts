/**
 * The network definition API: a ResNet basic block built layer by layer matches the same block
 * written as an ONNX model (BatchNormalization nodes), its ONNX export builds to the same engine
 * bit for bit, and its weights refit by layer name; the rest of the layer vocabulary matches the
 * reference interpreter; a layer that does not fit fails where it is added, naming the layer.
 */
import { strict as assert } from 'assert';
import { Builder } from '../../src/api/session';
import { compareTensors } from '../../src/conformance/compare';
import { NetworkError } from '../../src/errors';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { NetworkDefinition } from '../../src/network/network';
import { parseModel } from '../../src/onnx/parse';
import { interpret } from '../../src/ops/interpreter';
import { useGpu } from '../helpers/gpu';

function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => (((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1) * scale);
}

const C = 8, H = 8;
interface Bn { gamma: Float32Array; beta: Float32Array; mean: Float32Array; var: Float32Array }
function bn(seed: number): Bn {
  return { gamma: values(C, seed).map((v) => 1 + 0.3 * v), beta: values(C, seed + 1, 0.2), mean: values(C, seed + 2, 0.3), var: values(C, seed + 3).map((v) => 1 + 0.5 * v) };
}
const EPS = 1e-5;
const W1 = values(C * C * 9, 11, 0.2), W2 = values(C * C * 9, 12, 0.2), BN1 = bn(20), BN2 = bn(30);

/** conv3x3 - BN - ReLU - conv3x3 - BN - (+x) - ReLU with the network API; BN as a channel Scale. */
function networkBlock(builder: Builder, w1 = W1): NetworkDefinition {
  const net = builder.createNetwork('resnet_block');
  const x = net.addInput('x', 'float32', [1, C, H, H]);
  const scaleOf = (b: Bn) => ({ scale: b.gamma.map((g, i) => g / Math.sqrt(b.var[i] + EPS)), shift: b.beta.map((v, i) => v - (b.mean[i] * b.gamma[i]) / Math.sqrt(b.var[i] + EPS)) });
  const conv1 = net.addConvolution(x, { name: 'conv1', outputMaps: C, kernelSize: [3, 3], padding: [1, 1], kernel: w1 });
  const bn1 = net.addScale(conv1.output, 'channel', { name: 'bn1', ...scaleOf(BN1) });
  const relu1 = net.addActivation(bn1.output, 'relu', { name: 'relu1' });
  const conv2 = net.addConvolution(relu1.output, { name: 'conv2', outputMaps: C, kernelSize: [3, 3], padding: [1, 1], kernel: W2 });
  const bn2 = net.addScale(conv2.output, 'channel', { name: 'bn2', ...scaleOf(BN2) });
  const add = net.addElementWise(bn2.output, x, 'sum', { name: 'add' });
  const out = net.addActivation(add.output, 'relu', { name: 'relu2' });
  net.markOutput(out.output);
  return net;
}

/** The same block as an ONNX exporter writes it. */
function onnxBlock() {
  const b = new GraphBuilder('resnet_block_onnx', { '': 17 });
  b.input('x', 'float32', [1, C, H, H]);
  const conv = (inp: string, w: Float32Array, name: string) => b.node('Conv', [inp, b.initializer(`${name}.weight`, new Tensor('float32', [C, C, 3, 3], w))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name })[0];
  const norm = (inp: string, p: Bn, name: string) => b.node('BatchNormalization', [inp, ...(['gamma', 'beta', 'mean', 'var'] as const).map((k) => b.initializer(`${name}.${k}`, new Tensor('float32', [C], p[k])))], { epsilon: EPS }, { name })[0];
  const h = b.node('Relu', [norm(conv('x', W1, 'conv1'), BN1, 'bn1')])[0];
  const s = b.node('Add', [norm(conv(h, W2, 'conv2'), BN2, 'bn2'), 'x'])[0];
  b.output(b.node('Relu', [s], {}, { outputs: ['y'] })[0], 'float32');
  return b.build();
}

describe('network definition API', function () {
  this.timeout(120000);
  const gpu = useGpu();
  const x = new Tensor('float32', [1, C, H, H], values(C * H * H, 5));

  it('a ResNet block built with layers matches the same block as ONNX; its ONNX export builds the same engine; its weights refit by layer name', async () => {
    const builder = new Builder(gpu.device);
    const net = networkBlock(builder);
    assert.deepEqual(net.layers.map((l) => `${l.name}:${l.type}`), ['conv1:Convolution', 'bn1:Scale', 'relu1:Activation', 'conv2:Convolution', 'bn2:Scale', 'add:ElementWise', 'relu2:Activation']);
    assert.deepEqual(net.outputs[0].dims, [1, C, H, H]);
    const fromNet = builder.buildEngine(net, { refittable: true });
    const fromOnnx = builder.buildEngine(onnxBlock());
    const exported = builder.buildEngine(parseModel(net.toOnnx()));
    try {
      const y = [...(await fromNet.createExecutionContext().execute({ x })).values()][0];
      const yOnnx = (await fromOnnx.createExecutionContext().execute({ x })).get('y')!;
      assert.equal(compareTensors(yOnnx, y, { rtol: 1e-5, atol: 1e-5 }), undefined);
      const yExported = [...(await exported.createExecutionContext().execute({ x })).values()][0];
      assert.deepEqual(yExported.data, y.data, 'the ONNX export builds to the same outputs');
      assert.equal(fromNet.plan.layers.length, exported.plan.layers.length);
      // refit by the layer's weight name == a network built with that weight
      const w1 = values(C * C * 9, 99, 0.2);
      fromNet.refit({ 'conv1.weight': w1 });
      const rebuilt = builder.buildEngine(networkBlock(builder, w1));
      try {
        const a = [...(await fromNet.createExecutionContext().execute({ x })).values()][0];
        const b = [...(await rebuilt.createExecutionContext().execute({ x })).values()][0];
        assert.deepEqual(a.data, b.data);
      } finally {
        rebuilt.dispose();
      }
    } finally {
      fromNet.dispose();
      fromOnnx.dispose();
      exported.dispose();
    }
  });

  it('the rest of the vocabulary builds and matches the reference interpreter', async () => {
    const builder = new Builder(gpu.device);
    const net = builder.createNetwork('vocabulary');
    const inp = net.addInput('x', 'float32', [1, 4, 8, 8]);
    const dc = net.addDeconvolution(inp, { outputMaps: 2, kernelSize: [2, 2], stride: [2, 2], kernel: values(4 * 2 * 4, 1, 0.3), bias: values(2, 2) });
    const pool = net.addPooling(dc.output, 'average', { windowSize: [4, 4] });
    const flat = net.addShuffle(pool.output, { reshape: [1, -1] });
    const fc = net.addFullyConnected(flat.output, { outputs: 6, kernel: values(6 * 32, 3, 0.2), bias: values(6, 4) });
    const act = net.addActivation(fc.output, 'leakyRelu', { alpha: 0.1 });
    const sm = net.addSoftMax(act.output);
    const gap = net.addReduce(inp, 'max', [2, 3], false);
    const cat = net.addConcatenation([sm.output, gap.output], { axis: 1 });
    const sl = net.addSlice(cat.output, [0, 1], [1, 8], [1, 1]);
    const k = net.addConstant([1, 8], values(8, 6));
    const prod = net.addElementWise(sl.output, k.output, 'prod');
    const idx = net.addConstant([3], new Tensor('int32', [3], Int32Array.from([0, 2, 5])));
    const g = net.addGather(prod.output, idx.output, 1);
    const mm = net.addMatrixMultiply(g.output, 'transpose', g.output, 'none');
    const t = net.addActivation(mm.output, 'scaledTanh', { alpha: 2, beta: 0.5 });
    const u = net.addUnary(t.output, 'abs');
    const s = net.addScale(u.output, 'uniform', { scale: new Float32Array([3]), shift: new Float32Array([0.5]) });
    net.markOutput(s.output);
    const engine = builder.buildEngine(net);
    try {
      const x = new Tensor('float32', [1, 4, 8, 8], values(256, 7));
      const got = [...(await engine.createExecutionContext().execute({ x })).values()][0];
      const want = interpret(net.toModel(), { x }).get(s.output.name) as Tensor;
      assert.deepEqual(got.dims, [3, 3]);
      assert.equal(compareTensors(want, got, { rtol: 1e-5, atol: 1e-6 }), undefined);
    } finally {
      engine.dispose();
    }
  });

  it('a layer that does not fit fails where it is added, naming the layer', () => {
    const net = new NetworkDefinition('bad');
    const x = net.addInput('x', 'float32', [1, 3, 8, 8]);
    const err = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof NetworkError && re.test(e.message) || assert.fail(String(e)));
    err(() => net.addConvolution(x, { name: 'conv1', outputMaps: 4, kernelSize: [3, 3], kernel: new Float32Array(100) }), /^layer 'conv1' \(Convolution\): weight: expected 108 values \(\[4,3,3,3\]\), got 100$/);
    const c = net.addConvolution(x, { name: 'conv1', outputMaps: 4, kernelSize: [3, 3], kernel: new Float32Array(108) });
    err(() => net.addElementWise(c.output, x, 'sum', { name: 'add' }), /^layer 'add' \(ElementWise\): Add: .*broadcast/);
    err(() => net.addConcatenation([c.output, x], { name: 'cat', axis: 1 }), /^layer 'cat' \(Concatenation\): /);
    err(() => net.addShuffle(c.output, { name: 'reshape', reshape: [5, -1] }), /^layer 'reshape' \(Shuffle\): /);
    err(() => net.addPooling(c.output, 'max', { name: 'pool', windowSize: [2] }), /^layer 'pool' \(Pooling\): a 1-D window needs an input of rank 3/);
    err(() => net.addPluginV3([x], { name: 'custom', domain: 'com.example', opType: 'Nope' }), /^layer 'custom' \(PluginV3\): no operator com\.example::Nope is registered/);
    err(() => net.addActivation({ name: 'elsewhere', dtype: 'float32', dims: [1] }, 'relu', { name: 'r' }), /^layer 'r' \(Activation\): 'elsewhere' is not a tensor of this network/);
    err(() => net.addActivation(x, 'relu', { name: 'conv1' }), /a layer named 'conv1' exists already/);
    err(() => net.toModel(), /has no output: call markOutput/);
    // the failed layers left nothing behind: the same names work now, and the network builds
    const add = net.addElementWise(c.output, c.output, 'sum', { name: 'add' });
    net.markOutput(add.output);
    assert.deepEqual(net.layers.map((l) => l.name), ['conv1', 'add']);
    assert.deepEqual(net.toModel().graph.nodes.map((n) => n.name), ['conv1', 'add']);
    net.toModel().graph.verify();
  });
});
