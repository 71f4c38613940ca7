/**
 * vkrt side of the GPU benchmark (bench/gpu/run.sh runs it after bench/gpu/torch_side.py).
 *
 * Reads <work>/torch.json (models exported to ONNX, inputs and PyTorch reference outputs per batch,
 * the peers' timings), then for each model, precision and batch: builds an engine, checks its
 * output against PyTorch's (relative L2 error) BEFORE timing anything, and times
 *   - vkrt: submit + await of the recorded program with the input already on the GPU (what
 *     PyTorch's timing means too: input on the device, launch overhead included);
 *   - vkrt GPU: the sum of per-layer GPU timestamps;
 *   - vkrt e2e: execute() from host tensors to host tensors, inputs rotated.
 * Also measures the Vulkan copy bandwidth and elementwise/copy kernels in the same run, and the ten
 * most expensive layers against the device's limits. Prints one table and writes the results JSON.
 *
 *   node dist/bench/bench/gpu/vkrt.js --work=/tmp/w --out=bench/results/x.json [--models=..]
 *     [--batches=1,32,256] [--precisions=fp32,fp16,int8] [--budget=3] [--peak-tflops=66.9]
 */
import * as fs from 'fs';
import * as path from 'path';
import { UnsupportedError } from '../../src/errors';
import { parseArgs, flagString } from '../../src/cli/args';
import { Device } from '../../src/gpu/device';
import { parseNpy } from '../../src/io/npy';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { loadModel } from '../../src/onnx/parse';
import { Engine } from '../../src/runtime/engine';
import { KernelSelection, preferKernel } from '../../src/builder/selection';
import { bandwidth } from '../native';
import { fmtMs, fmtRatio, LatencyStats, markdownTable, median, relativeError, summarize, timeLoop } from '../stats';
import { LayerCost, layerCosts, layerTimes } from './layers';
import { buildEngine, buildEngineAsync } from '../../src/api/build';
import { createCalibrator } from '../../src/api/calibrate';

type Peers = Record<string, LatencyStats | { error: string }>;
interface TorchBatch { input: string; ref: string; ref_samples: number; torch_fp16_rel?: number; peers: Peers }
interface TorchModel { onnx: string; input: { name: string; dtype: string; shape: number[] }; output_magnitude: Record<string, number>; bn_layers: number; batches: Record<string, TorchBatch> }
interface TorchJson { device: string; sms: number; torch: string; cuda: string; onnxruntime?: string; models: Record<string, TorchModel> }

/** One vkrt configuration's result. */
interface VkrtResult {
  model: string; precision: string; batch: number;
  status: 'ok' | 'not available' | 'mismatch' | 'error' | 'skipped';
  detail?: string;
  build_ms?: number;
  /** The build's tuning summary line (candidates timed, cache hits, tuned vs heuristic time). */
  tuning?: string;
  check?: { rel: number; maxAbs: number; tolerance: number; samples: number; torch_fp16_rel?: number };
  device_resident?: LatencyStats;
  gpu_ms?: number;
  /** Sum of per-layer times of profiled runs (fenceposts add a little). */
  layer_sum_ms?: number;
  e2e?: LatencyStats;
  memory_mib?: { weights: number; arena: number; scratch: number };
  top_layers?: LayerCost[];
  /** INT8 runs: integer layers in the engine, and top-1 agreement with the FP32 reference. */
  int8_layers?: number;
  top1_agreement?: number;
}


function variants(t: Tensor, k: number): Tensor[] {
  const out = [t];
  for (let v = 1; v < k; v++) {
    if (t.data instanceof BigInt64Array) {
      const d = new BigInt64Array(t.data.length);
      for (let i = 0; i < d.length; i++) d[i] = BigInt((Number(t.data[i]) * (7 + v) + 13 * v) % 30522);
      out.push(new Tensor('int64', t.dims, d));
    } else {
      const src = t.data as Float32Array, d = new Float32Array(src.length);
      for (let i = 0; i < d.length; i++) d[i] = src[(i + 997 * v) % src.length];
      out.push(new Tensor('float32', t.dims, d));
    }
  }
  return out;
}

