/**
 * GPU kernels of RNN, GRU and LSTM: two dispatches per layer, whatever the sequence length.
 *
 *  1. The input projection of every time step at once, G[d] = X · W[d]ᵀ ([numDir, seq*batch,
 *     gates*hidden] in scratch), through the Gemm/MatMul kernel (nn/gpu/gemm.ts), batched over
 *     the directions. Rows follow X's own order (layout 0: t*batch + b, layout 1: b*seq + t).
 *  2. The recurrence (shaders/control/rnn.comp): one workgroup per (batch row, direction) walks
 *     that row's time steps in order inside the shader. A step of one row depends only on that
 *     row's previous hidden state, so the only synchronisation needed is the workgroup barrier
 *     between steps: no host round trip, no cross-workgroup wait. The workgroup's invocations
 *     share the hidden units; the state ping-pongs in scratch (coherent buffer, memoryBarrierBuffer
 *     and barrier per step), the LSTM cell state stays with the invocation that owns its unit.
 *
 * The biases (Wb + Rb), peepholes, clip, sequence_lens (rows stop early; their Y tail is zero),
 * initial states and every activation of the ONNX list (with alpha/beta) are applied in step 2, so
 * W, R and B may be run-time inputs as well as initializers. The layer runs in FP32.
 */
import { BindingRef, DispatchDesc, KernelContext, KernelImpl, TensorDesc } from '../../kernel/contract';
import { glslEnum, paramLayout } from '../../kernel/params';
import { gemmImpls } from '../nn/gpu/gemm';
import { activationSpecs } from './rnn-acts';

/** The cell the recurrence shader runs (its CELL define). */
export const RNN_CELL = glslEnum('RNN_CELL', { Rnn: 0, Gru: 1, Lstm: 2 }, 'int', "rnn.comp's CELL define, src/ops/control/gpu-rnn.ts");

/** The activation functions of the ONNX recurrent ops (rnn.comp's rnn_act), by lower-case ONNX name. */
export const RNN_ACT = glslEnum('RNN_ACT', {
  relu: 0, tanh: 1, sigmoid: 2, affine: 3, leakyrelu: 4, thresholdedrelu: 5, scaledtanh: 6, hardsigmoid: 7, elu: 8, softsign: 9, softplus: 10,
}, 'uint', 'activation functions of RNN/GRU/LSTM (rnn.comp), src/ops/control/gpu-rnn.ts');

/**
 * shaders/control/rnn.comp: dims, directions (reverse: a single direction that runs backwards),
 * clip (+Inf when absent), the cell's flag (LSTM input_forget, GRU linear_before_reset) and the
 * activations of direction d at index d*3 + i with their alpha and beta.
 */
const RNN = paramLayout('rnn', {
  seq: 'u32', batch: 'u32', hidden: 'u32', numDir: 'u32', layout: 'u32', reverse: 'u32', clip: 'f32', flag: 'u32',
  act: { array: 'u32', length: 6 }, alpha: { array: 'f32', length: 6 }, beta: { array: 'f32', length: 6 },
}, 'RNN/GRU/LSTM recurrence over all time steps (src/ops/control/gpu-rnn.ts).');

const CELLS = {
  RNN: { cell: RNN_CELL.Rnn, gates: 1, acts: ['Tanh'] },
  GRU: { cell: RNN_CELL.Gru, gates: 3, acts: ['Sigmoid', 'Tanh'] },
  LSTM: { cell: RNN_CELL.Lstm, gates: 4, acts: ['Sigmoid', 'Tanh', 'Tanh'] },
} as const;

/** Invocations per recurrence workgroup: the hidden size rounded up to a power of two, 32 to 256. */
function workgroupSize(hidden: number, max: number): number {
  let wg = 32;
  while (wg < hidden && wg < 256) wg *= 2;
  return Math.max(1, Math.min(wg, max));
}

