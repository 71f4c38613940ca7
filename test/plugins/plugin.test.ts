/**
 * Plugins end to end, on the example plugin (examples/plugins: com.example::SwiGLU in a LLaMA-style
 * MLP): build from BuilderConfig.plugins and from plugins.register, run, check against the
 * plugin's reference and against the same network written in ONNX ops; every tactic; FP16; the
 * engine file loaded and run in a process that never registered the plugin; a plugin that
 * replaces a built-in; errors that name the plugin (shape function throws, GLSL does not compile);
 * the CLI (--plugins, inspect).
 */
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildEngine } from '../../src/api/build';
import { Builder } from '../../src/api/session';
import { preferKernel } from '../../src/builder/selection';
import { compareTensors } from '../../src/conformance/compare';
import { PluginError, UnsupportedError } from '../../src/errors';
import { writeNpy } from '../../src/io/npy';
import { GraphBuilder } from '../../src/ir/builder';
import { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { loadPluginModule } from '../../src/plugins/load';
import { register, registryWithPlugins } from '../../src/plugins/registry';
import type { PluginDef } from '../../src/plugins/types';
import { registry } from '../../src/ops/index';
import { swigluMlp } from '../../examples/plugins/make-model';
import { useGpu } from '../helpers/gpu';
import { runCli } from '../cli/run-cli';

const EXAMPLE = path.resolve(__dirname, '..', '..', 'examples', 'plugins');
const PLUGIN_FILE = path.join(EXAMPLE, 'swiglu-plugin.js');

/** The same MLP with SwiGLU written in ONNX ops (Split, Sigmoid, Mul, Mul): an independent oracle. */
function decomposed(m: Model): Model {
  const g = m.graph;
  const b = new GraphBuilder('swiglu_onnx', { '': 17 });
  b.input('x', 'float32', g.types.get('x')!.shape);
  for (const [k, t] of g.initializers) b.initializer(k, t);
  const [h] = b.node('MatMul', ['x', 'mlp.gate_up.weight']);
  const [a, v] = b.node('Split', [h], { axis: -1, num_outputs: 2 }, { outputs: 2 });
  const [s] = b.node('Sigmoid', [a]);
  const [silu] = b.node('Mul', [a, s]);
  const [gl] = b.node('Mul', [silu, v]);
  const [y] = b.node('MatMul', [gl, 'mlp.down.weight'], {}, { outputs: ['y'] });
  b.output(y, 'float32');
  return b.build();
}

function input(dims: number[], seed = 3): Tensor {
  let s = seed;
  return Tensor.from('float32', dims, Array.from({ length: dims.reduce((a, c) => a * c, 1) }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4 - 2));
}

function assertClose(a: Tensor, b: Tensor, rtol: number, atol: number, what: string): void {
  const m = compareTensors(a, b, { rtol, atol });
  assert.equal(m, undefined, `${what}: ${m}`);
}

describe('plugins', function () {
  this.timeout(120000);
  const gpu = useGpu();
  const model = swigluMlp({ seq: 8, dim: 16 });
  const x = input([1, 8, 16]);
  const plugins = loadPluginModule(PLUGIN_FILE);

  it('the example plugin builds, runs and matches its reference and the ONNX-op network, with every tactic', async () => {
    const expected = interpret(model, { x }, { registry: registryWithPlugins(registry, plugins) }).get('y') as Tensor;
    const oracle = interpret(decomposed(model), { x }).get('y') as Tensor;
    assertClose(oracle, expected, 1e-5, 1e-6, 'plugin reference vs ONNX decomposition');
    for (const tactic of ['swiglu_x1', 'swiglu_x4']) {
      const engine = buildEngine(model, { device: gpu.device, plugins: [PLUGIN_FILE], selection: preferKernel(tactic) });
      try {
        const layer = engine.plan.layers.find((l) => l.name === 'swiglu')!;
        assert.equal(layer.kernel, tactic);
        assert.deepEqual(layer.plugin, { name: 'swiglu', version: '1.0.0' });
        assert.deepEqual(engine.plan.plugins, [{ name: 'swiglu', version: '1.0.0', domain: 'com.example', opType: 'SwiGLU', layers: ['swiglu'] }]);
        const y = (await engine.createExecutionContext().execute({ x })).get('y')!;
        assertClose(expected, y, 1e-5, 1e-6, tactic);
      } finally {
        engine.dispose();
      }
    }
  });

  it('runs in FP16 (declared precision), within FP16 tolerance of the reference', async () => {
    const expected = interpret(decomposed(model), { x }).get('y') as Tensor;
    const engine = buildEngine(model, { device: gpu.device, plugins, fp16: true });
    try {
      const layer = engine.plan.layers.find((l) => l.name === 'swiglu')!;
      assert.equal(layer.precision, 'fp16');
      assert.equal(layer.dispatches[0].defines?.VKRT_F16, 1);
      assertClose(expected, (await engine.createExecutionContext().execute({ x })).get('y')!, 2e-2, 2e-2, 'fp16');
    } finally {
      engine.dispose();
    }
    // a plugin without 'fp16' runs its layer in FP32 inside an FP16 engine
    const fp32Only = plugins.map((p) => ({ ...p, precisions: ['fp32' as const] }));
    const e2 = buildEngine(model, { device: gpu.device, plugins: fp32Only, fp16: true });
    try {
      assert.equal(e2.plan.layers.find((l) => l.name === 'swiglu')!.precision, 'fp32');
    } finally {
      e2.dispose();
    }
  });

  it('an engine with a plugin loads and runs in a process that never registered it', async function () {
    this.timeout(180000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-plugin-'));
    const engine = buildEngine(model, { device: gpu.device, plugins: [PLUGIN_FILE] });
    try {
      const y = (await engine.createExecutionContext().execute({ x })).get('y')!;
      fs.writeFileSync(path.join(dir, 'mlp.engine'), engine.serialize());
      fs.writeFileSync(path.join(dir, 'x.npy'), writeNpy(x));
      const out = execFileSync(process.execPath, ['-r', 'tsx/cjs', path.join(__dirname, 'load-engine-child.ts'), path.join(dir, 'mlp.engine'), path.join(dir, 'x.npy')], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!);
      assert.deepEqual(r.registered, []);
      assert.equal(r.pluginModuleLoaded, false);
      assert.deepEqual(r.enginePlugins, ['swiglu@1.0.0']);
      const data = y.data as Float32Array;
      assert.equal(r.bytes, Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'), 'bit-identical outputs');
    } finally {
      engine.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plugins.register makes the operator known process-wide until unregistered', async () => {
    assert.throws(() => buildEngine(model, { device: gpu.device }), UnsupportedError);
    const handle = register(plugins[0]);
    try {
      const engine = buildEngine(model, { device: gpu.device });
      engine.dispose();
      assert.throws(() => register({ ...plugins[0], name: 'other' }), /already provided by plugin 'swiglu'/);
    } finally {
      handle.unregister();
    }
    assert.equal(registry.get('com.example', 'SwiGLU'), undefined);
  });

  it('the network API adds a plugin layer (addPluginV3), shape-checked by the plugin', async () => {
    const handle = register(plugins[0]);
    try {
      const builder = new Builder(gpu.device);
      const net = builder.createNetwork('mlp');
      const xin = net.addInput('x', 'float32', [1, 8, 16]);
      const up = net.addConstant([16, 64], model.graph.initializers.get('mlp.gate_up.weight')!, { name: 'w_up' });
      const h = net.addMatrixMultiply(xin, 'none', up.output, 'none', { name: 'gate_up' });
      const g = net.addPluginV3([h.output], { name: 'swiglu', domain: 'com.example', opType: 'SwiGLU', attrs: { axis: -1 } });
      assert.deepEqual(g.output.dims, [1, 8, 32]);
      assert.throws(() => net.addPluginV3([xin], { name: 'odd', domain: 'com.example', opType: 'SwiGLU', attrs: { axis: 0 } }), /layer 'odd' \(PluginV3\): .*plugin 'swiglu'.*must be even/);
      net.markOutput(g.output);
      const engine = builder.buildEngine(net);
      try {
        const got = [...(await engine.createExecutionContext().execute({ x })).values()][0];
        const want = interpret(net.toModel(), { x }).get(g.output.name) as Tensor;
        assertClose(want, got, 1e-5, 1e-6, 'network plugin layer');
      } finally {
        engine.dispose();
      }
    } finally {
      handle.unregister();
    }
  });

  it('a plugin may replace a built-in operator (replaces: true); the optimizer does not fuse it away', async () => {
    // Relu as a plugin: y = max(x, 0) by its own GLSL; in Conv -> Relu the fusion pass would
    // otherwise fold the Relu into the Conv's epilogue.
    const relu: PluginDef = {
      name: 'my-relu', version: '0.1', domain: '', opType: 'Relu', replaces: true,
      inferShape: (_ctx, [t]) => [t!],
      kernel: (ctx) => ({
        name: 'my_relu',
        dispatches: [{
          shader: 'relu', params: [ctx.outputs[0].dims.reduce((a, b) => a * b, 1)], workgroup: [64, 1, 1],
          groups: [Math.ceil(ctx.outputs[0].dims.reduce((a, b) => a * b, 1) / 64), 1, 1], bindings: [{ input: 0 }, { output: 0 }],
          source: '#version 450\n#extension GL_GOOGLE_include_directive : require\n#include "vkrt.glsl"\nlayout(std430, binding = 0) readonly buffer X { float x[]; };\nlayout(std430, binding = 1) writeonly buffer Y { float y[]; };\nvoid main() { uint i = vkrt_index(); if (i < PARAM(0)) y[i] = max(x[i], 0.0); }\n',
        }],
      }),
    };
    assert.throws(() => registryWithPlugins(registry, [{ ...relu, replaces: false }]), (e: unknown) => e instanceof PluginError && /built-in operator; set replaces: true/.test(e.message));
    const b = new GraphBuilder('conv_relu', { '': 17 });
    b.input('x', 'float32', [1, 2, 6, 6]);
    b.initializer('w', input([3, 2, 3, 3], 5));
    const [c] = b.node('Conv', ['x', 'w'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv' });
    const [y] = b.node('Relu', [c], {}, { name: 'relu', outputs: ['y'] });
    b.output(y, 'float32');
    const m = b.build();
    const xin = input([1, 2, 6, 6], 9);
    const engine = buildEngine(m, { device: gpu.device, plugins: [relu] });
    try {
      const layer = engine.plan.layers.find((l) => l.name === 'relu');
      assert.ok(layer, `the Relu stays a layer: ${engine.plan.layers.map((l) => l.name).join(', ')}`);
      assert.equal(layer.kernel, 'my_relu');
      assertClose(interpret(m, { x: xin }).get('y') as Tensor, (await engine.createExecutionContext().execute({ x: xin })).get('y')!, 1e-5, 1e-6, 'replaced Relu');
    } finally {
      engine.dispose();
    }
  });

  it('a plugin whose shape function throws, or whose GLSL does not compile, fails naming the plugin', () => {
    const throwing = plugins.map((p) => ({ ...p, inferShape: () => { throw new Error('rank must be 3'); } }));
    assert.throws(() => buildEngine(model, { device: gpu.device, plugins: throwing }), (e: unknown) => {
      assert.ok(e instanceof PluginError, String(e));
      assert.match(e.message, /plugin 'swiglu' \(version 1\.0\.0\), node 'swiglu' \(com\.example::SwiGLU\): its shape function \(inferShape\) threw: rank must be 3/);
      return true;
    });
    const broken = plugins.map((p) => ({
      ...p,
      kernel: (ctx: Parameters<PluginDef['kernel']>[0]) => {
        const impls = [p.kernel(ctx)].flat();
        return impls.map((i) => ({ ...i, dispatches: i.dispatches.map((d) => ({ ...d, source: d.source!.replace('float a = float(x[ia]);', 'float a = undefined_thing;') })) }));
      },
    }));
    assert.throws(() => buildEngine(model, { device: gpu.device, plugins: broken }), (e: unknown) => {
      assert.ok(e instanceof PluginError, String(e));
      assert.match(e.message, /plugin 'swiglu' \(version 1\.0\.0\): the GLSL of kernel 'swiglu_x\d' \(layer 'swiglu', dispatch 0\) does not compile: .*undefined_thing/s);
      return true;
    });
  });

  it('the CLI builds with --plugins and inspect lists the plugin of the saved engine', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-plugin-cli-'));
    try {
      const onnx = path.join(dir, 'mlp.onnx');
      fs.copyFileSync(path.join(EXAMPLE, 'swiglu_mlp.onnx'), onnx);
      const eng = path.join(dir, 'mlp.engine');
      const r = await runCli('exec', `--onnx=${onnx}`, `--plugins=${path.relative(process.cwd(), PLUGIN_FILE)}`, `--saveEngine=${eng}`, '--iterations=1', '--duration=0', '--warmUp=0', '--avgRuns=0');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\[I\] Plugin swiglu 1\.0\.0 \(com\.example::SwiGLU\): 1 layer/);
      const missing = await runCli('exec', `--onnx=${onnx}`, '--iterations=1', '--duration=0', '--warmUp=0');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /com\.example::SwiGLU.*operator not implemented/);
      const i = await runCli('inspect', eng, '--json');
      assert.equal(i.code, 0, i.stderr);
      assert.deepEqual(JSON.parse(i.stdout).plugins, [{ name: 'swiglu', version: '1.0.0', domain: 'com.example', opType: 'SwiGLU', layers: ['swiglu'] }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
