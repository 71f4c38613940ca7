/** Einsum equations: parsing against the operands' ranks (shared by the reference and the GPU kernel). */
import { OpContext, ShapeContext } from '../types';

export interface Parsed {
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
