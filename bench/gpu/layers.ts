/**
 * Per-layer GPU times of an engine (timestamp fenceposts after every layer) and what each layer
 * achieves against the device's limits: bytes moved (each input and output read or written once)
 * over its time as GB/s, and for Conv/Gemm/MatMul layers the multiply-adds as TFLOP/s.
 */
import type { Engine } from '../../src/runtime/engine';
import { median } from '../stats';
import type { ExecutionContext, Feeds } from '../../src/runtime/context';

/** One layer's cost summary. */
export interface LayerCost {
  name: string;
  ops: string;
  kernel: string;
  ms: number;
  bytes: number;
  flops: number;
  gbps: number;
  tflops: number;
  /** Share of the governing limit: FLOP rate for compute layers, copy bandwidth for the rest. */
  share: number;
  bound: 'compute' | 'memory';
}

function elems(dims: readonly number[]): number {
  return dims.reduce((a, c) => a * c, 1);
}

/** Multiply-add count ×2 of a layer's main op, 0 where it has none we count. */
export function layerFlops(engine: Engine, li: number): number {
  const layer = engine.plan.layers[li];
  const t = (n: string | undefined) => (n ? engine.plan.tensors.get(n) : undefined);
  const out = t(layer.outputs[0]);
  if (!out) return 0;
  const ops = layer.opTypes;
  if (ops.includes('Conv')) {
    const w = t(layer.inputs[1]);
    if (!w || w.dims.length < 3) return 0;
    return 2 * elems(out.dims) * (elems(w.dims) / w.dims[0]);
  }
  if (ops.includes('Gemm') || ops.includes('MatMul')) {
    const a = t(layer.inputs[0]);
    if (!a || out.dims.length === 0) return 0;
    const n = out.dims[out.dims.length - 1];
    return 2 * elems(out.dims) * ((elems(a.dims) * n) / elems(out.dims));
  }
  return 0;
}

/** Bytes a layer must move at least: every distinct input and output tensor once. */
export function layerBytes(engine: Engine, li: number): number {
  const layer = engine.plan.layers[li];
  const names = new Set([...layer.inputs, ...layer.outputs].filter((n) => n));
  let b = 0;
  for (const n of names) b += engine.plan.tensors.get(n)?.bytes ?? 0;
  for (const w of layer.kernelWeights) b += w.bytes;
  return b;
}

/**
 * Runs the context `runs` times with a timestamp after every layer (a profiled run records them)
 * and returns the median GPU time of each layer, in ms.
 */
export async function layerTimes(ctx: ExecutionContext, feeds: Feeds, runs: number): Promise<number[]> {
  const per: number[][] = ctx.engine.plan.layers.map(() => []);
  const sink = { reportLayerTime: (_name: string, _ms: number) => undefined };
  ctx.profiler = sink; // makes runs record per-layer fenceposts (RunTiming.layerMs)
  try {
    await ctx.execute(feeds);
    for (let r = 0; r < runs; r++) {
      await ctx.execute(feeds);
      (ctx.lastTiming?.layerMs ?? []).forEach((ms, i) => per[i]?.push(ms));
    }
  } finally {
    ctx.profiler = undefined;
  }
  return per.map((xs) => (xs.length ? median(xs) : 0));
}

/** Cost of every layer, most expensive first. */
export function layerCosts(engine: Engine, times: number[], limits: { peakTflops: number; copyGBps: number }, knownFlops?: Map<string, number>): LayerCost[] {
  return engine.plan.layers.map((l, i): LayerCost => {
    const ms = times[i] ?? 0;
    // FP16 engines keep converted weights outside plan.tensors: their FLOPs come from the FP32 build
    let flops = layerFlops(engine, i);
    if (knownFlops) {
      if (flops) knownFlops.set(l.name, flops);
      else flops = knownFlops.get(l.name) ?? 0;
    }
    const bytes = layerBytes(engine, i);
    const s = ms / 1e3;
    const gbps = s > 0 ? bytes / s / 1e9 : 0, tflops = s > 0 ? flops / s / 1e12 : 0;
    // compute-bound if the FLOP time at peak exceeds the byte time at copy bandwidth
    const bound = flops / (limits.peakTflops * 1e12) > bytes / (limits.copyGBps * 1e9) ? 'compute' : 'memory';
    const share = bound === 'compute' ? tflops / limits.peakTflops : gbps / limits.copyGBps;
    return { name: l.name, ops: l.opTypes.join('+'), kernel: l.kernel, ms, bytes, flops, gbps, tflops, share, bound };
  }).sort((a, b) => b.ms - a.ms);
}
