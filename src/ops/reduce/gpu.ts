/**
 * GPU kernels of the reduce family (shaders under shaders/reduce/). Shape facts are params (spec or
 * push constants); the op variant, element types and the parallel strategy are defines. Every op
 * with a long axis and few rows gets a workgroup per row (shared-memory tree); many short rows get
 * an invocation per row. Both strategies are returned as candidates, the likelier-faster first.
 */
import { DispatchDesc, f16Defines, f32bits, grid1d, KernelContext, KernelImpl, TensorDesc, withF16 } from '../../kernel/contract';
import { glslEnum, paramLayout } from '../../kernel/params';
import { integerRange } from '../../ir/dtype';
import { sizeOf, stridesOf } from '../../ir/tensor';
import { axisOrFail, intValues, splitAxis } from '../util/reduce-common';
import { glslType } from '../../kernel/storage';

/** Workgroup size of the shared-memory kernels (RED_WG_MAX in shaders/common/reduce_common.glsl). */
const WG_MAX = 256;
const THREAD_WG = 128;

/** Power-of-two workgroup size for a row of `len` elements. */
function rowWg(len: number): number {
  return len >= 256 ? WG_MAX : len >= 128 ? 128 : 64;
}

/** Whether one workgroup per row should be the first candidate. */
function preferRows(rows: number, len: number, contiguous: boolean): boolean {
  if (len >= 1024) return true;
  if (len < 32) return false;
  return contiguous || rows <= 2048;
}

/** Grid of one workgroup per item. */
function groupsFor(items: number, ctx: KernelContext): [number, number, number] {
  return grid1d(items, 1, ctx.caps);
}

const ARR3 = { array: 'u32', length: 3 } as const;
const ARR8 = { array: 'u32', length: 8 } as const;
/**
 * shaders/reduce/reduce.comp: outputs, reduced elements per output (M), the kept and the reduced
 * axis groups after collapsing (3 each, outermost first: dims and strides), the value of an empty
 * reduction (bits of the output type).
 */
const REDUCE = paramLayout('reduce', {
  nout: 'u32', M: 'u32', keptDims: ARR3, keptStrides: ARR3, redDims: ARR3, redStrides: ARR3, empty: 'u32',
}, 'Reductions over axes known at build time (src/ops/reduce/gpu.ts).');
/**
 * shaders/reduce/reduce.comp with AXES_INPUT: outputs, the input's rank and dims (padded with 1s to
 * 8), the empty value, the number of axes and noop_with_empty_axes.
 */
const REDUCE_AXES = paramLayout('reduce_axes', {
  nout: 'u32', rank: 'u32', dims: ARR8, empty: 'u32', naxes: 'u32', noop: 'u32',
}, 'Reductions over axes given at run time (src/ops/reduce/gpu.ts).');
/** One-axis kernels: `outer` lines of `len` elements `inner` apart. */
const LINES = { outer: 'u32', len: 'u32', inner: 'u32' } as const;
const ARG = paramLayout('arg', LINES, 'ArgMax/ArgMin (src/ops/reduce/gpu.ts).');
const SOFTMAX = paramLayout('softmax', LINES, 'Softmax/LogSoftmax/Hardmax (src/ops/reduce/gpu.ts).');
const TOPK = paramLayout('topk', { ...LINES, k: 'u32', largest: 'u32' }, 'TopK: the k largest (largest 1) or smallest of each line (src/ops/reduce/gpu.ts).');
const CUMULATIVE = paramLayout('cumulative', { ...LINES, exclusive: 'u32', reverse: 'u32' }, 'CumSum/CumProd along an axis known at build time (src/ops/reduce/gpu.ts).');
/** shaders/reduce/cumulative.comp with AXIS_INPUT: the rank and dims (padded to 8), the flags. */
const CUMULATIVE_AXIS = paramLayout('cumulative_axis', { rank: 'u32', dims: ARR8, exclusive: 'u32', reverse: 'u32' }, 'CumSum/CumProd along an axis given at run time (src/ops/reduce/gpu.ts).');
/** shaders/reduce/loss.comp: N*D items, classes C, D, ignore_index, flags (1 has ignore_index, 2 has weights). */
const HISTOGRAM = paramLayout('histogram', { n: 'u32', bins: 'u32', inv: 'f32' }, 'vkrt.Histogram, INT8 calibration counts of |x| (src/ops/reduce/gpu.ts).');
const LOSS = paramLayout('loss', { items: 'u32', C: 'u32', D: 'u32', ignoreIndex: 'i32', flags: 'u32' }, 'NegativeLogLikelihoodLoss/SoftmaxCrossEntropyLoss (src/ops/reduce/gpu.ts).');

