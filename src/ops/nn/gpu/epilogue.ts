/**
 * Fused epilogues of the nn kernels: an activation applied to each output (and, for Conv, a
 * residual added before it). The fusion pass requests one with internal node attributes:
 *   vkrt_activation: 'Relu' | 'Clip' | 'LeakyRelu' | 'Sigmoid' | 'HardSigmoid' | 'HardSwish' |
 *                    'Tanh' | 'Elu' | 'Silu' | 'Gelu' (erf form) | 'GeluTanh' | 'Mish'
 *                    (absent or 'None': no activation)
 *   vkrt_alpha, vkrt_beta: the activation's parameters (Clip: min and max; LeakyRelu/Elu: alpha;
 *                    HardSigmoid: alpha and beta), with the ONNX defaults of the op when absent.
 * The kind codes match shaders/common/nn_act.glsl; the reference applies the same functions, so a
 * fused node stays its own oracle.
 */
import { erf } from '../../elementwise/scalar-table';
import { Attrs } from '../../../ir/attrs';

export interface Activation {
  kind: number;
  alpha: number;
  beta: number;
}

const KINDS: Record<string, { kind: number; alpha: number; beta: number }> = {
  None: { kind: 0, alpha: 0, beta: 0 },
  Relu: { kind: 1, alpha: 0, beta: 0 },
  Clip: { kind: 2, alpha: -Infinity, beta: Infinity },
  LeakyRelu: { kind: 3, alpha: 0.01, beta: 0 },
  Sigmoid: { kind: 4, alpha: 0, beta: 0 },
  HardSigmoid: { kind: 5, alpha: 0.2, beta: 0.5 },
  HardSwish: { kind: 6, alpha: 0, beta: 0 },
  Tanh: { kind: 7, alpha: 0, beta: 0 },
  Elu: { kind: 8, alpha: 1, beta: 0 },
  Silu: { kind: 9, alpha: 0, beta: 0 },
  Gelu: { kind: 10, alpha: 0, beta: 0 },
  GeluTanh: { kind: 11, alpha: 0, beta: 0 },
  Mish: { kind: 12, alpha: 0, beta: 0 },
};

/** The attributes that carry a fused activation on a Conv/ConvTranspose/Gemm/MatMul node. */
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
    case 1: return Math.max(x, 0);
    case 2: return clip(x, a.alpha, a.beta);
    case 3: return x >= 0 ? x : a.alpha * x;
    case 4: return sigmoid(x);
    case 5: return Math.min(Math.max(a.alpha * x + a.beta, 0), 1);
    case 6: return x * Math.min(Math.max(x / 6 + 0.5, 0), 1);
    case 7: return Math.tanh(x);
    case 8: return x >= 0 ? x : a.alpha * (Math.exp(x) - 1);
    case 9: return x * sigmoid(x);
    case 10: return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 11: return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case 12: return x * Math.tanh(softplus(x));
    default: return x;
  }
}
