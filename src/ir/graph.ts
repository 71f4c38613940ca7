import { GraphError } from '../errors';
import { DType } from './dtype';
import { Tensor } from './tensor';

/** A dimension: a size, or a symbolic name (ONNX dim_param) when it is not known yet. */
export type Dim = number | string;

/** What is known about a value before running: its kind, element type and (maybe) shape. */
export interface ValueType {
  /** 'tensor' unless a sequence or optional (ONNX sequence_type / optional_type). */
  kind?: 'tensor' | 'sequence' | 'optional';
  /** Element type (of the tensor, or of the sequence's / optional's tensors). */
  dtype: DType;
  /** Dims, or undefined when even the rank is unknown. */
  shape?: Dim[];
  /** For an optional: the kind it wraps. */
  elemKind?: 'tensor' | 'sequence';
}

export type AttrType = 'float' | 'int' | 'string' | 'tensor' | 'graph' | 'floats' | 'ints'
  | 'strings' | 'tensors' | 'graphs' | 'sparse_tensor' | 'type_proto' | 'type_protos';

export type AttrValue = number | string | Tensor | Graph | number[] | string[] | Tensor[] | Graph[] | ValueType | ValueType[];

export interface Attr {
  type: AttrType;
  value: AttrValue;
  /** For attributes inside a function body: the name of the function attribute it refers to. */
  refAttrName?: string;
}

/** One operator application. Inputs and outputs are value names; '' marks an absent optional. */
export class Node {
  name: string;
  opType: string;
  /** Operator set domain; '' is the default ONNX domain (also written 'ai.onnx'). */
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, Attr>;
  docString?: string;

  constructor(init: { name?: string; opType: string; domain?: string; inputs?: string[]; outputs?: string[]; attrs?: Map<string, Attr> | Record<string, Attr> }) {
    this.name = init.name ?? '';
    this.opType = init.opType;
    this.domain = init.domain === 'ai.onnx' ? '' : init.domain ?? '';
    this.inputs = init.inputs?.slice() ?? [];
    this.outputs = init.outputs?.slice() ?? [];
    const a = init.attrs;
    this.attrs = a instanceof Map ? new Map(a) : new Map(Object.entries(a ?? {}));
  }
}

/**
 * A computation graph: nodes in topological order over named values. Each value is produced
 * once: by a node, as a graph input, or as an initializer. A subgraph (If/Loop/Scan body) may use
 * names of its enclosing graphs (`parent`): outer-scope values.
 */
export class Graph {
  name: string;
  nodes: Node[] = [];
  /** Graph inputs, in order (ONNX allows initializers to appear here too: they are defaults). */
  inputs: string[] = [];
  outputs: string[] = [];
  initializers = new Map<string, Tensor>();
  /** Known types of values: graph inputs/outputs, value_info, and whatever inference added. */
  types = new Map<string, ValueType>();
  parent?: Graph;
  docString?: string;

  constructor(name = 'graph', parent?: Graph) {
    this.name = name;
    this.parent = parent;
  }