/** reduce.comp's OP: the reduction (Reduce<key>). */
const REDUCE_OP = glslEnum('REDUCE_OP', {
  Sum: 0, Mean: 1, Max: 2, Min: 3, Prod: 4, L1: 5, L2: 6, LogSum: 7, LogSumExp: 8, SumSquare: 9,
}, 'int', "reduce.comp's OP define (ReduceSum ... ReduceSumSquare), src/ops/reduce/gpu.ts");
/** softmax.comp's KIND. */
const SOFTMAX_KIND = glslEnum('SOFTMAX_KIND', { Softmax: 0, LogSoftmax: 1, Hardmax: 2 }, 'int', "softmax.comp's KIND define, src/ops/reduce/gpu.ts");
/** loss.comp's RED: the loss's reduction attribute. */
/** loss.comp's flags param: bits. */
const LOSS_FLAG = glslEnum('LOSS_FLAG', { ignoreIndex: 1, weight: 2 }, 'uint', "loss.comp's flags param (bits: has ignore_index, has weight), src/ops/reduce/gpu.ts");
const LOSS_REDUCTION = glslEnum('LOSS_REDUCTION', { none: 0, sum: 1, mean: 2 }, 'int', "loss.comp's RED define (the reduction attribute), src/ops/reduce/gpu.ts");

/**
 * Collapse a reduction: drop size-1 axes, merge adjacent axes of the same kind (kept or reduced; a
 * contiguous tensor is contiguous across any two neighbours). Returns at most `slots` groups of each
 * kind, outermost first, padded at the front with (1, 0); undefined when more are needed.
 */
export function collapseReduce(dims: readonly number[], axes: readonly number[], slots = 3):
  { kept: [number, number][]; red: [number, number][] } | undefined {
  const strides = stridesOf(dims);
  const groups: { red: boolean; dim: number; stride: number }[] = [];
  dims.forEach((d, a) => {
    if (d === 1) return;
    const red = axes.includes(a);
    const last = groups[groups.length - 1];
    if (last && last.red === red) { last.dim *= d; last.stride = strides[a]; } else groups.push({ red, dim: d, stride: strides[a] });
  });
  const pick = (red: boolean) => groups.filter((g) => g.red === red).map((g): [number, number] => [g.dim, g.stride]);
  const kept = pick(false), red = pick(true);
  if (kept.length > slots || red.length > slots) return undefined;
  const pad = (l: [number, number][]) => [...Array.from({ length: slots - l.length }, (): [number, number] => [1, 0]), ...l];
  return { kept: pad(kept), red: pad(red) };
}

/** Value of a reduction over no elements, as param bits of the output type. */
function emptyValue(op: string, x: TensorDesc, out: TensorDesc): number {
  const float = out.gpu !== 'i32';
  if (float) {
    const v = op === 'ReduceProd' ? 1 : op === 'ReduceMean' ? NaN : op === 'ReduceMax' || op === 'ReduceLogSum' || op === 'ReduceLogSumExp' ? -Infinity : op === 'ReduceMin' ? Infinity : 0;
    return f32bits(v);
  }
  const clamp = (v: number) => Math.max(-2147483648, Math.min(2147483647, v));
  if (op === 'ReduceProd') return 1;
  if (op === 'ReduceMax' || op === 'ReduceMin') {
    const [lo, hi] = x.dtype === 'bool' ? [0, 1] : integerRange(x.dtype);
    return clamp(op === 'ReduceMax' ? lo : hi) >>> 0;
  }
  return 0;
}

