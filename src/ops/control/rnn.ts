/**
 * RNN, GRU and LSTM (ONNX opset 7+ semantics, layout attribute from opset 14). One shared driver
 * handles directions, layouts, sequence_lens and initial states; each op supplies its cell.
 * Arithmetic is float64; outputs take the input dtype.
 */
import { Dim, ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkDims, toF64 } from '../util/control-tensor';
import { Act, ACTS, activationSpecs } from './rnn-acts';
import { recurrentKernel } from './gpu-rnn';

function activations(ctx: OpContext, defaults: string[], numDir: number): Act[][] {
  return activationSpecs(ctx, defaults, numDir).map((dir) => dir.map((a) => ACTS[a.name].make(a.alpha, a.beta)));
}

interface Cell {
  /** gates per hidden unit in W/R (RNN 1, GRU 3, LSTM 4). */
  gates: number;
  /** Number of activation functions per direction, and their defaults. */
  acts: string[];
  /** Does the op have a cell state (LSTM)? */
  hasC: boolean;
}

interface Dims { seq: number; batch: number; input: number; hidden: number; numDir: number; layout: number }

/** y[b, h] = sum_k x[b, k] * w[rowOff + h, k] with w of row length k. */
function matRows(x: Float64Array, xOff: number, w: Float64Array, wOff: number, rows: number, k: number, out: Float64Array, outOff: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const wr = wOff + r * k;
    for (let j = 0; j < k; j++) s += x[xOff + j] * w[wr + j];
    out[outOff + r] = s;
  }
}

function parseCommon(ctx: OpContext, inputs: readonly (Tensor | undefined)[], cell: Cell): Dims {
  const [X, W, R] = inputs;
  if (!X || !W || !R) ctx.fail('inputs X, W and R are required');
  const layout = ctx.opset >= 14 ? ctx.attrs.int('layout', 0) : 0;
  if (layout !== 0 && layout !== 1) ctx.fail(`layout must be 0 or 1, got ${layout}`);
  if (X.dims.length !== 3) ctx.fail(`X must be 3-D, got [${X.dims.join(',')}]`);
  const [seq, batch] = layout ? [X.dims[1], X.dims[0]] : [X.dims[0], X.dims[1]];
  const input = X.dims[2];
  const dir = ctx.attrs.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(dir)) ctx.fail(`direction must be forward, reverse or bidirectional, got '${dir}'`);
  const numDir = dir === 'bidirectional' ? 2 : 1;
  const hidden = ctx.attrs.optInt('hidden_size') ?? R.dims[2];
  if (W.dims.length !== 3 || W.dims[0] !== numDir || W.dims[1] !== cell.gates * hidden || W.dims[2] !== input) {
    ctx.fail(`W must be [${numDir},${cell.gates * hidden},${input}], got [${W.dims.join(',')}]`);
  }
  if (R.dims.length !== 3 || R.dims[0] !== numDir || R.dims[1] !== cell.gates * hidden || R.dims[2] !== hidden) {
    ctx.fail(`R must be [${numDir},${cell.gates * hidden},${hidden}], got [${R.dims.join(',')}]`);
  }
  checkDims([seq, batch, numDir, hidden], ctx.fail);
  return { seq, batch, input, hidden, numDir, layout };
}

/**
 * The step of one direction for one batch row at one time step. `x` is the input row, `h`/`c` the
 * state (updated in place); `gx` is scratch.
 */
type Step = (d: number, x: Float64Array, xOff: number, h: Float64Array, c: Float64Array, hOff: number) => void;

