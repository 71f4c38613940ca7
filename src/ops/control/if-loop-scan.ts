/**
 * If, Loop and Scan: operators whose bodies are subgraphs. Bodies run through ctx.runGraph, which
 * gives them the enclosing scope (outer-scope values) as ONNX requires.
 */
import { Dim, Graph, ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef, RuntimeValue, ShapeContext } from '../types';
import { concatAlong, stackAlong, takeAlong, zerosChecked } from '../util/control-tensor';

/**
 * Most iterations a Loop may run (mutable for tests and for callers that need more) before the reference gives up: a model whose loop has neither a
 * trip count nor a condition that turns false would otherwise hang the process.
 */
export const loopLimits = { maxIterations: 1 << 24 };

function body(ctx: { attrs: { graph(n: string): Graph | undefined }; fail(m: string): never }, name: string): Graph {
  return ctx.attrs.graph(name) ?? ctx.fail(`required graph attribute '${name}' is missing`);
}

/** Merge two possibly different types of the same output (If branches): keep what agrees. */
function mergeTypes(a: ValueType | undefined, b: ValueType | undefined): ValueType | undefined {
  if (!a) return b;
  if (!b) return a;
  let shape: Dim[] | undefined;
  if (a.shape && b.shape && a.shape.length === b.shape.length) {
    shape = a.shape.map((d, i) => (d === b.shape![i] ? d : `?${i}`));
  }
  return { ...a, shape };
}

function truthy(t: Tensor | undefined, ctx: OpContext, what: string): boolean {
  if (!t) ctx.fail(`${what} is missing`);
  if (t.size !== 1) ctx.fail(`${what} must hold one value, got dims [${t.dims.join(',')}]`);
  return Number(t.data[0]) !== 0;
}

export const If: OpDef = {
  opType: 'If',
  inferShape(ctx: ShapeContext) {
    const t = body(ctx, 'then_branch'), e = body(ctx, 'else_branch');
    if (t.outputs.length !== e.outputs.length) ctx.fail(`then_branch has ${t.outputs.length} outputs, else_branch ${e.outputs.length}`);
    // a condition known at build time: the types of the branch taken (the other may not even fit these shapes)
    const cond = ctx.constant(0);
    if (cond && cond.size === 1) {
      const g = Number(cond.data[0]) !== 0 ? t : e;
      const gi = ctx.inferGraph?.(g, []) ?? [];
      return g.outputs.map((o, k) => gi[k] ?? g.types.get(o) ?? { dtype: 'float32', shape: undefined });
    }
    // otherwise what both agree on; a branch that cannot run with these shapes gives no information
    // (the reference fails if it is taken; the GPU builder's unroll pass reports it)
    const attempt = (g: Graph): (ValueType | undefined)[] | undefined => {
      try {
        return ctx.inferGraph?.(g, []) ?? [];
      } catch {
        return undefined;
      }
    };
    const ei = attempt(e);
    let ti = attempt(t);
    if (!ti && !ei) ti = ctx.inferGraph?.(t, []) ?? []; // both fail: the first error
    if (!ti) return e.outputs.map((o, k) => e.types.get(o) ?? ei![k] ?? { dtype: 'float32', shape: undefined });
    if (!ei) return t.outputs.map((o, k) => t.types.get(o) ?? ti![k] ?? { dtype: 'float32', shape: undefined });
    return t.outputs.map((o, k) => mergeTypes(t.types.get(o) ?? ti![k], e.types.get(e.outputs[k]) ?? ei![k]) ?? { dtype: 'float32', shape: undefined });
  },
  reference(ctx: OpContext, [cond]) {
    const branch = truthy(cond, ctx, 'cond') ? body(ctx, 'then_branch') : body(ctx, 'else_branch');
    const outs = ctx.runGraph(branch, []);
    if (outs.length < ctx.outputCount) ctx.fail(`the branch produced ${outs.length} outputs, the node declares ${ctx.outputCount}`);
    return outs;
  },
};

