/** GPU kernel of Einsum (shaders/nn/einsum.comp): one or two operands, any equation the reference parses. */
import { grid1d, KernelContext, KernelImpl, withF16 } from '../../../kernel/contract';
import { MAX_PARAM_WORDS, paramLayout } from '../../../kernel/params';
import { parseEinsum } from '../einsum-parse';

/** shaders/nn/einsum.comp: outputs, output labels, all labels, summed-space size, per label its size and the operands' strides. */
const EINSUM = paramLayout('einsum', { n: 'u32', nOut: 'u32', nAll: 'u32', nSum: 'u32', labels: { each: { dim: 'u32', sa: 'u32', sb: 'u32' } } },
  'Einsum, one invocation per output element (src/ops/nn/gpu/einsum.ts).');

export function einsumKernel(ctx: KernelContext): KernelImpl[] {
  const ops = ctx.inputs;
  if (ops.length < 1 || ops.length > 2 || ops.some((t) => !t)) return ctx.unsupported(`Einsum of ${ops.length} operands has no GPU kernel (1 or 2)`);
  const ts = ops.map((t) => t!);
  if (ts.some((t) => t.gpu !== ts[0].gpu)) return ctx.fail('all inputs must share a dtype');
  const p = parseEinsum(ctx, ctx.attrs.string('equation'), ts.map((t) => t.dims.length));
  const sizes = new Map<string, number>();
  p.inputs.forEach((labels, i) => labels.forEach((l, k) => {
    const d = ts[i].dims[k];
    const cur = sizes.get(l);
    if (cur === undefined || cur === 1) sizes.set(l, d);
    else if (d !== cur && d !== 1) ctx.fail(`label '${l}' has sizes ${cur} and ${d}`);
  }));
  const loop = [...p.output, ...p.summed];
  const strides = ts.map((t, i) => {
    const st: number[] = [];
    for (let k = t.dims.length - 1, acc = 1; k >= 0; k--) { st[k] = acc; acc *= t.dims[k]; }
    return loop.map((l) => p.inputs[i].reduce((acc, lab, k) => acc + (lab === l && t.dims[k] !== 1 ? st[k] : 0), 0));
  });
  const n = p.output.reduce((a, l) => a * sizes.get(l)!, 1);
  const nSum = p.summed.reduce((a, l) => a * sizes.get(l)!, 1);
  const labels = loop.map((l, k) => ({ dim: Math.max(1, sizes.get(l)!), sa: strides[0][k], sb: ts.length > 1 ? strides[1][k] : 0 }));
  if (4 + 3 * labels.length > MAX_PARAM_WORDS) return ctx.unsupported(`Einsum over ${labels.length} labels has no GPU kernel (at most ${(MAX_PARAM_WORDS - 4) / 3})`);
  if (loop.some((l) => sizes.get(l) === 0)) return ctx.unsupported('Einsum with an empty summed label');
  const defines: Record<string, number> = { OPERANDS: ts.length, LABELS: Math.max(1, labels.length) };
  if (ts[0].gpu === 'i32') defines.T_INT = 1;
  const bindings = ts.length === 2 ? [{ input: 0 }, { input: 1 }, { output: 0 }] : [{ input: 0 }, { input: 0 }, { output: 0 }];
  const impl: KernelImpl = {
    name: 'einsum_direct',
    dispatches: [{ shader: 'nn/einsum', defines, params: EINSUM.pack({ n, nOut: p.output.length, nAll: loop.length, nSum, labels }), workgroup: [64, 1, 1], groups: grid1d(n, 64, ctx.caps), bindings }],
  };
  return ts[0].gpu === 'i32' ? [impl] : withF16([impl], ctx);
}