/** Share of rows whose argmax agrees (outputs [N, C]); undefined for other shapes. */
function top1Agreement(a: Float32Array, b: Float32Array, dims: readonly number[]): number | undefined {
  if (dims.length !== 2) return undefined;
  const [n, c] = dims;
  let agree = 0;
  for (let i = 0; i < n; i++) {
    let ia = 0, ib = 0;
    for (let k = 1; k < c; k++) {
      if (a[i * c + k] > a[i * c + ia]) ia = k;
      if (b[i * c + k] > b[i * c + ib]) ib = k;
    }
    if (ia === ib) agree++;
  }
  return agree / n;
}

async function runOne(device: Device, name: string, m: TorchModel, work: string, precision: string, batch: number, o: { budget: number; limits: { peakTflops: number; copyGBps: number }; flops: Map<string, number>; selection?: KernelSelection }): Promise<VkrtResult> {
  const res: VkrtResult = { model: name, precision, batch, status: 'error' };
  const tb = m.batches[String(batch)];
  if (!tb) return { ...res, status: 'skipped', detail: 'no reference for this batch' };
  const model = loadModel(m.onnx);
  const input = parseNpy(fs.readFileSync(path.join(work, tb.input)), tb.input);
  let engine: Engine;
  try {
    // int8: trtexec's --int8 --fp16 (layers without an integer kernel in FP16), calibrated with the
    // entropy calibrator on 4 batches drawn like the reference input (random images)
    const int8 = precision === 'int8';
    const config = {
      device, inputShapes: { [m.input.name]: [batch, ...m.input.shape] }, fp16: precision === 'fp16' || int8, int8, fp16RangeCheck: false,
      calibrator: int8 ? createCalibrator({ batches: variants(input, 4).map((t) => ({ [m.input.name]: t })) }) : undefined,
    };
    // tuned (level 3) with a timing cache shared by the run, unless --prefer pins a candidate
    if (o.selection) engine = buildEngine(model, { ...config, selection: o.selection });
    else {
      let report = '';
      engine = await buildEngineAsync(model, { ...config, timingCache: path.join(work, 'vkrt-timing.cache'), log: (l) => { if (l.startsWith('tuning:')) report = l; } });
      res.tuning = report;
    }
  } catch (e) {
    if (e instanceof UnsupportedError) return { ...res, status: 'not available', detail: (e as Error).message.split('\n').slice(0, 4).join(' / ') };
    throw e;
  }
  try {
    res.build_ms = engine.buildMs;
    const mib = (b: number) => b / 2 ** 20;
    res.memory_mib = { weights: mib(engine.plan.weightBytes), arena: mib(engine.plan.arenaBytes), scratch: mib(engine.plan.scratchBytes) };
    const ctx = engine.createExecutionContext();
    const ref = parseNpy(fs.readFileSync(path.join(work, tb.ref)), tb.ref);
    // agreement first: nothing is timed for an engine whose output is wrong
    const outs = await ctx.execute({ [m.input.name]: input });
    const y = [...outs.values()][0];
    const n = ref.size;
    const err = relativeError(y.data as Float32Array, ref.data as Float32Array, n);
    // FP16: at most 2e-2, or 3x PyTorch's own FP16 error on the same input where that is larger
    // (deep random-weight networks amplify rounding: PyTorch FP16 itself lands near 1e-2 there)
    // INT8: at most 0.15 relative L2 against FP32 (random-weight networks, entropy calibration);
    // the table also gives top-1 agreement with the FP32 reference
    const tolerance = precision === 'int8' ? 0.15 : precision === 'fp16' ? Math.max(2e-2, 3 * (tb.torch_fp16_rel ?? 0)) : 1e-3;
    res.check = { rel: err.rel, maxAbs: err.maxAbs, tolerance, samples: tb.ref_samples, torch_fp16_rel: precision === 'fp16' ? tb.torch_fp16_rel : undefined };
    if (precision === 'int8') {
      res.int8_layers = engine.plan.layers.filter((l) => l.precision === 'int8').length;
      res.top1_agreement = top1Agreement(y.data as Float32Array, ref.data as Float32Array, ref.dims);
    }
    if (!(err.rel <= tolerance)) {
      res.status = 'mismatch';
      res.detail = `relative L2 error ${err.rel} > ${tolerance} against PyTorch (first ${tb.ref_samples} samples)`;
      return res;
    }
    // one loop gives all three views of each run (RunTiming): host to host, submit to fence, GPU
    const inputs = variants(input, 4);
    const wait: number[] = [], gpu: number[] = [];
    ctx.gpuTiming = true;
    res.e2e = await timeLoop(async (i) => {
      await ctx.execute({ [m.input.name]: inputs[i % inputs.length] });
      const t = ctx.lastTiming!;
      if (i >= 5) { wait.push(t.waitMs); if (t.gpuMs !== undefined) gpu.push(t.gpuMs); }
    }, { warmup: 5, runs: 300, budgetS: o.budget });
    ctx.gpuTiming = false;
    res.device_resident = summarize(wait);
    res.gpu_ms = gpu.length ? median(gpu) : undefined;
    const times = await layerTimes(ctx, { [m.input.name]: input }, Math.max(5, Math.min(30, Math.round(100 / Math.max(1, res.e2e.median_ms)))));
    res.layer_sum_ms = times.reduce((a, b) => a + b, 0);
    res.top_layers = layerCosts(engine, times, o.limits, o.flops).slice(0, 10);
    res.status = 'ok';
    return res;
  } finally {
    engine.dispose();
  }
}

