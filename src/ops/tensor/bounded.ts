/**
 * Data-dependent outputs at their upper bound (docs/dynamic-shapes.md, "Data-dependent shapes"):
 * NonZero and Compress size their output by the values they read, which no build can know. Each
 * declares `traits.dataDependent`, naming its bounded twin here (domain 'vkrt'): the same outputs
 * written at the largest shape the inputs allow, then one int64 [1] count per output giving the
 * extent along the trimmed axis. The staged engine (src/api/staged.ts) runs the twin on the GPU,
 * reads the counts back and trims. The GPU kernels (shaders/tensor/select.comp) find the selected
 * elements with a running prefix count in one workgroup, so their cost grows with the input's
 * length, not with the device's width: right for masks and index lists, not for huge tensors.
 */
import type { Attrs } from '../../ir/attrs';
import type { Dim } from '../../ir/graph';
import { resizeAlong, sizeOf, Tensor } from '../../ir/tensor';
import { type BindingRef, grid1d, type KernelContext } from '../../kernel/contract';
import { paramLayout } from '../../kernel/params';
import type { OpDef } from '../types';
import { axisOf, freshDim, need, needT } from '../util/tensor-common';
import { Compress, NonZero, Unique } from './select';
import { NonMaxSuppression } from '../control/nms';

/** The domain of the bounded twins (the graph passes' internal ops use the same). */
export const BOUNDED_DOMAIN = 'vkrt';

/** One workgroup does the running count (select.comp's SEL_WG). */
const SEL_WG = 256;
const WG = 128;

/** select.comp MODE 0: elements, rank; per axis (outermost first) its dim. */
const SELECT_NONZERO = paramLayout('select_nonzero', { n: 'u32', rank: 'u32', axes: { each: { dim: 'u32' } } },
  'NonZero at its upper bound, one workgroup (src/ops/tensor/bounded.ts).');
/** select.comp MODE 1: the condition entries scanned. */
const SELECT_SCAN = paramLayout('select_scan', { n: 'u32' }, 'The indices of the true entries of a condition, one workgroup (src/ops/tensor/bounded.ts).');
/** select.comp MODE 2: output elements, elements after the axis, the bound along it, the input's dim there. */
const SELECT_GATHER = paramLayout('select_gather', { n: 'u32', inner: 'u32', bound: 'u32', axisDim: 'u32' },
  'Compress: the selected slices gathered, zeros past the count (src/ops/tensor/bounded.ts).');

/** nms.comp: boxes per batch, classes, batch x classes, the boxes kept per class at most, the thresholds, center_point_box. */
const NMS = paramLayout('nms', { boxes: 'u32', classes: 'u32', pairs: 'u32', maxOut: 'u32', iou: 'f32', score: 'f32', center: 'u32' },
  'NonMaxSuppression at its upper bound, one workgroup per batch and class (src/ops/tensor/bounded.ts).');

/** unique.comp: invocations, slices along the axis, elements before and after it, sorted (0/1). */
const UNIQUE = paramLayout('unique', { n: 'u32', d: 'u32', outer: 'u32', inner: 'u32', sorted: 'u32' },
  'Unique at its upper bound, one invocation per slice comparing it with every other (src/ops/tensor/bounded.ts).');

function countTensor(n: number): Tensor {
  return new Tensor('int64', [1], BigInt64Array.from([BigInt(n)]));
}

/** Truthiness of a GPU word: floats by value (-0.0 is zero, NaN is not), everything else by bits. */
function floatIn(ctx: KernelContext): Record<string, number> {
  const g = ctx.inputs[0]!.gpu;
  if (g !== 'f32' && g !== 'i32') ctx.unsupported(`input stored as ${g} on the GPU; the selection kernel reads 32-bit words`);
  return g === 'f32' ? { FLOAT_IN: 1 } : {};
}

