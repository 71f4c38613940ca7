/**
 * The Reduce* operators. Axes come from the `axes` attribute before opset 13 (ReduceSum) or 18
 * (the others) and from the optional second input from then on, with `noop_with_empty_axes`.
 * Reducing over no axes (noop) reduces each element alone, which is what the ONNX function bodies
 * of L1/L2/LogSum/LogSumExp/SumSquare compute (e.g. SumSquare gives x*x).
 * Empty reductions give the identity: 0 for sums, 1 for Prod, -inf/+inf (or the integer type's
 * min/max, false/true for bool) for Max/Min, -inf for LogSum/LogSumExp, NaN for Mean.
 */
import { DType, integerRange, isBigInt, isFloat } from '../../ir/dtype';
import { ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import type { KernelContext } from '../../kernel/contract';
import { OpDef, ShapeContext } from '../types';
import { reduceKernel } from './gpu';
import {
  arithFor, axisOrFail, checkDType, checkSize, FLOATS, intValues, IntArith, numeric, reducedShape, reducePlan,
} from '../util/reduce-common';

type Num = number | bigint;

interface ReduceKind {
  opType: string;
  /** Opset from which axes is an input. */
  axesInputSince: number;
  dtypes: readonly DType[];
  /** Float semantics over a group (numbers, float64 arithmetic). */
  float(v: number[]): number;
  /** Exact integer semantics where they differ from rounding the float result. */
  int?(v: Num[], ar: IntArith, dtype: DType): Num;
}

const INTS: readonly DType[] = ['int32', 'int64', 'uint32', 'uint64'];
const SUMLIKE = [...FLOATS, ...INTS];
const MINMAX: readonly DType[] = [...FLOATS, ...INTS, 'int8', 'uint8', 'int16', 'uint16', 'bool'];

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const isum = (v: Num[], ar: IntArith) => v.reduce((a, b) => ar.add(a, b), ar.zero);

function extreme(v: Num[], dtype: DType, max: boolean): Num {
  if (v.length === 0) {
    if (isFloat(dtype)) return max ? -Infinity : Infinity;
    if (dtype === 'int64') return max ? -(2n ** 63n) : 2n ** 63n - 1n;
    if (dtype === 'uint64') return max ? 0n : 2n ** 64n - 1n;
    const [lo, hi] = integerRange(dtype);
    return max ? lo : hi;
  }
  let m = v[0];
  for (const x of v) {
    if (typeof x === 'number' && Number.isNaN(x)) return NaN; // numpy propagates NaN
    if (max ? x > m : x < m) m = x;
  }
  return m;
}

const KINDS: ReduceKind[] = [
  { opType: 'ReduceSum', axesInputSince: 13, dtypes: SUMLIKE, float: sum, int: isum },
  {
    opType: 'ReduceMean', axesInputSince: 18, dtypes: SUMLIKE, float: (v) => sum(v) / v.length,
    int: (v, ar, dt) => {
      const s = isum(v, ar);
      if (v.length === 0) return 0; // NaN cast to an integer type
      return isBigInt(dt) ? (s as bigint) / BigInt(v.length) : Math.trunc((s as number) / v.length);
    },
  },
  { opType: 'ReduceMax', axesInputSince: 18, dtypes: MINMAX, float: (v) => extreme(v, 'float64', true) as number, int: (v, _ar, dt) => extreme(v, dt, true) },
  { opType: 'ReduceMin', axesInputSince: 18, dtypes: MINMAX, float: (v) => extreme(v, 'float64', false) as number, int: (v, _ar, dt) => extreme(v, dt, false) },
  { opType: 'ReduceProd', axesInputSince: 18, dtypes: SUMLIKE, float: (v) => v.reduce((a, b) => a * b, 1), int: (v, ar) => v.reduce((a, b) => ar.mul(a, b), ar.one) },
  { opType: 'ReduceL1', axesInputSince: 18, dtypes: SUMLIKE, float: (v) => sum(v.map(Math.abs)), int: (v, ar) => isum(v.map((x) => (x < 0 ? -x : x) as Num), ar) },
  { opType: 'ReduceL2', axesInputSince: 18, dtypes: SUMLIKE, float: (v) => Math.sqrt(sum(v.map((x) => x * x))) },
  { opType: 'ReduceLogSum', axesInputSince: 18, dtypes: SUMLIKE, float: (v) => Math.log(sum(v)) },
  {
    opType: 'ReduceLogSumExp', axesInputSince: 18, dtypes: SUMLIKE,
    float: (v) => {
      const m = v.reduce((a, b) => Math.max(a, b), -Infinity);
      if (!Number.isFinite(m)) return Number.isNaN(m) ? NaN : m === Infinity ? Infinity : Math.log(sum(v.map(Math.exp)));
      return m + Math.log(sum(v.map((x) => Math.exp(x - m))));
    },
  },
  { opType: 'ReduceSumSquare', axesInputSince: 18, dtypes: SUMLIKE, float: (v) => sum(v.map((x) => x * x)), int: (v, ar) => isum(v.map((x) => ar.mul(x, x)), ar) },
];

/** The reduction's axes (normalized) or 'noop'; 'unknown' when the axes input is not known. */
function readAxes(ctx: Pick<ShapeContext, 'opset' | 'attrs' | 'fail'>, kind: Pick<ReduceKind, 'axesInputSince'>, rank: number, axesInput: Tensor | undefined, hasAxesInput: boolean): number[] | 'unknown' {
  let axes: number[];
  let noop = 0;
  if (ctx.opset >= kind.axesInputSince) {
    if (ctx.attrs.has('axes')) ctx.fail(`the 'axes' attribute was replaced by an input at opset ${kind.axesInputSince}`);
    noop = ctx.attrs.int('noop_with_empty_axes', 0);
    if (hasAxesInput && !axesInput) return 'unknown';
    axes = axesInput ? intValues(axesInput) : [];
    if (axesInput && axesInput.rank > 1) ctx.fail(`axes must be a 1-D tensor, got rank ${axesInput.rank}`);
  } else {
    axes = ctx.attrs.ints('axes', []);
  }
  if (axes.length === 0) return noop ? [] : Array.from({ length: rank }, (_, i) => i);
  const norm = axes.map((a) => axisOrFail(a, rank, (m) => ctx.fail(m), 'axes entry'));
  if (new Set(norm).size !== norm.length) ctx.fail(`axes [${axes.join(',')}] repeat an axis`);
  return norm;
}

/**
 * The axes of a reduction whose axes input is only known at run time, recovered from the static
 * input and output shapes the engine is built for (the axes decide the output shape, so the shapes
 * pin them down). Size-1 axes do not matter either way. Unsupported when two different sets of
 * axes would give the same output shape (keepdims=0 with equal neighbouring dims): undefined, and
 * the kernel reads the axes on the GPU.
 */
function axesFromShapes(ctx: KernelContext, inDims: readonly number[], outDims: readonly number[], keepdims: boolean): number[] | undefined {
  const rank = inDims.length;
  if (keepdims) {
    if (outDims.length !== rank) return ctx.fail(`output rank ${outDims.length} differs from the input rank ${rank} with keepdims=1`);
    return inDims.map((_, a) => a).filter((a) => outDims[a] !== inDims[a] || inDims[a] === 1);
  }
  // embeddings of the output dims as a subsequence of the input dims; distinct up to size-1 axes
  const found = new Set<string>();
  let axes: number[] = [];
  const walk = (a: number, o: number, red: number[]) => {
    if (found.size > 1) return;
    if (o === outDims.length) {
      const all = [...red, ...Array.from({ length: rank - a }, (_, k) => a + k)];
      const key = all.filter((k) => inDims[k] !== 1).join(',');
      if (!found.has(key)) { found.add(key); axes = all; }
      return;
    }
    if (a === rank) return;
    if (inDims[a] === outDims[o]) walk(a + 1, o + 1, red);
    walk(a + 1, o, [...red, a]);
  };
  walk(0, 0, []);
  return found.size === 1 ? axes : undefined;
}

function makeReduce(kind: ReduceKind): OpDef {
  return {
    opType: kind.opType,
    kernel(ctx) {
      const x = ctx.inputs[0]!;
      const hasAxesInput = ctx.opset >= kind.axesInputSince && !!ctx.inputs[1];
      const axesT = hasAxesInput ? ctx.inputs[1]!.constant : undefined;
      const axes = hasAxesInput && !axesT
        ? axesFromShapes(ctx, x.dims, ctx.outputs[0].dims, ctx.attrs.int('keepdims', 1) !== 0)
        : readAxes(ctx, kind, x.dims.length, axesT, false) as number[];
      return reduceKernel(ctx, kind.opType, axes ?? 'runtime');
    },
    inferShape(ctx, inputs): ValueType[] {
      const x = inputs[0]!;
      const keepdims = ctx.attrs.int('keepdims', 1) !== 0;
      if (!x.shape) return [{ dtype: x.dtype, shape: undefined }];
      const hasAxesInput = ctx.opset >= kind.axesInputSince && !!inputs[1];
      const axes = readAxes(ctx, kind, x.shape.length, hasAxesInput ? ctx.constant(1) : undefined, hasAxesInput);
      if (axes === 'unknown') return [{ dtype: x.dtype, shape: undefined }];
      return [{ dtype: x.dtype, shape: reducedShape(x.shape, axes, keepdims) }];
    },
    reference(ctx, inputs) {
      const x = inputs[0]!;
      checkDType(x.dtype, kind.dtypes, (m) => ctx.fail(m));
      if (x.dtype === 'bool' && ctx.opset < 20) ctx.fail('bool inputs need opset 20 or later');
      const keepdims = ctx.attrs.int('keepdims', 1) !== 0;
      const axesIn = ctx.opset >= kind.axesInputSince ? inputs[1] : undefined;
      const axes = readAxes(ctx, kind, x.rank, axesIn, false) as number[];
      const plan = reducePlan(x.dims, axes);
      const outDims = keepdims ? plan.keptDims : plan.droppedDims;
      checkSize(outDims, (m) => ctx.fail(m));
      const data = numeric(x);
      const n = plan.base.length, m = plan.off.length;
      const out = new Array<Num>(n);
      const exactInt = !isFloat(x.dtype) && kind.int;
      const ar = arithFor(x.dtype);
      const group = new Array<Num>(m);
      for (let o = 0; o < n; o++) {
        for (let r = 0; r < m; r++) group[r] = data[plan.base[o] + plan.off[r]];
        out[o] = exactInt ? kind.int!(group, ar, x.dtype) : kind.float(group.map(Number));
      }
      return [Tensor.from(x.dtype, outDims, out)];
    },
  };
}

export const REDUCE_DEFS: OpDef[] = KINDS.map(makeReduce);
