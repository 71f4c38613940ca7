/**
 * GPU kernels of the tensor (data movement) family. Every float tensor is f32 and every integer or
 * bool tensor i32 on the GPU, so most kernels move 32-bit words whatever the dtype (shaders bind
 * `uint`); only the scatter reductions, Resize's interpolation and Range do arithmetic in the type.
 * Shape facts are params (spec or push constants); ranks are #defines (shaders/tensor/*.comp read
 * per-axis params through TP(i), shaders/common/tensor_params.glsl).
 */
import { BindingRef, DispatchDesc, f32bits, grid1d, KernelContext, KernelImpl, TensorDesc, withF16 } from '../../kernel/contract';
import { glslEnum, MAX_PARAM_WORDS, paramLayout } from '../../kernel/params';
import { sizeOf, stridesOf, Tensor } from '../../ir/tensor';
import { OpDef } from '../types';
import { intsOf } from '../util/tensor-common';
import { Mt19937 } from '../util/tensor-mt19937';
import { eyeDtype, fillOf } from './constant';
import { padMode, padsOf } from './pad';
import { axisTaps, legacy, options, plan, readArgs, ResizeCtx } from './resize';
import { sliceParams, sliceRanges } from './slice';

const WG = 128;

/** pad.comp's MODE (Pad's mode attribute; Tile wraps, CenterCropPad is constant). */
const PAD_MODE = glslEnum('PAD_MODE', { constant: 0, reflect: 1, edge: 2, wrap: 3 }, 'int', "pad.comp's MODE define, src/ops/tensor/kernels.ts");
/** The scatters' REDUCE (tensor_reduce.glsl): the reduction attribute. */
const SCATTER_REDUCE = glslEnum('SCATTER_REDUCE', { none: 0, add: 1, mul: 2, max: 3, min: 4 }, 'int', "the scatters' REDUCE define (tensor_reduce.glsl), src/ops/tensor/kernels.ts");
/** resize_dynamic.comp's COORD and NEAREST_MODE (tensor_resize.glsl). */
const RESIZE_COORD = glslEnum('RESIZE_COORD', {
  half_pixel: 0, pytorch_half_pixel: 1, align_corners: 2, asymmetric: 3, tf_crop_and_resize: 4, half_pixel_symmetric: 5,
}, 'int', 'the COORD define of tensor_resize.glsl (coordinate_transformation_mode), src/ops/tensor/kernels.ts');
const RESIZE_NEAREST = glslEnum('RESIZE_NEAREST', { round_prefer_floor: 0, round_prefer_ceil: 1, floor: 2, ceil: 3 }, 'int',
  'the NEAREST_MODE define of tensor_resize.glsl (nearest_mode), src/ops/tensor/kernels.ts');
/** fill.comp's MODE. */
const FILL_MODE = glslEnum('FILL_MODE', { constant: 0, eye: 1, range: 2 }, 'int', "fill.comp's MODE define (ConstantOfShape, EyeLike, Range), src/ops/tensor/kernels.ts");

// Parameter layouts of shaders/tensor/*.comp. Each begins with n, the invocation count; per-axis
// fields are a repeated group (innermost axis first unless said otherwise), read in GLSL as
// P_<group>_<field>(k).

/** copy.comp: element c goes from src[srcBase + sum c_k src_k] to dst[dstBase + sum c_k dst_k]. */
const COPY = paramLayout('copy', { n: 'u32', srcBase: 'i32', dstBase: 'i32', axes: { each: { dim: 'u32', src: 'i32', dst: 'i32' } } },
  'Strided copy: Transpose, Slice, Expand, Concat, Split, ... (src/ops/tensor/kernels.ts).');
/** slice.comp: the number of slice entries; per axis (outermost first) the out dim, in dim and in stride. */
const SLICE = paramLayout('slice', { n: 'u32', entries: 'u32', axes: { each: { out: 'u32', inDim: 'i32', inStride: 'i32' } } },
  'Slice with run-time starts/axes/steps (src/ops/tensor/kernels.ts).');
/** pad.comp: the constant (bits of the output type); per axis out dim, in dim, begin pad (or its index in the pads), in stride. */
const PAD_AXES = { each: { out: 'u32', inDim: 'i32', begin: 'i32', inStride: 'i32' } } as const;
const PAD = paramLayout('pad', { n: 'u32', value: 'u32', axes: PAD_AXES }, 'Pad, Tile, CenterCropPad (src/ops/tensor/kernels.ts).');
/** pad.comp with AXES_BINDING: the axes input's length comes before the axes. */
const PAD_RUNTIME_AXES = paramLayout('pad_runtime_axes', { n: 'u32', value: 'u32', naxes: 'u32', axes: PAD_AXES },
  'Pad with its axes given at run time (src/ops/tensor/kernels.ts).');
/** gather.comp: elements after the axis, index count, the axis dim. */
const GATHER = paramLayout('gather', { n: 'u32', inner: 'u32', nIdx: 'u32', axisDim: 'u32' }, 'Gather (src/ops/tensor/kernels.ts).');
/** gather_elements.comp: the axis dim and stride; per axis the indices' dim and data stride (0 on the axis). */
const GATHER_ELEMENTS = paramLayout('gather_elements', { n: 'u32', axisDim: 'u32', axisStride: 'u32', axes: { each: { dim: 'u32', stride: 'u32' } } },
  'GatherElements (src/ops/tensor/kernels.ts).');
/** gather_nd.comp: elements per tuple, tuples and data elements per batch element; per tuple entry the data dim and stride. */
const GATHER_ND = paramLayout('gather_nd', { n: 'u32', slice: 'u32', perBatch: 'u32', dataBatch: 'u32', tuple: { each: { dim: 'u32', stride: 'u32' } } },
  'GatherND (src/ops/tensor/kernels.ts).');
/** scatter_elements.comp: per line of updates along the axis; per other axis the updates dim and strides. */
const SCATTER_ELEMENTS = paramLayout('scatter_elements', {
  n: 'u32', axisLen: 'u32', updAxisStride: 'u32', dataAxisDim: 'u32', dataAxisStride: 'u32',
  axes: { each: { dim: 'u32', updStride: 'u32', dataStride: 'u32' } },
}, 'ScatterElements/Scatter (src/ops/tensor/kernels.ts).');
/** scatter_nd.comp: elements per tuple, tuples; per tuple entry the data dim and stride. */
const SCATTER_ND = paramLayout('scatter_nd', { n: 'u32', slice: 'u32', tuples: 'u32', tuple: { each: { dim: 'u32', stride: 'u32' } } },
  'ScatterND (src/ops/tensor/kernels.ts).');
/** resize.comp: the extrapolation value (bits); per axis out dim, input stride, taps (0: identity), tap table offset. */
const RESIZE = paramLayout('resize', { n: 'u32', extrapolation: 'u32', axes: { each: { out: 'u32', stride: 'u32', taps: 'u32', offset: 'u32' } } },
  'Resize/Upsample from tap tables (src/ops/tensor/kernels.ts).');