export const NonZeroBounded: OpDef = {
  opType: 'NonZeroBounded',
  domain: BOUNDED_DOMAIN,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const n: Dim = x.shape && x.shape.every((d) => typeof d === 'number') ? sizeOf(x.shape as number[]) : freshDim(ctx, 0, 1);
    return [{ dtype: 'int64', shape: [x.shape ? x.shape.length : freshDim(ctx, 0, 0), n] }, { dtype: 'int64', shape: [1] }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const [y] = NonZero.reference(ctx, inputs) as Tensor[];
    return [resizeAlong(y, 1, x.size), countTensor(y.dims[1])];
  },
  kernel(ctx) {
    const x = ctx.inputs[0]!;
    const rank = x.dims.length;
    if (rank === 0) ctx.unsupported('NonZero of a scalar has no GPU kernel');
    const n = sizeOf(x.dims);
    const params = SELECT_NONZERO.pack({ n, rank, axes: x.dims.map((dim) => ({ dim })) });
    return [{
      name: 'nonzero_scan',
      dispatches: [{ shader: 'tensor/select', defines: { MODE: 0, ...floatIn(ctx) }, params, workgroup: [SEL_WG, 1, 1], groups: [1, 1, 1], bindings: [{ input: 0 }, { output: 0 }, { output: 1 }] }],
    }];
  },
};

/** Compress's axis on the (flattened when no axis) input, its input dims and the bound along it. */
function compressGeometry(attrs: Attrs, dims: readonly number[], condLen: number, fail: (m: string) => never): { dims: number[]; axis: number; bound: number } {
  const a = attrs.optInt('axis');
  const src = a === undefined ? [sizeOf(dims)] : dims.slice();
  const axis = a === undefined ? 0 : a < 0 ? a + dims.length : a;
  if (!(axis >= 0 && axis < src.length)) fail(`axis ${a} is out of range for rank ${dims.length}`);
  return { dims: src, axis, bound: Math.min(condLen, src[axis]) };
}

export const CompressBounded: OpDef = {
  opType: 'CompressBounded',
  domain: BOUNDED_DOMAIN,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const c = need(ctx, inputs, 1);
    const a = ctx.attrs.optInt('axis');
    const condLen = c.shape?.[0];
    if (!x.shape || typeof condLen !== 'number' || !x.shape.every((d) => typeof d === 'number')) {
      return [{ dtype: x.dtype, shape: a === undefined ? [freshDim(ctx, 0, 0)] : undefined }, { dtype: 'int64', shape: [1] }];
    }
    if (a !== undefined) axisOf(ctx, a, x.shape.length);
    const g = compressGeometry(ctx.attrs, x.shape as number[], condLen, (m) => ctx.fail(m));
    const shape = g.dims.slice();
    shape[g.axis] = g.bound;
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape: [1] }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const cond = needT(ctx, inputs, 1);
    const [y] = Compress.reference(ctx, inputs) as Tensor[];
    const g = compressGeometry(ctx.attrs, x.dims, cond.size, (m) => ctx.fail(m));
    return [resizeAlong(y, g.axis, g.bound), countTensor(y.dims[g.axis])];
  },
  kernel(ctx) {
    const x = ctx.inputs[0]!;
    const cond = ctx.inputs[1]!;
    if (cond.dims.length !== 1) ctx.fail(`condition must be 1-D, got rank ${cond.dims.length}`);
    if (cond.gpu !== 'i32' && cond.gpu !== 'f32') ctx.unsupported(`condition stored as ${cond.gpu} on the GPU`);
    if (x.gpu !== 'f32' && x.gpu !== 'i32') ctx.unsupported(`input stored as ${x.gpu} on the GPU; the gather moves 32-bit words`);
    const g = compressGeometry(ctx.attrs, x.dims, cond.dims[0], (m) => ctx.fail(m));
    const inner = sizeOf(g.dims.slice(g.axis + 1));
    const n = sizeOf(ctx.outputs[0].dims);
    const scanBindings: BindingRef[] = [{ input: 1 }, { scratch: 0 }, { output: 1 }];
    const gatherBindings: BindingRef[] = [{ input: 0 }, { scratch: 0 }, { output: 1 }, { output: 0 }];
    return [{
      name: 'compress_scan_gather',
      scratch: [Math.max(4, g.bound * 4)],
      dispatches: [
        { shader: 'tensor/select', defines: { MODE: 1, ...(cond.gpu === 'f32' ? { FLOAT_IN: 1 } : {}) }, params: SELECT_SCAN.pack({ n: g.bound }), workgroup: [SEL_WG, 1, 1], groups: [1, 1, 1], bindings: scanBindings },
        { shader: 'tensor/select', defines: { MODE: 2 }, params: SELECT_GATHER.pack({ n, inner, bound: g.bound, axisDim: g.dims[g.axis] }), workgroup: [WG, 1, 1], groups: grid1d(n, WG, ctx.caps), bindings: gatherBindings },
      ],
    }];
  },
};

