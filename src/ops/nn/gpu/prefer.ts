/**
 * Candidate order of the nn kernels. The builder takes the first candidate (auto-tuning will time
 * them); tests pin one by name so every candidate is checked against the reference, whatever the
 * shape heuristics would choose.
 */
import { KernelImpl } from '../../../kernel/contract';

let preferred: string | undefined;

/** Put the candidate named `name` first wherever one exists (undefined: heuristics decide). */
export function preferNnKernel(name: string | undefined): void {
  preferred = name;
}

/** The candidates in the order to try, the pinned one first. */
export function ordered(impls: KernelImpl[]): KernelImpl[] {
  if (!preferred) return impls;
  const k = impls.findIndex((i) => i.name === preferred);
  if (k <= 0) return impls;
  return [impls[k], ...impls.slice(0, k), ...impls.slice(k + 1)];
}