/**
 * resize_dynamic.comp: the extrapolation value (bits), cubic A, roi entries per end; per axis out
 * dim, in dim, in stride, the axis's entry in scales/roi (-1: not resized), its scale (SCALE_PARAM).
 */
const RESIZE_DYNAMIC = paramLayout('resize_dynamic', {
  n: 'u32', extrapolation: 'u32', cubicA: 'f32', roiEntries: 'u32',
  axes: { each: { out: 'u32', inDim: 'u32', stride: 'u32', entry: 'i32', scale: 'f32' } },
}, 'Resize with run-time scales or roi (src/ops/tensor/kernels.ts).');
/** trilu.comp: rows, cols, upper (0/1). */
const TRILU = paramLayout('trilu', { n: 'u32', rows: 'u32', cols: 'u32', upper: 'u32' }, 'Trilu (src/ops/tensor/kernels.ts).');
/** one_hot.comp: depth, elements after the axis. */
const ONE_HOT = paramLayout('one_hot', { n: 'u32', depth: 'u32', inner: 'u32' }, 'OneHot (src/ops/tensor/kernels.ts).');
/** fill.comp MODE 0: the value (bits). */
const FILL = paramLayout('fill', { n: 'u32', value: 'u32' }, 'ConstantOfShape, a Dropout mask (src/ops/tensor/kernels.ts).');
/** fill.comp MODE 1: the bits of one, cols, the diagonal k. */
const FILL_EYE = paramLayout('fill_eye', { n: 'u32', one: 'u32', cols: 'u32', k: 'i32' }, 'EyeLike (src/ops/tensor/kernels.ts).');
/** dropout.comp: elements, ratio and training mode where they are not inputs. */
const DROPOUT = paramLayout('dropout', { n: 'u32', ratio: 'f32', training: 'u32' }, 'Dropout in training mode (src/ops/tensor/kernels.ts).');
/** sequence_copy.comp's MODE define. */
const SEQ_COPY = glslEnum('SEQ_COPY', { reverse: 0, scatter: 1 }, 'int', "sequence_copy.comp's MODE define, src/ops/tensor/kernels.ts");
/** sequence_copy.comp: elements, sequence length T, inner size, outer positions per batch row, ReverseSequence's batch-in-inner divisor, update length, circular. */
const SEQUENCE_COPY = paramLayout('sequence_copy', { n: 'u32', T: 'u32', inner: 'u32', perBatch: 'u32', batchInner: 'u32', seq: 'u32', circular: 'u32' },
  'ReverseSequence and TensorScatter (src/ops/tensor/kernels.ts).');
/** det.comp: matrices, their size. */
const DET = paramLayout('det', { count: 'u32', M: 'u32' }, 'Det, one invocation per matrix (src/ops/tensor/kernels.ts).');
/** fill.comp MODE 2: start and delta come in buffers. */
const FILL_RANGE = paramLayout('fill_range', { n: 'u32' }, 'Range (src/ops/tensor/kernels.ts).');

/** A dispatch of tensor/<shader> over `n` invocations; `params` packed by its layout (n first). */
function dispatch(ctx: KernelContext, shader: string, n: number, params: number[], bindings: BindingRef[], defines?: Record<string, string | number>): DispatchDesc {
  if (params.length > MAX_PARAM_WORDS) ctx.unsupported(`tensor/${shader} needs ${params.length} params (more than ${MAX_PARAM_WORDS}); the tensor has too many axes that cannot be merged`);
  return { shader: `tensor/${shader}`, defines, params, workgroup: [WG, 1, 1], groups: grid1d(n, WG, ctx.caps), bindings };
}

/** Normalized axis (negative counts from the end). */
function axisIn(ctx: KernelContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Bits of a scalar in a tensor's GPU storage type, as an unsigned param word. */
function scalarBits(desc: Pick<TensorDesc, 'gpu'>, v: number): number {
  if (desc.gpu === 'f32') return f32bits(v);
  if (Number.isNaN(v)) return 0;
  return Math.max(-2147483648, Math.min(2147483647, Math.trunc(v))) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Strided copy (shaders/tensor/copy.comp)

export interface CopyAxis { dim: number; src: number; dst: number }

/**
 * A copy over an index space (axes outermost first): size-1 axes are dropped and neighbours that
 * are contiguous in both source and destination merge, so most copies run at rank 1-3.
 */
export function stridedCopy(ctx: KernelContext, axesIn: CopyAxis[], srcBase: number, dstBase: number, bindings: BindingRef[]): DispatchDesc {
  let axes = axesIn.filter((a) => a.dim !== 1).map((a) => ({ ...a }));
  for (let k = axes.length - 2; k >= 0; k--) {
    const o = axes[k], i = axes[k + 1];
    if (o.src === i.src * i.dim && o.dst === i.dst * i.dim) {
      i.dim *= o.dim;
      axes.splice(k, 1);
    }
  }
  if (!axes.length) axes = [{ dim: 1, src: 0, dst: 0 }];
  const n = axes.reduce((p, a) => p * a.dim, 1);
  // contiguous destination: y[i]
  let acc = 1;
  let contiguous = dstBase === 0;
  for (let k = axes.length - 1; k >= 0; k--) {
    if (axes[k].dst !== acc) contiguous = false;
    acc *= axes[k].dim;
  }
  const params = COPY.pack({ n, srcBase, dstBase, axes: [...axes].reverse() });
  const defines: Record<string, number> = { RANK: axes.length };
  if (!contiguous) defines.DST_STRIDED = 1;
  return dispatch(ctx, 'copy', n, params, bindings, defines);
}

/** A contiguous copy of `n` elements. */
function linearCopy(ctx: KernelContext, n: number, bindings: BindingRef[]): DispatchDesc {
  return stridedCopy(ctx, [{ dim: n, src: 1, dst: 1 }], 0, 0, bindings);
}

/** Output = input permuted by `perm` (output axis k is input axis perm[k]). */
function transposeDispatch(ctx: KernelContext, inDims: number[], perm: number[], bindings: BindingRef[]): DispatchDesc {
  const inStr = stridesOf(inDims);
  const outDims = perm.map((p) => inDims[p]);
  const outStr = stridesOf(outDims);
  return stridedCopy(ctx, perm.map((p, k) => ({ dim: outDims[k], src: inStr[p], dst: outStr[k] })), 0, 0, bindings);
}

const IO: BindingRef[] = [{ input: 0 }, { output: 0 }];

function transposeKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const rank = x.dims.length;
  const perm = (ctx.attrs.optInts('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i)).map((p) => (p < 0 ? p + rank : p));
  return [{ name: 'transpose_strided', dispatches: [transposeDispatch(ctx, x.dims, perm, IO)] }];
}

function depthToSpaceKernel(ctx: KernelContext): KernelImpl[] {
  const [n, c, h, w] = ctx.inputs[0]!.dims;
  const b = ctx.attrs.int('blocksize');
  const mode = ctx.attrs.string('mode', 'DCR');
  const d = transposeDispatch(ctx, mode === 'DCR' ? [n, b, b, c / (b * b), h, w] : [n, c / (b * b), b, b, h, w], mode === 'DCR' ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3], IO);
  return [{ name: `depth_to_space_${mode.toLowerCase()}`, dispatches: [d] }];
}

function spaceToDepthKernel(ctx: KernelContext): KernelImpl[] {
  const [n, c, h, w] = ctx.inputs[0]!.dims;
  const b = ctx.attrs.int('blocksize');
  return [{ name: 'space_to_depth', dispatches: [transposeDispatch(ctx, [n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4], IO)] }];
}

function concatKernel(ctx: KernelContext): KernelImpl[] {
  const out = ctx.outputs[0];
  const rank = out.dims.length;
  const axis = axisIn(ctx, ctx.opset < 4 ? ctx.attrs.int('axis', 1) : ctx.attrs.int('axis'), rank);
  const outStr = stridesOf(out.dims);
  const dispatches: DispatchDesc[] = [];
  let offset = 0;
  ctx.inputs.forEach((t, j) => {
    if (!t) return;
    const len = t.dims[axis];
    if (sizeOf(t.dims) > 0) {
      const inStr = stridesOf(t.dims);
      dispatches.push(stridedCopy(ctx, t.dims.map((d, a) => ({ dim: d, src: inStr[a], dst: outStr[a] })), 0, offset * outStr[axis], [{ input: j }, { output: 0 }]));
    }
    offset += len;
  });
  return [{ name: 'concat_copies', dispatches }];
}

function splitKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const axis = axisIn(ctx, ctx.attrs.int('axis', 0), x.dims.length);
  const inStr = stridesOf(x.dims);
  const dispatches: DispatchDesc[] = [];
  let start = 0;
  ctx.outputs.forEach((o, j) => {
    if (sizeOf(o.dims) > 0) {
      const outStr = stridesOf(o.dims);
      dispatches.push(stridedCopy(ctx, o.dims.map((d, a) => ({ dim: d, src: inStr[a], dst: outStr[a] })), start * inStr[axis], 0, [{ input: 0 }, { output: j }]));
    }
    start += o.dims[axis];
  });
  return [{ name: 'split_copies', dispatches }];
}

function sliceKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const p = sliceParams(ctx, (i) => ctx.inputs[i]?.constant, (i) => ctx.inputs[i] !== undefined);
  if (!p) return sliceDynamic(ctx);
  const r = sliceRanges(ctx, x.dims, p);
  const inStr = stridesOf(x.dims);
  const outStr = stridesOf(ctx.outputs[0].dims);
  let base = 0;
  const axes = x.dims.map((d, a) => {
    const e = r.get(a);
    base += (e?.start ?? 0) * inStr[a];
    return { dim: e?.count ?? d, src: (e?.step ?? 1) * inStr[a], dst: outStr[a] };
  });
  return [{ name: 'slice_strided', dispatches: [stridedCopy(ctx, axes, base, 0, IO)] }];
}