export const Loop: OpDef = {
  opType: 'Loop',
  inferShape(ctx: ShapeContext, inputs) {
    const g = body(ctx, 'body');
    const nCarried = inputs.length - 2;
    const inferred = ctx.inferGraph?.(g, [{ dtype: 'int64', shape: [] }, { dtype: 'bool', shape: [] }, ...inputs.slice(2)]) ?? [];
    const bodyType = (k: number) => g.types.get(g.outputs[k]) ?? inferred[k];
    const out: ValueType[] = [];
    for (let k = 0; k < ctx.outputCount; k++) {
      if (k < nCarried) {
        // Loop-carried values keep their dtype; the shape may change per iteration unless body says it doesn't.
        const init = inputs[k + 2];
        const bt = bodyType(k + 1);
        const shape = init?.shape && bt?.shape && init.shape.length === bt.shape.length && init.shape.every((d, i) => d === bt.shape![i]) ? init.shape : undefined;
        out.push({ ...(init ?? bt ?? { dtype: 'float32' }), shape });
      } else {
        const bt = bodyType(k + 1);
        out.push({ dtype: bt?.dtype ?? 'float32', shape: bt?.shape ? ['loop_iterations', ...bt.shape] : undefined });
      }
    }
    return out;
  },
  reference(ctx: OpContext, [M]) {
    const g = body(ctx, 'body');
    const vals = ctx.values;
    const nCarried = vals.length - 2;
    if (nCarried < 0) ctx.fail('Loop needs the inputs M and cond (either may be empty)');
    if (g.inputs.length !== nCarried + 2) ctx.fail(`body takes ${g.inputs.length} inputs, expected 2 + ${nCarried} loop-carried values`);
    const nScan = g.outputs.length - 1 - nCarried;
    if (nScan < 0) ctx.fail(`body has ${g.outputs.length} outputs, expected at least 1 + ${nCarried}`);
    let tripCount = Infinity;
    if (M) {
      if (M.size !== 1) ctx.fail('M must be a scalar');
      const m = M.data[0];
      tripCount = typeof m === 'bigint' ? (m > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(m)) : Number(m);
    }
    const condIn = vals[1] instanceof Tensor ? vals[1] : undefined;
    let cond = condIn ? truthy(condIn, ctx, 'cond') : true;
    let carried: (RuntimeValue | undefined)[] = vals.slice(2);
    const scans: Tensor[][] = Array.from({ length: nScan }, () => []);
    let i = 0;
    while (cond && i < tripCount) {
      if (i >= loopLimits.maxIterations) {
        ctx.fail(`the loop ran ${loopLimits.maxIterations} iterations without ending (trip count ${M ? String(M.data[0]) : 'absent'}); vkrt refuses unbounded loops`);
      }
      const outs = ctx.runGraph(g, [Tensor.scalar('int64', BigInt(i)), Tensor.scalar('bool', cond), ...carried]);
      const c = outs[0];
      if (!(c instanceof Tensor)) ctx.fail('body output cond must be a tensor');
      cond = truthy(c, ctx, 'body output cond');
      carried = outs.slice(1, 1 + nCarried);
      for (let k = 0; k < nScan; k++) {
        const s = outs[1 + nCarried + k];
        if (!(s instanceof Tensor)) ctx.fail(`scan output ${k} must be a tensor`);
        scans[k].push(s);
      }
      i++;
    }
    const scanOuts = scans.map((list, k) => {
      if (list.length) return stackAlong(list, 0, ctx.fail);
      // Zero iterations: an empty tensor shaped like the body's declared output where known.
      const bt = g.types.get(g.outputs[1 + nCarried + k]);
      const rest = bt?.shape && bt.shape.every((d) => typeof d === 'number') ? (bt.shape as number[]) : [];
      return zerosChecked(bt?.dtype ?? 'float32', [0, ...rest], ctx.fail);
    });
    return [...(carried as RuntimeValue[]), ...scanOuts];
  },
};

