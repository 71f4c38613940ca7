/** GPU kernels of the ai.onnx.preview.training optimizers (shaders/control/optimizer.comp): one dispatch per optimized tensor. */
import { BindingRef, grid1d, KernelContext, KernelImpl, withF16 } from '../../kernel/contract';
import { glslEnum, paramLayout } from '../../kernel/params';
import { isFloat } from '../../ir/dtype';

/** optimizer.comp's OPT define. */
const OPT = glslEnum('OPT', { Adagrad: 0, Adam: 1, Momentum: 2 }, 'int', "optimizer.comp's OPT define, src/ops/control/gpu-training.ts");

/** shaders/control/optimizer.comp: elements, the attributes (alpha, beta, epsilon, norm coefficients, decay, nesterov). */
const OPTIMIZER = paramLayout('optimizer', {
  n: 'u32', alpha: 'f32', beta: 'f32', eps: 'f32', lambda: 'f32', lambdaPost: 'f32', decay: 'f32', nesterov: 'u32',
}, 'Adagrad, Adam and Momentum, one dispatch per tensor (src/ops/control/gpu-training.ts).');

/** Groups after R and T (X, G, then V and/or H) and the groups written (outputs in order). */
const SHAPES = { Adagrad: { groups: 3, v: -1, h: 2 }, Adam: { groups: 4, v: 2, h: 3 }, Momentum: { groups: 3, v: 2, h: -1 } } as const;

export function optimizerKernel(op: keyof typeof SHAPES): (ctx: KernelContext) => KernelImpl[] {
  return (ctx) => {
    const { groups, v, h } = SHAPES[op];
    const [R, T] = ctx.inputs;
    if (!R || !T) return ctx.fail('R and T are required');
    if (R.gpu !== 'f32' || T.gpu !== 'i32') return ctx.fail(`R must be a float and T an integer scalar, got ${R.dtype} and ${T.dtype}`);
    const rest = ctx.inputs.length - 2;
    if (rest <= 0 || rest % groups) return ctx.fail(`expected ${groups} equal groups of tensors after R and T, got ${rest}`);
    const count = rest / groups;
    const a = ctx.attrs;
    let p: { alpha: number; beta: number; eps: number; lambda: number; lambdaPost: number; decay: number; nesterov: number };
    if (op === 'Adagrad') p = { alpha: 0, beta: 0, eps: a.float('epsilon', 0), lambda: a.float('norm_coefficient', 0), lambdaPost: 0, decay: a.float('decay_factor', 0), nesterov: 0 };
    else if (op === 'Adam') p = { alpha: a.float('alpha', 0.9), beta: a.float('beta', 0.999), eps: a.float('epsilon', 0), lambda: a.float('norm_coefficient', 0), lambdaPost: a.float('norm_coefficient_post', 0), decay: 0, nesterov: 0 };
    else {
      const mode = a.string('mode');
      if (mode !== 'standard' && mode !== 'nesterov') return ctx.fail(`mode must be 'standard' or 'nesterov', got '${mode}'`);
      p = { alpha: a.float('alpha'), beta: a.float('beta'), eps: 0, lambda: a.float('norm_coefficient'), lambdaPost: 0, decay: 0, nesterov: mode === 'nesterov' ? 1 : 0 };
    }
    // outputs: X' for every tensor, then V' (Adam, Momentum), then H' (Adagrad, Adam)
    const vOut = v >= 0 ? count : -1;
    const hOut = h >= 0 ? (v >= 0 ? 2 * count : count) : -1;
    const dispatches = [];
    for (let i = 0; i < count; i++) {
      const at = (g: number) => 2 + g * count + i;
      const x = ctx.inputs[at(0)]!;
      for (let g = 1; g < groups; g++) {
        const t = ctx.inputs[at(g)];
        if (!t || t.dims.length !== x.dims.length || t.dims.some((d, k) => d !== x.dims[k])) return ctx.fail(`tensors of group 0 and ${g} at position ${i} differ in dims`);
      }
      if (!isFloat(x.dtype)) return ctx.fail(`optimized tensors must be floating-point, got ${x.dtype}`);
      const n = x.dims.reduce((s, d) => s * d, 1);
      if (n === 0) continue;
      const same: BindingRef = { input: at(0) };
      const out = (k: number): BindingRef => (k >= 0 && ctx.node.outputs[k] ? { output: k } : { scratch: 0 });
      dispatches.push({
        shader: 'control/optimizer', defines: { OPT: OPT[op] }, params: OPTIMIZER.pack({ n, ...p }), workgroup: [64, 1, 1] as [number, number, number], groups: grid1d(n, 64, ctx.caps),
        bindings: [{ input: 0 }, { input: 1 }, same, { input: at(1) }, v >= 0 ? { input: at(v) } : same, h >= 0 ? { input: at(h) } : same,
          out(i), vOut >= 0 ? out(vOut + i) : { scratch: 0 }, hOut >= 0 ? out(hOut + i) : { scratch: 0 }],
      });
    }
    const biggest = Math.max(4, ...ctx.inputs.slice(2).map((t) => (t ? t.dims.reduce((s, d) => s * d, 1) * 4 : 4)));
    // scratch 0 stands in for outputs the node leaves out (as long as the largest tensor: writes stay in bounds)
    return withF16([{ name: `${op.toLowerCase()}_update`, dispatches, scratch: [biggest] }], ctx);
  };
}