/** Slice with starts/axes/steps given at run time (shaders/tensor/slice.comp). */
function sliceDynamic(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const out = ctx.outputs[0].dims;
  const rank = x.dims.length;
  const str = stridesOf(x.dims);
  const params = SLICE.pack({ n: sizeOf(out), entries: sizeOf(ctx.inputs[1]!.dims), axes: x.dims.map((d, a) => ({ out: out[a], inDim: d, inStride: str[a] })) });
  const bindings: BindingRef[] = [{ input: 0 }, { output: 0 }, { input: 1 }];
  const defines: Record<string, number> = { RANK: Math.max(rank, 1) };
  for (const [i, name] of [[3, 'AXES_BINDING'], [4, 'STEPS_BINDING']] as const) {
    if (!ctx.inputs[i]) continue;
    defines[name] = bindings.length;
    bindings.push({ input: i });
  }
  return [{ name: 'slice_runtime_params', dispatches: [dispatch(ctx, 'slice', sizeOf(out), params, bindings, defines)] }];
}

function expandKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const out = ctx.outputs[0].dims;
  const inStr = stridesOf(x.dims);
  const outStr = stridesOf(out);
  const lead = out.length - x.dims.length;
  const axes = out.map((d, a) => {
    const k = a - lead;
    return { dim: d, src: k < 0 || x.dims[k] === 1 ? 0 : inStr[k], dst: outStr[a] };
  });
  return [{ name: 'expand_strided', dispatches: [stridedCopy(ctx, axes, 0, 0, IO)] }];
}

// ---------------------------------------------------------------------------------------------
// Pad and Tile (shaders/tensor/pad.comp)

interface PadAxis { out: number; in: number; begin: number; stride: number }

function padDispatch(ctx: KernelContext, axesIn: PadAxis[], mode: number, value: number): DispatchDesc {
  // drop untouched size-1 axes; merge neighbouring untouched axes
  let axes = axesIn.filter((a) => !(a.out === 1 && a.in === 1 && a.begin === 0)).map((a) => ({ ...a }));
  const plain = (a: PadAxis) => a.begin === 0 && a.in === a.out;
  for (let k = axes.length - 2; k >= 0; k--) {
    const o = axes[k], i = axes[k + 1];
    if (plain(o) && plain(i) && o.stride === i.stride * i.in) {
      i.in *= o.in;
      i.out = i.in;
      axes.splice(k, 1);
    }
  }
  if (!axes.length) axes = [{ out: 1, in: 1, begin: 0, stride: 1 }];
  const n = axes.reduce((p, a) => p * a.out, 1);
  const params = PAD.pack({ n, value, axes: axes.map((a) => ({ out: a.out, inDim: a.in, begin: a.begin, inStride: a.stride })).reverse() });
  return dispatch(ctx, 'pad', n, params, IO, { RANK: axes.length, MODE: mode });
}

function padKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const rank = x.dims.length;
  const mode = padMode(ctx);
  const m = PAD_MODE[mode as keyof typeof PAD_MODE];
  if (mode !== 'constant' && x.dims.some((d, a) => d === 0 && ctx.outputs[0].dims[a] > 0)) ctx.fail(`mode '${mode}' cannot pad an empty axis`);
  let value = 0;
  let valueAtRunTime = false;
  if (ctx.opset < 11) value = ctx.attrs.float('value', 0);
  else if (ctx.inputs[2] && sizeOf(ctx.inputs[2].dims) > 0) {
    const v = ctx.inputs[2].constant;
    if (v) value = Number(v.data[0]);
    else valueAtRunTime = mode === 'constant';
  }
  const str = stridesOf(x.dims);
  const pads = padsOf(ctx, rank, (i) => ctx.inputs[i]?.constant, (i) => ctx.inputs[i] !== undefined);
  if (pads && !valueAtRunTime) {
    const axes = x.dims.map((d, a) => ({ out: ctx.outputs[0].dims[a], in: d, begin: pads[a], stride: str[a] }));
    return [{ name: `pad_${mode}`, dispatches: [padDispatch(ctx, axes, m, scalarBits(ctx.outputs[0], value))] }];
  }
  // Pads or the constant given at run time: the shader reads them (the output dims are static).
  const bindings: BindingRef[] = [{ input: 0 }, { output: 0 }];
  const defines: Record<string, number> = { RANK: Math.max(rank, 1), MODE: m };
  const valueBits = scalarBits(ctx.outputs[0], value);
  let naxes: number | undefined;
  let begins: number[];
  if (pads) begins = pads.slice(0, rank);
  else {
    // pads[k] is the begin pad of axes[k] (all axes when absent); -1: no pad on that axis
    let axes: number[] = Array.from({ length: rank }, (_, a) => a);
    const axesT = ctx.opset >= 18 ? ctx.inputs[3] : undefined;
    if (axesT?.constant) axes = intsOf(axesT.constant).map((a) => axisIn(ctx, a, rank));
    begins = [];
    defines.PAD_INDEX_BINDING = bindings.length;
    bindings.push({ input: 1 });
    if (axesT && !axesT.constant) {
      // axes at run time too: the shader finds each axis's entry (params: axis numbers, count)
      defines.AXES_BINDING = bindings.length;
      bindings.push({ input: 3 });
      naxes = sizeOf(axesT.dims);
      for (let a = 0; a < rank; a++) begins.push(a);
    } else for (let a = 0; a < rank; a++) begins.push(axes.indexOf(a));
  }
  if (valueAtRunTime) { defines.VALUE_BINDING = bindings.length; bindings.push({ input: 2 }); }
  const n = sizeOf(ctx.outputs[0].dims);
  const axes = x.dims.map((d, a) => ({ out: ctx.outputs[0].dims[a], inDim: d, begin: begins[a], inStride: str[a] })).reverse();
  const params = naxes === undefined ? PAD.pack({ n, value: valueBits, axes }) : PAD_RUNTIME_AXES.pack({ n, value: valueBits, naxes, axes });
  return [{ name: `pad_${mode}_runtime_params`, dispatches: [dispatch(ctx, 'pad', n, params, bindings, defines)] }];
}

/** CenterCropPad: a constant-0 pad whose begin is -shift (the output dims are static). */
function centerCropPadKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const out = ctx.outputs[0].dims;
  const str = stridesOf(x.dims);
  const axes = x.dims.map((d, a) => {
    const t = out[a];
    const shift = t <= d ? Math.floor((d - t) / 2) : -Math.floor((t - d) / 2);
    return { out: t, in: d, begin: -shift, stride: str[a] };
  });
  return [{ name: 'center_crop_pad', dispatches: [padDispatch(ctx, axes, PAD_MODE.constant, 0)] }];
}

function tileKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const str = stridesOf(x.dims);
  const axes = x.dims.map((d, a) => ({ out: ctx.outputs[0].dims[a], in: d, begin: 0, stride: str[a] }));
  return [{ name: 'tile_wrap', dispatches: [padDispatch(ctx, axes, PAD_MODE.wrap, 0)] }];
}

// ---------------------------------------------------------------------------------------------
// Gathers

function needIndices(ctx: KernelContext, i: number): TensorDesc {
  const t = ctx.inputs[i]!;
  if (t.gpu !== 'i32') ctx.fail(`indices must be an integer tensor, got ${t.dtype}`);
  return t;
}

function gatherKernel(ctx: KernelContext): KernelImpl[] {
  const data = ctx.inputs[0]!;
  const ind = needIndices(ctx, 1);
  const axis = axisIn(ctx, ctx.attrs.int('axis', 0), data.dims.length);
  const inner = sizeOf(data.dims.slice(axis + 1));
  const n = sizeOf(ctx.outputs[0].dims);
  const d = dispatch(ctx, 'gather', n, GATHER.pack({ n, inner, nIdx: sizeOf(ind.dims), axisDim: data.dims[axis] }), [{ input: 0 }, { input: 1 }, { output: 0 }]);
  return [{ name: 'gather', dispatches: [d] }];
}

/** Gather of input 1's indices along `axis` of input 0 into output 0 (whatever its dims: they hold the same elements). */
export function gatherAlongKernel(ctx: KernelContext, axis: number): KernelImpl[] {
  const data = ctx.inputs[0]!;
  const ind = needIndices(ctx, 1);
  const inner = sizeOf(data.dims.slice(axis + 1));
  const n = sizeOf(ctx.outputs[0].dims);
  const d = dispatch(ctx, 'gather', n, GATHER.pack({ n, inner, nIdx: sizeOf(ind.dims), axisDim: data.dims[axis] }), [{ input: 0 }, { input: 1 }, { output: 0 }]);
  return withF16([{ name: 'gather', dispatches: [d] }], ctx);
}

function gatherElementsKernel(ctx: KernelContext): KernelImpl[] {
  const data = ctx.inputs[0]!;
  const ind = needIndices(ctx, 1);
  const rank = data.dims.length;
  const axis = axisIn(ctx, ctx.attrs.int('axis', 0), rank);
  const ds = stridesOf(data.dims);
  const params = GATHER_ELEMENTS.pack({
    n: sizeOf(ind.dims), axisDim: data.dims[axis], axisStride: ds[axis], axes: ind.dims.map((dim, a) => ({ dim, stride: a === axis ? 0 : ds[a] })).reverse(),
  });
  const d = dispatch(ctx, 'gather_elements', sizeOf(ind.dims), params, [{ input: 0 }, { input: 1 }, { output: 0 }], { RANK: rank });
  return [{ name: 'gather_elements', dispatches: [d] }];
}

function gatherNdKernel(ctx: KernelContext): KernelImpl[] {
  const data = ctx.inputs[0]!;
  const ind = needIndices(ctx, 1);
  const b = ctx.opset >= 12 ? ctx.attrs.int('batch_dims', 0) : 0;
  const m = ind.dims[ind.dims.length - 1];
  const slice = sizeOf(data.dims.slice(b + m));
  const perBatch = sizeOf(ind.dims.slice(b, -1));
  const dataBatch = sizeOf(data.dims.slice(b));
  const str = stridesOf(data.dims.slice(b));
  const n = sizeOf(ctx.outputs[0].dims);
  const tuple = Array.from({ length: m }, (_, j) => ({ dim: data.dims[b + j], stride: str[j] }));
  const params = GATHER_ND.pack({ n, slice, perBatch, dataBatch, tuple });
  const d = dispatch(ctx, 'gather_nd', n, params, [{ input: 0 }, { input: 1 }, { output: 0 }], { M: m });
  return [{ name: 'gather_nd', dispatches: [d] }];
}

// ---------------------------------------------------------------------------------------------
// Scatters: a copy of data into the output, then the updates