function runRecurrent(ctx: OpContext, inputs: readonly (Tensor | undefined)[], cell: Cell, makeStep: (dm: Dims, acts: Act[][]) => Step): Tensor[] {
  const dm = parseCommon(ctx, inputs, cell);
  const { seq, batch, input, hidden, numDir, layout } = dm;
  const X = inputs[0]!;
  const seqLens = inputs[4];
  const h0 = inputs[5];
  const c0 = cell.hasC ? inputs[6] : undefined;
  const dirName = ctx.attrs.string('direction', 'forward');
  const acts = activations(ctx, cell.acts, numDir);
  const step = makeStep(dm, acts);
  const x = toF64(X);
  const lens = seqLens ? Array.from(seqLens.data as ArrayLike<number | bigint>, Number) : new Array<number>(batch).fill(seq);
  if (lens.length !== batch) ctx.fail(`sequence_lens must have ${batch} entries`);
  for (const l of lens) if (!(l >= 0 && l <= seq)) ctx.fail(`sequence_lens value ${l} is out of range [0, ${seq}]`);
  const stateDims = layout ? [batch, numDir, hidden] : [numDir, batch, hidden];
  for (const [t, n] of [[h0, 'initial_h'], [c0, 'initial_c']] as const) {
    if (t && (t.dims.length !== 3 || t.dims.some((d, i) => d !== stateDims[i]))) ctx.fail(`${n} must be [${stateDims.join(',')}], got [${t.dims.join(',')}]`);
  }
  const h0v = h0 ? toF64(h0) : undefined;
  const c0v = c0 ? toF64(c0) : undefined;
  // Internal state layout: [numDir, batch, hidden].
  const stIdx = (d: number, b: number) => (layout ? (b * numDir + d) * hidden : (d * batch + b) * hidden);
  const H = new Float64Array(numDir * batch * hidden);
  const C = new Float64Array(numDir * batch * hidden);
  for (let d = 0; d < numDir; d++) {
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k < hidden; k++) {
        const i = (d * batch + b) * hidden + k;
        if (h0v) H[i] = h0v[stIdx(d, b) + k];
        if (c0v) C[i] = c0v[stIdx(d, b) + k];
      }
    }
  }
  const Y = new Float64Array(seq * numDir * batch * hidden);
  const yIdx = (t: number, d: number, b: number) => (layout ? ((b * seq + t) * numDir + d) * hidden : ((t * numDir + d) * batch + b) * hidden);
  const xIdx = (t: number, b: number) => (layout ? (b * seq + t) * input : (t * batch + b) * input);
  for (let d = 0; d < numDir; d++) {
    const reverse = dirName === 'reverse' || d === 1;
    for (let b = 0; b < batch; b++) {
      const L = lens[b];
      const off = (d * batch + b) * hidden;
      for (let s = 0; s < L; s++) {
        const t = reverse ? L - 1 - s : s;
        step(d, x, xIdx(t, b), H, C, off);
        Y.set(H.subarray(off, off + hidden), yIdx(t, d, b));
      }
    }
  }
  const outDtype = X.dtype;
  const yDims = layout ? [batch, seq, numDir, hidden] : [seq, numDir, batch, hidden];
  const toState = (S: Float64Array) => {
    const o = new Float64Array(S.length);
    for (let d = 0; d < numDir; d++) for (let b = 0; b < batch; b++) for (let k = 0; k < hidden; k++) o[stIdx(d, b) + k] = S[(d * batch + b) * hidden + k];
    return Tensor.from(outDtype, stateDims, o);
  };
  const outs = [Tensor.from(outDtype, yDims, Y), toState(H)];
  if (cell.hasC) outs.push(toState(C));
  return outs;
}

/** Bias vector of one direction: Wb + Rb (length gates*hidden), or two halves kept apart. */
function biases(B: Tensor | undefined, gates: number, hidden: number, numDir: number, ctx: OpContext): Float64Array {
  const n = gates * hidden * 2;
  if (!B) return new Float64Array(numDir * n);
  if (B.dims.length !== 2 || B.dims[0] !== numDir || B.dims[1] !== n) ctx.fail(`B must be [${numDir},${n}], got [${B.dims.join(',')}]`);
  return toF64(B);
}

function clipper(ctx: OpContext): (v: number) => number {
  const clip = ctx.attrs.optFloat('clip');
  if (clip === undefined) return (v) => v;
  if (!(clip > 0)) ctx.fail(`clip must be positive, got ${clip}`);
  return (v) => Math.max(-clip, Math.min(clip, v));
}