/** A scalar input NonMaxSuppression needs at build time (absent: its default). */
function nmsScalar(t: Tensor | undefined, fallback: number): number {
  return t && t.size ? Number(t.data[0]) : fallback;
}

export const NonMaxSuppressionBounded: OpDef = {
  opType: 'NonMaxSuppressionBounded',
  domain: BOUNDED_DOMAIN,
  inferShape(ctx, inputs) {
    const boxes = need(ctx, inputs, 0);
    const scores = need(ctx, inputs, 1);
    const maxT = inputs[2] ? ctx.constant(2) : undefined;
    const N = boxes.shape?.[1], B = scores.shape?.[0], C = scores.shape?.[1];
    const known = typeof N === 'number' && typeof B === 'number' && typeof C === 'number' && (!inputs[2] || maxT);
    const rows: Dim = known ? B * C * Math.max(0, Math.min(nmsScalar(maxT, 0), N)) : freshDim(ctx, 0, 0);
    return [{ dtype: 'int64', shape: [rows, 3] }, { dtype: 'int64', shape: [1] }];
  },
  reference(ctx, inputs) {
    const [y] = NonMaxSuppression.reference(ctx, inputs) as Tensor[];
    const [B, N] = inputs[0]!.dims;
    const C = inputs[1]!.dims[1];
    const rows = B * C * Math.max(0, Math.min(nmsScalar(inputs[2], 0), N));
    return [resizeAlong(y, 0, rows), countTensor(y.dims[0])];
  },
  kernel(ctx) {
    const [boxes, scores, maxD, iouD, scoreD] = ctx.inputs;
    if (boxes!.gpu !== 'f32' || scores!.gpu !== 'f32') ctx.unsupported('boxes and scores must be float32 on the GPU');
    for (const [d, what] of [[maxD, 'max_output_boxes_per_class'], [iouD, 'iou_threshold'], [scoreD, 'score_threshold']] as const) {
      if (d && !d.constant) ctx.unsupported(`${what} must be known when the engine is built (an initializer or a constant)`);
    }
    const center = ctx.attrs.int('center_point_box', 0);
    if (center !== 0 && center !== 1) ctx.fail(`center_point_box must be 0 or 1, got ${center}`);
    const [B, N] = boxes!.dims;
    const C = scores!.dims[1];
    const maxOut = Math.max(0, Math.min(nmsScalar(maxD?.constant, 0), N));
    if (!maxOut || !N || !B || !C) ctx.unsupported('NonMaxSuppression that keeps no box has no GPU kernel');
    const iou = nmsScalar(iouD?.constant, 0);
    if (!(iou >= 0 && iou <= 1)) ctx.fail(`iou_threshold must be in [0, 1], got ${iou}`);
    const score = nmsScalar(scoreD?.constant, -Infinity);
    const pairs = B * C;
    const params = NMS.pack({ boxes: N, classes: C, pairs, maxOut, iou, score, center });
    return [{
      name: 'nms_greedy',
      scratch: [pairs * N * 4, pairs * maxOut * 4, pairs * 4],
      dispatches: [
        { shader: 'tensor/nms', defines: { MODE: 0 }, params, workgroup: [SEL_WG, 1, 1], groups: [pairs, 1, 1], bindings: [{ input: 0 }, { input: 1 }, { scratch: 0 }, { scratch: 1 }, { scratch: 2 }] },
        { shader: 'tensor/nms', defines: { MODE: 1 }, params, workgroup: [SEL_WG, 1, 1], groups: [1, 1, 1], bindings: [{ scratch: 1 }, { scratch: 2 }, { output: 0 }, { output: 1 }] },
      ],
    }];
  },
};