function reduction(ctx: KernelContext, dataDesc: TensorDesc): { code: number; defines: Record<string, string | number> } {
  let r = ctx.opset >= 16 && ctx.node.opType !== 'Scatter' ? ctx.attrs.string('reduction', 'none') : 'none';
  if (!(r in SCATTER_REDUCE)) ctx.fail(`reduction '${r}' is not none, add, mul, max or min`);
  if (dataDesc.dtype === 'bool') r = r === 'add' ? 'max' : r === 'mul' ? 'min' : r; // or / and
  const float = dataDesc.gpu === 'f32';
  const code = SCATTER_REDUCE[r as keyof typeof SCATTER_REDUCE];
  const defines: Record<string, string | number> = { T: float ? 'float' : 'int', REDUCE: code };
  if (float) defines.T_FLOAT = 1;
  return { code, defines };
}

function scatterElementsKernel(ctx: KernelContext): KernelImpl[] {
  const data = ctx.inputs[0]!;
  const ind = needIndices(ctx, 1);
  const upd = ctx.inputs[2]!;
  const rank = data.dims.length;
  const axis = axisIn(ctx, ctx.attrs.int('axis', 0), rank);
  const { defines } = reduction(ctx, data);
  const dispatches = [linearCopy(ctx, sizeOf(data.dims), IO)];
  const axisLen = upd.dims[axis];
  if (sizeOf(upd.dims) > 0) {
    const us = stridesOf(upd.dims), ds = stridesOf(data.dims);
    const axes: { dim: number; updStride: number; dataStride: number }[] = [];
    let lines = 1;
    let r = 0;
    for (let a = rank - 1; a >= 0; a--) {
      if (a === axis || upd.dims[a] === 1) continue;
      axes.push({ dim: upd.dims[a], updStride: us[a], dataStride: ds[a] });
      lines *= upd.dims[a];
      r++;
    }
    const params = SCATTER_ELEMENTS.pack({ n: lines, axisLen, updAxisStride: us[axis], dataAxisDim: data.dims[axis], dataAxisStride: ds[axis], axes });
    dispatches.push(dispatch(ctx, 'scatter_elements', lines, params, [{ input: 1 }, { input: 2 }, { output: 0 }], { ...defines, RANK: r }));
    if (ind.dims.some((d, a) => d !== upd.dims[a])) ctx.fail('indices and updates differ in shape');
  }
  return [{ name: 'scatter_elements_lines', dispatches }];
}

function scatterNdKernel(ctx: KernelContext): KernelImpl[] {
  const data = ctx.inputs[0]!;
  const ind = needIndices(ctx, 1);
  const upd = ctx.inputs[2]!;
  const { code, defines } = reduction(ctx, data);
  const m = ind.dims[ind.dims.length - 1];
  const slice = sizeOf(data.dims.slice(m));
  const tuples = sizeOf(ind.dims.slice(0, -1));
  const str = stridesOf(data.dims);
  const dispatches = [linearCopy(ctx, sizeOf(data.dims), IO)];
  if (sizeOf(upd.dims) > 0) {
    const serial = code !== 0;
    const n = serial ? slice : tuples * slice;
    const params = SCATTER_ND.pack({ n, slice, tuples, tuple: Array.from({ length: m }, (_, j) => ({ dim: data.dims[j], stride: str[j] })) });
    const def: Record<string, string | number> = { ...defines, M: m };
    if (serial) def.SERIAL = 1;
    dispatches.push(dispatch(ctx, 'scatter_nd', n, params, [{ input: 1 }, { input: 2 }, { output: 0 }], def));
  }
  return [{ name: code ? 'scatter_nd_serial' : 'scatter_nd', dispatches }];
}

// ---------------------------------------------------------------------------------------------
// Resize / Upsample: per-axis filter taps computed here with the reference's own arithmetic
// (resize.ts axisTaps), uploaded as kernel weights; the shader sums the separable product.

/**
 * Resize's input i as known at build time. Empty inputs are known (absent); `sizes` given at run
 * time is known too when the policy is stretch, since it then equals the (static) output dims.
 */
function resizeArg(ctx: KernelContext, i: number): Tensor | undefined {
  const t = ctx.inputs[i];
  if (!t) return undefined;
  if (t.constant) return t.constant;
  if (sizeOf(t.dims) === 0) return Tensor.from(t.dtype, t.dims, []);
  const stretch = ctx.opset < 18 || ctx.attrs.string('keep_aspect_ratio_policy', 'stretch') === 'stretch';
  if (i === 3 && ctx.node.opType === 'Resize' && ctx.opset >= 11 && stretch) {
    const out = ctx.outputs[0].dims;
    const rank = out.length;
    const axes = (ctx.opset >= 18 ? ctx.attrs.optInts('axes') : undefined) ?? out.map((_, a) => a);
    return Tensor.from('int64', [axes.length], axes.map((a) => out[a < 0 ? a + rank : a]));
  }
  return undefined;
}

/**
 * Resize whose scales (or roi) arrive at run time; the output dims are static. The shader
 * computes each coordinate's taps itself (resize_dynamic.comp).
 */
