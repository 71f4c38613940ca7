/**
 * The rewrite driver: applies a pass's rules to a fixpoint. Rules are indexed by root op; each
 * applied rewrite is checked (removed outputs must be re-produced, unused or redirected), counted
 * per rule and logged; after every pass the graph is re-sorted and, in tests and debug runs,
 * verified. New values get their types from the ops' shape inference.
 */
import { GraphError } from '../../errors';
import { Graph, Node, ValueType } from '../../ir/graph';
import { Tensor } from '../../ir/tensor';
import { typeOf, isStatic } from '../../ops/infer-shapes';
import { OpRegistry } from '../../ops/registry';
import { ShapeContext } from '../../ops/types';
import { GraphView, opKey, partName, Pass, Rewrite, Rule } from './rule';
import { Attrs } from '../../ir/attrs';

/** Safety bound on rewrites per pass: each rewrite removes work, so real graphs stay far below. */
const MAX_REWRITES_PER_NODE = 8;

export interface DriverOptions {
  registry: OpRegistry;
  opsets: Map<string, number>;
  /** Types of every value (graph inputs with their concrete shapes included); updated in place. */
  types: Map<string, ValueType>;
  /** Run Graph.verify() after every pass (tests, VKRT_DEBUG). */
  verify?: boolean;
  log?(line: string): void;
  /** See GraphView.slices; default the most any Vulkan device asks (256 bytes) with FP16 elements. */
  slices?: { alignment: number; elemBytes: number };
}

/** Per-rule match counts of one optimizer run. */
export type RuleCounts = Map<string, number>;

/** The graph as rules see it, with lazily rebuilt producer/consumer indexes. */
export class GraphState implements GraphView {
  private prod?: Map<string, Node>;
  private cons?: Map<string, Node[]>;
  private names?: Set<string>;
  private outputs: Set<string>;

  constructor(readonly graph: Graph, private readonly opts: DriverOptions) {
    this.outputs = new Set(graph.outputs);
  }

  get registry(): OpRegistry { return this.opts.registry; }
  get slices(): { alignment: number; elemBytes: number } { return this.opts.slices ?? { alignment: 256, elemBytes: 2 }; }
  opset(domain: string): number { return this.opts.opsets.get(domain) ?? 0; }
  type(name: string): ValueType | undefined { return this.opts.types.get(name); }
  shape(name: string): number[] | undefined {
    const s = this.opts.types.get(name)?.shape;
    return isStatic(s) ? s : undefined;
  }
  constant(name: string): Tensor | undefined { return this.graph.initializers.get(name); }

  /** Drop the indexes after an edit. */
  invalidate(): void {
    this.prod = undefined;
    this.cons = undefined;
    this.names = undefined;
    this.outputs = new Set(this.graph.outputs);
  }

  producer(name: string): Node | undefined {
    this.prod ??= this.graph.producers();
    return this.prod.get(name);
  }

  consumers(name: string): Node[] {
    if (!this.cons) {
      this.cons = this.graph.consumers();
      for (const n of this.graph.nodes) {
        for (const c of Graph.capturedNames(n)) {
          const l = this.cons.get(c) ?? [];
          if (!l.includes(n)) l.push(n);
          this.cons.set(c, l);
        }
      }
    }
    return this.cons.get(name) ?? [];
  }

  isGraphOutput(name: string): boolean { return this.outputs.has(name); }

  usedOnlyBy(name: string, node: Node): boolean {
    if (this.isGraphOutput(name)) return false;
    const c = this.consumers(name);
    return c.length === 1 && c[0] === node;
  }

