/**
 * The vocabulary of the graph optimizer: a rule is a named pattern rooted at one op type plus a
 * pure rewrite; it looks at the graph through a {@link GraphView} (types, constants, producers,
 * consumers) and returns a {@link Rewrite} (nodes to remove, nodes and initializers to add, values
 * to redirect) or nothing. Rules never edit the graph themselves; the driver (driver.ts) applies
 * what they return, so every rule is testable as data in, data out.
 */
import { Attr, Graph, Node, ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { OpRegistry } from '../../ops/registry';

/** What a rule sees of the graph while it matches. */
export interface GraphView {
  readonly graph: Graph;
  readonly registry: OpRegistry;
  /** Opset imported for a domain ('' = ai.onnx); 0 when none. */
  opset(domain: string): number;
  /** The known type of a value. */
  type(name: string): ValueType | undefined;
  /** The static shape of a value, or undefined when any dim is unknown. */
  shape(name: string): number[] | undefined;
  /** The value when it is an initializer (after the folding pass: every build-time constant). */
  constant(name: string): Tensor | undefined;
  /** The node producing `name` (undefined for graph inputs, initializers, outer-scope values). */
  producer(name: string): Node | undefined;
  /** Nodes reading `name` (directly or through a subgraph's captures). */
  consumers(name: string): readonly Node[];
  isGraphOutput(name: string): boolean;
  /** True when `name` is read by `node` alone and is not a graph output: a fusable intermediate. */
  usedOnlyBy(name: string, node: Node): boolean;
  /** A value or node name not used anywhere in the graph yet (`base`, `base_1`, ...). */
  fresh(base: string): string;
  /**
   * What an in-place slice of the arena must respect: byte offsets a multiple of `alignment`, with
   * float elements of at least `elemBytes` (2 when the engine may store FP16).
   */
  readonly slices: { alignment: number; elemBytes: number };
  /** Negative when `a` comes before `b` in the graph's order, positive when after. */
  compareOrder(a: Node, b: Node): number;
}

/** What a rule asks the driver to do; applied atomically. */
export interface Rewrite {
  /** Nodes that disappear. Their outputs must be produced again by `add`, or be unused, or be redirected. */
  remove: Node[];
  /** New nodes (placed where the last removed node was, then the pass re-sorts the graph). */
  add?: Node[];
  /** New initializers. */
  initializers?: [string, Tensor][];
  /** Values whose uses now read another value: [old, new]. */
  replace?: [string, string][];
  /** Types of new intermediate values when shape inference cannot derive them. */
  types?: [string, ValueType][];
  /** One line for the log (defaults to the removed and added node names). */
  note?: string;
}

/** A named rewrite rule. */
export interface Rule {
  /** Stable name (per-rule match counts, the log, tests). */
  name: string;
  /**
   * Root op types the pattern starts from (`Conv`, `vkrt::FusedElementwise`); '*' for any. The
   * driver indexes rules by these so a pass only asks the rules that can match.
   */
  ops: readonly string[];
  /** The pattern and the rewrite: a replacement, or undefined when the node does not match. */
  match(node: Node, g: GraphView): Rewrite | undefined;
}

/** A named list of rules, applied together to a fixpoint, or a whole-graph transformation. */
export type Pass =
  | { name: string; rules: readonly Rule[] }
  | { name: string; run(g: Graph, view: GraphView): number };

/** The op key rules are indexed by: `Conv`, or `vkrt::FusedElementwise` outside the ONNX domain. */
export function opKey(node: Node): string {
  return node.domain ? `${node.domain}::${node.opType}` : node.opType;
}

/** The internal domain of vkrt's fused and pattern-recognised ops. */
export const VKRT_DOMAIN = 'vkrt';

/** Internal attribute listing the ONNX ops a fused node stands for (reaches PlannedLayer.opTypes). */
export const FUSED_ATTR = 'vkrt_fused';

/** The op types a node stands for: its own, or those recorded when it was fused. */
export function fusedOps(node: Node): string[] {
  const a = node.attrs.get(FUSED_ATTR);
  return a ? (a.value as string[]).slice() : [node.opType];
}

/** A display name for a node in fused names: its name, else its first output. */
export function partName(node: Node): string {
  return node.name || node.outputs.find((o) => o) || node.opType;
}

/** Longest fused name: past it the middle parts are elided (`a+b+...+y+z`). */
const MAX_FUSED_NAME = 160;

/**
 * The parts' names joined with '+', at most about {@link MAX_FUSED_NAME} characters: the leading
 * and trailing parts are kept around one '...' (so a chain fused step by step stays cheap: each
 * step joins two short names).
 */
export function joinPartNames(parts: readonly Node[]): string {
  const names = parts.map(partName);
  let total = names.length - 1;
  for (const n of names) total += n.length;
  if (total <= MAX_FUSED_NAME) return names.join('+');
  const tokens = names.flatMap((n) => n.split('+'));
  const half = MAX_FUSED_NAME / 2;
  const head: string[] = [], tail: string[] = [];
  for (let i = 0, len = 0; i < tokens.length && tokens[i] !== '...' && (head.length === 0 || len + tokens[i].length < half); i++) { head.push(tokens[i]); len += tokens[i].length + 1; }
  for (let i = tokens.length - 1, len = 0; i >= head.length && tokens[i] !== '...' && (tail.length === 0 || len + tokens[i].length < half); i--) { tail.unshift(tokens[i]); len += tokens[i].length + 1; }
  return [...head, '...', ...tail].join('+');
}

/**
 * A copy of `base` that absorbed `parts` (in execution order, base among them): the name joins
 * the parts' names with '+' ({@link joinPartNames}), the fused op list concatenates theirs.
 */
export function fusedNode(base: Node, parts: readonly Node[], init: { opType?: string; domain?: string; inputs?: string[]; outputs?: string[]; attrs?: Record<string, Attr | undefined> }): Node {
  const attrs = new Map(base.attrs);
  for (const [k, v] of Object.entries(init.attrs ?? {})) {
    if (v === undefined) attrs.delete(k);
    else attrs.set(k, v);
  }
  attrs.set(FUSED_ATTR, { type: 'strings', value: parts.flatMap(fusedOps) });
  return new Node({
    name: joinPartNames(parts),
    opType: init.opType ?? base.opType,
    domain: init.domain ?? base.domain,
    inputs: init.inputs ?? base.inputs,
    outputs: init.outputs ?? base.outputs,
    attrs,
  });
}