function resizeRuntimeScales(ctx: KernelContext, o: ReturnType<typeof options>, knownScales?: number[]): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const out = ctx.outputs[0].dims;
  const rank = x.dims.length;
  const old = legacy(ctx);
  const scalesAt = old ? 1 : 2;
  const scalesT = ctx.inputs[scalesAt];
  const policy = !old && ctx.opset >= 18 ? ctx.attrs.string('keep_aspect_ratio_policy', 'stretch') : 'stretch';
  // sizes at run time under not_larger / not_smaller: the shader derives the one scale from them
  const sizesPolicy = !knownScales && (!scalesT || sizeOf(scalesT.dims) === 0) && !old && ctx.inputs[3] && (policy === 'not_larger' || policy === 'not_smaller');
  if (!knownScales && !sizesPolicy && (!scalesT || sizeOf(scalesT.dims) === 0)) return ctx.unsupported('sizes with keep_aspect_ratio_policy other than stretch must be known when the engine is built');
  if (o.antialias) return ctx.unsupported('antialiased Resize needs its scales known when the engine is built');
  if (sizesPolicy && ctx.inputs[3]!.gpu !== 'i32') return ctx.fail(`sizes must be int64, got ${ctx.inputs[3]!.dtype}`);
  const nearest = o.mode === 'nearest';
  if (!nearest && x.gpu !== 'f32') return ctx.unsupported(`${o.mode} Resize of ${x.dtype} tensors has no GPU kernel; cast to float first`);
  const axesList = (!old && ctx.opset >= 18 ? ctx.attrs.optInts('axes') : undefined)?.map((a) => axisIn(ctx, a, rank)) ?? x.dims.map((_, a) => a);
  const coord = o.coord in RESIZE_COORD ? RESIZE_COORD[o.coord as keyof typeof RESIZE_COORD] : -1;
  const nm = o.nearestMode in RESIZE_NEAREST ? RESIZE_NEAREST[o.nearestMode as keyof typeof RESIZE_NEAREST] : -1;
  if (coord < 0) ctx.fail(`coordinate_transformation_mode '${o.coord}' is not supported`);
  if (nearest && nm < 0) ctx.fail(`nearest_mode '${o.nearestMode}' is not supported`);
  if (coord === RESIZE_COORD.tf_crop_and_resize && !ctx.inputs[1]) ctx.fail("coordinate_transformation_mode 'tf_crop_and_resize' needs the roi input");
  const defines: Record<string, number> = { TAPS: nearest ? 1 : o.mode === 'linear' ? 2 : 4, COORD: coord, NEAREST_MODE: Math.max(nm, 0) };
  if (o.excludeOutside) defines.EXCLUDE = 1;
  if (nearest) defines.NEAREST = 1;
  const bindings: BindingRef[] = [{ input: 0 }, { output: 0 }];
  if (knownScales) defines.SCALE_PARAM = 1;
  else if (sizesPolicy) { defines.SIZES_POLICY = policy === 'not_larger' ? 1 : 2; defines.SCALES_BINDING = bindings.length; bindings.push({ input: 3 }); }
  else { defines.SCALES_BINDING = bindings.length; bindings.push({ input: scalesAt }); }
  if (coord === RESIZE_COORD.tf_crop_and_resize) { defines.ROI_BINDING = bindings.length; bindings.push({ input: 1 }); }
  const inStr = stridesOf(x.dims);
  const axes = x.dims.map((d, a) => ({ out: out[a], in: d, stride: inStr[a], entry: axesList.indexOf(a), scale: knownScales?.[a] ?? 1 }))
    .filter((a) => !(a.entry < 0 && a.out === 1));
  if (axes.some((a) => a.entry >= 0 && a.in === 0)) ctx.fail('cannot resize an empty axis');
  if (!axes.length) axes.push({ out: 1, in: 1, stride: 0, entry: -1, scale: 1 });
  const params = RESIZE_DYNAMIC.pack({
    n: sizeOf(out), extrapolation: scalarBits(x, o.extrapolation), cubicA: o.a, roiEntries: axesList.length,
    axes: axes.map((a) => ({ out: a.out, inDim: a.in, stride: a.stride, entry: a.entry, scale: a.scale })).reverse(),
  });
  defines.RANK = axes.length;
  return [{ name: `resize_${o.mode}_runtime_scales`, dispatches: [dispatch(ctx, 'resize_dynamic', sizeOf(out), params, bindings, defines)] }];
}

function resizeKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const c = ctx as unknown as ResizeCtx;
  const args = readArgs(c, (i) => resizeArg(ctx, i), (i) => ctx.inputs[i] !== undefined);
  const o = options(c);
  if (!args) return resizeRuntimeScales(ctx, o);
  if (o.coord === 'tf_crop_and_resize' && !args.roi && ctx.inputs[1] && sizeOf(ctx.inputs[1].dims) > 0) {
    // roi at run time, scales known
    const p = plan(c, x.dims, args, () => 0) as { scales: number[] };
    return resizeRuntimeScales(ctx, o, p.scales);
  }
  if (o.coord === 'tf_crop_and_resize' && !args.roi) ctx.fail("coordinate_transformation_mode 'tf_crop_and_resize' needs the roi input (known when the engine is built)");
  const p = plan(c, x.dims, args, () => 0) as { dims: number[]; scales: number[]; roi: [number, number][] };
  const nearest = o.mode === 'nearest';
  if (!nearest && x.gpu !== 'f32') return ctx.unsupported(`${o.mode} Resize of ${x.dtype} tensors has no GPU kernel; cast to float first`);
  const rank = x.dims.length;
  const inStr = stridesOf(x.dims);
  const idx: number[] = [];
  const wts: number[] = [];
  const axes: { out: number; stride: number; taps: number; off: number }[] = [];
  for (let a = 0; a < rank; a++) {
    const inW = x.dims[a], outW = p.dims[a];
    const identity = inW === outW && p.scales[a] === 1 && o.coord !== 'tf_crop_and_resize';
    if (identity) { axes.push({ out: outW, stride: inStr[a], taps: 0, off: 0 }); continue; }
    if (inW === 0) ctx.fail(`cannot resize an empty axis ${a} to ${outW}`);
    const t = axisTaps(c, inW, outW, p.scales[a], p.roi[a], o);
    const n = nearest ? 1 : Math.max(1, ...t.idx.map((v) => v.length));
    const off = idx.length;
    for (let q = 0; q < outW; q++) {
      if (t.extrapolate[q]) {
        for (let k = 0; k < n; k++) { idx.push(-1); wts.push(0); }
      } else if (nearest) {
        // the one tap of weight 1 (coefficients are [1, 0] or [0, 1])
        let best = 0;
        for (let k = 1; k < t.w[q].length; k++) if (t.w[q][k] > t.w[q][best]) best = k;
        idx.push(t.idx[q][best]); wts.push(1);
      } else {
        for (let k = 0; k < n; k++) { idx.push(k < t.idx[q].length ? t.idx[q][k] : 0); wts.push(k < t.w[q].length ? t.w[q][k] : 0); }
      }
    }
    axes.push({ out: outW, stride: inStr[a], taps: n, off });
  }
  // drop output size-1 identity axes
  const kept = axes.filter((a) => !(a.taps === 0 && a.out === 1));
  if (!kept.length) kept.push({ out: 1, stride: 0, taps: 0, off: 0 });
  const params = RESIZE.pack({
    n: sizeOf(p.dims), extrapolation: scalarBits(x, o.extrapolation), axes: kept.map((a) => ({ out: a.out, stride: a.stride, taps: a.taps, offset: a.off })).reverse(),
  });
  const defines: Record<string, number> = { RANK: kept.length };
  if (nearest) defines.NEAREST = 1;
  const tab = new Int32Array(Math.max(2, 2 * idx.length));
  const wbits = new Int32Array(Float32Array.from(wts).buffer);
  idx.forEach((v, e) => { tab[2 * e] = v; tab[2 * e + 1] = wbits[e]; });
  const d = dispatch(ctx, 'resize', sizeOf(p.dims), params, [{ input: 0 }, { weight: 0 }, { output: 0 }], defines);
  return [{ name: `resize_${o.mode}_taps`, dispatches: [d], weights: [{ data: tab }] }];
}

// ---------------------------------------------------------------------------------------------
// Trilu, OneHot, EyeLike, ConstantOfShape, Range

function triluKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  const [rows, cols] = x.dims.slice(-2);
  const bindings: BindingRef[] = [{ input: 0 }, { output: 0 }];
  const defines: Record<string, number> = {};
  if (ctx.inputs[1]) { bindings.push({ input: 1 }); defines.HAS_K = 1; }
  const n = sizeOf(x.dims);
  const d = dispatch(ctx, 'trilu', n, TRILU.pack({ n, rows, cols, upper: ctx.attrs.int('upper', 1) !== 0 ? 1 : 0 }), bindings, defines);
  return [{ name: 'trilu', dispatches: [d] }];
}