  /** name -> node that produces it. */
  producers(): Map<string, Node> {
    const m = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.outputs) if (o) m.set(o, n);
    return m;
  }

  /** name -> nodes that read it (in this graph, not in nested subgraphs). */
  consumers(): Map<string, Node[]> {
    const m = new Map<string, Node[]>();
    for (const n of this.nodes) {
      for (const i of n.inputs) {
        if (!i) continue;
        let l = m.get(i);
        if (!l) m.set(i, (l = []));
        if (!l.includes(n)) l.push(n);
      }
    }
    return m;
  }

  /** Is `name` defined in an enclosing graph (outer scope)? (For many questions, use {@link outerNames}.) */
  definedOutside(name: string): boolean {
    for (let g = this.parent; g; g = g.parent) {
      if (g.initializers.has(name) || g.inputs.includes(name) || g.nodes.some((n) => n.outputs.includes(name))) return true;
    }
    return false;
  }

  /** Every name defined in the enclosing graphs (inputs, initializers, node outputs). */
  outerNames(): Set<string> {
    const out = new Set<string>();
    for (let g = this.parent; g; g = g.parent) {
      for (const i of g.inputs) out.add(i);
      for (const i of g.initializers.keys()) out.add(i);
      for (const n of g.nodes) for (const o of n.outputs) if (o) out.add(o);
    }
    return out;
  }

  /** Names every nested subgraph of `node` reads from outside itself. */
  static capturedNames(node: Node): Set<string> {
    const out = new Set<string>();
    for (const a of node.attrs.values()) {
      const gs = a.type === 'graph' ? [a.value as Graph] : a.type === 'graphs' ? (a.value as Graph[]) : [];
      for (const g of gs) for (const n of g.freeNames()) out.add(n);
    }
    return out;
  }

  /** Names this graph (and its subgraphs) read without defining them. */
  freeNames(): Set<string> {
    const defined = new Set<string>([...this.inputs, ...this.initializers.keys()]);
    const free = new Set<string>();
    for (const n of this.nodes) {
      for (const i of n.inputs) if (i && !defined.has(i)) free.add(i);
      for (const c of Graph.capturedNames(n)) if (!defined.has(c)) free.add(c);
      for (const o of n.outputs) if (o) defined.add(o);
    }
    for (const o of this.outputs) if (!defined.has(o)) free.add(o);
    return free;
  }

  /** True when every node's inputs are defined before it (or outside the graph). */
  isSorted(): boolean {
    const external = new Set<string>([...this.inputs, ...this.initializers.keys()]);
    const producedLater = new Set<string>();
    for (const n of this.nodes) for (const o of n.outputs) if (o) producedLater.add(o);
    for (const n of this.nodes) {
      for (const i of n.inputs) if (i && producedLater.has(i) && !external.has(i)) return false;
      for (const c of Graph.capturedNames(n)) if (producedLater.has(c)) return false;
      for (const o of n.outputs) if (o) producedLater.delete(o);
    }
    return true;
  }

  /**
   * Reorder nodes topologically (Kahn's algorithm, stable: among ready nodes the earliest in the
   * given order goes first, so a sorted graph is unchanged; a binary heap keeps it O(n log n)).
   * Names no node produces are external (graph inputs, initializers, outer scope). Throws
   * GraphError on a value with two producers, and on a cycle (naming the values around it).
   */
  topoSort(): void {
    const producer = new Map<string, number>();
    this.nodes.forEach((n, k) => {
      for (const o of n.outputs) {
        if (!o) continue;
        if (producer.has(o)) throw new GraphError(`value '${o}' is produced more than once (by node '${this.nodes[producer.get(o)!].name}' and again by this node)`, n);
        producer.set(o, k);
      }
    });
    const external = new Set<string>([...this.inputs, ...this.initializers.keys()]);
    const deps = this.nodes.map((n) => {
      const d = new Set<number>();
      for (const i of [...n.inputs, ...Graph.capturedNames(n)]) {
        if (!i || external.has(i)) continue;
        const p = producer.get(i);
        if (p !== undefined) d.add(p);
      }
      return d;
    });
    const users: number[][] = this.nodes.map(() => []);
    const waiting = deps.map((d, k) => { for (const p of d) users[p].push(k); return d.size; });
    const ready = new MinHeap();
    waiting.forEach((w, k) => { if (w === 0) ready.push(k); });
    const order: number[] = [];
    while (ready.size) {
      const k = ready.pop();
      order.push(k);
      for (const u of users[k]) if (--waiting[u] === 0) ready.push(u);
    }
    if (order.length !== this.nodes.length) throw this.cycleError(deps, waiting);
    this.nodes = order.map((k) => this.nodes[k]);
  }

  /**
   * The error for a cycle, in linear time: from a node that never became ready, follow
   * dependencies that never became ready either until one repeats; that loop is a cycle.
   */
  private cycleError(deps: Set<number>[], waiting: number[]): GraphError {
    const stuck = (k: number) => waiting[k] > 0;
    const start = waiting.findIndex((w) => w > 0);
    const seenAt = new Map<number, number>();
    const path: number[] = [];
    let k = start;
    while (!seenAt.has(k)) {
      seenAt.set(k, path.length);
      path.push(k);
      let next = -1;
      for (const d of deps[k]) if (stuck(d)) { next = d; break; }
      if (next < 0) break; // cannot happen: a stuck node waits on a stuck one
      k = next;
    }
    const loop = path.slice(seenAt.get(k) ?? 0).reverse();
    // start the listing at the node that comes first in the graph
    let first = 0;
    for (let i = 1; i < loop.length; i++) if (loop[i] < loop[first]) first = i;
    loop.push(...loop.splice(0, first));
    const label = (i: number) => {
      const n = this.nodes[i];
      return n.name ? `${n.name} (${n.opType})` : `${n.outputs.find((o) => o) ?? '?'} (${n.opType})`;
    };
    const MAX = 8;
    const shown = loop.length <= MAX ? loop.map(label) : [...loop.slice(0, MAX / 2).map(label), `... ${loop.length - MAX} more ...`, ...loop.slice(-MAX / 2).map(label)];
    const total = waiting.filter((w) => w > 0).length;
    return new GraphError(`the graph has a cycle of ${loop.length} node(s): ${shown.join(' -> ')} -> back to the first${total > loop.length ? `; ${total} node(s) in all wait on it` : ''}`, this.nodes[loop[0]]);
  }

  /**
   * Check the IR invariants: every value produced once, every input defined before use (or in an
   * outer scope), every graph output defined, node names unique where given. Throws GraphError.
   */
  verify(): void {
    this.verifyIn(undefined);
  }

  /** verify() with the names of the enclosing graphs given (each computed once per graph). */
  private verifyIn(scopes: readonly Set<string>[] | undefined): void {
    const produced = new Set<string>();
    const define = (name: string, what: string, node?: Node) => {
      if (produced.has(name)) throw new GraphError(`value '${name}' is produced more than once (again by ${what})`, node);
      produced.add(name);
    };
    for (const i of this.inputs) if (!this.initializers.has(i)) define(i, 'a graph input');
    for (const i of this.initializers.keys()) define(i, 'an initializer');
    let outer = scopes;
    const outside = (name: string) => (outer ??= [this.outerNames()]).some((s) => s.has(name));
    // names this graph defines anywhere: what its subgraphs may read
    let mine: Set<string> | undefined;
    const inner = () => {
      if (!mine) {
        mine = new Set<string>([...this.inputs, ...this.initializers.keys()]);
        for (const n of this.nodes) for (const o of n.outputs) if (o) mine.add(o);
      }
      return [...(outer ??= [this.outerNames()]), mine];
    };
    const names = new Set<string>();
    for (const n of this.nodes) {
      if (n.name) {
        if (names.has(n.name)) throw new GraphError(`node name '${n.name}' is used twice`, n);
        names.add(n.name);
      }
      for (const i of n.inputs) {
        if (i && !produced.has(i) && !outside(i)) {
          throw new GraphError(`input '${i}' is used before it is produced (or never produced)`, n);
        }
      }
      for (const a of n.attrs.values()) {
        if (a.type === 'graph') (a.value as Graph).verifyIn(inner());
        if (a.type === 'graphs') for (const g of a.value as Graph[]) g.verifyIn(inner());
      }
      for (const o of n.outputs) if (o) define(o, `node '${n.name}'`, n);
    }
    for (const o of this.outputs) {
      if (!produced.has(o) && !outside(o)) throw new GraphError(`graph output '${o}' is never produced`);
    }
  }

  /** A stable, human-readable listing of the graph (used in tests and debug logs). */
  print(indent = ''): string {
    const lines: string[] = [];
    const t = (n: string) => {
      const ty = this.types.get(n);
      return ty ? `${n}: ${formatType(ty)}` : n;
    };
    lines.push(`${indent}graph ${this.name} (${this.inputs.filter((i) => !this.initializers.has(i)).map(t).join(', ')}) -> (${this.outputs.map(t).join(', ')})`);
    for (const [name, init] of this.initializers) lines.push(`${indent}  init ${name}: ${init.dtype}[${init.dims.join(',')}]`);
    for (const n of this.nodes) {
      const attrs = [...n.attrs.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      const simple = attrs.filter(([, a]) => a.type !== 'graph' && a.type !== 'graphs').map(([k, a]) => `${k}=${formatAttr(a)}`);
      const op = n.domain ? `${n.domain}::${n.opType}` : n.opType;
      lines.push(`${indent}  ${n.outputs.join(', ')} = ${op}${simple.length ? `[${simple.join(', ')}]` : ''}(${n.inputs.join(', ')})${n.name ? `  # ${n.name}` : ''}`);
      for (const [k, a] of attrs) {
        const gs = a.type === 'graph' ? [a.value as Graph] : a.type === 'graphs' ? (a.value as Graph[]) : [];
        for (const g of gs) lines.push(`${indent}    ${k}:`, g.print(indent + '      '));
      }
    }
    return lines.join('\n');
  }
}

export function formatType(t: ValueType): string {
  const shape = t.shape ? `[${t.shape.join(',')}]` : '[?]';
  const base = `${t.dtype}${shape}`;
  return t.kind === 'sequence' ? `seq<${base}>` : t.kind === 'optional' ? `opt<${base}>` : base;
}

function formatAttr(a: Attr): string {
  const v = a.value;
  if (v instanceof Tensor) return v.size <= 8 ? `${v.dtype}[${v.dims.join(',')}]{${Array.from(v.data as ArrayLike<unknown>).join(',')}}` : `${v.dtype}[${v.dims.join(',')}]`;
  if (Array.isArray(v)) return `[${(v as unknown[]).map((x) => (x instanceof Tensor ? x.toString() : typeof x === 'string' ? JSON.stringify(x) : String(x))).join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  return a.type;
}

/** A binary min-heap of node indices (topoSort's ready set). */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number { return this.a.length; }
  push(v: number): void {
    const a = this.a;
    let i = a.push(v) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        let mv = last;
        if (l < a.length && a[l] < mv) { m = l; mv = a[l]; }
        if (r < a.length && a[r] < mv) { m = r; mv = a[r]; }
        if (m === i) break;
        a[i] = a[m];
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}

/** A model-local function (ONNX FunctionProto): a named subgraph with attribute parameters. */
export interface FunctionDef {
  name: string;
  domain: string;
  overload?: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names the body may refer to, with defaults where given. */
  attributes: string[];
  attributeDefaults: Map<string, Attr>;
  nodes: Node[];
  opsets: Map<string, number>;
}

/** A whole model: the main graph, its opset imports and metadata. */
export class Model {
  irVersion = 0;
  /** domain ('' for ai.onnx) -> version */
  opsets = new Map<string, number>();
  producerName = '';
  producerVersion = '';
  modelVersion = 0;
  docString = '';
  metadata = new Map<string, string>();
  functions: FunctionDef[] = [];
  graph: Graph;
  /** Where the model was read from, for error messages and external data. */
  path?: string;

  constructor(graph: Graph) {
    this.graph = graph;
  }

  /** Opset version of a domain ('' and 'ai.onnx' are the same). */
  opset(domain: string): number | undefined {
    return this.opsets.get(domain === 'ai.onnx' ? '' : domain);
  }
}

/**
 * A deep-enough copy of a model for rewriting: new Graph and Node objects (nodes may be moved to
 * another domain by `domainOf`), shared (immutable) tensors and subgraphs.
 */
export function cloneModel(model: Model, domainOf: (n: Node) => string = (n) => n.domain): Model {
  const src = model.graph;
  const g = new Graph(src.name, src.parent);
  g.nodes = src.nodes.map((n) => new Node({ name: n.name, opType: n.opType, domain: domainOf(n), inputs: n.inputs, outputs: n.outputs, attrs: n.attrs }));
  g.inputs = src.inputs.slice();
  g.outputs = src.outputs.slice();
  g.initializers = new Map(src.initializers);
  g.types = new Map(src.types);
  g.docString = src.docString;
  const m = new Model(g);
  Object.assign(m, { ...model, graph: g, opsets: new Map(model.opsets), metadata: new Map(model.metadata), functions: model.functions.slice() });
  return m;
}