/** Scan at opset 9+: no batch axis, per-input/output axes and directions. */
function scan9(ctx: OpContext, inputs: readonly (Tensor | undefined)[]): Tensor[] {
  const g = body(ctx, 'body');
  const M = ctx.attrs.int('num_scan_inputs');
  const N = inputs.length - M;
  if (M < 1 || N < 0) ctx.fail(`num_scan_inputs ${M} does not fit ${inputs.length} inputs`);
  const K = g.outputs.length - N;
  if (K < 0) ctx.fail(`body has ${g.outputs.length} outputs, fewer than the ${N} state variables`);
  const inAxes = ctx.attrs.ints('scan_input_axes', new Array<number>(M).fill(0));
  const inDirs = ctx.attrs.ints('scan_input_directions', new Array<number>(M).fill(0));
  const outAxes = ctx.attrs.ints('scan_output_axes', new Array<number>(K).fill(0));
  const outDirs = ctx.attrs.ints('scan_output_directions', new Array<number>(K).fill(0));
  if (inAxes.length !== M || inDirs.length !== M) ctx.fail('scan_input_axes/scan_input_directions must have num_scan_inputs entries');
  if (outAxes.length !== K || outDirs.length !== K) ctx.fail(`scan_output_axes/scan_output_directions must have ${K} entries`);
  const scanIn = inputs.slice(N).map((t, j) => {
    if (!t) ctx.fail(`scan input ${j} is missing`);
    const r = t.dims.length;
    const a = inAxes[j] < 0 ? inAxes[j] + r : inAxes[j];
    if (a < 0 || a >= r) ctx.fail(`scan_input_axes[${j}] = ${inAxes[j]} is out of range for rank ${r}`);
    return { t, a };
  });
  const len = scanIn[0].t.dims[scanIn[0].a];
  for (const s of scanIn) if (s.t.dims[s.a] !== len) ctx.fail(`scan inputs disagree on the sequence length (${len} vs ${s.t.dims[s.a]})`);
  let state: RuntimeValue[] = inputs.slice(0, N).map((t, k) => t ?? ctx.fail(`state input ${k} is missing`));
  const outs: Tensor[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < len; i++) {
    const slices = scanIn.map(({ t, a }, j) => takeAlong(t, a, inDirs[j] ? len - 1 - i : i));
    const res = ctx.runGraph(g, [...state, ...slices]);
    state = res.slice(0, N);
    for (let k = 0; k < K; k++) {
      const v = res[N + k];
      if (!(v instanceof Tensor)) ctx.fail(`scan output ${k} must be a tensor`);
      outs[k].push(v);
    }
  }
  const scanOuts = outs.map((list, k) => {
    const dir = outDirs[k];
    if (!list.length) {
      const bt = g.types.get(g.outputs[N + k]);
      const rest = bt?.shape && bt.shape.every((d) => typeof d === 'number') ? (bt.shape as number[]) : [];
      return zerosChecked(bt?.dtype ?? 'float32', [0, ...rest], ctx.fail);
    }
    const r = list[0].dims.length + 1;
    const a = outAxes[k] < 0 ? outAxes[k] + r : outAxes[k];
    if (a < 0 || a >= r) ctx.fail(`scan_output_axes[${k}] = ${outAxes[k]} is out of range for rank ${r}`);
    return stackAlong(dir ? list.slice().reverse() : list, a, ctx.fail);
  });
  return [...(state as Tensor[]), ...scanOuts];
}