  fresh(base: string): string {
    if (!this.names) {
      this.names = new Set([...this.graph.inputs, ...this.graph.initializers.keys(), ...this.opts.types.keys()]);
      for (const n of this.graph.nodes) {
        if (n.name) this.names.add(n.name);
        for (const o of n.outputs) if (o) this.names.add(o);
      }
    }
    let name = base;
    for (let k = 1; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }

  /** Types of a new node's outputs through its op's shape inference (initializers as constants). */
  inferNode(node: Node): void {
    const def = this.opts.registry.get(node.domain, node.opType);
    if (!def?.inferShape) return;
    const inTypes = node.inputs.map((i) => (i ? this.type(i) : undefined));
    const ctx: ShapeContext = {
      node, opset: this.opset(node.domain), attrs: new Attrs(node), outputCount: node.outputs.length,
      constant: (i) => (node.inputs[i] ? this.constant(node.inputs[i]) : undefined),
      fail: (m) => { throw new GraphError(m, node); },
      unsupported: (m) => { throw new GraphError(m, node); },
    };
    const res = def.inferShape(ctx, inTypes);
    node.outputs.forEach((o, k) => { if (o && res[k] && !this.opts.types.has(o)) this.opts.types.set(o, res[k]); });
  }

  /** Apply one rewrite; throws GraphError (naming the rule) when it would break the graph. */
  apply(rule: string, rw: Rewrite): void {
    const g = this.graph;
    const removed = new Set(rw.remove);
    const at = Math.max(...rw.remove.map((n) => g.nodes.indexOf(n)));
    if (at < 0 || rw.remove.some((n) => !g.nodes.includes(n))) throw new GraphError(`rule ${rule} removes a node that is not in the graph`);
    for (const [name, t] of rw.initializers ?? []) {
      g.initializers.set(name, t);
      this.opts.types.set(name, typeOf(t));
    }
    for (const [name, t] of rw.types ?? []) this.opts.types.set(name, t);
    const add = rw.add ?? [];
    const kept = g.nodes.slice(0, at + 1).filter((n) => !removed.has(n));
    g.nodes = [...kept, ...add, ...g.nodes.slice(at + 1)];
    // redirect uses; a graph output keeps its name: the new value is renamed to it when it is a
    // plain node output, else an Identity (a view, no kernel) produces it
    for (const [from, to] of rw.replace ?? []) {
      if (from === to) continue;
      const outIdx = g.outputs.indexOf(from);
      if (outIdx >= 0) {
        const p = g.nodes.find((n) => n.outputs.includes(to));
        const toIsOutput = g.outputs.includes(to);
        if (p && !toIsOutput && !g.nodes.some((n) => Graph.capturedNames(n).has(to))) {
          p.outputs = p.outputs.map((o) => (o === to ? from : o));
          for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === to ? from : i));
          if (this.opts.types.has(to)) this.opts.types.set(from, { ...this.opts.types.get(to)! });
        } else {
          g.nodes.push(new Node({ name: this.fresh(`${from}.identity`), opType: 'Identity', inputs: [to], outputs: [from] }));
        }
        continue;
      }
      for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
      if (g.nodes.some((n) => Graph.capturedNames(n).has(from))) {
        g.nodes.push(new Node({ name: this.fresh(`${from}.identity`), opType: 'Identity', inputs: [to], outputs: [from] }));
      }
    }
    this.invalidate();
    // every output of a removed node must be gone from the graph or produced again
    const produced = new Set<string>([...g.nodes.flatMap((n) => n.outputs), ...g.initializers.keys()]);
    for (const n of rw.remove) {
      for (const o of n.outputs) {
        if (!o || produced.has(o)) continue;
        if (this.consumers(o).length || this.isGraphOutput(o)) throw new GraphError(`rule ${rule} removed '${o}' (of ${partName(n)}) but it is still used`);
        this.opts.types.delete(o);
      }
    }
    for (const n of add) this.inferNode(n);
  }
}

/**
 * Apply a pass to a fixpoint: every node is offered to the rules indexed under its op (and '*'),
 * first match wins, and the scan repeats until a whole sweep changes nothing.
 */
export function runPass(state: GraphState, pass: Pass, counts: RuleCounts, opts: DriverOptions): number {
  const log = opts.log ?? (() => {});
  let applied = 0;
  if ('run' in pass) {
    applied = pass.run(state.graph, state);
    state.invalidate();
    if (applied) counts.set(pass.name, (counts.get(pass.name) ?? 0) + applied);
  } else {
    const index = new Map<string, Rule[]>();
    for (const r of pass.rules) for (const op of r.ops) index.set(op, [...(index.get(op) ?? []), r]);
    const any = index.get('*') ?? [];
    const limit = MAX_REWRITES_PER_NODE * (state.graph.nodes.length + 16);
    let changed = true;
    while (changed) {
      changed = false;
      for (const node of state.graph.nodes.slice()) {
        if (!state.graph.nodes.includes(node)) continue;
        for (const rule of [...(index.get(opKey(node)) ?? []), ...any]) {
          const rw = rule.match(node, state);
          if (!rw) continue;
          state.apply(rule.name, rw);
          counts.set(rule.name, (counts.get(rule.name) ?? 0) + 1);
          log(`fusion: ${rule.name}: ${rw.note ?? `${rw.remove.map(partName).join(', ')} -> ${(rw.add ?? []).map(partName).join(', ') || '(removed)'}`}`);
          applied++;
          changed = true;
          break;
        }
        if (applied > limit) throw new GraphError(`pass ${pass.name} did not reach a fixpoint after ${applied} rewrites (rules undo each other?)`);
      }
    }
  }
  if (!state.graph.isSorted()) state.graph.topoSort();
  state.invalidate();
  if (opts.verify) {
    try {
      state.graph.verify();
    } catch (e) {
      throw new GraphError(`the graph is invalid after pass ${pass.name}: ${(e as Error).message}`);
    }
  }
  return applied;
}
