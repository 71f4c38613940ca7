/**
 * Sequence and optional operators. A sequence is a Tensor[] at run time, an empty optional is null
 * (see RuntimeValue); ctx.values carries them since `inputs` holds tensors only.
 */
import { dtypeFromOnnx, DType } from '../../ir/dtype';
import { Dim, Graph, ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef, RuntimeValue, ShapeContext } from '../types';
import { concatAlong, scalarOf, sliceAlong, stackAlong, takeAlong } from '../util/control-tensor';

function seqAt(ctx: OpContext, i: number): Tensor[] {
  const v = ctx.values[i];
  if (!Array.isArray(v)) ctx.fail(`input ${i} must be a sequence, got ${v === null ? 'an empty optional' : v === undefined ? 'nothing' : 'a tensor'}`);
  return v;
}

/** Normalize a sequence position; `end` allows position == length (insert). */
function position(ctx: OpContext, t: Tensor | undefined, n: number, dflt: number, end: boolean): number {
  if (!t) return dflt;
  const p = scalarOf(t, 'position', ctx.fail);
  const hi = end ? n : n - 1;
  if (p < -n || p > hi) ctx.fail(`position ${p} is out of range [${-n}, ${hi}] for a sequence of length ${n}`);
  return p < 0 ? p + n : p;
}

function seqType(dtype: DType, shape?: Dim[]): ValueType {
  return { kind: 'sequence', dtype, shape };
}

export const SequenceEmpty: OpDef = {
  opType: 'SequenceEmpty',
  inferShape(ctx: ShapeContext) {
    return [seqType(dtypeFromOnnx(ctx.attrs.int('dtype', 1)) ?? ctx.fail('unknown dtype'))];
  },
  reference(ctx: OpContext) {
    const code = ctx.attrs.int('dtype', 1);
    if (!dtypeFromOnnx(code)) ctx.fail(`unknown dtype ${code}`);
    return [[]];
  },
};

export const SequenceConstruct: OpDef = {
  opType: 'SequenceConstruct',
  inferShape(ctx: ShapeContext, inputs) {
    const f = inputs[0];
    if (!f) ctx.fail('SequenceConstruct needs at least one input');
    const same = inputs.every((t) => t?.shape && f.shape && t.shape.length === f.shape.length && t.shape.every((d, i) => d === f.shape![i]));
    return [seqType(f.dtype, same ? f.shape : undefined)];
  },
  reference(ctx: OpContext, inputs) {
    if (!inputs.length) ctx.fail('SequenceConstruct needs at least one input');
    const ts = inputs.map((t, i) => t ?? ctx.fail(`input ${i} must be a tensor`));
    for (const t of ts) if (t.dtype !== ts[0].dtype) ctx.fail(`all inputs must share one dtype (${ts[0].dtype} vs ${t.dtype})`);
    return [ts];
  },
};

export const SequenceInsert: OpDef = {
  opType: 'SequenceInsert',
  inferShape(_ctx, [s]) {
    return [seqType(s?.dtype ?? 'float32', undefined)];
  },
  reference(ctx: OpContext, [, t, pos]) {
    const s = seqAt(ctx, 0);
    if (!t) ctx.fail('tensor input must be a tensor');
    if (s.length && s[0].dtype !== t.dtype) ctx.fail(`cannot insert ${t.dtype} into a sequence of ${s[0].dtype}`);
    const p = position(ctx, pos, s.length, s.length, true);
    const out = s.slice();
    out.splice(p, 0, t);
    return [out];
  },
};

export const SequenceAt: OpDef = {
  opType: 'SequenceAt',
  inferShape(_ctx, [s]) {
    return [{ dtype: s?.dtype ?? 'float32', shape: s?.shape }];
  },
  reference(ctx: OpContext, [, pos]) {
    const s = seqAt(ctx, 0);
    if (!pos) ctx.fail('position is required');
    return [s[position(ctx, pos, s.length, 0, false)]];
  },
};

export const SequenceErase: OpDef = {
  opType: 'SequenceErase',
  inferShape(_ctx, [s]) {
    return [s ?? seqType('float32')];
  },
  reference(ctx: OpContext, [, pos]) {
    const s = seqAt(ctx, 0);
    if (!s.length) ctx.fail('cannot erase from an empty sequence');
    const p = position(ctx, pos, s.length, s.length - 1, false);
    const out = s.slice();
    out.splice(p, 1);
    return [out];
  },
};

export const SequenceLength: OpDef = {
  opType: 'SequenceLength',
  inferShape() {
    return [{ dtype: 'int64', shape: [] }];
  },
  reference(ctx: OpContext) {
    return [Tensor.scalar('int64', BigInt(seqAt(ctx, 0).length))];
  },
};

export const SplitToSequence: OpDef = {
  opType: 'SplitToSequence',
  inferShape(_ctx, [x]) {
    return [seqType(x?.dtype ?? 'float32', undefined)];
  },
  reference(ctx: OpContext, [x, split]) {
    if (!x) ctx.fail('input is required');
    const r = x.dims.length;
    const axisAttr = ctx.attrs.int('axis', 0);
    const keepdims = ctx.attrs.int('keepdims', 1);
    const axis = axisAttr < 0 ? axisAttr + r : axisAttr;
    if (axis < 0 || axis >= r) ctx.fail(`axis ${axisAttr} is out of range for rank ${r}`);
    const len = x.dims[axis];
    if (!split) {
      const out: Tensor[] = [];
      for (let i = 0; i < len; i++) out.push(keepdims ? sliceAlong(x, axis, i, 1) : takeAlong(x, axis, i));
      return [out];
    }
    let sizes: number[];
    const sv = Array.from(split.data as ArrayLike<number | bigint>, Number);
    if (split.dims.length === 0) {
      const c = sv[0];
      if (!(c > 0)) ctx.fail(`split must be positive, got ${c}`);
      sizes = [];
      for (let s = 0; s < len; s += c) sizes.push(Math.min(c, len - s));
    } else {
      if (split.dims.length !== 1) ctx.fail('split must be a scalar or 1-D');
      sizes = sv;
      if (sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== len) ctx.fail(`split [${sizes.join(',')}] does not sum to the axis length ${len}`);
    }
    const out: Tensor[] = [];
    let start = 0;
    for (const s of sizes) {
      out.push(sliceAlong(x, axis, start, s));
      start += s;
    }
    return [out];
  },
};