/** GB/s of elementwise and copy kernels as vkrt builds them (one-layer engines, GPU timestamps). */
async function kernelBandwidth(device: Device, elems: number): Promise<{ kernel: string; gbps: number; ms: number }[]> {
  const side = Math.round(Math.sqrt(elems));
  const cases: { kernel: string; build: (b: GraphBuilder) => void; bytes: number; shape: Record<string, number[]> }[] = [
    { kernel: 'Relu (unary elementwise)', bytes: 8 * elems, shape: { x: [elems] }, build: (b) => { b.input('x', 'float32', [elems]); b.output(b.node('Relu', ['x'])[0], 'float32', [elems]); } },
    { kernel: 'Add (binary elementwise)', bytes: 12 * elems, shape: { x: [elems], z: [elems] }, build: (b) => { b.input('x', 'float32', [elems]); b.input('z', 'float32', [elems]); b.output(b.node('Add', ['x', 'z'])[0], 'float32', [elems]); } },
    { kernel: `Transpose ${side}x${side} (copy kernel)`, bytes: 8 * side * side, shape: { x: [side, side] }, build: (b) => { b.input('x', 'float32', [side, side]); b.output(b.node('Transpose', ['x'], { perm: [1, 0] })[0], 'float32', [side, side]); } },
    { kernel: 'Slice (copy kernel)', bytes: 8 * (elems / 2), shape: { x: [2, elems / 2] }, build: (b) => {
      b.input('x', 'float32', [2, elems / 2]);
      const st = b.constant(Tensor.from('int64', [1], [1]), 'st'), en = b.constant(Tensor.from('int64', [1], [2]), 'en'), ax = b.constant(Tensor.from('int64', [1], [0]), 'ax');
      b.output(b.node('Slice', ['x', st, en, ax])[0], 'float32', [1, elems / 2]);
    } },
  ];
  const out: { kernel: string; gbps: number; ms: number }[] = [];
  for (const c of cases) {
    const b = new GraphBuilder('bw', { '': 17 });
    c.build(b);
    const engine = buildEngine(b.build(), { device });
    try {
      const ctx = engine.createExecutionContext();
      const feeds: Record<string, Tensor> = {};
      for (const [k, dims] of Object.entries(c.shape)) {
        const d = new Float32Array(dims.reduce((a, v) => a * v, 1));
        for (let i = 0; i < d.length; i += 4099) d[i] = i % 7;
        feeds[k] = new Tensor('float32', dims, d);
      }
      const times = await layerTimes(ctx, feeds, 30);
      const ms = times.reduce((a, v) => a + v, 0);
      out.push({ kernel: `${c.kernel} [${engine.plan.layers.map((l) => l.kernel).join(',')}]`, gbps: c.bytes / (ms / 1e3) / 1e9, ms });
    } finally {
      engine.dispose();
    }
  }
  return out;
}

/**
 * Build time of a tuned build without and with the timing cache (the same model and batch twice,
 * the cache file deleted first), and whether both builds chose the same tactics.
 */
async function cacheCheck(device: Device, m: TorchModel, batch: number, work: string): Promise<{ model: string; batch: number; first_ms: number; second_ms: number; speedup: number; same_tactics: boolean }> {
  const file = path.join(work, 'vkrt-cache-check.cache');
  fs.rmSync(file, { force: true });
  const config = { device, inputShapes: { [m.input.name]: [batch, ...m.input.shape] }, timingCache: file };
  const one = async () => {
    const t0 = performance.now();
    const e = await buildEngineAsync(loadModel(m.onnx), config);
    const ms = performance.now() - t0;
    const tactics = e.plan.layers.map((l) => l.kernel);
    e.dispose();
    return { ms, tactics };
  };
  const a = await one(), b = await one();
  return { model: m.onnx, batch, first_ms: a.ms, second_ms: b.ms, speedup: a.ms / b.ms, same_tactics: a.tactics.join() === b.tactics.join() };
}

