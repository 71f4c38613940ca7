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

/** Consumers beyond this many are not re-offered to the rules after a nearby rewrite (the confirming sweep still sees them). */
const DIRTY_FANOUT = 64;

/**
 * The graph as rules see it, with producer/consumer indexes kept up to date edit by edit (no
 * whole-graph rescans per rewrite). Node order is kept as a key per node (its index when the
 * indexes were built; added nodes take the key of the last node they replace), and `graph.nodes`
 * is rebuilt from the keys only when someone reads it.
 */
export class GraphState implements GraphView {
  private indexed = false;
  private prod = new Map<string, Node>();
  /** Direct readers (node inputs) and readers through a nested subgraph's captures. */
  private direct = new Map<string, Set<Node>>();
  private captured = new Map<string, Set<Node>>();
  private consCache = new Map<string, Node[]>();
  /** Order: [key, sequence]; sequence breaks ties among nodes placed at one key. */
  private order = new Map<Node, [number, number]>();
  private seq = 0;
  private stale = false;
  private names?: Set<string>;
  private outputs: Set<string>;
  /** Nodes whose neighbourhood changed in the last apply() (the driver's worklist). */
  touched = new Set<Node>();

  constructor(private readonly g: Graph, private readonly opts: DriverOptions) {
    this.outputs = new Set(g.outputs);
  }

  /** The graph, its node list brought up to date. */
  get graph(): Graph {
    this.sync();
    return this.g;
  }

  get registry(): OpRegistry { return this.opts.registry; }
  get slices(): { alignment: number; elemBytes: number } { return this.opts.slices ?? { alignment: 256, elemBytes: 2 }; }
  opset(domain: string): number { return this.opts.opsets.get(domain) ?? 0; }
  type(name: string): ValueType | undefined { return this.opts.types.get(name); }
  shape(name: string): number[] | undefined {
    const s = this.opts.types.get(name)?.shape;
    return isStatic(s) ? s : undefined;
  }
  constant(name: string): Tensor | undefined { return this.g.initializers.get(name); }

  /** Drop the indexes (after the graph was edited directly); they are rebuilt on next use. */
  invalidate(): void {
    this.sync();
    this.indexed = false;
    this.prod.clear();
    this.direct.clear();
    this.captured.clear();
    this.consCache.clear();
    this.order.clear();
    this.names = undefined;
    this.outputs = new Set(this.g.outputs);
  }

  private index(): void {
    if (this.indexed) return;
    this.indexed = true;
    this.seq = 0;
    this.g.nodes.forEach((n, k) => this.link(n, k));
  }

  private addTo(m: Map<string, Set<Node>>, name: string, n: Node): void {
    let s = m.get(name);
    if (!s) m.set(name, (s = new Set()));
    if (!s.has(n)) { s.add(n); this.consCache.delete(name); }
  }

  private dropFrom(m: Map<string, Set<Node>>, name: string, n: Node): void {
    const s = m.get(name);
    if (s?.delete(n)) {
      this.consCache.delete(name);
      if (!s.size) m.delete(name);
    }
  }

  /** Enter a node into the indexes at order key `key`. */
  private link(n: Node, key: number): void {
    this.order.set(n, [key, this.seq++]);
    for (const o of n.outputs) if (o) this.prod.set(o, n);
    for (const i of n.inputs) if (i) this.addTo(this.direct, i, n);
    for (const c of Graph.capturedNames(n)) this.addTo(this.captured, c, n);
    if (this.names) {
      if (n.name) this.names.add(n.name);
      for (const o of n.outputs) if (o) this.names.add(o);
    }
  }

  private unlink(n: Node): void {
    this.order.delete(n);
    for (const o of n.outputs) if (o && this.prod.get(o) === n) this.prod.delete(o);
    for (const i of n.inputs) if (i) this.dropFrom(this.direct, i, n);
    for (const c of Graph.capturedNames(n)) this.dropFrom(this.captured, c, n);
  }

  /** Rebuild graph.nodes from the order keys (after rewrites). */
  private sync(): void {
    if (!this.stale) return;
    this.stale = false;
    const key = (n: Node) => this.order.get(n)!;
    this.g.nodes = [...this.order.keys()].sort((a, b) => {
      const ka = key(a), kb = key(b);
      return ka[0] - kb[0] || ka[1] - kb[1];
    });
  }

  /** Is the node in the graph? */
  has(node: Node): boolean {
    this.index();
    return this.order.has(node);
  }

  /** Nodes sorted in graph order. */
  sorted(nodes: Iterable<Node>): Node[] {
    return [...nodes].filter((n) => this.has(n)).sort((a, b) => this.compareOrder(a, b));
  }

  compareOrder(a: Node, b: Node): number {
    this.index();
    const ka = this.order.get(a), kb = this.order.get(b);
    if (!ka || !kb) return ka ? -1 : kb ? 1 : 0;
    return ka[0] - kb[0] || ka[1] - kb[1];
  }

  producer(name: string): Node | undefined {
    this.index();
    return this.prod.get(name);
  }

  consumers(name: string): readonly Node[] {
    this.index();
    let l = this.consCache.get(name);
    if (!l) {
      const d = this.direct.get(name), c = this.captured.get(name);
      l = d ? [...d] : [];
      if (c) for (const n of c) if (!d?.has(n)) l.push(n);
      this.consCache.set(name, l);
    }
    return l;
  }

  isGraphOutput(name: string): boolean { return this.outputs.has(name); }

  usedOnlyBy(name: string, node: Node): boolean {
    if (this.isGraphOutput(name)) return false;
    const c = this.consumers(name);
    return c.length === 1 && c[0] === node;
  }

