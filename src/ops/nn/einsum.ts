/** Einsum: any equation, with ellipsis, repeated indices (diagonals) and implicit output. */
import { isFloat } from '../../ir/dtype';
import { Dim } from '../../ir/graph';
import { Tensor, stridesOf } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { checkOutDims, checkWork, floatTensor, nums } from '../util/nn-common';
import { einsumKernel } from './gpu/einsum';

interface Parsed {
  /** Labels of each operand, one per dim ('a'..'z', 'A'..'Z', or '.k' for ellipsis dim k). */
  inputs: string[][];
  output: string[];
  /** Labels summed over (in none of the output). */
  summed: string[];
}

/** Parse an equation against the operands' ranks. */
export function parseEinsum(ctx: Pick<OpContext | ShapeContext, 'fail'>, equation: string, ranks: readonly number[]): Parsed {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const rhs = arrow >= 0 ? eq.slice(arrow + 2) : undefined;
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) ctx.fail(`equation '${equation}' has ${terms.length} operands but the node has ${ranks.length} inputs`);
  const termRe = /^[a-zA-Z]*(\.\.\.)?[a-zA-Z]*$/;
  let maxE = 0;
  const split = terms.map((t, i) => {
    if (!termRe.test(t)) ctx.fail(`operand term '${t}' of equation '${equation}' is malformed`);
    const e = t.indexOf('...');
    const letters = t.replace('...', '').length;
    const ne = e >= 0 ? ranks[i] - letters : 0;
    if (ne < 0 || (e < 0 && letters !== ranks[i])) ctx.fail(`operand ${i} has rank ${ranks[i]} but term '${t}' names ${letters} dims`);
    maxE = Math.max(maxE, ne);
    return { t, e, ne };
  });
  const ell = (k: number, ne: number) => Array.from({ length: ne }, (_, j) => `.${maxE - ne + j}`);
  const inputs = split.map(({ t, e, ne }) => (e < 0 ? [...t] : [...t.slice(0, e), ...ell(0, ne), ...t.slice(e + 3)]));
  const allEll = ell(0, maxE);
  let output: string[];
  if (rhs !== undefined) {
    if (!termRe.test(rhs)) ctx.fail(`output term '${rhs}' of equation '${equation}' is malformed`);
    const e = rhs.indexOf('...');
    output = e < 0 ? [...rhs] : [...rhs.slice(0, e), ...allEll, ...rhs.slice(e + 3)];
    const seen = new Set<string>();
    const known = new Set(inputs.flat());
    for (const l of output) {
      if (seen.has(l)) ctx.fail(`output label '${l}' repeats in '${equation}'`);
      if (!known.has(l)) ctx.fail(`output label '${l}' does not appear in any operand of '${equation}'`);
      seen.add(l);
    }
  } else {
    const count = new Map<string, number>();
    for (const l of inputs.flat()) if (!l.startsWith('.')) count.set(l, (count.get(l) ?? 0) + 1);
    output = [...allEll, ...[...count].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  }
  const summed = [...new Set(inputs.flat())].filter((l) => !output.includes(l));
  return { inputs, output, summed };
}

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
