/** Permutations of axes: Transpose, DepthToSpace, SpaceToDepth. */
import { Dim } from '../../ir/graph';
import { OpDef, ShapeContext } from '../types';
import { freshDim, need, needT, takeIndices, transposeIndex } from '../util/tensor-common';

function permOf(ctx: { attrs: ShapeContext['attrs']; fail(m: string): never }, rank: number): number[] {
  const perm = ctx.attrs.optInts('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank) ctx.fail(`perm [${perm.join(',')}] does not match rank ${rank}`);
  const seen = new Set<number>();
  const out = perm.map((p) => {
    const a = p < 0 ? p + rank : p;
    if (!Number.isInteger(a) || a < 0 || a >= rank || seen.has(a)) ctx.fail(`perm [${perm.join(',')}] is not a permutation of 0..${rank - 1}`);
    seen.add(a);
    return a;
  });
  return out;
}

export const Transpose: OpDef = {
  opType: 'Transpose',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    if (!x.shape) {
      const perm = ctx.attrs.optInts('perm');
      return [{ dtype: x.dtype, shape: perm ? perm.map((_, i) => freshDim(ctx, 0, i)) : undefined }];
    }
    const shape = x.shape;
    return [{ dtype: x.dtype, shape: permOf(ctx, shape.length).map((p) => shape[p]) }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const { dims, idx } = transposeIndex(x.dims, permOf(ctx, x.rank));
    return [takeIndices(x, dims, idx)];
  },
};

type Ctx = { attrs: ShapeContext['attrs']; fail(m: string): never };

function blocksize(ctx: Ctx): number {
  const b = ctx.attrs.int('blocksize');
  if (b < 1) ctx.fail(`blocksize must be positive, got ${b}`);
  return b;
}

function mulDim(d: Dim, k: number, fresh: () => Dim): Dim {
  return typeof d === 'number' ? d * k : k === 1 ? d : fresh();
}

function divDim(ctx: Ctx, d: Dim, k: number, what: string, fresh: () => Dim): Dim {
  if (typeof d !== 'number') return k === 1 ? d : fresh();
  if (d % k !== 0) ctx.fail(`${what} ${d} is not divisible by ${k}`);
  return d / k;
}

export const DepthToSpace: OpDef = {
  opType: 'DepthToSpace',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const b = blocksize(ctx);
    if (!x.shape) return [{ dtype: x.dtype, shape: [0, 1, 2, 3].map((i) => freshDim(ctx, 0, i)) }];
    if (x.shape.length !== 4) ctx.fail(`input must be 4-D, got rank ${x.shape.length}`);
    const [n, c, h, w] = x.shape;
    return [{
      dtype: x.dtype,
      shape: [n, divDim(ctx, c, b * b, 'channels', () => freshDim(ctx, 0, 1)), mulDim(h, b, () => freshDim(ctx, 0, 2)), mulDim(w, b, () => freshDim(ctx, 0, 3))],
    }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const b = blocksize(ctx);
    if (x.rank !== 4) ctx.fail(`input must be 4-D, got rank ${x.rank}`);
    const [n, c, h, w] = x.dims;
    if (c % (b * b) !== 0) ctx.fail(`channels ${c} are not divisible by blocksize^2 = ${b * b}`);
    const mode = ctx.attrs.string('mode', 'DCR');
    let t;
    if (mode === 'DCR') t = transposeIndex([n, b, b, c / (b * b), h, w], [0, 3, 4, 1, 5, 2]);
    else if (mode === 'CRD') t = transposeIndex([n, c / (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3]);
    else return ctx.fail(`mode '${mode}' is not DCR or CRD`);
    return [takeIndices(x, [n, c / (b * b), h * b, w * b], t.idx)];
  },
};

export const SpaceToDepth: OpDef = {
  opType: 'SpaceToDepth',
  inferShape(ctx, inputs) {
    const x = need(ctx, inputs, 0);
    const b = blocksize(ctx);
    if (!x.shape) return [{ dtype: x.dtype, shape: [0, 1, 2, 3].map((i) => freshDim(ctx, 0, i)) }];
    if (x.shape.length !== 4) ctx.fail(`input must be 4-D, got rank ${x.shape.length}`);
    const [n, c, h, w] = x.shape;
    return [{
      dtype: x.dtype,
      shape: [n, mulDim(c, b * b, () => freshDim(ctx, 0, 1)), divDim(ctx, h, b, 'height', () => freshDim(ctx, 0, 2)), divDim(ctx, w, b, 'width', () => freshDim(ctx, 0, 3))],
    }];
  },
  reference(ctx, inputs) {
    const x = needT(ctx, inputs, 0);
    const b = blocksize(ctx);
    if (x.rank !== 4) ctx.fail(`input must be 4-D, got rank ${x.rank}`);
    const [n, c, h, w] = x.dims;
    if (h % b !== 0 || w % b !== 0) ctx.fail(`height ${h} and width ${w} must be divisible by blocksize ${b}`);
    const t = transposeIndex([n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4]);
    return [takeIndices(x, [n, c * b * b, h / b, w / b], t.idx)];
  },
};

