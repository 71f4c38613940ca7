/** The activation functions of RNN, GRU and LSTM (ONNX names, defaults), shared by the reference and the GPU kernel. */
import { OpContext } from '../types';

export type Act = (x: number) => number;

/** Activation functions by ONNX name, with their default alpha/beta where they take them. */
export const ACTS: Record<string, { alpha?: number; beta?: number; make(a: number, b: number): Act }> = {
  relu: { make: () => (x) => Math.max(0, x) },
  tanh: { make: () => Math.tanh },
  sigmoid: { make: () => (x) => 1 / (1 + Math.exp(-x)) },
  affine: { alpha: 1, beta: 0, make: (a, b) => (x) => a * x + b },
  leakyrelu: { alpha: 0.01, make: (a) => (x) => (x >= 0 ? x : a * x) },
  thresholdedrelu: { alpha: 1, make: (a) => (x) => (x > a ? x : 0) },
  scaledtanh: { alpha: 1, beta: 1, make: (a, b) => (x) => a * Math.tanh(b * x) },
  hardsigmoid: { alpha: 0.2, beta: 0.5, make: (a, b) => (x) => Math.max(0, Math.min(1, a * x + b)) },
  elu: { alpha: 1, make: (a) => (x) => (x >= 0 ? x : a * (Math.exp(x) - 1)) },
  softsign: { make: () => (x) => x / (1 + Math.abs(x)) },
  softplus: { make: () => (x) => Math.log(1 + Math.exp(x)) },
};

/** One activation function of a recurrent node: its ONNX name (lower case) and parameters. */
export interface ActSpec { name: string; alpha: number; beta: number }

/**
 * The activations of a node: `per` specs for each direction (the reference and the GPU kernel read
 * the same list). activation_alpha/beta are consumed in order by the functions that take them (as
 * onnxruntime does); missing ones default.
 */
export function activationSpecs(ctx: Pick<OpContext, 'attrs' | 'fail' | 'unsupported'>, defaults: string[], numDir: number): ActSpec[][] {
  let names = ctx.attrs.strings('activations', []);
  const alphas = ctx.attrs.floats('activation_alpha', []);
  const betas = ctx.attrs.floats('activation_beta', []);
  const per = defaults.length;
  if (!names.length) names = Array.from({ length: numDir }, () => defaults).flat();
  if (names.length === per && numDir === 2) names = [...names, ...names];
  if (names.length !== per * numDir) ctx.fail(`activations must list ${per * numDir} functions, got ${names.length}`);
  let ai = 0, bi = 0;
  const specs = names.map((n) => {
    const name = n.toLowerCase();
    const spec = ACTS[name];
    if (!spec) ctx.unsupported(`activation '${n}' is not supported; use one of ${Object.keys(ACTS).join(', ')}`);
    const alpha = spec.alpha === undefined ? 0 : ai < alphas.length ? alphas[ai++] : spec.alpha;
    const beta = spec.beta === undefined ? 0 : bi < betas.length ? betas[bi++] : spec.beta;
    return { name, alpha, beta };
  });
  return Array.from({ length: numDir }, (_, d) => specs.slice(d * per, (d + 1) * per));
}

