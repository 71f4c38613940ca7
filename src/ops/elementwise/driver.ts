/**
 * The two drivers of the elementwise family: one applies a unary scalar function, one applies a
 * binary scalar function under ONNX multidirectional (numpy) broadcasting. Each op is a row of
 * ELEMENTWISE_SCALAR; `elementwiseOp` turns a row into an OpDef.
 */
import { DType, isBigInt, isFloat } from '../../ir/dtype';
import { Dim, ValueType } from '../../ir/graph';
import { allocData, rounderFor, sizeOf, Tensor, TensorData } from '../../ir/tensor';
import { OpContext, OpDef, RuntimeValue, ShapeContext } from '../types';
import { broadcastDims, broadcastIndex, broadcastShapes } from '../util/shape';
import { ElementwiseScalar, ELEMENTWISE_SCALAR, Params } from './scalar-table';
import { Attrs } from '../../ir/attrs';

/** Largest output the reference allocates (elements); a hostile model gets a GraphError instead. */
export const MAX_ELEMENTS = 2 ** 31;

type Ctx = Pick<OpContext, 'fail' | 'unsupported'>;
/** Loose element access over any host array (typed arrays, bigint arrays, string[]). */
type Elems = { [i: number]: any; length: number }; // eslint-disable-line @typescript-eslint/no-explicit-any

export function checkSize(ctx: Ctx, dims: readonly number[]): number {
  const n = sizeOf(dims);
  if (n > MAX_ELEMENTS) ctx.fail(`output of ${n} elements ([${dims.join(',')}]) exceeds the limit of 2^31`);
  return n;
}

/** Broadcast static shapes, as a GraphError naming the node when they do not fit. */
export function broadcastOrFail(ctx: Ctx, shapes: readonly (readonly number[])[]): number[] {
  try {
    return broadcastShapes(...shapes);
  } catch (e) {
    return ctx.fail((e as Error).message);
  }
}

/** Index map from output elements to input elements, or null when no broadcasting is needed. */
export function indexMap(inDims: readonly number[], outDims: readonly number[]): Int32Array | null {
  if (inDims.length === outDims.length && inDims.every((d, i) => d === outDims[i])) return null;
  return broadcastIndex(inDims, outDims);
}

/** Refuse dtypes the op does not accept. */
export function expectType(ctx: Ctx, what: string, dtype: DType, allowed: readonly DType[]): void {
  if (!allowed.includes(dtype)) ctx.unsupported(`${what} has dtype ${dtype}; this operator accepts ${allowed.join(', ')}`);
}

/** Round values stored for narrow float dtypes (float16, bfloat16, float8...) in place. */
export function roundStored(dtype: DType, data: TensorData): void {
  if (dtype === 'float32' || dtype === 'float64' || !(data instanceof Float32Array)) return;
  const r = rounderFor(dtype);
  if (!r) return;
  for (let i = 0; i < data.length; i++) data[i] = r(data[i]);
}

/**
 * Before opset 7 the binary ops broadcast only with `broadcast=1`, aligning B at `axis` of A
 * (suffix alignment without it). Returns B's dims padded with trailing ones so numpy rules apply.
 */
export function legacyAlign<D extends Dim>(ctx: { attrs: Attrs; opset: number; fail(m: string): never }, a: readonly D[], b: readonly D[]): D[] {
  if (ctx.opset >= 7) return b.slice();
  const broadcast = ctx.attrs.int('broadcast', 0);
  if (!broadcast) {
    if (a.length !== b.length || a.some((d, i) => typeof d === 'number' && typeof b[i] === 'number' && d !== b[i])) {
      ctx.fail(`shapes [${a.join(',')}] and [${b.join(',')}] differ and broadcast=0 (opset ${ctx.opset})`);
    }
    return b.slice();
  }
  const axis = ctx.attrs.optInt('axis');
  if (axis === undefined) return b.slice();
  const ax = axis < 0 ? axis + a.length : axis;
  const trailing = a.length - ax - b.length;
  if (ax < 0 || trailing < 0) ctx.fail(`axis ${axis} does not fit B of rank ${b.length} into A of rank ${a.length}`);
  return [...b, ...new Array<D>(trailing).fill(1 as D)];
}

