/**
 * Kernel selection policies: the seam where a build decides which candidate implementation of a
 * layer runs. An operator's kernel(ctx) lists its candidates best first by its own heuristics; a
 * policy picks one. Today: the heuristic choice, or a pinned name (tests check every candidate
 * against the reference this way). Auto-tuning plugs in here as a policy that times candidates.
 */
import type { Node } from '../ir/graph';
import type { KernelContext, KernelImpl } from '../kernel/contract';

/** One layer's choice: its node, the context its candidates were made for, the candidates. */
export interface SelectionRequest {
  readonly node: Node;
  readonly ctx: KernelContext;
  /** Candidates, best first by the operator's heuristics; never empty. */
  readonly candidates: readonly KernelImpl[];
}

export interface KernelSelection {
  /** Names the policy in build logs. */
  readonly name: string;
  choose(request: SelectionRequest): KernelImpl;
}

/** The operator's own order: the first candidate. */
export const heuristicSelection: KernelSelection = {
  name: 'heuristic',
  choose: (r) => r.candidates[0],
};

/** The candidate named `name` wherever a layer offers it, else the heuristic choice. */
export function preferKernel(name: string): KernelSelection {
  return {
    name: `prefer ${name}`,
    choose: (r) => r.candidates.find((c) => c.name === name) ?? r.candidates[0],
  };
}
