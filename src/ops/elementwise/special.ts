/**
 * Elementwise ops whose typing does not fit one row of the scalar table: Pow (base and exponent of
 * different dtypes), Clip (bounds as attributes before opset 11, optional inputs after) and Where
 * (a bool condition selecting between two tensors of any dtype, three-way broadcasting).
 */
import { isBigInt, isFloat, isInteger } from '../../ir/dtype';
import { allocData, Tensor, TensorData } from '../../ir/tensor';
import { OpDef, RuntimeValue } from '../types';
import {
  broadcastOrFail, checkSize, expectType, indexMap, inferBroadcast, legacyAlign, requiredInput, roundStored, typeOf,
} from './driver';
import { bigPow, FLOATS, intPow, NUMERIC } from './scalar-table';

type Elems = { [i: number]: any; length: number }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** C/numpy pow: 1^y = 1 and x^0 = 1 even for NaN; (-1)^±inf = 1 (Math.pow gives NaN there). */
export function cpow(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return Math.pow(x, y);
}

const POW_BASE = ['float32', 'float16', 'bfloat16', 'float64', 'int32', 'int64'] as const;

export const Pow: OpDef = {
  opType: 'Pow',
  traits: { elementwise: true },
  inferShape(ctx, inputs) {
    const a = typeOf(ctx, inputs, 0), b = typeOf(ctx, inputs, 1);
    const bShape = a.shape && b.shape ? legacyAlign(ctx, a.shape, b.shape) : b.shape;
    return [{ dtype: a.dtype, shape: inferBroadcast(ctx, [a.shape, bShape]) }];
  },
  reference(ctx, inputs): RuntimeValue[] {
    const x = requiredInput(ctx, inputs, 0), y = requiredInput(ctx, inputs, 1);
    // The spec lists int32/int64 and floats for the base; smaller ints are accepted as numpy does.
    expectType(ctx, 'input X', x.dtype, ctx.opset >= 12 ? NUMERIC : [...POW_BASE]);
    expectType(ctx, 'input Y', y.dtype, ctx.opset >= 12 ? NUMERIC : [x.dtype]);
    const yDims = legacyAlign(ctx, x.dims, y.dims);
    const outDims = broadcastOrFail(ctx, [x.dims, yDims]);
    const n = checkSize(ctx, outDims);
    const ix = indexMap(x.dims, outDims), iy = indexMap(yDims, outDims);
    const xd = x.data as Elems, yd = y.data as Elems;
    const out = allocData(x.dtype, n) as Elems;
    const yInt = isInteger(y.dtype);
    for (let k = 0; k < n; k++) {
      const a = xd[ix ? ix[k] : k], b = yd[iy ? iy[k] : k];
      if (isFloat(x.dtype)) out[k] = cpow(a, Number(b));
      else if (isBigInt(x.dtype)) {
        if (yInt) out[k] = bigPow(a, BigInt(b));
        else {
          const v = Math.trunc(cpow(Number(a), b));
          out[k] = Number.isFinite(v) ? BigInt(v) : 0n; // numpy-style float result cast back to int
        }
        out[k] = x.dtype === 'uint64' ? BigInt.asUintN(64, out[k]) : BigInt.asIntN(64, out[k]);
      } else if (yInt) {
        const e = typeof b === 'bigint' ? (b > 1000n ? 1000 + Number(b % 2n) : b < -1000n ? -1000 - Number(-b % 2n) : Number(b)) : b;
        out[k] = intPow(a, e);
      } else out[k] = Math.trunc(cpow(a, b));
    }
    roundStored(x.dtype, out as TensorData);
    return [new Tensor(x.dtype, outDims, out as TensorData)];
  },
};

export const Clip: OpDef = {
  opType: 'Clip',
  traits: { elementwise: true },
  inferShape(ctx, inputs) {
    const x = typeOf(ctx, inputs, 0);
    return [{ dtype: x.dtype, shape: x.shape?.slice() }];
  },
  reference(ctx, inputs): RuntimeValue[] {
    const x = requiredInput(ctx, inputs, 0);
    expectType(ctx, 'input', x.dtype, ctx.opset >= 12 ? NUMERIC : FLOATS);
    const big = isBigInt(x.dtype);
    let lo: number | bigint, hi: number | bigint;
    if (ctx.opset < 11) {
      lo = ctx.attrs.float('min', -3.4028234663852886e38);
      hi = ctx.attrs.float('max', 3.4028234663852886e38);
    } else {
      const bound = (i: number): number | bigint | undefined => {
        const t = inputs[i];
        if (!t) return undefined;
        if (t.size !== 1) ctx.fail(`input ${i} (${i === 1 ? 'min' : 'max'}) must be a scalar, got [${t.dims.join(',')}]`);
        if (t.dtype !== x.dtype) ctx.fail(`input ${i} has dtype ${t.dtype}, X has ${x.dtype}`);
        return t.data[0] as number | bigint;
      };
      lo = bound(1) ?? (big ? (x.dtype === 'uint64' ? 0n : -(2n ** 63n)) : -Infinity);
      hi = bound(2) ?? (big ? (x.dtype === 'uint64' ? 2n ** 64n - 1n : 2n ** 63n - 1n) : Infinity);
    }
    const n = x.size;
    const xd = x.data as Elems;
    const out = allocData(x.dtype, n) as Elems;
    // numpy.clip order: max with lo first, then min with hi (so lo > hi gives hi everywhere).
    for (let k = 0; k < n; k++) {
      let v = xd[k];
      if (v < lo) v = lo;
      if (v > hi) v = hi;
      out[k] = v;
    }
    roundStored(x.dtype, out as TensorData);
    return [new Tensor(x.dtype, x.dims, out as TensorData)];
  },
};

export const Where: OpDef = {
  opType: 'Where',
  sinceVersion: 9,
  traits: { elementwise: true },
  inferShape(ctx, inputs) {
    const c = typeOf(ctx, inputs, 0), x = typeOf(ctx, inputs, 1), y = typeOf(ctx, inputs, 2);
    return [{ dtype: x.dtype, shape: inferBroadcast(ctx, [c.shape, x.shape, y.shape]) }];
  },
  reference(ctx, inputs): RuntimeValue[] {
    const c = requiredInput(ctx, inputs, 0), x = requiredInput(ctx, inputs, 1), y = requiredInput(ctx, inputs, 2);
    if (c.dtype !== 'bool') ctx.fail(`condition must be bool, got ${c.dtype}`);
    if (x.dtype !== y.dtype) ctx.fail(`X and Y must share one dtype, got ${x.dtype} and ${y.dtype}`);
    const outDims = broadcastOrFail(ctx, [c.dims, x.dims, y.dims]);
    const n = checkSize(ctx, outDims);
    const ic = indexMap(c.dims, outDims), ix = indexMap(x.dims, outDims), iy = indexMap(y.dims, outDims);
    const cd = c.data as Uint8Array, xd = x.data as Elems, yd = y.data as Elems;
    const out = allocData(x.dtype, n) as Elems;
    for (let k = 0; k < n; k++) out[k] = cd[ic ? ic[k] : k] ? xd[ix ? ix[k] : k] : yd[iy ? iy[k] : k];
    return [new Tensor(x.dtype, outDims, out as TensorData)];
  },
};

export const SPECIAL_OPS: OpDef[] = [Pow, Clip, Where];
