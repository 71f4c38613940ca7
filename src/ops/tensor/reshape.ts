/** Ops that change dims without moving data: Reshape, Flatten, Squeeze, Unsqueeze. */
import { Dim } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpDef, ShapeContext } from '../types';
import { axisOf, checkDims, freshDim, intsOf, need, needT } from '../util/tensor-common';

type FailCtx = { fail(m: string): never };

/**
 * Reshape's output dims from the input dims and the requested shape (0 copies the input dim unless
 * allowzero, -1 is inferred). Works on symbolic dims: symbols cancel between input and output, and
 * a -1 that cannot be decided becomes `unknown` (the caller names it).
 */
export function reshapeDims(ctx: FailCtx, inDims: readonly Dim[], shape: readonly number[], allowzero: boolean, unknown: () => Dim): Dim[] {
  let inferAt = -1;
  const out: Dim[] = [];
  for (let i = 0; i < shape.length; i++) {
    const s = shape[i];
    if (s === -1) {
      if (inferAt >= 0) ctx.fail(`shape [${shape.join(',')}] has more than one -1`);
      inferAt = i;
      out.push(-1);
    } else if (s === 0 && !allowzero) {
      if (i >= inDims.length) ctx.fail(`shape [${shape.join(',')}] copies dim ${i} (0) but the input has rank ${inDims.length}`);
      out.push(inDims[i]);
    } else if (s < 0 || !Number.isSafeInteger(s)) {
      ctx.fail(`shape [${shape.join(',')}] has invalid dim ${s}`);
    } else out.push(s);
  }
  if (allowzero && inferAt >= 0 && shape.includes(0)) ctx.fail(`shape [${shape.join(',')}] has both 0 and -1 with allowzero=1`);
  // numeric product and symbol multiset of input and of the known output dims
  const split = (dims: readonly Dim[]) => {
    let n = 1;
    const syms: string[] = [];
    for (const d of dims) {
      if (typeof d === 'number') n *= d;
      else syms.push(d);
    }
    return { n, syms };
  };
  const a = split(inDims);
  const b = split(out.filter((_, i) => i !== inferAt));
  const rest = a.syms.slice();
  let cancels = true;
  for (const s of b.syms) {
    const k = rest.indexOf(s);
    if (k < 0) { cancels = false; break; }
    rest.splice(k, 1);
  }
  if (inferAt >= 0) {
    if (!cancels) out[inferAt] = unknown();
    else if (rest.length === 0) {
      if (b.n === 0) {
        if (a.n !== 0) ctx.fail(`cannot infer -1 in shape [${shape.join(',')}] for input [${inDims.join(',')}]`);
        ctx.fail(`cannot infer -1 in shape [${shape.join(',')}]: the other dims multiply to 0`);
      }
      if (a.n % b.n !== 0) ctx.fail(`cannot reshape [${inDims.join(',')}] to [${shape.join(',')}]`);
      out[inferAt] = a.n / b.n;
    } else if (rest.length === 1 && a.n === b.n) out[inferAt] = rest[0];
    else out[inferAt] = unknown();
  } else if (cancels && rest.length === 0 && a.n !== b.n) {
    ctx.fail(`cannot reshape [${inDims.join(',')}] (${a.n} elements) to [${out.join(',')}] (${b.n} elements)`);
  }
  return out;
}

function reshapeShapeInput(ctx: { opset: number; attrs: ShapeContext['attrs']; fail(m: string): never }, shapeT: Tensor | undefined): number[] | undefined {
  if (ctx.opset < 5) return ctx.attrs.ints('shape');
  if (!shapeT) return undefined;
  if (shapeT.rank !== 1) ctx.fail(`shape must be 1-D, got rank ${shapeT.rank}`);
  return intsOf(shapeT);
}

export const Reshape: OpDef = {
  opType: 'Reshape',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const shape = reshapeShapeInput(ctx, ctx.opset < 5 ? undefined : ctx.constant(1));
    const allowzero = ctx.opset >= 14 && ctx.attrs.int('allowzero', 0) === 1;
    if (!shape) {
      const st = inputs[1]?.shape;
      if (st && st.length === 1 && typeof st[0] === 'number') return [{ dtype: x.dtype, shape: Array.from({ length: st[0] }, (_, i) => freshDim(ctx, 0, i)) }];
      return [{ dtype: x.dtype, shape: undefined }];
    }
    if (!x.shape) {
      // without the input rank, only literal dims are known
      return [{ dtype: x.dtype, shape: shape.map((s, i) => (s > 0 || (s === 0 && allowzero) ? s : freshDim(ctx, 0, i))) }];
    }
    return [{ dtype: x.dtype, shape: reshapeDims(ctx, x.shape, shape, allowzero, () => freshDim(ctx, 0, shape.indexOf(-1))) }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const shape = reshapeShapeInput(ctx, inputs[1]);
    if (!shape) return ctx.fail('input shape is required');
    const allowzero = ctx.opset >= 14 && ctx.attrs.int('allowzero', 0) === 1;
    const dims = reshapeDims(ctx, x.dims, shape, allowzero, () => ctx.fail('unreachable')) as number[];
    if (checkDims(ctx, dims) !== x.size) ctx.fail(`cannot reshape [${x.dims.join(',')}] to [${shape.join(',')}]`);
    return [x.reshape(dims)];
  },
};