export const ConcatFromSequence: OpDef = {
  opType: 'ConcatFromSequence',
  inferShape(ctx: ShapeContext, [s]) {
    const newAxis = ctx.attrs.int('new_axis', 0);
    const axis = ctx.attrs.int('axis');
    if (!s?.shape) return [{ dtype: s?.dtype ?? 'float32', shape: undefined }];
    const r = s.shape.length + (newAxis ? 1 : 0);
    const a = axis < 0 ? axis + r : axis;
    if (a < 0 || a >= r) ctx.fail(`axis ${axis} is out of range for rank ${r}`);
    const shape = newAxis ? [...s.shape.slice(0, a), 'seq_len', ...s.shape.slice(a)] : s.shape.map((d, i) => (i === a ? 'concat_len' : d));
    return [{ dtype: s.dtype, shape }];
  },
  reference(ctx: OpContext) {
    const s = seqAt(ctx, 0);
    const newAxis = ctx.attrs.int('new_axis', 0);
    const axis = ctx.attrs.int('axis');
    if (!s.length) ctx.fail('cannot concatenate an empty sequence');
    const r = s[0].dims.length + (newAxis ? 1 : 0);
    const a = axis < 0 ? axis + r : axis;
    if (a < 0 || a >= r) ctx.fail(`axis ${axis} is out of range for rank ${r}`);
    return [newAxis ? stackAlong(s, a, ctx.fail) : concatAlong(s, a, ctx.fail)];
  },
};

export const SequenceMap: OpDef = {
  opType: 'SequenceMap',
  inferShape(ctx: ShapeContext) {
    const g = ctx.attrs.graph('body') ?? ctx.fail("required graph attribute 'body' is missing");
    return g.outputs.map((o) => seqType(g.types.get(o)?.dtype ?? 'float32', undefined));
  },
  reference(ctx: OpContext) {
    const g: Graph = ctx.attrs.graph('body') ?? ctx.fail("required graph attribute 'body' is missing");
    const s = seqAt(ctx, 0);
    const extra = ctx.values.slice(1);
    for (const [k, v] of extra.entries()) {
      if (Array.isArray(v) && v.length !== s.length) ctx.fail(`sequence input ${k + 1} has length ${v.length}, expected ${s.length}`);
      if (v === undefined || v === null) ctx.fail(`input ${k + 1} is missing`);
    }
    const outs: Tensor[][] = g.outputs.map(() => []);
    for (let i = 0; i < s.length; i++) {
      const args: RuntimeValue[] = [s[i], ...extra.map((v) => (Array.isArray(v) ? v[i] : (v as Tensor)))];
      const res = ctx.runGraph(g, args);
      res.forEach((r, k) => {
        if (!(r instanceof Tensor)) ctx.fail(`body output ${k} must be a tensor`);
        outs[k].push(r);
      });
    }
    return outs;
  },
};

export const Optional: OpDef = {
  opType: 'Optional',
  sinceVersion: 15,
  inferShape(ctx: ShapeContext, [x]) {
    if (x) return [{ kind: 'optional', dtype: x.dtype, shape: x.shape, elemKind: x.kind === 'sequence' ? 'sequence' : 'tensor' }];
    const a = ctx.node.attrs.get('type');
    const t = a?.value as ValueType | undefined;
    if (!t) ctx.fail("an Optional without input needs the 'type' attribute");
    return [{ kind: 'optional', dtype: t.dtype, shape: t.shape, elemKind: t.kind === 'sequence' ? 'sequence' : 'tensor' }];
  },
  reference(ctx: OpContext) {
    const v = ctx.values[0];
    if (v === undefined && !ctx.attrs.has('type')) ctx.fail("an Optional without input needs the 'type' attribute");
    return [v === undefined ? null : v];
  },
};

export const OptionalHasElement: OpDef = {
  opType: 'OptionalHasElement',
  sinceVersion: 15,
  inferShape() {
    return [{ dtype: 'bool', shape: [] }];
  },
  reference(ctx: OpContext) {
    const v = ctx.values[0];
    return [Tensor.scalar('bool', v !== undefined && v !== null)];
  },
};

export const OptionalGetElement: OpDef = {
  opType: 'OptionalGetElement',
  sinceVersion: 15,
  inferShape(_ctx, [x]) {
    if (!x) return [{ dtype: 'float32', shape: undefined }];
    const kind = x.kind === 'optional' ? x.elemKind ?? 'tensor' : x.kind ?? 'tensor';
    return [{ kind, dtype: x.dtype, shape: x.shape }];
  },
  reference(ctx: OpContext) {
    const v = ctx.values[0];
    if (v === undefined || v === null) ctx.fail('the optional input is empty');
    return [v];
  },
};

export const SEQUENCE_OPS: OpDef[] = [
  SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceAt, SequenceErase, SequenceLength,
  SplitToSequence, ConcatFromSequence, SequenceMap, Optional, OptionalHasElement, OptionalGetElement,
];
