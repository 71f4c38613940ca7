/** Einsum: any equation, with ellipsis, repeated indices (diagonals) and implicit output. */
import { isFloat } from '../../ir/dtype';
import { Dim } from '../../ir/graph';
import { Tensor, stridesOf } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkOutDims, checkWork, floatTensor, nums } from '../util/nn-common';
import { einsumKernel } from './gpu/einsum';
import { Parsed, parseEinsum } from './einsum-parse';

/** Size of each label from the operands' dims (a label of size 1 broadcasts). */
function labelSizes(ctx: OpContext | ShapeContext, p: Parsed, shapes: readonly (readonly Dim[])[]): Map<string, Dim> {
  const sizes = new Map<string, Dim>();
  p.inputs.forEach((labels, i) => labels.forEach((l, k) => {
    const d = shapes[i][k];
    const cur = sizes.get(l);
    if (cur === undefined || cur === 1 || (typeof cur === 'string' && typeof d === 'number')) sizes.set(l, d);
    else if (typeof cur === 'number' && typeof d === 'number' && d !== cur && d !== 1) ctx.fail(`label '${l.startsWith('.') ? '...' : l}' has sizes ${cur} and ${d}`);
  }));
  return sizes;
}

export const Einsum: OpDef = {
  opType: 'Einsum',
  sinceVersion: 12,
  kernel: einsumKernel,
  inferShape(ctx, inputs) {
    const dtype = inputs[0]?.dtype ?? 'float32';
    if (inputs.some((t) => !t?.shape)) return [{ dtype, shape: undefined }];
    const shapes = inputs.map((t) => t!.shape!);
    const p = parseEinsum(ctx, ctx.attrs.string('equation'), shapes.map((s) => s.length));
    const sizes = labelSizes(ctx, p, shapes);
    return [{ dtype, shape: p.output.map((l) => sizes.get(l)!) }];
  },
  reference(ctx, inputs) {
    const ts = inputs.map((t, i) => t ?? ctx.fail(`input ${i} is missing`));
    if (ts.length === 0) ctx.fail('Einsum needs at least one input');
    const dtype = ts[0].dtype;
    if (dtype === 'string' || dtype === 'bool') ctx.fail(`Einsum does not take ${dtype}`);
    for (const t of ts) if (t.dtype !== dtype) ctx.fail(`all inputs must share a dtype (${dtype} vs ${t.dtype})`);
    const p = parseEinsum(ctx, ctx.attrs.string('equation'), ts.map((t) => t.rank));
    const sizes = labelSizes(ctx, p, ts.map((t) => t.dims)) as Map<string, number>;
    const outDims = p.output.map((l) => sizes.get(l)!);
    checkOutDims(ctx, outDims);
    const loop = [...p.output, ...p.summed];
    const loopDims = loop.map((l) => sizes.get(l)!);
    const total = loopDims.reduce((a, b) => a * b, 1);
    checkWork(ctx, total * ts.length, 'einsum');
    // stride of every operand along every loop label (repeated labels add up: diagonals)
    const strides = ts.map((t, i) => {
      const st = stridesOf(t.dims);
      return loop.map((l) => p.inputs[i].reduce((acc, lab, k) => acc + (lab === l && t.dims[k] !== 1 ? st[k] : 0), 0));
    });
    const data = ts.map((t) => nums(t));
    const nOut = outDims.reduce((a, b) => a * b, 1);
    const out = new Float64Array(nOut);
    const nSum = p.summed.reduce((a, l) => a * sizes.get(l)!, 1);
    const R = loop.length;
    const counter = new Array<number>(R).fill(0);
    const offs = new Array<number>(ts.length).fill(0);
    if (total > 0) {
      for (let o = 0; o < nOut; o++) {
        let acc = 0;
        for (let s = 0; s < nSum; s++) {
          let prod = 1;
          for (let i = 0; i < ts.length; i++) prod *= data[i][offs[i]];
          acc += prod;
          // advance the odometer (innermost label last)
          for (let a = R - 1; a >= 0; a--) {
            counter[a]++;
            for (let i = 0; i < ts.length; i++) offs[i] += strides[i][a];
            if (counter[a] < loopDims[a]) break;
            for (let i = 0; i < ts.length; i++) offs[i] -= strides[i][a] * counter[a];
            counter[a] = 0;
          }
        }
        out[o] = acc;
      }
    }
    if (isFloat(dtype)) return [floatTensor(dtype, outDims, out)];
    return [Tensor.from(dtype, outDims, out)];
  },
};
