/**
 * Asynchronous runs (docs/async.md): host overhead per run, runs one at a time against runs in
 * flight, and streams (contexts).
 *
 *   npm run bench -- async [--runs=N] [--size=N] [--device=N]
 *
 * 1. Host overhead on a tiny engine (one Relu over 64 floats, so the GPU work is negligible): the
 *    enqueue() call (input checks, staging write, vkQueueSubmit), and the whole run (enqueue ->
 *    fence wait on the queue's waiter thread -> threadsafe function -> read-back -> promise), one
 *    at a time and with 2-3 in flight (per-run wall time at saturation).
 * 2. The MobileNetV2-shaped network of src/models/nets.ts (--size, default 32): execute() awaited
 *    one at a time vs enqueue() with 2 and 3 in flight (throughput, mean latency).
 * 3. Streams: 1, 2, 4 contexts of that engine, each with one run at a time (aggregate throughput).
 * Prints Markdown tables. On lavapipe the "GPU" is the CPU, so overlap buys only the host time.
 */
import { buildEngine } from '../src/api/build';
import { flagString, parseArgs } from '../src/cli/args';
import { Device } from '../src/gpu';
import { GraphBuilder } from '../src/ir/builder';
import { Tensor } from '../src/ir/tensor';
import { mobilenetV2Like } from '../src/models/nets';
import type { ExecutionContext } from '../src/runtime/context';
import type { Engine } from '../src/runtime/engine';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function tinyEngine(device: Device): Engine {
  const b = new GraphBuilder('tiny', { '': 13 });
  const x = b.input('x', 'float32', [1, 64]);
  b.output(b.node('Relu', [x], {}, { name: 'relu', outputs: ['y'] })[0]);
  return buildEngine(b.build(), { device });
}

function inputsOf(engine: Engine): Map<string, Tensor> {
  return new Map(engine.inputs.map((io) => [io.name, new Tensor('float32', io.dims, Float32Array.from({ length: io.dims.reduce((a, c) => a * c, 1) }, (_, i) => Math.sin(i)))]));
}

/** `runs` runs with up to `inFlight` enqueued per context; wall ms per run (aggregate) and mean latency. */
async function loop(ctxs: ExecutionContext[], inputs: Map<string, Tensor>, runs: number, inFlight: number): Promise<{ perRunMs: number; latencyMs: number; enqueueCallUs: number }> {
  const lat: number[] = [], calls: number[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(ctxs.map(async (ctx) => {
    ctx.maxInFlight = Math.max(inFlight, 1);
    const q: ReturnType<ExecutionContext['enqueue']>[] = [];
    for (;;) {
      while (q.length < inFlight && started < runs) {
        started++;
        const c0 = performance.now();
        q.push(ctx.enqueue(inputs));
        calls.push((performance.now() - c0) * 1000);
      }
      const r = q.shift();
      if (!r) break;
      await r.outputs;
      lat.push((await r.timing).latencyMs + (await r.timing).queuedMs!);
    }
  }));
  const wall = performance.now() - t0;
  return { perRunMs: wall / runs, latencyMs: lat.reduce((a, b) => a + b, 0) / lat.length, enqueueCallUs: median(calls) };
}

/** execute() awaited one at a time (the way before enqueue existed). */
async function sequential(ctx: ExecutionContext, inputs: Map<string, Tensor>, runs: number): Promise<{ perRunMs: number; latencyMs: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await ctx.execute(inputs);
    lat.push(performance.now() - s);
  }
  return { perRunMs: (performance.now() - t0) / runs, latencyMs: lat.reduce((a, b) => a + b, 0) / lat.length };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const runs = Number(flagString(args, 'runs') ?? 400);
  const size = Number(flagString(args, 'size') ?? 32);
  const dev = flagString(args, 'device');
  const device = Device.create(dev === undefined ? {} : { index: Number(dev) });
  try {
    console.log(`# Asynchronous runs on ${device.info.name} (${device.info.queueCount} compute queue(s))\n`);
    const tiny = tinyEngine(device);
    const tctx = tiny.createExecutionContext();
    const tin = inputsOf(tiny);
    await sequential(tctx, tin, 50); // warm-up
    console.log('## Host overhead per run (tiny engine: one Relu over 64 floats)\n');
    console.log('| mode | wall per run (µs) | enqueue() call, median (µs) |');
    console.log('| --- | ---: | ---: |');
    const s = await sequential(tctx, tin, runs * 5);
    console.log(`| execute(), awaited one at a time | ${(s.perRunMs * 1000).toFixed(1)} | |`);
    for (const k of [1, 2, 3]) {
      const r = await loop([tctx], tin, runs * 5, k);
      console.log(`| enqueue(), ${k} in flight | ${(r.perRunMs * 1000).toFixed(1)} | ${r.enqueueCallUs.toFixed(1)} |`);
    }
    tiny.dispose();

    const engine = buildEngine(mobilenetV2Like({ size }), { device, optimizationLevel: 0 });
    const inputs = inputsOf(engine);
    const ctxs = [0, 1, 2, 3].map(() => engine.createExecutionContext());
    for (const c of ctxs) await sequential(c, inputs, 5); // warm-up
    const n = Math.max(20, Math.round(runs / 4));
    console.log(`\n## MobileNetV2-shaped network ${size}x${size}, ${engine.plan.layers.length} layers, ${n} runs\n`);
    console.log('| mode | throughput (qps) | mean latency (ms) |');
    console.log('| --- | ---: | ---: |');
    const seq = await sequential(ctxs[0], inputs, n);
    console.log(`| execute(), awaited one at a time | ${(1000 / seq.perRunMs).toFixed(1)} | ${seq.latencyMs.toFixed(2)} |`);
    for (const k of [2, 3]) {
      const r = await loop([ctxs[0]], inputs, n, k);
      console.log(`| enqueue(), ${k} in flight | ${(1000 / r.perRunMs).toFixed(1)} | ${r.latencyMs.toFixed(2)} |`);
    }
    for (const streams of [1, 2, 4]) {
      const r = await loop(ctxs.slice(0, streams), inputs, n, 1);
      console.log(`| ${streams} stream(s), 1 in flight each | ${(1000 / r.perRunMs).toFixed(1)} | ${r.latencyMs.toFixed(2)} |`);
    }
    engine.dispose();
  } finally {
    device.dispose();
  }
  return 0;
}