function stat(p: Peers | undefined, k: string): number | undefined {
  const v = p?.[k];
  return v && 'median_ms' in v ? v.median_ms : undefined;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['work', 'out', 'models', 'batches', 'precisions', 'budget', 'peak-tflops', 'skip-bandwidth', 'prefer']);
  // --prefer=<kernel name>: build with that conv/gemm candidate wherever it applies (A/B runs of kernel choices)
  const prefer = flagString(args, 'prefer');
  const selection = prefer ? preferKernel(prefer) : undefined;
  const work = flagString(args, 'work') ?? '/tmp/vkrt-gpu-bench';
  const torch = JSON.parse(fs.readFileSync(path.join(work, 'torch.json'), 'utf8')) as TorchJson;
  const models = (flagString(args, 'models') ?? Object.keys(torch.models).join(',')).split(',').filter((x) => torch.models[x]);
  const batches = (flagString(args, 'batches') ?? '1,32,256').split(',').map(Number);
  const precisions = (flagString(args, 'precisions') ?? 'fp32,fp16').split(',');
  const budget = Number(flagString(args, 'budget') ?? 3);
  const peakTflops = Number(flagString(args, 'peak-tflops') ?? 0) || 60;
  const device = Device.create();
  const info = device.info;
  const results: VkrtResult[] = [];
  try {
    // copy bandwidth first: the reference for every memory-bound number below
    const bytes = Math.min(1024 * 2 ** 20, Math.floor(info.maxStorageBufferRange / 2 ** 20) * 2 ** 20);
    const copy = median(await bandwidth(device, bytes, 30, true));
    const cmdCopy = median(await bandwidth(device, bytes, 30, false));
    const limits = { peakTflops, copyGBps: copy };
    const kernels = flagString(args, 'skip-bandwidth') ? [] : await kernelBandwidth(device, Math.min(64 * 2 ** 20, 2 ** Math.floor(Math.log2(info.maxStorageBufferRange / 8))));
    console.error(`[vkrt] ${info.name}: copy shader ${copy.toFixed(0)} GB/s, vkCmdCopyBuffer ${cmdCopy.toFixed(0)} GB/s`);
    for (const name of models) {
      const flopsByLayer = new Map<number, Map<string, number>>();
      for (const precision of precisions) {
        for (const batch of batches) {
          const t0 = performance.now();
          let r: VkrtResult;
          try {
            if (!flopsByLayer.has(batch)) flopsByLayer.set(batch, new Map());
            r = await runOne(device, name, torch.models[name], work, precision, batch, { budget, limits, flops: flopsByLayer.get(batch)!, selection });
          } catch (e) {
            r = { model: name, precision, batch, status: 'error', detail: (e as Error).message.split('\n').slice(0, 3).join(' / ') };
          }
          results.push(r);
          console.error(`[vkrt] ${name} ${precision} b${batch}: ${r.status}${r.detail ? ` (${r.detail})` : ''} dev ${fmtMs(r.device_resident?.median_ms)} ms, gpu ${fmtMs(r.gpu_ms)} ms, e2e ${fmtMs(r.e2e?.median_ms)} ms, build ${fmtMs(r.build_ms)} ms, check ${r.check?.rel.toExponential(2)} [${((performance.now() - t0) / 1e3).toFixed(1)} s]`);
          if (r.status === 'not available' && precision === 'fp16') break; // same answer at every batch
        }
      }
    }
    // the table
    const rows = results.map((r) => {
      const p = torch.models[r.model]?.batches[String(r.batch)]?.peers;
      const v = r.device_resident?.median_ms;
      // INT8 against PyTorch FP16 (its fastest stock precision on the same GPU)
      const peer = r.precision === 'int8' ? 'fp16' : r.precision;
      const eager = stat(p, `torch_eager_${peer}`), graph = stat(p, `torch_graph_${peer}`), compiled = stat(p, `torch_compile_${peer}`);
      const ortv = r.precision === 'fp32' ? stat(p, 'ort_cpu_fp32') : undefined;
      return [r.model, r.precision, String(r.batch), r.status === 'ok' ? `${fmtMs(v)} (p90 ${fmtMs(r.device_resident?.p90_ms)})` : r.status, fmtMs(r.gpu_ms), fmtMs(r.e2e?.median_ms),
        fmtMs(eager), fmtMs(graph), fmtMs(compiled), fmtMs(ortv), fmtRatio(v, eager), fmtRatio(v, graph), fmtRatio(v, compiled), fmtRatio(v, ortv), r.check ? `${r.check.rel.toExponential(1)}${r.top1_agreement !== undefined ? ` (top-1 ${(100 * r.top1_agreement).toFixed(0)}%, ${r.int8_layers} int8 layers)` : ''}` : '–'];
    });
    const header = ['model', 'prec', 'batch', 'vkrt ms (submit→done)', 'vkrt GPU ms', 'vkrt e2e ms', 'torch eager', 'torch graph', 'torch.compile', 'ORT CPU', 'vkrt/eager', 'vkrt/graph', 'vkrt/compile', 'vkrt/ORT', 'rel err'];
    console.log(`\nvkrt vs peers on ${info.name} (${info.driverName} ${info.driverVersion}); PyTorch ${torch.torch} CUDA ${torch.cuda}; same run`);
    console.log(`copy shader ${copy.toFixed(0)} GB/s, vkCmdCopyBuffer ${cmdCopy.toFixed(0)} GB/s (read + write); FP32 peak assumed ${peakTflops} TFLOP/s\n`);
    console.log(markdownTable(header, rows));
    if (kernels.length) {
      console.log('\n' + markdownTable(['kernel', 'GB/s', 'share of copy bandwidth'], kernels.map((k) => [k.kernel, k.gbps.toFixed(0), `${((100 * k.gbps) / copy).toFixed(0)}%`])));
    }
    for (const r of results) {
      if (!r.top_layers || !(r.batch === 1 || r.batch === Math.max(...batches))) continue;
      console.log(`\nTop layers: ${r.model} ${r.precision} batch ${r.batch} (GPU ${fmtMs(r.gpu_ms)} ms over ${r.top_layers.length} shown)`);
      console.log(markdownTable(['layer', 'ops', 'kernel', 'ms', 'GB/s', 'TFLOP/s', 'share of limit'], r.top_layers.map((l) => [
        l.name.slice(0, 40), l.ops, l.kernel, l.ms.toFixed(3), l.gbps.toFixed(l.gbps < 10 ? 2 : 0), l.flops ? l.tflops.toFixed(2) : '–', `${(100 * l.share).toFixed(0)}% ${l.bound}`])));
    }
    // the timing cache: a second tuned build of the first model times nothing new
    let cache: Awaited<ReturnType<typeof cacheCheck>> | undefined;
    if (!selection && models.length) {
      cache = await cacheCheck(device, torch.models[models[0]], batches[Math.min(1, batches.length - 1)], work);
      console.log(`\ntimed build ${models[0]} b${cache.batch}: ${cache.first_ms.toFixed(0)} ms without the timing cache, ${cache.second_ms.toFixed(0)} ms with it (${cache.speedup.toFixed(1)}x), same tactics: ${cache.same_tactics}`);
    }
    const outFile = flagString(args, 'out');
    if (outFile) {
      fs.mkdirSync(path.dirname(outFile), { recursive: true });
      fs.writeFileSync(outFile, JSON.stringify({
        date: new Date().toISOString(), device: { vulkan: info.name, driver: `${info.driverName} ${info.driverVersion}`, cuda: torch.device, sms: torch.sms },
        versions: { node: process.version, torch: torch.torch, cuda: torch.cuda, onnxruntime: torch.onnxruntime },
        limits: { copy_shader_gbps: copy, copy_cmd_gbps: cmdCopy, fp32_peak_tflops: peakTflops }, kernels,
        torch_models: Object.fromEntries(Object.entries(torch.models).map(([k, v]) => [k, { bn_layers: v.bn_layers, output_magnitude: v.output_magnitude, peers: Object.fromEntries(Object.entries(v.batches).map(([b, x]) => [b, x.peers])) }])),
        vkrt: results, timing_cache: cache,
      }, null, 1));
      console.error(`[vkrt] wrote ${outFile}`);
    }
    return results.some((r) => r.status === 'mismatch' || r.status === 'error') ? 1 : 0;
  } finally {
    device.dispose();
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; });
}