/**
 * PRelu before opset 7 had no numpy broadcasting: a slope of one element is shared, and a 1-D
 * slope of C elements is per channel (axis 1), as PyTorch exported it. Returns the slope's dims
 * aligned for numpy rules.
 */
export function legacySlope(ctx: { opset: number }, x: readonly number[], slope: readonly number[]): number[] {
  if (ctx.opset >= 7) return slope.slice();
  if (sizeOf(slope) === 1) return [];
  if (slope.length === 1 && x.length >= 2 && slope[0] === x[1]) return [slope[0], ...new Array<number>(x.length - 2).fill(1)];
  return slope.slice();
}

// ---------------------------------------------------------------------------------------------
// shape inference

export function typeOf(ctx: Pick<ShapeContext, 'fail'>, inputs: readonly (ValueType | undefined)[], i: number): ValueType {
  const t = inputs[i];
  if (!t) return ctx.fail(`input ${i} has no known type`);
  return t;
}

/** Output shape of broadcasting possibly symbolic shapes; undefined when any rank is unknown. */
export function inferBroadcast(ctx: Pick<ShapeContext, 'fail'>, shapes: readonly (Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => s === undefined)) return undefined;
  try {
    return broadcastDims(...(shapes as Dim[][]));
  } catch (e) {
    return ctx.fail((e as Error).message);
  }
}

function outDtypeOf(desc: ElementwiseScalar, inDtype: DType): DType {
  return desc.out === 'bool' ? 'bool' : inDtype;
}

// ---------------------------------------------------------------------------------------------
// the drivers

/** Apply a unary descriptor to one tensor. */
export function applyUnary(ctx: Ctx, desc: ElementwiseScalar, p: Params, x: Tensor): Tensor {
  const outDtype = outDtypeOf(desc, x.dtype);
  const n = x.size;
  const out = allocData(outDtype, n) as Elems;
  const xd = x.data as Elems;
  if (isBigInt(x.dtype)) {
    const fn = desc.big ?? ctx.unsupported(`no ${x.dtype} implementation`);
    const wrap = x.dtype === 'uint64' ? (v: bigint) => BigInt.asUintN(64, v) : (v: bigint) => BigInt.asIntN(64, v);
    for (let k = 0; k < n; k++) out[k] = wrap(fn(xd[k], 0n, p));
  } else {
    const fn = (isFloat(x.dtype) ? desc.f : desc.i ?? desc.f) ?? ctx.unsupported(`no ${x.dtype} implementation`);
    for (let k = 0; k < n; k++) out[k] = fn(xd[k], 0, p);
  }
  roundStored(outDtype, out as TensorData);
  return new Tensor(outDtype, x.dims, out as TensorData);
}

/** Apply a binary descriptor to two tensors of the same dtype, broadcasting to `outDims`. */
export function applyBinary(ctx: Ctx, desc: ElementwiseScalar, p: Params, a: Tensor, b: Tensor, bDims: readonly number[] = b.dims): Tensor {
  const outDims = broadcastOrFail(ctx, [a.dims, bDims]);
  const n = checkSize(ctx, outDims);
  const outDtype = outDtypeOf(desc, a.dtype);
  const out = allocData(outDtype, n) as Elems;
  const ia = indexMap(a.dims, outDims), ib = indexMap(bDims, outDims);
  const ad = a.data as Elems, bd = b.data as Elems;
  if (desc.cmp) {
    const fn = desc.cmp;
    for (let k = 0; k < n; k++) out[k] = fn(ad[ia ? ia[k] : k], bd[ib ? ib[k] : k]) ? 1 : 0;
  } else if (isBigInt(a.dtype)) {
    const fn = desc.big ?? ctx.unsupported(`no ${a.dtype} implementation`);
    const bits = a.dtype === 'uint64' ? BigInt.asUintN : BigInt.asIntN;
    for (let k = 0; k < n; k++) out[k] = bits(64, fn(ad[ia ? ia[k] : k], bd[ib ? ib[k] : k], p));
  } else {
    const fn = (isFloat(a.dtype) ? desc.f : desc.i) ?? ctx.unsupported(`no ${a.dtype} implementation`);
    for (let k = 0; k < n; k++) out[k] = fn(ad[ia ? ia[k] : k], bd[ib ? ib[k] : k], p);
  }
  roundStored(outDtype, out as TensorData);
  return new Tensor(outDtype, outDims, out as TensorData);
}

