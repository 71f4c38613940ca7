/** ai.onnx.preview.training optimizers: Adagrad, Adam, Momentum (formulas from the ONNX spec). */
import { ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { scalarOf, toF64 } from '../util/control-tensor';
import { optimizerKernel } from './gpu-training';

const TRAINING = 'ai.onnx.preview.training';

/** Split the variadic tail (after R and T) into `groups` equal lists of tensors of matching dims. */
function groupsOf(ctx: OpContext, inputs: readonly (Tensor | undefined)[], groups: number): Tensor[][] {
  const rest = inputs.slice(2);
  if (rest.length === 0 || rest.length % groups) ctx.fail(`expected ${groups} equal groups of tensors after R and T, got ${rest.length}`);
  const n = rest.length / groups;
  const out = Array.from({ length: groups }, (_, g) => rest.slice(g * n, (g + 1) * n).map((t, i) => t ?? ctx.fail(`input ${2 + g * n + i} is missing`)));
  for (let i = 0; i < n; i++) {
    for (let g = 1; g < groups; g++) {
      const a = out[0][i], b = out[g][i];
      if (a.dims.length !== b.dims.length || a.dims.some((d, k) => d !== b.dims[k])) ctx.fail(`tensors of group 0 and ${g} at position ${i} differ in dims`);
    }
  }
  return out;
}

function rt(ctx: OpContext, inputs: readonly (Tensor | undefined)[]): [number, number] {
  const [R, T] = inputs;
  if (!R || !T) ctx.fail('R and T are required');
  return [scalarOf(R, 'R', ctx.fail), scalarOf(T, 'T', ctx.fail)];
}

/**
 * Output types: the inputs after R and T are `groups` equal groups (X, G, ...); the outputs are the
 * updated groups listed in `kept` (every group but the gradients G).
 */
function passTypes(groups: number, kept: number[]) {
  return (_ctx: ShapeContext, inputs: readonly (ValueType | undefined)[]): ValueType[] => {
    const rest = inputs.slice(2);
    const n = Math.floor(rest.length / groups);
    return kept.flatMap((g) => rest.slice(g * n, (g + 1) * n).map((t) => t ?? { dtype: 'float32' }));
  };
}

export const Adagrad: OpDef = {
  opType: 'Adagrad',
  domain: TRAINING,
  kernel: optimizerKernel('Adagrad'),
  inferShape: passTypes(3, [0, 2]),
  reference(ctx: OpContext, inputs) {
    const [r0, T] = rt(ctx, inputs);
    const decay = ctx.attrs.float('decay_factor', 0);
    const eps = ctx.attrs.float('epsilon', 0);
    const lambda = ctx.attrs.float('norm_coefficient', 0);
    const [Xs, Gs, Hs] = groupsOf(ctx, inputs, 3);
    const r = r0 / (1 + T * decay);
    const xo: Tensor[] = [], ho: Tensor[] = [];
    Xs.forEach((Xt, i) => {
      const x = toF64(Xt), g = toF64(Gs[i]), h = toF64(Hs[i]);
      const xn = new Float64Array(x.length), hn = new Float64Array(x.length);
      for (let k = 0; k < x.length; k++) {
        const gr = lambda * x[k] + g[k];
        hn[k] = h[k] + gr * gr;
        xn[k] = x[k] - (r * gr) / (Math.sqrt(hn[k]) + eps);
      }
      xo.push(Tensor.from(Xt.dtype, Xt.dims, xn));
      ho.push(Tensor.from(Hs[i].dtype, Hs[i].dims, hn));
    });
    return [...xo, ...ho];
  },
};

export const Adam: OpDef = {
  opType: 'Adam',
  domain: TRAINING,
  kernel: optimizerKernel('Adam'),
  inferShape: passTypes(4, [0, 2, 3]),
  reference(ctx: OpContext, inputs) {
    const [R, T] = rt(ctx, inputs);
    const alpha = ctx.attrs.float('alpha', 0.9);
    const beta = ctx.attrs.float('beta', 0.999);
    const eps = ctx.attrs.float('epsilon', 0);
    const lambda = ctx.attrs.float('norm_coefficient', 0);
    const lambdaPost = ctx.attrs.float('norm_coefficient_post', 0);
    const [Xs, Gs, Vs, Hs] = groupsOf(ctx, inputs, 4);
    const rAdj = T > 0 ? (R * Math.sqrt(1 - beta ** T)) / (1 - alpha ** T) : R;
    const xo: Tensor[] = [], vo: Tensor[] = [], ho: Tensor[] = [];
    Xs.forEach((Xt, i) => {
      const x = toF64(Xt), g = toF64(Gs[i]), v = toF64(Vs[i]), h = toF64(Hs[i]);
      const n = x.length;
      const xn = new Float64Array(n), vn = new Float64Array(n), hn = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const gr = lambda * x[k] + g[k];
        vn[k] = alpha * v[k] + (1 - alpha) * gr;
        hn[k] = beta * h[k] + (1 - beta) * gr * gr;
        xn[k] = (1 - lambdaPost) * (x[k] - (rAdj * vn[k]) / (Math.sqrt(hn[k]) + eps));
      }
      xo.push(Tensor.from(Xt.dtype, Xt.dims, xn));
      vo.push(Tensor.from(Vs[i].dtype, Vs[i].dims, vn));
      ho.push(Tensor.from(Hs[i].dtype, Hs[i].dims, hn));
    });
    return [...xo, ...vo, ...ho];
  },
};

export const Momentum: OpDef = {
  opType: 'Momentum',
  domain: TRAINING,
  kernel: optimizerKernel('Momentum'),
  inferShape: passTypes(3, [0, 2]),
  reference(ctx: OpContext, inputs) {
    const [R, T] = rt(ctx, inputs);
    const alpha = ctx.attrs.float('alpha');
    const beta = ctx.attrs.float('beta');
    const lambda = ctx.attrs.float('norm_coefficient');
    const mode = ctx.attrs.string('mode');
    if (mode !== 'standard' && mode !== 'nesterov') ctx.fail(`mode must be 'standard' or 'nesterov', got '${mode}'`);
    const [Xs, Gs, Vs] = groupsOf(ctx, inputs, 3);
    const betaAdj = T > 0 ? beta : 1;
    const xo: Tensor[] = [], vo: Tensor[] = [];
    Xs.forEach((Xt, i) => {
      const x = toF64(Xt), g = toF64(Gs[i]), v = toF64(Vs[i]);
      const n = x.length;
      const xn = new Float64Array(n), vn = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const gr = lambda * x[k] + g[k];
        vn[k] = alpha * v[k] + betaAdj * gr;
        xn[k] = mode === 'standard' ? x[k] - R * vn[k] : x[k] - R * (gr + alpha * vn[k]);
      }
      xo.push(Tensor.from(Xt.dtype, Xt.dims, xn));
      vo.push(Tensor.from(Vs[i].dtype, Vs[i].dims, vn));
    });
    return [...xo, ...vo];
  },
};

export const TRAINING_OPS: OpDef[] = [Adagrad, Adam, Momentum];
