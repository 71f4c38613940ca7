/**
 * Big tensors (issue 17, docs/big-tensors.md): tensors larger than the device's
 * maxStorageBufferRange (128 MiB on lavapipe) run in pieces the device binds, and an arena or a
 * weight set larger than one buffer spans several buffers. The first two tests use lavapipe's real
 * limit (a 160 MB input through Relu + Add; VGG fc6, a Gemm with a [4096, 25088] float32 weight);
 * the others lower the limits through BuilderConfig.limits so that the same code runs on small
 * tensors, with every kind of split, several arena and weight buffers, and engine files.
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { planMemory, type PlanItem } from '../../src/builder/memory-plan';
import type { BuilderConfig } from '../../src/builder/config';
import { EngineFileError, UnsupportedError } from '../../src/errors';
import { attr, GraphBuilder } from '../../src/ir/builder';
import type { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import type { EnginePlan } from '../../src/kernel/plan';
import { interpret } from '../../src/ops/interpreter';
import { bindingRanges } from '../../src/runtime/bindings';
import { bufferSizes } from '../../src/runtime/buffer-set';
import type { Engine } from '../../src/runtime/engine';
import { checkLoadedPlan } from '../../src/runtime/plan-check';
import { Runtime } from '../../src/runtime/runtime';
import { useGpu } from '../helpers/gpu';

/** Deterministic values in [-1, 1) (no Math.random: failures must reproduce). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const tensor = (dims: number[], seed: number): Tensor => new Tensor('float32', dims, values(dims.reduce((a, b) => a * b, 1), seed));

/** Every binding of the plan lies inside its buffer and spans at most `limit` bytes. */
function assertBindable(plan: EnginePlan, limit: number): void {
  const sizes = { arena: bufferSizes(plan, 'arena'), weights: bufferSizes(plan, 'weights'), scratch: [plan.scratchBytes] };
  for (const layer of plan.layers) {
    for (const d of layer.dispatches) {
      for (const r of bindingRanges(plan, layer, d)) {
        assert.ok(r.range <= limit, `layer '${layer.name}' binds ${r.range} bytes, more than ${limit}`);
        assert.ok(r.index < sizes[r.buffer].length && r.offset + r.range <= sizes[r.buffer][r.index], `layer '${layer.name}' binds outside ${r.buffer} buffer ${r.index}`);
        assert.equal(r.offset % plan.alignment, 0);
      }
    }
  }
}

/** Outputs within a tolerance of the reference interpreter's (relative to the largest magnitude). */
function assertClose(got: Map<string, Tensor>, want: Map<string, unknown>, rtol = 1e-5): void {
  for (const [name, w] of want) {
    const g = got.get(name);
    assert.ok(g, `output ${name} missing`);
    const gd = g.data as Float32Array, wd = (w as Tensor).data as Float32Array;
    assert.deepEqual([...g.dims], [...(w as Tensor).dims], name);
    let scale = 1e-6, worst = 0, at = -1;
    for (let i = 0; i < wd.length; i++) scale = Math.max(scale, Math.abs(wd[i]));
    for (let i = 0; i < wd.length; i++) {
      const e = Math.abs(gd[i] - wd[i]);
      if (!(e <= worst)) { worst = e; at = i; }
    }
    assert.ok(worst <= rtol * scale, `${name}: element ${at} is ${gd[at]}, the reference ${wd[at]} (scale ${scale})`);
  }
}

