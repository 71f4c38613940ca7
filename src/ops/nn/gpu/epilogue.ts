/**
 * Fused epilogues of the nn kernels: an activation applied to each output (and, for Conv, a
 * residual added before it). The fusion pass requests one with internal node attributes:
 *   vkrt_activation: 'Relu' | 'Clip' | 'LeakyRelu' | 'Sigmoid' | 'HardSigmoid' | 'HardSwish' |
 *                    'Tanh' | 'Elu' | 'Silu' | 'Gelu' (erf form) | 'GeluTanh' | 'Mish'
 *                    (absent or 'None': no activation)
 *   vkrt_alpha, vkrt_beta: the activation's parameters (Clip: min and max; LeakyRelu/Elu: alpha;
 *                    HardSigmoid: alpha and beta), with the ONNX defaults of the op when absent.
 * The kind codes are ACT below (GLSL: ACT_<name> in shaders/common/params/enums.glsl, which
 * shaders/common/nn_act.glsl switches on); the reference applies the same functions, so a fused
 * node stays its own oracle.
 */
import { glslEnum } from '../../../kernel/params';
import { erf } from '../../elementwise/scalar-table';
import { Attrs } from '../../../ir/attrs';

export interface Activation {
  kind: number;
  alpha: number;
  beta: number;
}

/** Activation kind codes (the epilogue's `act` param). */
export const ACT = glslEnum('ACT', {
  None: 0, Relu: 1, Clip: 2, LeakyRelu: 3, Sigmoid: 4, HardSigmoid: 5, HardSwish: 6, Tanh: 7, Elu: 8, Silu: 9,
  Gelu: 10, GeluTanh: 11, Mish: 12,
}, 'uint', 'fused activation kinds of the nn epilogue (nn_act.glsl), src/ops/nn/gpu/epilogue.ts');

const KINDS: Record<string, { kind: number; alpha: number; beta: number }> = {
  None: { kind: ACT.None, alpha: 0, beta: 0 },
  Relu: { kind: ACT.Relu, alpha: 0, beta: 0 },
  Clip: { kind: ACT.Clip, alpha: -Infinity, beta: Infinity },
  LeakyRelu: { kind: ACT.LeakyRelu, alpha: 0.01, beta: 0 },
  Sigmoid: { kind: ACT.Sigmoid, alpha: 0, beta: 0 },
  HardSigmoid: { kind: ACT.HardSigmoid, alpha: 0.2, beta: 0.5 },
  HardSwish: { kind: ACT.HardSwish, alpha: 0, beta: 0 },
  Tanh: { kind: ACT.Tanh, alpha: 0, beta: 0 },
  Elu: { kind: ACT.Elu, alpha: 1, beta: 0 },
  Silu: { kind: ACT.Silu, alpha: 0, beta: 0 },
  Gelu: { kind: ACT.Gelu, alpha: 0, beta: 0 },
  GeluTanh: { kind: ACT.GeluTanh, alpha: 0, beta: 0 },
  Mish: { kind: ACT.Mish, alpha: 0, beta: 0 },
};

/**
 * The attributes that carry a fused activation on a Conv/ConvTranspose/Gemm/MatMul node, and on
 * QLinearConv/QLinearMatMul (set by the Q/DQ folding pass; applied before requantization, see
 * requantActivated).
 */
export const EPILOGUE_ATTRS = { activation: 'vkrt_activation', alpha: 'vkrt_alpha', beta: 'vkrt_beta' } as const;

/** Activation names the epilogue accepts. */
export const ACTIVATIONS = Object.keys(KINDS);

/** The node's fused activation (kind 0 when none); fails on an unknown name. */
export function readActivation(attrs: Attrs, fail: (m: string) => never): Activation {
  const { activation, alpha, beta } = EPILOGUE_ATTRS;
  const name = attrs.has(activation) ? attrs.string(activation) : 'None';
  const k = KINDS[name];
  if (!k) return fail(`${activation} '${name}' is not one of ${ACTIVATIONS.join(', ')}`);
  return {
    kind: k.kind,
    alpha: attrs.has(alpha) ? attrs.float(alpha) : k.alpha,
    beta: attrs.has(beta) ? attrs.float(beta) : k.beta,
  };
}

/** The epilogue's fields in a parameter layout (GLSL: P_act, P_actAlpha, P_actBeta). */
export const ACT_FIELDS = { act: 'u32', actAlpha: 'f32', actBeta: 'f32' } as const;