/** Product of dims as a Dim: a number, the single symbol times 1, or a fresh symbol. */
function productDim(dims: readonly Dim[], fresh: () => Dim): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  if (n === 0) return 0;
  if (syms.length === 1 && n === 1) return syms[0];
  return fresh();
}

function flattenAxis(ctx: ShapeContext | { attrs: ShapeContext['attrs']; fail(m: string): never }, rank: number): number {
  let axis = ctx.attrs.int('axis', 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) ctx.fail(`axis ${ctx.attrs.int('axis', 1)} is out of range for rank ${rank}`);
  return axis;
}

export const Flatten: OpDef = {
  opType: 'Flatten',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    if (!x.shape) return [{ dtype: x.dtype, shape: [freshDim(ctx, 0, 0), freshDim(ctx, 0, 1)] }];
    const axis = flattenAxis(ctx, x.shape.length);
    return [{
      dtype: x.dtype,
      shape: [productDim(x.shape.slice(0, axis), () => freshDim(ctx, 0, 0)), productDim(x.shape.slice(axis), () => freshDim(ctx, 0, 1))],
    }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const axis = flattenAxis(ctx, x.rank);
    const a = x.dims.slice(0, axis).reduce((p, d) => p * d, 1);
    const b = x.dims.slice(axis).reduce((p, d) => p * d, 1);
    return [x.reshape([a, b])];
  },
};

/** Squeeze/Unsqueeze axes: the attribute before opset 13, the optional input since. */
function axesOf(ctx: { opset: number; attrs: ShapeContext['attrs'] }, axesT: Tensor | undefined, present: boolean): number[] | undefined | null {
  if (ctx.opset < 13) return ctx.attrs.optInts('axes');
  if (!present) return undefined;
  return axesT ? intsOf(axesT) : null; // null: given but not known at build time
}

function squeezeDims(ctx: FailCtx, dims: readonly Dim[], axes: number[] | undefined): Dim[] | undefined {
  const rank = dims.length;
  if (axes === undefined) {
    if (dims.some((d) => typeof d !== 'number')) return undefined; // which symbols are 1 is unknown
    return dims.filter((d) => d !== 1);
  }
  const drop = new Set<number>();
  for (const a of axes) {
    const n = axisOf(ctx, a, rank, 'axes entry');
    if (drop.has(n)) ctx.fail(`axes [${axes.join(',')}] repeats axis ${a}`);
    if (typeof dims[n] === 'number' && dims[n] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${dims[n]}`);
    drop.add(n);
  }
  return dims.filter((_, i) => !drop.has(i));
}

export const Squeeze: OpDef = {
  opType: 'Squeeze',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const axes = axesOf(ctx, ctx.constant(1), inputs[1] !== undefined);
    if (!x.shape || axes === null) {
      if (x.shape && axes === null && inputs[1]?.shape && typeof inputs[1].shape[0] === 'number') {
        const r = x.shape.length - inputs[1].shape[0];
        return [{ dtype: x.dtype, shape: Array.from({ length: r }, (_, i) => freshDim(ctx, 0, i)) }];
      }
      return [{ dtype: x.dtype, shape: undefined }];
    }
    return [{ dtype: x.dtype, shape: squeezeDims(ctx, x.shape, axes) }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const axes = axesOf(ctx, inputs[1], inputs[1] !== undefined) ?? undefined;
    return [x.reshape(squeezeDims(ctx, x.dims, axes) as number[])];
  },
};

function unsqueezeDims(ctx: FailCtx, dims: readonly Dim[], axes: number[]): Dim[] {
  const rank = dims.length + axes.length;
  const ins = new Set<number>();
  for (const a of axes) {
    const n = axisOf(ctx, a, rank, 'axes entry');
    if (ins.has(n)) ctx.fail(`axes [${axes.join(',')}] repeats axis ${a}`);
    ins.add(n);
  }
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(ins.has(i) ? 1 : dims[k++]);
  return out;
}

export const Unsqueeze: OpDef = {
  opType: 'Unsqueeze',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const axes = axesOf(ctx, ctx.constant(1), inputs[1] !== undefined);
    if (axes === undefined) return ctx.fail('axes is required');
    if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
    if (axes === null) {
      const n = inputs[1]?.shape?.[0];
      if (typeof n === 'number') return [{ dtype: x.dtype, shape: Array.from({ length: x.shape.length + n }, (_, i) => freshDim(ctx, 0, i)) }];
      return [{ dtype: x.dtype, shape: undefined }];
    }
    return [{ dtype: x.dtype, shape: unsqueezeDims(ctx, x.shape, axes) }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const axes = axesOf(ctx, inputs[1], inputs[1] !== undefined);
    if (!axes) return ctx.fail('axes is required');
    return [x.reshape(unsqueezeDims(ctx, x.dims, axes) as number[])];
  },
};