function inferRecurrent(ctx: ShapeContext, inputs: readonly (ValueType | undefined)[], nOut: number): ValueType[] {
  const [X, W, R] = inputs;
  const dtype = X?.dtype ?? 'float32';
  const layout = ctx.opset >= 14 ? ctx.attrs.int('layout', 0) : 0;
  const numDir = ctx.attrs.string('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const hidden: Dim | undefined = ctx.attrs.optInt('hidden_size') ?? R?.shape?.[2] ?? (W ? undefined : undefined);
  const xs = X?.shape;
  if (!xs || xs.length !== 3 || hidden === undefined) return Array.from({ length: nOut }, () => ({ dtype, shape: undefined }));
  const [seq, batch] = layout ? [xs[1], xs[0]] : [xs[0], xs[1]];
  const y = layout ? [batch, seq, numDir, hidden] : [seq, numDir, batch, hidden];
  const st = layout ? [batch, numDir, hidden] : [numDir, batch, hidden];
  return [{ dtype, shape: y }, ...Array.from({ length: nOut - 1 }, () => ({ dtype, shape: st.slice() }))];
}

export const RNN: OpDef = {
  opType: 'RNN',
  sinceVersion: 7,
  kernel: (ctx) => recurrentKernel(ctx, 'RNN'),
  inferShape: (ctx, inputs) => inferRecurrent(ctx, inputs, 2),
  reference(ctx: OpContext, inputs) {
    const cell: Cell = { gates: 1, acts: ['Tanh'], hasC: false };
    return runRecurrent(ctx, inputs, cell, ({ input, hidden, numDir }, acts) => {
      const W = toF64(inputs[1]!), R = toF64(inputs[2]!);
      const B = biases(inputs[3], 1, hidden, numDir, ctx);
      const clip = clipper(ctx);
      const gx = new Float64Array(hidden), gh = new Float64Array(hidden), hPrev = new Float64Array(hidden);
      return (d, x, xOff, H, _C, off) => {
        hPrev.set(H.subarray(off, off + hidden));
        matRows(x, xOff, W, d * hidden * input, hidden, input, gx, 0);
        matRows(hPrev, 0, R, d * hidden * hidden, hidden, hidden, gh, 0);
        const bo = d * 2 * hidden;
        for (let k = 0; k < hidden; k++) H[off + k] = acts[d][0](clip(gx[k] + gh[k] + B[bo + k] + B[bo + hidden + k]));
      };
    });
  },
};

export const GRU: OpDef = {
  opType: 'GRU',
  sinceVersion: 7,
  kernel: (ctx) => recurrentKernel(ctx, 'GRU'),
  inferShape: (ctx, inputs) => inferRecurrent(ctx, inputs, 2),
  reference(ctx: OpContext, inputs) {
    const cell: Cell = { gates: 3, acts: ['Sigmoid', 'Tanh'], hasC: false };
    const lbr = ctx.attrs.int('linear_before_reset', 0);
    return runRecurrent(ctx, inputs, cell, ({ input, hidden, numDir }, acts) => {
      const W = toF64(inputs[1]!), R = toF64(inputs[2]!);
      const B = biases(inputs[3], 3, hidden, numDir, ctx);
      const clip = clipper(ctx);
      const gx = new Float64Array(3 * hidden), gh = new Float64Array(3 * hidden), hPrev = new Float64Array(hidden), rh = new Float64Array(hidden);
      return (d, x, xOff, H, _C, off) => {
        const [f, g] = acts[d];
        hPrev.set(H.subarray(off, off + hidden));
        matRows(x, xOff, W, d * 3 * hidden * input, 3 * hidden, input, gx, 0);
        matRows(hPrev, 0, R, d * 3 * hidden * hidden, 3 * hidden, hidden, gh, 0);
        const wb = d * 6 * hidden, rb = wb + 3 * hidden;
        // gate order z, r, h
        const z = new Float64Array(hidden), r = new Float64Array(hidden);
        for (let k = 0; k < hidden; k++) {
          z[k] = f(clip(gx[k] + gh[k] + B[wb + k] + B[rb + k]));
          r[k] = f(clip(gx[hidden + k] + gh[hidden + k] + B[wb + hidden + k] + B[rb + hidden + k]));
        }
        let hh: Float64Array;
        if (lbr) {
          hh = new Float64Array(hidden);
          for (let k = 0; k < hidden; k++) hh[k] = gx[2 * hidden + k] + B[wb + 2 * hidden + k] + r[k] * (gh[2 * hidden + k] + B[rb + 2 * hidden + k]);
        } else {
          for (let k = 0; k < hidden; k++) rh[k] = r[k] * hPrev[k];
          hh = new Float64Array(hidden);
          matRows(rh, 0, R, d * 3 * hidden * hidden + 2 * hidden * hidden, hidden, hidden, hh, 0);
          for (let k = 0; k < hidden; k++) hh[k] += gx[2 * hidden + k] + B[wb + 2 * hidden + k] + B[rb + 2 * hidden + k];
        }
        for (let k = 0; k < hidden; k++) {
          const ht = g(clip(hh[k]));
          H[off + k] = (1 - z[k]) * ht + z[k] * hPrev[k];
        }
      };
    });
  },
};

export const LSTM: OpDef = {
  opType: 'LSTM',
  sinceVersion: 7,
  kernel: (ctx) => recurrentKernel(ctx, 'LSTM'),
  inferShape: (ctx, inputs) => inferRecurrent(ctx, inputs, 3),
  reference(ctx: OpContext, inputs) {
    const cell: Cell = { gates: 4, acts: ['Sigmoid', 'Tanh', 'Tanh'], hasC: true };
    const inputForget = ctx.attrs.int('input_forget', 0);
    return runRecurrent(ctx, inputs, cell, ({ input, hidden, numDir }, acts) => {
      const W = toF64(inputs[1]!), R = toF64(inputs[2]!);
      const B = biases(inputs[3], 4, hidden, numDir, ctx);
      const Pt = inputs[7];
      if (Pt && (Pt.dims.length !== 2 || Pt.dims[0] !== numDir || Pt.dims[1] !== 3 * hidden)) ctx.fail(`P must be [${numDir},${3 * hidden}], got [${Pt.dims.join(',')}]`);
      const P = Pt ? toF64(Pt) : new Float64Array(numDir * 3 * hidden);
      const clip = clipper(ctx);
      const gx = new Float64Array(4 * hidden), gh = new Float64Array(4 * hidden), hPrev = new Float64Array(hidden);
      return (d, x, xOff, H, C, off) => {
        const [f, g, h] = acts[d];
        hPrev.set(H.subarray(off, off + hidden));
        matRows(x, xOff, W, d * 4 * hidden * input, 4 * hidden, input, gx, 0);
        matRows(hPrev, 0, R, d * 4 * hidden * hidden, 4 * hidden, hidden, gh, 0);
        const wb = d * 8 * hidden, rb = wb + 4 * hidden, po = d * 3 * hidden;
        const pre = (gate: number, k: number) => gx[gate * hidden + k] + gh[gate * hidden + k] + B[wb + gate * hidden + k] + B[rb + gate * hidden + k];
        // gate order i, o, f, c; peepholes P order i, o, f
        for (let k = 0; k < hidden; k++) {
          const cPrev = C[off + k];
          const it = f(clip(pre(0, k) + P[po + k] * cPrev));
          const ft = inputForget ? 1 - it : f(clip(pre(2, k) + P[po + 2 * hidden + k] * cPrev));
          const ct = g(clip(pre(3, k)));
          const cNew = ft * cPrev + it * ct;
          const ot = f(clip(pre(1, k) + P[po + hidden + k] * cNew));
          C[off + k] = cNew;
          H[off + k] = ot * h(cNew);
        }
      };
    });
  },
};

export const RECURRENT_OPS: OpDef[] = [RNN, GRU, LSTM];
