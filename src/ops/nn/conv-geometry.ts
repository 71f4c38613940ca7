/** ConvTranspose geometry, shared by the reference (conv.ts) and the GPU kernel (gpu/conv.ts). */
import { Dim } from '../../ir/graph';
import { OpContext, ShapeContext } from '../types';
import { unknownDim } from '../util/nn-common';

/** ConvTranspose geometry: output spatial dims and pads. */
export function transposeGeometry(ctx: OpContext | ShapeContext, inSp: readonly Dim[], kernel: number[]): { out: Dim[]; padsBegin: number[]; padsEnd: number[]; strides: number[]; dilations: number[] } {
  const n = inSp.length;
  const a = ctx.attrs;
  const ones = new Array<number>(n).fill(1);
  const strides = a.ints('strides', ones);
  const dilations = a.ints('dilations', ones);
  const outputPadding = a.ints('output_padding', new Array<number>(n).fill(0));
  const pads = a.ints('pads', new Array<number>(2 * n).fill(0));
  const autoPad = a.string('auto_pad', 'NOTSET');
  const outputShape = a.optInts('output_shape');
  if (strides.length !== n || dilations.length !== n || outputPadding.length !== n || pads.length !== 2 * n) {
    ctx.fail(`strides/dilations/output_padding need ${n} values and pads ${2 * n}`);
  }
  if (strides.some((s) => s < 1) || dilations.some((d) => d < 1) || pads.some((p) => p < 0)) ctx.fail('strides and dilations must be positive, pads non-negative');
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) ctx.fail(`auto_pad '${autoPad}' is not valid`);
  const out: Dim[] = [];
  const pb: number[] = [];
  const pe: number[] = [];
  for (let i = 0; i < n; i++) {
    const inD = inSp[i];
    const dk = (kernel[i] - 1) * dilations[i] + 1;
    let target: number | undefined;
    if (outputShape) {
      const os = outputShape.length === n ? outputShape : outputShape.slice(-n);
      if (os.length !== n) ctx.fail(`output_shape has ${outputShape.length} values, expected ${n}`);
      target = os[i];
    } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      if (typeof inD === 'number') target = inD * strides[i];
    }
    if (typeof inD !== 'number') {
      out.push(target ?? (strides[i] === 1 && dk === 1 && autoPad === 'NOTSET' && pads[i] + pads[i + n] === outputPadding[i] ? inD : unknownDim(ctx as ShapeContext, 2 + i)));
      pb.push(0); pe.push(0);
      continue;
    }
    const full = strides[i] * (inD - 1) + outputPadding[i] + dk;
    if (target !== undefined) {
      const total = full - target;
      const small = Math.floor(total / 2);
      if (total < 0) {
        // the output extends beyond what the input covers: the extra positions get only the bias
        pb.push(0); pe.push(total);
      } else if (autoPad === 'SAME_UPPER') { pb.push(small); pe.push(total - small); } else { pb.push(total - small); pe.push(small); }
      out.push(target);
    } else {
      const b = autoPad === 'VALID' ? 0 : pads[i];
      const e = autoPad === 'VALID' ? 0 : pads[i + n];
      pb.push(b); pe.push(e);
      out.push(full - b - e);
    }
  }
  return { out, padsBegin: pb, padsEnd: pe, strides, dilations };
}