/** Scan at opset 8: inputs carry a leading batch axis and an optional sequence_lens first input. */
function scan8(ctx: OpContext, inputs: readonly (Tensor | undefined)[]): Tensor[] {
  const g = body(ctx, 'body');
  const M = ctx.attrs.int('num_scan_inputs');
  const rest = inputs.slice(1);
  const N = rest.length - M;
  if (M < 1 || N < 0) ctx.fail(`num_scan_inputs ${M} does not fit ${rest.length} inputs`);
  const K = g.outputs.length - N;
  const dirs = ctx.attrs.ints('directions', new Array<number>(M).fill(0));
  if (dirs.length !== M) ctx.fail('directions must have num_scan_inputs entries');
  const all = rest.map((t, k) => t ?? ctx.fail(`input ${k + 1} is missing`));
  const batch = all[0].dims[0];
  for (const t of all) if (t.dims[0] !== batch) ctx.fail('inputs disagree on the batch size');
  const maxLen = all[N].dims[1];
  const lens = inputs[0] ? Array.from(inputs[0].data as ArrayLike<number | bigint>, Number) : new Array<number>(batch).fill(maxLen);
  if (lens.length !== batch) ctx.fail('sequence_lens must have one entry per batch');
  const finalStates: Tensor[][] = Array.from({ length: N }, () => []);
  const scanOuts: Tensor[][] = Array.from({ length: K }, () => []);
  for (let b = 0; b < batch; b++) {
    const L = lens[b];
    if (!(L >= 0 && L <= maxLen)) ctx.fail(`sequence_lens[${b}] = ${L} is out of range [0, ${maxLen}]`);
    let state: RuntimeValue[] = all.slice(0, N).map((t) => takeAlong(t, 0, b));
    const seqs = all.slice(N).map((t) => takeAlong(t, 0, b));
    const per: Tensor[][] = Array.from({ length: K }, () => []);
    for (let i = 0; i < L; i++) {
      const slices = seqs.map((t, j) => takeAlong(t, 0, dirs[j] ? L - 1 - i : i));
      const res = ctx.runGraph(g, [...state, ...slices]);
      state = res.slice(0, N);
      for (let k = 0; k < K; k++) per[k].push(res[N + k] as Tensor);
    }
    state.forEach((s, k) => finalStates[k].push(s as Tensor));
    for (let k = 0; k < K; k++) {
      const list = per[k];
      if (!list.length) ctx.unsupported('Scan-8 with a zero sequence length is not supported; use Scan-9+');
      let stacked = stackAlong(list, 0, ctx.fail);
      if (L < maxLen) stacked = concatAlong([stacked, zerosChecked(stacked.dtype, [maxLen - L, ...stacked.dims.slice(1)], ctx.fail)], 0, ctx.fail);
      scanOuts[k].push(stacked);
    }
  }
  return [...finalStates.map((l) => stackAlong(l, 0, ctx.fail)), ...scanOuts.map((l) => stackAlong(l, 0, ctx.fail))];
}

export const Scan: OpDef = {
  opType: 'Scan',
  sinceVersion: 8,
  inferShape(ctx: ShapeContext, inputs) {
    const g = body(ctx, 'body');
    const M = ctx.attrs.int('num_scan_inputs');
    if (ctx.opset < 9) return Array.from({ length: ctx.outputCount }, (_, k) => ({ dtype: g.types.get(g.outputs[k])?.dtype ?? 'float32', shape: undefined }));
    const N = inputs.length - M;
    const K = g.outputs.length - N;
    const inAxes = ctx.attrs.ints('scan_input_axes', new Array<number>(M).fill(0));
    const outAxes = ctx.attrs.ints('scan_output_axes', new Array<number>(K).fill(0));
    const first = inputs[N];
    let len: Dim | undefined;
    if (first?.shape) {
      const r = first.shape.length;
      len = first.shape[inAxes[0] < 0 ? inAxes[0] + r : inAxes[0]];
    }
    const sliceType = (t: ValueType | undefined, axis: number): ValueType | undefined => {
      if (!t?.shape) return t;
      const a = axis < 0 ? axis + t.shape.length : axis;
      return { ...t, shape: t.shape.filter((_, i) => i !== a) };
    };
    const inferred = ctx.inferGraph?.(g, [...inputs.slice(0, N), ...inputs.slice(N).map((t, j) => sliceType(t, inAxes[j] ?? 0))]) ?? [];
    const out: ValueType[] = [];
    for (let k = 0; k < ctx.outputCount; k++) {
      if (k < N) out.push(inputs[k] ?? { dtype: 'float32' });
      else {
        const bt = g.types.get(g.outputs[k]) ?? inferred[k];
        let shape: Dim[] | undefined;
        if (bt?.shape && len !== undefined) {
          const r = bt.shape.length + 1;
          const a = outAxes[k - N] < 0 ? outAxes[k - N] + r : outAxes[k - N];
          shape = [...bt.shape.slice(0, a), len, ...bt.shape.slice(a)];
        }
        out.push({ dtype: bt?.dtype ?? 'float32', shape });
      }
    }
    return out;
  },
  reference(ctx: OpContext, inputs) {
    return ctx.opset >= 9 ? scan9(ctx, inputs) : scan8(ctx, inputs);
  },
};

export const CONTROL_FLOW_OPS: OpDef[] = [If, Loop, Scan];