function oneHotKernel(ctx: KernelContext): KernelImpl[] {
  const ind = ctx.inputs[0]!;
  const out = ctx.outputs[0];
  const axis = axisIn(ctx, ctx.attrs.int('axis', -1), ind.dims.length + 1);
  const depth = out.dims[axis];
  const inner = sizeOf(ind.dims.slice(axis));
  const n = sizeOf(out.dims);
  const d = dispatch(ctx, 'one_hot', n, ONE_HOT.pack({ n, depth, inner }), [{ input: 0 }, { input: 2 }, { output: 0 }], { IDX_T: ind.gpu === 'f32' ? 'float' : 'int' });
  return [{ name: 'one_hot', dispatches: [d] }];
}

function eyeLikeKernel(ctx: KernelContext): KernelImpl[] {
  const out = ctx.outputs[0];
  eyeDtype(ctx, ctx.inputs[0]!.dtype);
  const n = sizeOf(out.dims);
  const d = dispatch(ctx, 'fill', n, FILL_EYE.pack({ n, one: scalarBits(out, 1), cols: out.dims[1], k: ctx.attrs.int('k', 0) }), [{ output: 0 }], { MODE: FILL_MODE.eye });
  return [{ name: 'eye_like', dispatches: [d] }];
}

function constantOfShapeKernel(ctx: KernelContext): KernelImpl[] {
  const out = ctx.outputs[0];
  const n = sizeOf(out.dims);
  const d = dispatch(ctx, 'fill', n, FILL.pack({ n, value: scalarBits(out, Number(fillOf(ctx).data[0])) }), [{ output: 0 }], { MODE: FILL_MODE.constant });
  return [{ name: 'constant_of_shape', dispatches: [d] }];
}

function rangeKernel(ctx: KernelContext): KernelImpl[] {
  const out = ctx.outputs[0];
  const n = sizeOf(out.dims);
  const d = dispatch(ctx, 'fill', n, FILL_RANGE.pack({ n }), [{ input: 0 }, { input: 2 }, { output: 0 }], { MODE: FILL_MODE.range, T: out.gpu === 'f32' ? 'float' : 'int' });
  return [{ name: 'range', dispatches: [d] }];
}

// ---------------------------------------------------------------------------------------------
// Identity and Dropout when they cannot be views (several outputs)

function copyKernel(ctx: KernelContext): KernelImpl[] {
  return [{ name: 'copy', dispatches: [linearCopy(ctx, sizeOf(ctx.inputs[0]!.dims), IO)] }];
}

/** Is this Dropout in training mode? undefined when that is only known at run time. */
function dropoutTraining(ctx: KernelContext): boolean | undefined {
  if (ctx.opset < 7) return ctx.attrs.int('is_test', 0) === 0;
  if (ctx.opset < 12 || !ctx.inputs[2]) return false;
  const t = ctx.inputs[2]!.constant;
  return t ? Number(t.data[0]) !== 0 : undefined;
}

/** Element counts up to which a seeded training-mode Dropout lays out its uniform stream (4 bytes each). */
const DROPOUT_MAX_ELEMENTS = 1 << 24;

/**
 * Dropout: the identity when training is known to be off (or the ratio is known to be 0); else the
 * dropout kernel, which reads ratio and training_mode at run time where they are inputs and draws
 * the reference's seeded stream (MT19937 of the seed attribute, laid out here as a kernel weight).
 */
function dropoutKernel(ctx: KernelContext): KernelImpl[] {
  const training = dropoutTraining(ctx);
  const x = ctx.inputs[0]!;
  const n = sizeOf(x.dims);
  const mask = ctx.node.outputs[1] ? ctx.outputs[1] : undefined;
  const ratioIn = ctx.opset >= 12 ? ctx.inputs[1] : undefined;
  const ratioConst = ctx.opset < 12 ? ctx.attrs.float('ratio', 0.5) : ratioIn ? (ratioIn.constant ? Number(ratioIn.constant.data[0]) : undefined) : 0.5;
  if (training === false || ratioConst === 0) {
    const dispatches = [linearCopy(ctx, n, IO)];
    if (mask) dispatches.push(dispatch(ctx, 'fill', n, FILL.pack({ n, value: scalarBits(mask, 1) }), [{ output: 1 }], { MODE: FILL_MODE.constant }));
    return [{ name: 'dropout_identity', dispatches }];
  }
  if (x.gpu === 'i32') return ctx.fail(`Dropout needs a floating-point input, got ${x.dtype}`);
  if (ratioConst !== undefined && !(ratioConst >= 0 && ratioConst < 1)) return ctx.fail(`ratio must be in [0, 1) in training mode, got ${ratioConst}`);
  if (ratioIn && ratioIn.gpu !== 'f32') return ctx.fail(`ratio must be a float scalar, got ${ratioIn.dtype}`);
  if (n > DROPOUT_MAX_ELEMENTS) return ctx.unsupported(`Dropout in training mode over ${n} elements (the seeded stream is laid out at build, at most ${DROPOUT_MAX_ELEMENTS})`);
  const rng = new Mt19937(ctx.attrs.int('seed', 0) >>> 0);
  const u = new Float32Array(Math.max(1, n));
  for (let i = 0; i < n; i++) u[i] = rng.random();
  const defines: Record<string, number> = {};
  if (ratioIn && ratioConst === undefined) defines.HAS_RATIO = 1;
  if (training === undefined) defines.HAS_TRAINING = 1;
  if (mask) {
    defines.HAS_MASK = 1;
    if (mask.gpu !== 'i32') defines.MASK_FLOAT = 1;
  }
  const params = DROPOUT.pack({ n, ratio: ratioConst ?? 0, training: training ? 1 : 0 });
  const bindings: BindingRef[] = [{ input: 0 }, defines.HAS_RATIO ? { input: 1 } : { input: 0 }, defines.HAS_TRAINING ? { input: 2 } : { input: 0 }, { weight: 0 }, { output: 0 }, mask ? { output: 1 } : { output: 0 }];
  const impl: KernelImpl = { name: 'dropout_seeded', dispatches: [dispatch(ctx, 'dropout', n, params, bindings, defines)], weights: [{ data: u }] };
  return mask && mask.gpu === 'i32' ? [impl] : withF16([impl], ctx);
}

// ReverseSequence, TensorScatter (shaders/tensor/sequence_copy.comp), Det (det.comp)