  fresh(base: string): string {
    this.index();
    if (!this.names) {
      this.names = new Set(this.g.inputs);
      for (const n of this.order.keys()) {
        if (n.name) this.names.add(n.name);
        for (const o of n.outputs) if (o) this.names.add(o);
      }
    }
    const taken = (n: string) => this.names!.has(n) || this.g.initializers.has(n) || this.opts.types.has(n);
    let name = base;
    for (let k = 1; taken(name); k++) name = `${base}_${k}`;
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

  /** Redirect the direct reads of `from` by `n` to `to`. */
  private rename(n: Node, from: string, to: string): void {
    n.inputs = n.inputs.map((i) => (i === from ? to : i));
    this.dropFrom(this.direct, from, n);
    this.addTo(this.direct, to, n);
  }

  /** A node appended at the end of the graph (the Identity that keeps a name alive). */
  private append(n: Node, values: Set<string>): void {
    this.link(n, Number.MAX_SAFE_INTEGER);
    this.touched.add(n);
    for (const i of n.inputs) values.add(i);
    for (const o of n.outputs) values.add(o);
  }

  /**
   * Apply one rewrite; throws GraphError (naming the rule) when it would break the graph. Cost:
   * proportional to the nodes and values the rewrite touches, not to the graph.
   */
  apply(rule: string, rw: Rewrite): void {
    this.index();
    const g = this.g;
    if (!rw.remove.length || rw.remove.some((n) => !this.order.has(n))) throw new GraphError(`rule ${rule} removes a node that is not in the graph`);
    this.touched = new Set();
    // the values around the edit: their producers and consumers are offered to the rules again
    const values = new Set<string>();
    for (const [name, t] of rw.initializers ?? []) {
      g.initializers.set(name, t);
      this.opts.types.set(name, typeOf(t));
      values.add(name);
    }
    for (const [name, t] of rw.types ?? []) this.opts.types.set(name, t);
    const add = rw.add ?? [];
    let last = rw.remove[0];
    for (const n of rw.remove) if (this.compareOrder(n, last) > 0) last = n;
    const at = this.order.get(last)![0];
    for (const n of rw.remove) {
      this.unlink(n);
      for (const v of [...n.inputs, ...n.outputs]) values.add(v);
    }
    for (const n of add) {
      this.link(n, at);
      this.touched.add(n);
      for (const v of [...n.inputs, ...n.outputs]) values.add(v);
    }
    this.stale = true;
    // redirect uses; a graph output keeps its name: the new value is renamed to it when it is a
    // plain node output, else an Identity (a view, no kernel) produces it
    for (const [from, to] of rw.replace ?? []) {
      if (from === to) continue;
      values.add(from);
      values.add(to);
      if (this.outputs.has(from)) {
        const p = this.prod.get(to);
        if (p && !this.outputs.has(to) && !this.captured.get(to)?.size) {
          p.outputs = p.outputs.map((o) => (o === to ? from : o));
          this.prod.delete(to);
          this.prod.set(from, p);
          this.names?.add(from);
          for (const n of [...(this.direct.get(to) ?? [])]) this.rename(n, to, from);
          if (this.opts.types.has(to)) this.opts.types.set(from, { ...this.opts.types.get(to)! });
        } else {
          this.append(new Node({ name: this.fresh(`${from}.identity`), opType: 'Identity', inputs: [to], outputs: [from] }), values);
        }
        continue;
      }
      for (const n of [...(this.direct.get(from) ?? [])]) this.rename(n, from, to);
      if (this.captured.get(from)?.size) {
        this.append(new Node({ name: this.fresh(`${from}.identity`), opType: 'Identity', inputs: [to], outputs: [from] }), values);
      }
    }
    // every output of a removed node must be gone from the graph or produced again
    for (const n of rw.remove) {
      for (const o of n.outputs) {
        if (!o || this.prod.has(o) || g.initializers.has(o)) continue;
        if (this.consumers(o).length || this.isGraphOutput(o)) throw new GraphError(`rule ${rule} removed '${o}' (of ${partName(n)}) but it is still used`);
        this.opts.types.delete(o);
      }
    }
    for (const n of add) this.inferNode(n);
    for (const v of values) {
      if (!v) continue;
      const p = this.prod.get(v);
      if (p) this.touched.add(p);
      const c = this.consumers(v);
      if (c.length <= DIRTY_FANOUT) for (const n of c) this.touched.add(n);
    }
  }
}

/**
 * Apply a pass to a fixpoint: every node is offered to the rules indexed under its op (and '*'),
 * first match wins. After a first sweep over all nodes, only the nodes around each rewrite are
 * offered again (a worklist, in graph order), and a last full sweep confirms that nothing matches
 * any more (rules that look further than their neighbours are not missed). Cost: the sweeps plus
 * the rewrites' own work, each rewrite local.
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
    let queue = state.graph.nodes.slice();
    let full = true;
    for (;;) {
      const dirty = new Set<Node>();
      for (const node of queue) {
        if (!state.has(node)) continue;
        const rules = index.get(opKey(node));
        for (const rule of rules ? [...rules, ...any] : any) {
          const rw = rule.match(node, state);
          if (!rw) continue;
          state.apply(rule.name, rw);
          for (const n of state.touched) dirty.add(n);
          counts.set(rule.name, (counts.get(rule.name) ?? 0) + 1);
          log(`fusion: ${rule.name}: ${rw.note ?? `${rw.remove.map(partName).join(', ')} -> ${(rw.add ?? []).map(partName).join(', ') || '(removed)'}`}`);
          applied++;
          break;
        }
        if (applied > limit) throw new GraphError(`pass ${pass.name} did not reach a fixpoint after ${applied} rewrites (rules undo each other?)`);
      }
      if (dirty.size) { queue = state.sorted(dirty); full = false; continue; }
      if (full) break;
      queue = state.graph.nodes.slice();
      full = true;
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