/** Values of {@link ACT_FIELDS} for an activation. */
export function activationFields(a: Activation): { act: number; actAlpha: number; actBeta: number } {
  return { act: a.kind, actAlpha: a.alpha, actBeta: a.beta };
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Clip as the Clip op has it: NaN stays NaN, a NaN bound is no bound, lo > hi gives hi. */
function clip(x: number, lo: number, hi: number): number {
  let v = x;
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return v;
}

/** The activation on the CPU (the reference of fused nodes). */
export function applyActivation(a: Activation, x: number): number {
  switch (a.kind) {
    case ACT.Relu: return Math.max(x, 0);
    case ACT.Clip: return clip(x, a.alpha, a.beta);
    case ACT.LeakyRelu: return x >= 0 ? x : a.alpha * x;
    case ACT.Sigmoid: return sigmoid(x);
    case ACT.HardSigmoid: return Math.min(Math.max(a.alpha * x + a.beta, 0), 1);
    case ACT.HardSwish: return x * Math.min(Math.max(x / 6 + 0.5, 0), 1);
    case ACT.Tanh: return Math.tanh(x);
    case ACT.Elu: return x >= 0 ? x : a.alpha * (Math.exp(x) - 1);
    case ACT.Silu: return x * sigmoid(x);
    case ACT.Gelu: return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case ACT.GeluTanh: return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case ACT.Mish: return x * Math.tanh(softplus(x));
    default: return x;
  }
}

/**
 * The requantizing epilogue of QLinearConv / QLinearMatMul with a fused activation (the reference;
 * shaders/common/nn_quant.glsl's nn_requant_act is the GPU side). `acc` is the exact integer sum
 * (bias included), `scale` the combined x_s * w_s / y_s of the op's own rounding, `realScale` the
 * float32 product x_s * w_s, `ys` y_scale:
 *   None:  q = rint(acc * scale)                       (the op without an epilogue)
 *   Relu:  q = rint(max(acc, 0) * scale)                (relu commutes with a positive scale: exact)
 *   other: q = rint(act(acc * realScale) / ys)          (the activation on the real value)
 * then y = clamp(q + zp, lo, hi) (0 for a NaN, as the kernels).
 */
export function requantActivated(a: Activation, acc: number, scale: number, realScale: number, ys: number, zp: number, lo: number, hi: number, rint: (v: number) => number): number {
  let q: number;
  if (a.kind === ACT.None) q = rint(acc * scale);
  else if (a.kind === ACT.Relu) q = rint(Math.max(acc, 0) * scale);
  else q = rint(applyActivation(a, acc * realScale) / ys);
  if (Number.isNaN(q)) return 0; // as the kernels' nn_requant
  return Math.min(hi, Math.max(lo, q + zp));
}

/**
 * The residual epilogue of a QLinearConv that carries a skip tensor (internal inputs 9-13, set by
 * the Q/DQ folding pass, src/builder/passes/rules/qdq.ts): the float32 chain the unfused graph
 * `Q(act(Add(DQ(conv), DQ(skip))))` computes, step by step, so the fused layer gives the unfused
 * graph's integers:
 *   with a mid quantization (the conv's output was quantized before the Add, scale ms, zero point mz):
 *     c = fround((clamp(rint(acc * scale) + mz, midLo, midHi) - mz) * ms)     (QLinearConv, then DQ)
 *   without (the Add read the convolution's float output):
 *     c = fround(fround(acc) * realScale)
 *   r = fround(c + fround((skip - sz) * ss));  y = clamp(rint(fround(act(r) / ys)) + zp, lo, hi)
 * `acc` includes the bias, `scale` is x_s * w_s / ms (the mid requantization's), `realScale` the
 * float32 x_s * w_s. shaders/nn/qconv.comp's qconv_residual is the GPU side (float32 arithmetic,
 * exact for no activation and Relu; others within one step, as requantActivated).
 */
export interface ResidualQuant {
  skipScale: number;
  skipZp: number;
  mid?: { scale: number; zp: number; lo: number; hi: number };
}

export function requantResidual(a: Activation, acc: number, scale: number, realScale: number, skip: number, r: ResidualQuant,
  ys: number, zp: number, lo: number, hi: number, rint: (v: number) => number): number {
  let c: number;
  if (r.mid) {
    const q1 = Math.min(r.mid.hi, Math.max(r.mid.lo, rint(acc * scale) + r.mid.zp));
    c = Math.fround((Number.isNaN(q1) ? 0 - r.mid.zp : q1 - r.mid.zp) * r.mid.scale);
  } else {
    c = Math.fround(Math.fround(acc) * realScale);
  }
  const s = Math.fround((skip - r.skipZp) * r.skipScale);
  const v = Math.fround(applyActivation(a, Math.fround(c + s)));
  const q = rint(Math.fround(v / ys));
  if (Number.isNaN(q)) return 0;
  return Math.min(hi, Math.max(lo, q + zp));
}