/** Reduction whose axes input is read on the GPU (rank <= 8). */
function reduceRuntimeAxes(ctx: KernelContext, op: string, defines: Record<string, string | number>): KernelImpl[] {
  const x = ctx.inputs[0]!, out = ctx.outputs[0], axesT = ctx.inputs[1]!;
  if (x.dims.length > 8) return ctx.unsupported('run-time axes support rank <= 8; make the axes a constant');
  const dims = [...x.dims, ...new Array<number>(8 - x.dims.length).fill(1)];
  const nout = sizeOf(out.dims);
  const params = REDUCE_AXES.pack({
    nout, rank: x.dims.length, dims, empty: emptyValue(op, x, out), naxes: sizeOf(axesT.dims), noop: ctx.attrs.int('noop_with_empty_axes', 0) ? 1 : 0,
  });
  return [{
    name: `reduce_${op.slice(6).toLowerCase()}_runtime_axes`,
    dispatches: [{
      shader: 'reduce/reduce', defines: { ...defines, AXES_INPUT: 1 }, params, workgroup: [THREAD_WG, 1, 1],
      groups: grid1d(nout, THREAD_WG, ctx.caps), bindings: [{ input: 0 }, { output: 0 }, { input: 1 }],
    }],
  }];
}

export function reduceKernel(ctx: KernelContext, op: string, axes: number[] | 'runtime'): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const out = ctx.outputs[0];
  const floatAcc = x.gpu !== 'i32' || op === 'ReduceL2' || op === 'ReduceLogSum' || op === 'ReduceLogSumExp';
  // f16 tensors: float16_t buffers (TX/TY), float arithmetic and FP32 accumulation (T/TO)
  const arith = (t: TensorDesc) => glslType(t.gpu === 'f16' ? 'f32' : t.gpu);
  const defines: Record<string, string | number> = {
    T: arith(x), TO: arith(out), ACC: floatAcc ? 'float' : 'int',
    IS_FLOAT_ACC: floatAcc ? 1 : 0, IS_FLOAT_TO: out.gpu !== 'i32' ? 1 : 0, OP: REDUCE_OP[op.slice('Reduce'.length) as keyof typeof REDUCE_OP], ...f16Defines(ctx),
  };
  if (x.gpu === 'f16') defines.TX = 'float16_t';
  if (out.gpu === 'f16') defines.TY = 'float16_t';
  if (axes === 'runtime') return reduceRuntimeAxes(ctx, op, defines);
  const c = collapseReduce(x.dims, axes);
  if (!c) return ctx.unsupported(`reducing rank ${x.dims.length} over axes [${axes.join(',')}] needs more than 3 kept or 3 reduced axis groups after collapsing; transpose or reshape first`);
  const nout = sizeOf(out.dims);
  const m = sizeOf(c.red.map((g) => g[0]));
  const params = REDUCE.pack({
    nout, M: m, keptDims: c.kept.map((g) => g[0]), keptStrides: c.kept.map((g) => g[1]), redDims: c.red.map((g) => g[0]), redStrides: c.red.map((g) => g[1]),
    empty: emptyValue(op, x, out),
  });
  const name = op.slice(6).toLowerCase();
  const rows: KernelImpl = {
    name: `reduce_${name}_rows`,
    dispatches: [{
      shader: 'reduce/reduce', defines: { ...defines, WG_PER_OUT: 1 }, params, workgroup: [rowWg(m), 1, 1],
      groups: groupsFor(nout, ctx), bindings: [{ input: 0 }, { output: 0 }],
    }],
  };
  const threads: KernelImpl = {
    name: `reduce_${name}_threads`,
    dispatches: [{
      shader: 'reduce/reduce', defines, params, workgroup: [THREAD_WG, 1, 1],
      groups: grid1d(nout, THREAD_WG, ctx.caps), bindings: [{ input: 0 }, { output: 0 }],
    }],
  };
  const innerReduced = c.red[2][1] === 1 && m > 1;
  return withF16(preferRows(nout, m, innerReduced) ? [rows, threads] : [threads, rows], ctx);
}

/** One-axis ops: the same dispatch in both strategies (defines differ by `rowDefine`); params begin with LINES. */
function axisImpls(ctx: KernelContext, name: string, shader: string, defines: Record<string, string | number>, rowDefine: string,
  outer: number, len: number, inner: number, params: number[], bindings: DispatchDesc['bindings']): KernelImpl[] {
  const rowsN = outer * inner;
  const rows: KernelImpl = {
    name: `${name}_rows`,
    dispatches: [{ shader, defines: { ...defines, [rowDefine]: 1 }, params, workgroup: [rowWg(len), 1, 1], groups: groupsFor(rowsN, ctx), bindings }],
  };
  const threads: KernelImpl = {
    name: `${name}_threads`,
    dispatches: [{ shader, defines, params, workgroup: [THREAD_WG, 1, 1], groups: grid1d(rowsN, THREAD_WG, ctx.caps), bindings }],
  };
  return preferRows(rowsN, len, inner === 1) ? [rows, threads] : [threads, rows];
}