describe('big tensors', function () {
  this.timeout(180000);
  const gpu = useGpu();
  const limitOf = (): number => gpu.device.info.maxStorageBufferRange;

  async function run(model: Model, feeds: Map<string, Tensor>, config: BuilderConfig = {}): Promise<{ engine: Engine; out: Map<string, Tensor>; log: string[] }> {
    const log: string[] = [];
    const engine = buildEngine(model, { device: gpu.device, log: (l) => log.push(l), ...config });
    try {
      const out = await engine.createExecutionContext().execute(feeds);
      return { engine, out, log };
    } catch (e) {
      engine.dispose();
      throw e;
    }
  }

  it('a 160 MB input above the device binding limit round-trips through Relu + Add', async () => {
    const limit = limitOf();
    const N = 40, M = 1_000_000; // 160,000,000 bytes of float32
    assert.ok(N * M * 4 > limit, `the device binds ${limit} bytes: this test needs a tensor above it`);
    const b = new GraphBuilder('big-relu', { '': 13 });
    const x = b.input('x', 'float32', [N, M]);
    const bias = b.input('bias', 'float32', [M]);
    const [r] = b.node('Relu', [x]);
    const [y] = b.node('Add', [r, bias]);
    b.output(y);
    const model = b.build();
    const feeds = new Map([['x', tensor([N, M], 1)], ['bias', tensor([M], 2)]]);
    const { engine, out, log } = await run(model, feeds);
    try {
      assert.ok(log.some((l) => /big tensors: .* runs as [2-9] pieces/.test(l)), log.join('\n'));
      assertBindable(engine.plan, limit);
      const got = out.get(y)!.data as Float32Array;
      const xd = feeds.get('x')!.data as Float32Array, bd = feeds.get('bias')!.data as Float32Array;
      // Relu then an f32 add: exact, so every element equals the reference's formula
      let bad = 0;
      for (let i = 0; i < xd.length; i++) if (got[i] !== Math.fround(Math.max(xd[i], 0) + bd[i % M])) bad++;
      assert.equal(bad, 0, `${bad} of ${xd.length} elements differ`);
      // and the reference interpreter agrees on a sample of rows (the whole tensor would take long on the CPU)
      const rows = new Map([['x', new Tensor('float32', [2, M], xd.subarray((N - 2) * M))], ['bias', feeds.get('bias')!]]);
      const want = interpret(model, rows).get(y) as Tensor;
      assert.deepEqual(got.subarray((N - 2) * M), want.data);
    } finally {
      engine.dispose();
    }
  });

  it('VGG fc6: a Gemm whose [4096, 25088] weight (411 MB) exceeds the binding limit matches the reference', async () => {
    const limit = limitOf();
    const M = 1, K = 25088, N = 4096;
    assert.ok(N * K * 4 > limit);
    const b = new GraphBuilder('big-gemm', { '': 13 });
    const x = b.input('x', 'float32', [M, K]);
    const w = b.initializer('w', tensor([N, K], 3));
    const c = b.initializer('c', tensor([N], 4));
    const [g] = b.node('Gemm', [x, w, c], { transB: attr.int(1) });
    const [y] = b.node('Relu', [g]);
    b.output(y);
    const model = b.build();
    const feeds = new Map([['x', tensor([M, K], 5)]]);
    const { engine, out, log } = await run(model, feeds);
    try {
      assert.ok(log.some((l) => /big tensors: .*Gemm.* runs as \d+ pieces/.test(l)), log.join('\n'));
      assert.ok(engine.plan.layers.filter((l) => l.opTypes[0] === 'Gemm').length >= 4);
      // one row: the pieces write their slices of the output in place (no Concat copy)
      assert.ok(!engine.plan.layers.some((l) => l.opTypes.includes('Concat')), engine.plan.layers.map((l) => l.kernel).join(', '));
      assertBindable(engine.plan, limit);
      assertClose(out, interpret(model, feeds), 1e-5);
    } finally {
      engine.dispose();
    }
  });

  it('elementwise layers with broadcasting split by rows under a lowered limit match the reference', async () => {
    const b = new GraphBuilder('rows', { '': 17 });
    const x = b.input('x', 'float32', [3, 8, 20, 30]);
    // a per-channel scale (a constant: its pieces are cut at build time, one channel each)
    const s = b.initializer('s', tensor([8, 1, 1], 7));
    const t = b.input('t', 'float32', [30]);
    const cond = b.initializer('cond', new Tensor('bool', [1, 1, 20, 30], Uint8Array.from({ length: 600 }, (_, i) => i % 3 === 0 ? 1 : 0)));
    const [a] = b.node('Mul', [x, s]);
    const [c] = b.node('Add', [a, t]);
    const [d] = b.node('Sigmoid', [c]);
    const [e] = b.node('Where', [cond, d, x]);
    const [f] = b.node('Max', [e, x, c]);
    b.output(f);
    b.output(d);
    const model = b.build();
    const feeds = new Map([['x', tensor([3, 8, 20, 30], 6)], ['t', tensor([30], 8)]]);
    // FP16: the pieces of a whole agree on f16 storage, the outputs are converted back piece by piece
    for (const config of [{ fusion: true }, { fusion: false }, { fp16: true }] as BuilderConfig[]) {
      const limit = 4096;
      const { engine, out, log } = await run(model, feeds, { ...config, limits: { maxStorageBufferRange: limit } });
      try {
        assert.ok(engine.plan.layers.length >= 10, `${engine.plan.layers.length} layers (${JSON.stringify(config)})\n${log.join('\n')}`);
        if (config.fp16) assert.ok(engine.plan.layers.some((l) => l.precision === 'fp16'));
        assertBindable(engine.plan, limit);
        assertClose(out, interpret(model, feeds), config.fp16 ? 2e-3 : 1e-6);
      } finally {
        engine.dispose();
      }
    }
  });

  it('MatMul and Gemm split by rows and output features (weights [K, N] and [N, K], per-feature and per-row bias)', async () => {
    const b = new GraphBuilder('mm', { '': 13 });
    const x = b.input('x', 'float32', [4, 50, 24]);
    const w1 = b.initializer('w1', tensor([24, 100], 9));
    const [h] = b.node('MatMul', [x, w1]);
    const [h2] = b.node('Reshape', [h, b.initializer('shape', Tensor.from('int64', [2], [200, 100]))]);
    const w2 = b.initializer('w2', tensor([70, 100], 10));
    const c2 = b.initializer('c2', tensor([70], 11));
    const [y1] = b.node('Gemm', [h2, w2, c2], { transB: attr.int(1), alpha: attr.float(0.5), beta: attr.float(2) });
    const w3 = b.initializer('w3', tensor([100, 40], 12));
    const c3 = b.initializer('c3', tensor([200, 40], 13));
    const [y2] = b.node('Gemm', [h2, w3, c3]);
    b.output(y1);
    b.output(y2);
    const model = b.build();
    const feeds = new Map([['x', tensor([4, 50, 24], 14)]]);
    const limit = 8192;
    const { engine, out, log } = await run(model, feeds, { limits: { maxStorageBufferRange: limit } });
    try {
      assert.ok(log.filter((l) => /big tensors: .* runs as \d+ pieces/.test(l)).length >= 3, log.join('\n'));
      assertBindable(engine.plan, limit);
      assertClose(out, interpret(model, feeds), 1e-5);
    } finally {
      engine.dispose();
    }
  });

  it('Conv (with a fused residual), pooling and Softmax split over the batch match the reference', async () => {
    const b = new GraphBuilder('batch', { '': 13 });
    const x = b.input('x', 'float32', [6, 3, 16, 16]);
    const [c1] = b.node('Conv', [x, b.initializer('w1', tensor([8, 3, 3, 3], 50)), b.initializer('b1', tensor([8], 51))], { pads: attr.ints([1, 1, 1, 1]) });
    const [c2] = b.node('Conv', [c1, b.initializer('w2', tensor([8, 8, 3, 3], 52))], { pads: attr.ints([1, 1, 1, 1]) });
    const [s] = b.node('Add', [c2, c1]);
    const [r] = b.node('Relu', [s]);
    const [p] = b.node('MaxPool', [r], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
    const [sm] = b.node('Softmax', [p], { axis: attr.int(-1) });
    const [g] = b.node('GlobalAveragePool', [r]);
    b.output(sm);
    b.output(g);
    const model = b.build();
    const feeds = new Map([['x', tensor([6, 3, 16, 16], 53)]]);
    const limit = 16384; // one image's 8x16x16 activations take 8 KiB
    for (const fusion of [true, false]) {
      const { engine, out, log } = await run(model, feeds, { fusion, limits: { maxStorageBufferRange: limit } });
      try {
        for (const op of ['Conv', 'MaxPool']) assert.ok(log.some((l) => new RegExp(`big tensors: .*\\(${op}\\) runs as [2-9] pieces`).test(l)), `${op} (fusion ${fusion}):\n${log.join('\n')}`);
        assertBindable(engine.plan, limit);
        assertClose(out, interpret(model, feeds), 1e-5);
      } finally {
        engine.dispose();
      }
    }
  });

  it('normalizations (LayerNormalization, InstanceNormalization, LRN, BatchNormalization) split over the batch match the reference', async () => {
    const b = new GraphBuilder('norms', { '': 17 });
    const x = b.input('x', 'float32', [8, 16, 64]);
    const [ln] = b.node('LayerNormalization', [x, b.initializer('g', tensor([64], 70)), b.initializer('beta', tensor([64], 71))], { axis: attr.int(-1) });
    const [inn] = b.node('InstanceNormalization', [ln, b.initializer('s', tensor([16], 72)), b.initializer('bi', tensor([16], 73))]);
    const [x4] = b.node('Reshape', [inn, b.initializer('shape', Tensor.from('int64', [4], [8, 16, 8, 8]))]);
    const [lrn] = b.node('LRN', [x4], { size: attr.int(3) });
    const pos = new Tensor('float32', [16], values(16, 74).map((v) => v + 1.5));
    const [bn] = b.node('BatchNormalization', [lrn, b.initializer('bs', tensor([16], 75)), b.initializer('bb', tensor([16], 76)), b.initializer('bm', tensor([16], 77)), b.initializer('bv', pos)]);
    b.output(bn);
    const model = b.build();
    const feeds = new Map([['x', tensor([8, 16, 64], 78)]]);
    const limit = 8192; // one item is 4 KiB, the tensors 32 KiB
    const { engine, out, log } = await run(model, feeds, { fusion: false, limits: { maxStorageBufferRange: limit } });
    try {
      for (const op of ['LayerNormalization', 'InstanceNormalization', 'LRN', 'BatchNormalization']) assert.ok(log.some((l) => new RegExp(`big tensors: .*\\(${op}\\) runs as [2-9] pieces`).test(l)), `${op}:\n${log.join('\n')}`);
      assertBindable(engine.plan, limit);
      assertClose(out, interpret(model, feeds), 1e-5);
    } finally {
      engine.dispose();
    }
  });

  it('Gather from an embedding table larger than the limit splits by columns and matches the reference', async () => {
    const b = new GraphBuilder('embed', { '': 13 });
    const ids = b.input('ids', 'int64', [2, 5]);
    const table = b.initializer('table', tensor([1000, 64], 60));
    const [e] = b.node('Gather', [table, ids], { axis: attr.int(0) });
    const [y] = b.node('Tanh', [e]);
    b.output(y);
    const model = b.build();
    const feeds = new Map([['ids', Tensor.from('int64', [2, 5], [0, 999, 17, -1, 500, 3, 3, 998, -1000, 42])]]);
    const limit = 16384; // the table is 256,000 bytes; one column 4,000
    const { engine, out, log } = await run(model, feeds, { limits: { maxStorageBufferRange: limit } });
    try {
      assert.ok(log.some((l) => /big tensors: .*\(Gather\) runs as \d+ pieces/.test(l)), log.join('\n'));
      assertBindable(engine.plan, limit);
      assertClose(out, interpret(model, feeds), 1e-6);
    } finally {
      engine.dispose();
    }
  });

  it('a layer no split applies to is refused with a typed error naming it, its tensor and what to do', () => {
    const b = new GraphBuilder('softmax', { '': 13 });
    const x = b.input('x', 'float32', [1, 4096]);
    const [y] = b.node('Softmax', [x], { axis: attr.int(-1) });
    b.output(y);
    assert.throws(() => buildEngine(b.build(), { device: gpu.device, limits: { maxStorageBufferRange: 4096 } }), (e: unknown) => {
      assert.ok(e instanceof UnsupportedError, String(e));
      assert.match(e.message, /exceed the device's maxStorageBufferRange of 4096 bytes/);
      assert.match(e.message, /layer 'Softmax_0' \(Softmax, kernel \w+\) binds tensor 'x' of 16384 bytes/);
      assert.match(e.message, /reduce the batch size or the input shapes/);
      return true;
    });
  });

  it('an arena and weights larger than one buffer span several buffers; the engine file round-trips them', async () => {
    const b = new GraphBuilder('buffers', { '': 13 });
    const x = b.input('x', 'float32', [128, 128]);
    let h = x;
    for (let k = 0; k < 4; k++) {
      const w = b.initializer(`w${k}`, tensor([128, 128], 20 + k));
      [h] = b.node('MatMul', [h, w]);
      [h] = b.node('Tanh', [h]);
    }
    const [y] = b.node('Add', [h, x]);
    b.output(y);
    const model = b.build();
    const feeds = new Map([['x', tensor([128, 128], 30)]]);
    // 64 KiB tensors and weights: x and two intermediates live at once (192 KiB), 256 KiB of weights
    const maxBufferBytes = 160 * 1024;
    const { engine, out } = await run(model, feeds, { limits: { maxBufferBytes }, fusion: false });
    let loaded: Engine | undefined;
    try {
      const plan = engine.plan;
      assert.ok((plan.arenaBuffers?.length ?? 1) >= 2, `arena buffers ${JSON.stringify(plan.arenaBuffers)} (arena ${plan.arenaBytes})`);
      assert.ok((plan.weightBuffers?.length ?? 1) >= 2, `weight buffers ${JSON.stringify(plan.weightBuffers)}`);
      for (const s of [...plan.arenaBuffers!, ...plan.weightBuffers!]) assert.ok(s <= maxBufferBytes);
      for (const t of plan.tensors.values()) {
        const sizes = bufferSizes(plan, t.kind === 'weight' ? 'weights' : 'arena');
        assert.ok(t.offset + t.bytes <= sizes[t.buffer ?? 0], `'${t.name}' straddles the end of its buffer`);
      }
      assertBindable(plan, gpu.device.info.maxStorageBufferRange);
      assertClose(out, interpret(model, feeds), 1e-5);
      // the engine file keeps the buffer indices: a loaded engine gives the same bits
      const bytes = engine.serialize();
      loaded = Runtime.deserializeEngine(bytes, { device: gpu.device });
      assert.deepEqual(loaded.plan.arenaBuffers, plan.arenaBuffers);
      assert.deepEqual(loaded.plan.weightBuffers, plan.weightBuffers);
      const again = await loaded.createExecutionContext().execute(feeds);
      assert.deepEqual(again.get(y)!.data, out.get(y)!.data);
      // a binding in a buffer the plan does not have is refused before it reaches Vulkan
      const t = [...plan.tensors.values()].find((v) => v.kind === 'activation')!;
      const damaged: EnginePlan = { ...plan, tensors: new Map([...plan.tensors].map(([k, v]) => [k, v === t ? { ...v, buffer: plan.arenaBuffers!.length } : v])) };
      assert.throws(() => checkLoadedPlan(damaged, { modules: [], dispatchModule: plan.layers.map((l) => l.dispatches.map(() => 0)) }, gpu.device.info), (e: unknown) => e instanceof EngineFileError && /buffer \d+ does not exist/.test(e.message));
    } finally {
      engine.dispose();
      loaded?.dispose();
    }
  });

  it('with an optimization profile, shapes beyond the limits run in pieces and several arena buffers (also from an engine file)', async () => {
    const b = new GraphBuilder('profile', { '': 13 });
    const x = b.input('x', 'float32', ['N', 1000]);
    const [r] = b.node('Relu', [x]);
    const [y] = b.node('Sigmoid', [r]);
    b.output(y, 'float32', ['N', 1000]);
    const model = b.build();
    // opt N = 2 (8 KB) needs no piece; N = 64 (256 KB per tensor) needs pieces and two arena buffers
    const limits = { maxStorageBufferRange: 65536, maxBufferBytes: 300_000 };
    const fixed = buildEngine(model, { device: gpu.device, inputShapes: { x: [64, 1000] }, limits });
    try {
      assert.ok(fixed.plan.layers.length >= 4 && (fixed.plan.arenaBuffers?.length ?? 1) >= 2, `${fixed.plan.layers.length} layers, arena buffers ${JSON.stringify(fixed.plan.arenaBuffers)}`);
    } finally {
      fixed.dispose();
    }
    const engine = buildEngine(model, { device: gpu.device, profiles: [{ x: { min: [1, 1000], opt: [2, 1000], max: [64, 1000] } }], limits });
    let loaded: Engine | undefined;
    try {
      assert.equal(engine.plan.layers.length, 1, 'the opt shape runs whole');
      loaded = Runtime.deserializeEngine(engine.serialize(), { device: gpu.device });
      for (const e of [engine, loaded]) {
        const ctx = e.createExecutionContext();
        for (const n of [2, 64, 3, 40]) {
          const feeds = new Map([['x', tensor([n, 1000], 80 + n)]]);
          assertClose(await ctx.execute(feeds), interpret(model, feeds), 1e-6);
        }
      }
    } finally {
      engine.dispose();
      loaded?.dispose();
    }
  });

  it('a split plan with pieces saved to an engine file loads (every piece layer re-derived) and gives the same bits', async () => {
    const b = new GraphBuilder('file', { '': 13 });
    const x = b.input('x', 'float32', [16, 1000]);
    const w = b.initializer('w', tensor([1000, 64], 40));
    const [h] = b.node('Relu', [x]);
    const [y] = b.node('MatMul', [h, w]);
    b.output(y);
    const model = b.build();
    const feeds = new Map([['x', tensor([16, 1000], 41)]]);
    const limit = 32768;
    const { engine, out } = await run(model, feeds, { limits: { maxStorageBufferRange: limit, maxBufferBytes: 100_000 } });
    let loaded: Engine | undefined;
    try {
      assertBindable(engine.plan, limit);
      assertClose(out, interpret(model, feeds), 1e-5);
      loaded = Runtime.deserializeEngine(engine.serialize(), { device: gpu.device });
      assert.equal(loaded.plan.layers.length, engine.plan.layers.length);
      const again = await loaded.createExecutionContext().execute(feeds);
      assert.deepEqual(again.get(y)!.data, out.get(y)!.data);
    } finally {
      engine.dispose();
      loaded?.dispose();
    }
  });
});

describe('memory plan over several buffers', () => {
  it('places every tensor inside one buffer, and tensors alive together apart', () => {
    const items: PlanItem[] = [];
    let s = 7;
    const rnd = (n: number): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % n; };
    for (let k = 0; k < 200; k++) {
      const start = rnd(100);
      items.push({ id: `t${k}`, size: 256 * (1 + rnd(40)), start, end: start + rnd(10) });
    }
    const max = 16 * 1024;
    const plan = planMemory(items, 256, max);
    assert.ok(plan.bufferBytes.length > 1);
    assert.equal(plan.arenaBytes, plan.bufferBytes.reduce((a, b) => a + b, 0));
    for (const it of items) {
      const b = plan.buffers.get(it.id)!, off = plan.offsets.get(it.id)!;
      assert.ok(off + it.size <= plan.bufferBytes[b] && plan.bufferBytes[b] <= max);
    }
    for (const a of items) for (const c of items) {
      if (a === c || a.start > c.end || c.start > a.end || plan.buffers.get(a.id) !== plan.buffers.get(c.id)) continue;
      const ao = plan.offsets.get(a.id)!, co = plan.offsets.get(c.id)!;
      assert.ok(ao + a.size <= co || co + c.size <= ao, `${a.id} and ${c.id} overlap`);
    }
    assert.throws(() => planMemory([{ id: 'huge', size: max + 1, start: 0, end: 0 }], 256, max), /larger than one buffer/);
  });
});