export function recurrentKernel(ctx: KernelContext, op: keyof typeof CELLS): KernelImpl[] {
  const spec = CELLS[op];
  const [X, W, R, B, lens, h0, c0, P] = ctx.inputs;
  if (!X || !W || !R) return ctx.fail('inputs X, W and R are required');
  for (const [t, n] of [[X, 'X'], [W, 'W'], [R, 'R'], [B, 'B'], [h0, 'initial_h'], [c0, 'initial_c'], [P, 'P']] as const) {
    if (t && t.gpu !== 'f32' && t.gpu !== 'f16') return ctx.unsupported(`${n} of type ${t.dtype}: the GPU kernel takes float tensors`);
  }
  if (lens && lens.gpu !== 'i32') return ctx.unsupported(`sequence_lens of type ${lens.dtype}: the GPU kernel takes int32`);
  const layout = ctx.opset >= 14 ? ctx.attrs.int('layout', 0) : 0;
  if (layout !== 0 && layout !== 1) return ctx.fail(`layout must be 0 or 1, got ${layout}`);
  if (X.dims.length !== 3) return ctx.fail(`X must be 3-D, got [${X.dims.join(',')}]`);
  const [seq, batch] = layout ? [X.dims[1], X.dims[0]] : [X.dims[0], X.dims[1]];
  const input = X.dims[2];
  const dir = ctx.attrs.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(dir)) return ctx.fail(`direction must be forward, reverse or bidirectional, got '${dir}'`);
  const numDir = dir === 'bidirectional' ? 2 : 1;
  const hidden = ctx.attrs.optInt('hidden_size') ?? R.dims[2];
  const gh = spec.gates * hidden;
  const want = (t: TensorDesc | undefined, dims: number[], n: string) => {
    if (t && (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))) ctx.fail(`${n} must be [${dims.join(',')}], got [${t.dims.join(',')}]`);
  };
  want(W, [numDir, gh, input], 'W');
  want(R, [numDir, gh, hidden], 'R');
  want(B, [numDir, 2 * gh], 'B');
  want(lens, [batch], 'sequence_lens');
  const stateDims = layout ? [batch, numDir, hidden] : [numDir, batch, hidden];
  want(h0, stateDims, 'initial_h');
  if (op === 'LSTM') {
    want(c0, stateDims, 'initial_c');
    want(P, [numDir, 3 * hidden], 'P');
  }
  const clip = ctx.attrs.optFloat('clip');
  if (clip !== undefined && !(clip > 0)) return ctx.fail(`clip must be positive, got ${clip}`);
  const acts = activationSpecs(ctx, [...spec.acts], numDir).flat();
  const act = [0, 0, 0, 0, 0, 0], alpha = [0, 0, 0, 0, 0, 0], beta = [0, 0, 0, 0, 0, 0];
  acts.forEach((a, i) => {
    const d = Math.floor(i / spec.acts.length), k = i % spec.acts.length;
    act[d * 3 + k] = RNN_ACT[a.name as keyof typeof RNN_ACT];
    alpha[d * 3 + k] = a.alpha;
    beta[d * 3 + k] = a.beta;
  });
  const flag = op === 'LSTM' ? ctx.attrs.int('input_forget', 0) : op === 'GRU' ? ctx.attrs.int('linear_before_reset', 0) : 0;
  const rows = seq * batch;
  const state = numDir * batch * hidden;

  // 1. G = X · W[d]ᵀ for all steps: a product candidate of the Gemm kernel that needs no scratch of its own
  const dispatches: DispatchDesc[] = [];
  if (rows > 0 && input > 0) {
    const products = gemmImpls(ctx, {
      M: rows, N: gh, K: input, sa: [input, 1], sb: [1, input],
      batch: [1, 1, numDir], sab: [0, 0, 0], sbb: [0, 0, gh * input],
      int: false, epilogue: { alpha: 1, act: 0, actAlpha: 0, actBeta: 0 }, hasC: false,
      bindings: [{ input: 0 }, { input: 1 }, { scratch: 0 }],
    }, `${op.toLowerCase()}_proj`).filter((k) => !k.scratch?.length && k.dispatches.length === 1 && !k.dispatches[0].defines?.GEMM_COOPMAT);
    if (!products.length) return ctx.unsupported(`the input projection (${rows}x${gh}x${input}) exceeds the device's dispatch limits`);
    dispatches.push(products[0].dispatches[0]);
  }
  if (batch > ctx.caps.maxGroupsX) return ctx.unsupported(`batch ${batch} exceeds the device's dispatch limits`);

  // 2. the recurrence. Absent optional tensors bind the state scratch (never read: their HAS_* define is off).
  const dummy: BindingRef = { scratch: 1 };
  const outputPresent = (k: number) => !!ctx.node.outputs[k];
  const defines: Record<string, number> = { CELL: spec.cell };
  const opt = (t: unknown, ref: BindingRef, def: string): BindingRef => {
    if (!t) return dummy;
    defines[def] = 1;
    return ref;
  };
  const bindings: BindingRef[] = [
    rows > 0 && input > 0 ? { scratch: 0 } : dummy, { input: 2 },
    opt(B, { input: 3 }, 'HAS_B'), opt(lens, { input: 4 }, 'HAS_LENS'), opt(h0, { input: 5 }, 'HAS_H0'),
    opt(op === 'LSTM' ? c0 : undefined, { input: 6 }, 'HAS_C0'), opt(op === 'LSTM' ? P : undefined, { input: 7 }, 'HAS_P'),
    opt(outputPresent(0) || undefined, { output: 0 }, 'HAS_Y'), opt(outputPresent(1) || undefined, { output: 1 }, 'HAS_YH'),
    opt(op === 'LSTM' && outputPresent(2) ? true : undefined, { output: 2 }, 'HAS_YC'),
    { scratch: 1 },
  ];
  if (!(rows > 0 && input > 0)) defines.NO_PROJ = 1;
  const wg = workgroupSize(hidden, ctx.caps.maxWorkgroupInvocations);
  dispatches.push({
    shader: 'control/rnn', defines,
    params: RNN.pack({ seq, batch, hidden, numDir, layout, reverse: dir === 'reverse' ? 1 : 0, clip: clip ?? Infinity, flag, act, alpha, beta }),
    workgroup: [wg, 1, 1], groups: [Math.max(1, batch), numDir, 1], bindings,
  });
  // scratch 1: hidden state twice (ping-pong), cell state, GRU's z and r*h
  return [{ name: `${op.toLowerCase()}_persistent`, dispatches, scratch: [Math.max(4, numDir * rows * gh * 4), Math.max(4, 5 * state * 4)] }];
}