export function argKernel(ctx: KernelContext, isMax: boolean): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const axis = axisOrFail(ctx.attrs.int('axis', 0), x.dims.length, ctx.fail);
  const { outer, len, inner } = splitAxis(x.dims, axis);
  if (len === 0) return ctx.fail(`cannot take ${ctx.node.opType} over an empty axis`);
  const last = ctx.attrs.int('select_last_index', 0) !== 0 ? 1 : 0;
  // f16 input: compared as float16_t (exact; no arithmetic), VKRT_F16 enables the type
  return withF16(axisImpls(ctx, isMax ? 'argmax' : 'argmin', 'reduce/arg', { T: glslType(x.gpu), IS_MAX: isMax ? 1 : 0, LAST: last }, 'WG_PER_OUT',
    outer, len, inner, ARG.pack({ outer, len, inner }), [{ input: 0 }, { output: 0 }]), ctx);
}

export function softmaxKernel(ctx: KernelContext, kind: 'Softmax' | 'LogSoftmax' | 'Hardmax'): KernelImpl[] {
  const x = ctx.inputs[0]!;
  if (x.gpu === 'i32') return ctx.unsupported(`${kind} needs a float input`);
  const dims = x.dims;
  let outer: number, len: number, inner: number;
  if (ctx.opset < 13) {
    const axis = axisOrFail(ctx.attrs.int('axis', 1), dims.length, ctx.fail);
    outer = sizeOf(dims.slice(0, axis)); len = sizeOf(dims.slice(axis)); inner = 1;
  } else {
    ({ outer, len, inner } = splitAxis(dims, axisOrFail(ctx.attrs.int('axis', -1), dims.length, ctx.fail)));
  }
  const k = SOFTMAX_KIND[kind];
  // f16 storage: softmax.comp's FT buffers; max, exp-sum and log-sum-exp stay FP32
  return withF16(axisImpls(ctx, kind.toLowerCase(), 'reduce/softmax', { KIND: k }, 'WG_PER_ROW', outer, len, inner, SOFTMAX.pack({ outer, len, inner }), [{ input: 0 }, { output: 0 }]), ctx);
}

export function cumulativeKernel(ctx: KernelContext, prod: boolean): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const at = ctx.inputs[1];
  if (!at || sizeOf(at.dims) !== 1) return ctx.fail('axis must be a scalar (or 1-element) int32/int64 tensor');
  const flags = { exclusive: ctx.attrs.int('exclusive', 0) !== 0 ? 1 : 0, reverse: ctx.attrs.int('reverse', 0) !== 0 ? 1 : 0 };
  const defines = { T: glslType(x.gpu), PROD: prod ? 1 : 0 };
  const name = prod ? 'cumprod_lines' : 'cumsum_lines';
  if (!at.constant) {
    // the axis arrives at run time: the shader splits the dims around it
    if (x.dims.length > 8) return ctx.unsupported('a run-time axis supports rank <= 8; make the axis a constant');
    const dims = [...x.dims, ...new Array<number>(8 - x.dims.length).fill(1)];
    return [{
      name: `${name}_runtime_axis`,
      dispatches: [{
        shader: 'reduce/cumulative', defines: { ...defines, AXIS_INPUT: 1 }, params: CUMULATIVE_AXIS.pack({ rank: x.dims.length, dims, ...flags }),
        workgroup: [THREAD_WG, 1, 1], groups: grid1d(sizeOf(x.dims), THREAD_WG, ctx.caps), bindings: [{ input: 0 }, { output: 0 }, { input: 1 }],
      }],
    }];
  }
  const axis = axisOrFail(intValues(at.constant)[0], x.dims.length, ctx.fail);
  const { outer, len, inner } = splitAxis(x.dims, axis);
  const n = outer * inner;
  return [{
    name,
    dispatches: [{
      shader: 'reduce/cumulative', defines, params: CUMULATIVE.pack({ outer, len, inner, ...flags }),
      workgroup: [THREAD_WG, 1, 1], groups: grid1d(n, THREAD_WG, ctx.caps), bindings: [{ input: 0 }, { output: 0 }],
    }],
  }];
}