function reverseSequenceKernel(ctx: KernelContext): KernelImpl[] {
  const [x, lens] = ctx.inputs;
  if (!x || !lens) return ctx.fail('input and sequence_lens are required');
  if (x.dims.length < 2) return ctx.fail(`input must have rank >= 2, got ${x.dims.length}`);
  const batchAxis = ctx.attrs.int('batch_axis', 1), timeAxis = ctx.attrs.int('time_axis', 0);
  if (!((batchAxis === 0 && timeAxis === 1) || (batchAxis === 1 && timeAxis === 0))) return ctx.fail(`batch_axis=${batchAxis} and time_axis=${timeAxis} must be 0 and 1 in some order`);
  const B = x.dims[batchAxis], T = x.dims[timeAxis];
  if (lens.dims.length !== 1 || lens.dims[0] !== B || lens.gpu !== 'i32') return ctx.fail(`sequence_lens must be integers with dims [${B}]`);
  const rest = sizeOf(x.dims.slice(2));
  const n = sizeOf(x.dims);
  const params = batchAxis === 0
    ? SEQUENCE_COPY.pack({ n, T, inner: rest, perBatch: 1, batchInner: 0, seq: 0, circular: 0 })
    : SEQUENCE_COPY.pack({ n, T, inner: B * rest, perBatch: 1, batchInner: rest, seq: 0, circular: 0 });
  return [{ name: 'reverse_sequence', dispatches: [dispatch(ctx, 'sequence_copy', n, params, [{ input: 0 }, { input: 1 }, { input: 0 }, { output: 0 }], { MODE: SEQ_COPY.reverse })] }];
}

function tensorScatterKernel(ctx: KernelContext): KernelImpl[] {
  const [past, upd, wi] = ctx.inputs;
  if (!past || !upd) return ctx.fail('past_cache and update are required');
  const rank = past.dims.length;
  if (rank < 2) return ctx.fail('past_cache must have rank >= 2');
  const axis = axisIn(ctx, ctx.attrs.int('axis', -2), rank);
  if (axis === 0) return ctx.fail('axis must not be the batch axis 0');
  const mode = ctx.attrs.string('mode', 'linear');
  if (mode !== 'linear' && mode !== 'circular') return ctx.fail(`mode '${mode}' is not linear or circular`);
  if (upd.gpu !== past.gpu || upd.dims.length !== rank || upd.dims.some((d, a) => a !== axis && d !== past.dims[a])) return ctx.fail(`update [${upd.dims.join(',')}] must match past_cache [${past.dims.join(',')}] off the sequence axis`);
  const T = past.dims[axis], seq = upd.dims[axis];
  if (seq > T) return ctx.fail(`update sequence length ${seq} exceeds max_sequence_length ${T}`);
  const batch = past.dims[0];
  if (wi && (wi.dims.length !== 1 || wi.dims[0] !== batch || wi.gpu !== 'i32')) return ctx.fail(`write_indices must be integers with dims [${batch}]`);
  const outer = sizeOf(past.dims.slice(0, axis));
  const n = sizeOf(past.dims);
  const params = SEQUENCE_COPY.pack({ n, T, inner: sizeOf(past.dims.slice(axis + 1)), perBatch: Math.max(1, outer / Math.max(batch, 1)), batchInner: 0, seq, circular: mode === 'circular' ? 1 : 0 });
  const defines: Record<string, number> = { MODE: SEQ_COPY.scatter };
  if (wi) defines.HAS_INDEX = 1;
  return [{ name: 'tensor_scatter', dispatches: [dispatch(ctx, 'sequence_copy', n, params, [{ input: 0 }, wi ? { input: 2 } : { input: 0 }, { input: 1 }, { output: 0 }], defines)] }];
}

function detKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0]!;
  if (x.dims.length < 2) return ctx.fail(`input must have rank >= 2, got ${x.dims.length}`);
  if (x.gpu === 'i32') return ctx.fail(`Det needs a floating-point input, got ${x.dtype}`);
  const [m, m2] = x.dims.slice(-2);
  if (m !== m2) return ctx.fail(`matrices must be square, got ${m}x${m2}`);
  const count = sizeOf(x.dims.slice(0, -2));
  const d = dispatch(ctx, 'det', count, DET.pack({ count, M: m }), [{ input: 0 }, { output: 0 }, { scratch: 0 }]);
  return withF16([{ name: 'det_lu', dispatches: [d], scratch: [Math.max(4, count * m * m * 4)] }], ctx);
}

const KERNELS: Record<string, (ctx: KernelContext) => KernelImpl[]> = {
  Transpose: transposeKernel, DepthToSpace: depthToSpaceKernel, SpaceToDepth: spaceToDepthKernel,
  Concat: concatKernel, Split: splitKernel, Slice: sliceKernel, Expand: expandKernel,
  Pad: padKernel, Tile: tileKernel, CenterCropPad: centerCropPadKernel,
  Gather: gatherKernel, GatherElements: gatherElementsKernel, GatherND: gatherNdKernel,
  ScatterElements: scatterElementsKernel, Scatter: scatterElementsKernel, ScatterND: scatterNdKernel,
  Resize: resizeKernel, Upsample: resizeKernel,
  Trilu: triluKernel, OneHot: oneHotKernel, EyeLike: eyeLikeKernel, ConstantOfShape: constantOfShapeKernel, Range: rangeKernel,
  Identity: copyKernel, Dropout: dropoutKernel,
  ReverseSequence: reverseSequenceKernel, TensorScatter: tensorScatterKernel, Det: detKernel,
};

/**
 * Ops whose output is the input's bytes with other dims: the builder aliases them (no kernel).
 * Dropout only in inference mode; otherwise its kernel decides (and refuses training).
 */
const VIEWS: Record<string, true | ((ctx: KernelContext) => boolean)> = {
  Reshape: true, Flatten: true, Squeeze: true, Unsqueeze: true, Identity: true,
  Dropout: (ctx) => dropoutTraining(ctx) === false,
};

/** Shaders that move elements as VKRT_WORD (uint, or float16_t under VKRT_F16) without arithmetic. */
const WORD_SHADERS = new Set(['tensor/copy', 'tensor/gather', 'tensor/gather_elements', 'tensor/gather_nd', 'tensor/slice', 'tensor/trilu', 'tensor/sequence_copy']);

/**
 * FP16 layers: implementations made only of element-moving shaders run on f16 data as they are
 * (VKRT_F16 switches the element type); others (arithmetic in the type, fills of scalar bits) are
 * left unflagged, so the builder keeps their layer in FP32.
 */
function withF16Words(k: (ctx: KernelContext) => KernelImpl[]): (ctx: KernelContext) => KernelImpl[] {
  return (ctx) => {
    const impls = k(ctx);
    return impls.map((impl) => (impl.dispatches.every((d) => WORD_SHADERS.has(d.shader)) ? withF16([impl], ctx)[0] : impl));
  };
}

/** Attach views and GPU kernels to the family's OpDefs. */
export function withTensorKernels(defs: OpDef[]): OpDef[] {
  return defs.map((d) => {
    const k0 = KERNELS[d.opType];
    const k = k0 && withF16Words(k0);
    const view = VIEWS[d.opType];
    if (!k && !view) return d;
    return { ...d, ...(k ? { kernel: k } : {}), ...(view ? { view } : {}) };
  });
}