/** Unique's geometry: the (flattened without an axis) input dims, the axis, the slices along it. */
function uniqueGeometry(attrs: Attrs, dims: readonly number[], fail: (m: string) => never): { dims: number[]; axis: number; d: number } {
  const a = attrs.optInt('axis');
  const src = a === undefined ? [sizeOf(dims)] : dims.slice();
  const axis = a === undefined ? 0 : a < 0 ? a + dims.length : a;
  if (!(axis >= 0 && axis < src.length)) fail(`axis ${a} is out of range for rank ${dims.length}`);
  return { dims: src, axis, d: src[axis] };
}

export const UniqueBounded: OpDef = {
  opType: 'UniqueBounded',
  domain: BOUNDED_DOMAIN,
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const one = { dtype: 'int64' as const, shape: [1] };
    if (!x.shape || !x.shape.every((d) => typeof d === 'number')) {
      const f = freshDim(ctx, 1, 0);
      return [{ dtype: x.dtype, shape: undefined }, { dtype: 'int64', shape: [f] }, { dtype: 'int64', shape: [f] }, { dtype: 'int64', shape: [f] }, one, one, one, one];
    }
    const g = uniqueGeometry(ctx.attrs, x.shape as number[], (m) => ctx.fail(m));
    return [{ dtype: x.dtype, shape: g.dims }, { dtype: 'int64', shape: [g.d] }, { dtype: 'int64', shape: [g.d] }, { dtype: 'int64', shape: [g.d] }, one, one, one, one];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const [y, idx, inv, counts] = Unique.reference(ctx, inputs) as Tensor[];
    const g = uniqueGeometry(ctx.attrs, x.dims, (m) => ctx.fail(m));
    const u = idx.size;
    return [resizeAlong(y, g.axis, g.d), resizeAlong(idx, 0, g.d), inv, resizeAlong(counts, 0, g.d), countTensor(u), countTensor(u), countTensor(g.d), countTensor(u)];
  },
  kernel(ctx) {
    const x = ctx.inputs[0]!;
    if (x.gpu !== 'f32' && x.gpu !== 'i32') ctx.unsupported(`input stored as ${x.gpu} on the GPU; the comparisons read 32-bit words`);
    if (x.dtype === 'uint32' || x.dtype === 'uint64') ctx.unsupported(`Unique of ${x.dtype} has no GPU kernel (the kernel orders signed words)`);
    if (ctx.outputs.length !== 8) ctx.fail('UniqueBounded has 8 outputs');
    const g = uniqueGeometry(ctx.attrs, x.dims, (m) => ctx.fail(m));
    const outer = sizeOf(g.dims.slice(0, g.axis));
    const inner = sizeOf(g.dims.slice(g.axis + 1));
    if (!g.d || !outer || !inner) ctx.unsupported('Unique of an empty tensor has no GPU kernel');
    const sorted = ctx.attrs.int('sorted', 1) !== 0 ? 1 : 0;
    const ny = outer * g.d * inner;
    const defs = (mode: number) => ({ MODE: mode, ...(x.gpu === 'f32' ? { FLOAT_IN: 1 } : {}) });
    const at = (mode: number, n: number, bindings: BindingRef[]) => ({
      shader: 'tensor/unique', defines: defs(mode), params: UNIQUE.pack({ n, d: g.d, outer, inner, sorted }), workgroup: [WG, 1, 1] as [number, number, number], groups: grid1d(n, WG, ctx.caps), bindings,
    });
    const slots = Math.max(4, g.d * 4);
    return [{
      name: 'unique_pairwise',
      scratch: [slots, slots, slots, slots, 4],
      dispatches: [
        at(0, g.d, [{ input: 0 }, { scratch: 0 }, { scratch: 1 }]),
        at(1, g.d, [{ input: 0 }, { scratch: 0 }, { scratch: 2 }, { output: 1 }, { output: 3 }, { scratch: 4 }]),
        at(2, g.d, [{ scratch: 0 }, { scratch: 1 }, { scratch: 2 }, { output: 2 }, { output: 1 }, { output: 3 }, { scratch: 3 }, { scratch: 4 }]),
        at(3, ny, [{ input: 0 }, { scratch: 3 }, { scratch: 4 }, { output: 0 }, { output: 4 }, { output: 5 }, { output: 6 }, { output: 7 }]),
      ],
    }];
  },
};