export function topkKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const axis = axisOrFail(ctx.attrs.int('axis', -1), x.dims.length, ctx.fail);
  const { outer, len, inner } = splitAxis(x.dims, axis);
  const k = ctx.outputs[0].dims[axis];
  if (!(k >= 0 && k <= len)) return ctx.fail(`k=${k} is out of range for axis ${axis} of size ${len}`);
  const largest = ctx.opset < 11 ? 1 : ctx.attrs.int('largest', 1) !== 0 ? 1 : 0;
  const bindings: DispatchDesc['bindings'] = [{ input: 0 }, { output: 0 }, { output: 1 }];
  const impls = axisImpls(ctx, 'topk', 'reduce/topk', { T: glslType(x.gpu) }, 'WG_PER_LINE', outer, len, inner, TOPK.pack({ outer, len, inner, k, largest }), bindings);
  // the selection costs k passes over the line: long lines want the workgroup
  return len * k >= 4096 && impls[0].name.endsWith('threads') ? [impls[1], impls[0]] : impls;
}

/** NegativeLogLikelihoodLoss (sce = false) and SoftmaxCrossEntropyLoss. */
export function lossKernel(ctx: KernelContext, sce: boolean): KernelImpl[] {
  const [x, t, w] = ctx.inputs;
  if (!x || !t) return ctx.fail('input and target are required');
  if (x.gpu !== 'f32') return ctx.unsupported('the loss needs a float input');
  if (x.dims.length < 2) return ctx.fail(`input must have rank >= 2, got ${x.dims.length}`);
  const r = ctx.attrs.string('reduction', 'mean');
  const red = r in LOSS_REDUCTION ? LOSS_REDUCTION[r as keyof typeof LOSS_REDUCTION] : ctx.fail(`reduction '${r}' is not one of none, sum, mean`);
  const N = x.dims[0], C = x.dims[1], D = sizeOf(x.dims.slice(2));
  const ignore = ctx.attrs.optInt('ignore_index');
  const writeLp = sce && ctx.node.outputs.length > 1 && !!ctx.node.outputs[1];
  const items = N * D;
  const params = LOSS.pack({ items, C, D, ignoreIndex: ignore ?? 0, flags: (ignore !== undefined ? LOSS_FLAG.ignoreIndex : 0) | (w ? LOSS_FLAG.weight : 0) });
  const bindings: DispatchDesc['bindings'] = [{ input: 0 }, { input: 1 }, w ? { input: 2 } : { input: 0 }, { output: 0 }, writeLp ? { output: 1 } : { output: 0 }];
  return [{
    name: `${sce ? 'softmax_cross_entropy' : 'nll'}_loss_${r}`,
    dispatches: [{
      shader: 'reduce/loss', defines: { SCE: sce ? 1 : 0, WRITE_LP: writeLp ? 1 : 0, RED: red }, params,
      workgroup: [red === 0 ? THREAD_WG : WG_MAX, 1, 1], groups: red === 0 ? grid1d(items, THREAD_WG, ctx.caps) : [1, 1, 1], bindings,
    }],
  }];
}

/** Most workgroups of the Histogram counting pass (each then loops over its share of x). */
const HISTOGRAM_MAX_GROUPS = 1024;

/** vkrt.Histogram: a clearing pass, then per-workgroup shared counts added with atomics. */
export function histogramKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  if (x.gpu === 'i32') return ctx.unsupported('Histogram needs a float input');
  const bins = ctx.attrs.int('bins', 2048);
  if (!(bins >= 1 && bins <= 4096)) return ctx.fail(`bins must be in 1..4096, got ${bins}`);
  const amax = ctx.attrs.float('amax', 0);
  const inv = amax > 0 && Number.isFinite(amax) ? Math.fround(bins / Math.fround(amax)) : 0;
  const n = sizeOf(x.dims);
  const params = HISTOGRAM.pack({ n, bins, inv });
  const groups = Math.max(1, Math.min(HISTOGRAM_MAX_GROUPS, Math.ceil(n / WG_MAX)));
  return withF16([{
    name: 'histogram',
    dispatches: [
      { shader: 'reduce/histogram', defines: { ZERO: 1 }, params, workgroup: [THREAD_WG, 1, 1], groups: grid1d(bins, THREAD_WG, ctx.caps), bindings: [{ input: 0 }, { output: 0 }] },
      { shader: 'reduce/histogram', defines: {}, params, workgroup: [WG_MAX, 1, 1], groups: [groups, 1, 1], bindings: [{ input: 0 }, { output: 0 }] },
    ],
  }], ctx);
}