function required(ctx: Ctx, inputs: readonly (Tensor | undefined)[], i: number): Tensor {
  const t = inputs[i];
  if (!t) return ctx.fail(`input ${i} is required`);
  return t;
}

export { required as requiredInput };

/** Turn one descriptor of ELEMENTWISE_SCALAR into an OpDef. */
export function elementwiseOp(opType: string, desc: ElementwiseScalar = ELEMENTWISE_SCALAR[opType]): OpDef {
  if (!desc) throw new Error(`no elementwise descriptor for ${opType}`);
  const params = (ctx: OpContext): Params => (desc.params ? desc.params(ctx.attrs, ctx.fail, ctx.opset) : {});
  const traits = { ...(desc.out === 'bool' ? { ...desc.traits, rangeResetting: true } : desc.traits), elementwise: true };
  if (desc.arity === 1) {
    return {
      opType,
      sinceVersion: desc.since,
      traits: { ...traits, sameShape: true },
      inferShape(ctx, inputs) {
        const x = typeOf(ctx, inputs, 0);
        return [{ dtype: outDtypeOf(desc, x.dtype), shape: x.shape?.slice() }];
      },
      reference(ctx, inputs): RuntimeValue[] {
        const x = required(ctx, inputs, 0);
        expectType(ctx, 'input X', x.dtype, desc.types);
        return [applyUnary(ctx, desc, params(ctx), x)];
      },
    };
  }
  return {
    opType,
    sinceVersion: desc.since,
    traits,
    inferShape(ctx, inputs) {
      const a = typeOf(ctx, inputs, 0), b = typeOf(ctx, inputs, 1);
      const bShape = b.shape && a.shape && opType !== 'PRelu' ? legacyAlign(ctx, a.shape, b.shape) : b.shape;
      // PRelu is unidirectional (slope -> X), and before opset 7 its slope is per channel
      const shape = opType === 'PRelu' ? a.shape?.slice() : inferBroadcast(ctx, [a.shape, bShape]);
      return [{ dtype: outDtypeOf(desc, a.dtype), shape }];
    },
    reference(ctx, inputs): RuntimeValue[] {
      const a = required(ctx, inputs, 0), b = required(ctx, inputs, 1);
      expectType(ctx, 'input A', a.dtype, desc.types);
      if (b.dtype !== a.dtype) ctx.fail(`inputs must have the same dtype, got ${a.dtype} and ${b.dtype}`);
      const p = params(ctx);
      if (opType === 'Mod' && isFloat(a.dtype) && !p.fmod) ctx.fail('fmod must be 1 for floating-point inputs (ONNX Mod)');
      const bDims = opType === 'PRelu' ? legacySlope(ctx, a.dims, b.dims) : legacyAlign(ctx, a.dims, b.dims);
      const out = applyBinary(ctx, desc, p, a, b, bDims);
      if (opType === 'PRelu' && (out.rank !== a.rank || out.dims.some((d, i) => d !== a.dims[i]))) {
        ctx.fail(`slope of shape [${b.dims.join(',')}] does not broadcast to X of shape [${a.dims.join(',')}]`);
      }
      return [out];
    },
  };
}
