/**
 * A small builder for constructing graphs in code: tests, rewrite rules and benchmarks use it
 * instead of hand-assembling {@link Node}s.
 *
 * @example
 * ```ts
 * const b = new GraphBuilder('mlp');
 * const x = b.input('x', 'float32', ['N', 4]);
 * const w = b.initializer('w', Tensor.from('float32', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
 * const [y] = b.node('MatMul', [x, w]);
 * const [z] = b.node('LeakyRelu', [y], { alpha: attr.float(0.1) });
 * b.output(z, 'float32', ['N', 2]);
 * const model = b.build(); // ai.onnx opset 21, verified
 * ```
 */
import { GraphError } from '../errors';
import { DType } from './dtype';
import { Attr, AttrValue, Dim, Graph, Model, Node, ValueType } from './graph';
import { Tensor } from './tensor';

/** The default-domain opset a builder targets unless told otherwise. */
export const DEFAULT_OPSET = 21;

/**
 * Explicit attribute constructors, for when the plain-value inference of {@link GraphBuilder.node}
 * would guess wrong (a float that happens to be integral, an empty list, a bigint).
 */
export const attr = {
  /** INT attribute (values past 2^53 lose precision; INT64_MAX/MIN survive serialization). */
  int: (v: number | bigint | boolean): Attr => ({ type: 'int', value: Number(v) }),
  /** FLOAT attribute, even for integral values (`attr.float(1)`). */
  float: (v: number): Attr => ({ type: 'float', value: v }),
  string: (v: string): Attr => ({ type: 'string', value: v }),
  ints: (v: readonly (number | bigint)[]): Attr => ({ type: 'ints', value: v.map(Number) }),
  floats: (v: readonly number[]): Attr => ({ type: 'floats', value: v.slice() }),
  strings: (v: readonly string[]): Attr => ({ type: 'strings', value: v.slice() }),
  tensor: (v: Tensor): Attr => ({ type: 'tensor', value: v }),
  tensors: (v: readonly Tensor[]): Attr => ({ type: 'tensors', value: v.slice() }),
  graph: (v: Graph): Attr => ({ type: 'graph', value: v }),
  graphs: (v: readonly Graph[]): Attr => ({ type: 'graphs', value: v.slice() }),
  typeProto: (v: ValueType): Attr => ({ type: 'type_proto', value: v }),
  /** A function-body attribute that takes the value of the caller's attribute `ref`. */
  ref: (type: Attr['type'], ref: string): Attr => ({ type, value: defaultFor(type), refAttrName: ref }),
};

function defaultFor(type: Attr['type']): AttrValue {
  switch (type) {
    case 'float': case 'int': return 0;
    case 'string': return '';
    default: return [];
  }
}

/** What {@link GraphBuilder.node} accepts as an attribute value. */
export type AttrInput = Attr | number | bigint | boolean | string | Tensor | Graph
  | readonly number[] | readonly string[] | readonly Tensor[] | readonly Graph[];

function isAttr(v: unknown): v is Attr {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tensor) && !(v instanceof Graph) && 'type' in v && 'value' in v;
}

/**
 * Convert a plain JS value to an attribute: an integral number -> INT, other numbers -> FLOAT,
 * boolean/bigint -> INT, string -> STRING, Tensor -> TENSOR, Graph -> GRAPH, arrays likewise
 * (number[] is INTS when all entries are integral, else FLOATS; an empty array is INTS).
 * Use {@link attr} helpers to force a type.
 */
export function toAttr(name: string, v: AttrInput): Attr {
  if (isAttr(v)) return v;
  if (typeof v === 'number') return Number.isInteger(v) ? attr.int(v) : attr.float(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return attr.int(v);
  if (typeof v === 'string') return attr.string(v);
  if (v instanceof Tensor) return attr.tensor(v);
  if (v instanceof Graph) return attr.graph(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return attr.ints([]);
    if (v.every((x) => typeof x === 'number')) return (v as number[]).every(Number.isInteger) ? attr.ints(v as number[]) : attr.floats(v as number[]);
    if (v.every((x) => typeof x === 'string')) return attr.strings(v as string[]);
    if (v.every((x) => x instanceof Tensor)) return attr.tensors(v as Tensor[]);
    if (v.every((x) => x instanceof Graph)) return attr.graphs(v as Graph[]);
  }
  throw new GraphError(`attribute '${name}': cannot tell its ONNX type from ${String(v)}; use attr.int/float/... explicitly`);
}

/** What {@link GraphBuilder.mark} returns. */
export interface BuilderMark {
  readonly nodes: number;
  readonly inputs: number;
  readonly outputs: number;
  readonly used: ReadonlySet<string>;
  readonly initializers: ReadonlySet<string>;
  readonly types: ReadonlyMap<string, ValueType>;
}

/** Options of one {@link GraphBuilder.node} call. */
export interface NodeOptions {
  /** Node name (default: `<opType>_<k>`, unique in the builder). */
  name?: string;
  /** Output count (names `<node>:<i>`) or explicit output names (default 1). */
  outputs?: number | string[];
  /** Operator domain (default '' = ai.onnx). A non-default domain is imported at version 1 unless set. */
  domain?: string;
}

/**
 * Builds a {@link Graph} (and a {@link Model} around it) step by step. Names are checked as they
 * are added; `build()` runs `verify()`, so a built graph always satisfies the IR invariants.
 * A builder is single-use: after `build()` the graph belongs to the caller.
 */
export class GraphBuilder {
  readonly graph: Graph;
  private readonly opsets: Map<string, number>;
  private readonly used = new Set<string>();
  /**
   * The graph's node names, kept here so naming a node does not scan the graph; rebuilt when the
   * node list changed behind the builder's back (a rollback, a direct edit).
   */
  private readonly names = new Set<string>();
  private namesOf?: { nodes: Node[]; length: number };
  private counter = 0;

  /**
   * @param name graph name
   * @param opsets domain -> version imports ('' or 'ai.onnx' for the default domain, which
   *   defaults to {@link DEFAULT_OPSET})
   * @param parent the enclosing graph when building an If/Loop/Scan body (see {@link subgraph})
   */
  constructor(name = 'graph', opsets: Record<string, number> | Map<string, number> = {}, parent?: Graph) {
    this.graph = new Graph(name, parent);
    const given = opsets instanceof Map ? [...opsets] : Object.entries(opsets);
    this.opsets = new Map(given.map(([d, v]) => [d === 'ai.onnx' ? '' : d, v]));
    if (!this.opsets.has('')) this.opsets.set('', DEFAULT_OPSET);
  }

  private claim(name: string, what: string): string {
    if (!name) throw new GraphError(`${what} needs a non-empty name`);
    if (this.used.has(name)) throw new GraphError(`${what} '${name}': the name is already defined in graph '${this.graph.name}'`);
    this.used.add(name);
    return name;
  }

  private get nodeNames(): Set<string> {
    const nodes = this.graph.nodes;
    if (this.namesOf?.nodes !== nodes || this.namesOf.length !== nodes.length) {
      this.names.clear();
      for (const n of nodes) if (n.name) this.names.add(n.name);
      this.namesOf = { nodes, length: nodes.length };
    }
    return this.names;
  }

  /** A name not used yet in this builder, from `base`. */
  uniqueName(base: string): string {
    let name = base;
    while (this.used.has(name) || this.nodeNames.has(name)) name = `${base}_${++this.counter}`;
    return name;
  }

  /**
   * Declare a graph input. `shape` entries are sizes or symbolic names; omit it for unknown rank.
   * @returns the input's name
   */
  input(name: string, dtype: DType, shape?: readonly Dim[]): string {
    this.claim(name, 'input');
    this.graph.inputs.push(name);
    this.graph.types.set(name, { kind: 'tensor', dtype, shape: shape?.slice() });
    return name;
  }

  /** Declare an input whose value type is a sequence or optional. */
  typedInput(name: string, type: ValueType): string {
    this.claim(name, 'input');
    this.graph.inputs.push(name);
    this.graph.types.set(name, { ...type, shape: type.shape?.slice() });
    return name;
  }

  /**
   * Add a constant tensor (an ONNX initializer). The tensor is held, not copied.
   * @returns the initializer's name
   */
  initializer(name: string, tensor: Tensor): string {
    this.claim(name, 'initializer');
    this.graph.initializers.set(name, tensor);
    return name;
  }

  /** An initializer with a generated name (`<base>`, `<base>_1`, ...). */
  constant(tensor: Tensor, base = 'const'): string {
    return this.initializer(this.uniqueName(base), tensor);
  }

  /**
   * Append a node.
   * @param opType ONNX operator type, verbatim (`Conv`, `MatMul`)
   * @param inputs value names; '' / undefined / null mark an omitted optional input
   * @param attrs attributes as plain values (see {@link toAttr}) or {@link attr} helpers
   * @param options name, outputs (count or names), domain
   * @returns the output names, in order
   * @throws GraphError when an output name is already defined or an input is unknown
   */
  node(opType: string, inputs: readonly (string | undefined | null)[], attrs: Record<string, AttrInput> = {}, options: NodeOptions = {}): string[] {
    const name = options.name ?? this.uniqueName(`${opType}_${this.graph.nodes.length}`);
    if (options.name !== undefined && this.nodeNames.has(options.name)) {
      throw new GraphError(`node name '${options.name}' is already used in graph '${this.graph.name}'`);
    }
    const ins = inputs.map((i) => i ?? '');
    for (const i of ins) {
      if (i && !this.used.has(i) && !this.graph.definedOutside(i)) {
        throw new GraphError(`node '${name}' (${opType}): input '${i}' is not defined yet (add it as an input, initializer or node output first)`);
      }
    }
    const outs = Array.isArray(options.outputs)
      ? options.outputs.slice()
      : Array.from({ length: options.outputs ?? 1 }, (_, k) => this.uniqueName(`${name}:${k}`));
    for (const o of outs) if (o) this.claim(o, `output of node '${name}'`);
    const domain = options.domain === 'ai.onnx' ? '' : options.domain ?? '';
    if (domain && !this.opsets.has(domain)) this.opsets.set(domain, 1);
    const a = new Map<string, Attr>();
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a.set(k, toAttr(k, v));
    const names = this.nodeNames;
    this.graph.nodes.push(new Node({ name, opType, domain, inputs: ins, outputs: outs, attrs: a }));
    names.add(name);
    this.namesOf!.length = this.graph.nodes.length;
    return outs;
  }

  /** Record the type of an intermediate value (ONNX value_info). */
  valueType(name: string, dtype: DType, shape?: readonly Dim[]): this {
    this.graph.types.set(name, { kind: 'tensor', dtype, shape: shape?.slice() });
    return this;
  }

  /** Mark a value as a graph output, optionally with its type. */
  output(name: string, dtype?: DType, shape?: readonly Dim[]): this {
    if (this.graph.outputs.includes(name)) throw new GraphError(`'${name}' is already a graph output`);
    this.graph.outputs.push(name);
    if (dtype) this.valueType(name, dtype, shape);
    return this;
  }

  /**
   * Build a nested graph (an If branch, a Loop/Scan body) that may read this graph's values.
   * The body builder shares this builder's opsets.
   */
  subgraph(name: string, fn: (body: GraphBuilder) => void): Graph {
    const body = new GraphBuilder(name, this.opsets, this.graph);
    fn(body);
    for (const [d, v] of body.opsets) if (!this.opsets.has(d)) this.opsets.set(d, v);
    return body.graph;
  }

  /** The builder's state now, to undo what follows with {@link rollback} (a step that failed halfway). */
  mark(): BuilderMark {
    const g = this.graph;
    return { nodes: g.nodes.length, inputs: g.inputs.length, outputs: g.outputs.length, used: new Set(this.used), initializers: new Set(g.initializers.keys()), types: new Map(g.types) };
  }

  /** Undoes every node, input, output, initializer, type and name added since `m`. */
  rollback(m: BuilderMark): void {
    const g = this.graph;
    g.nodes.length = m.nodes;
    g.inputs.length = m.inputs;
    g.outputs.length = m.outputs;
    for (const k of [...g.initializers.keys()]) if (!m.initializers.has(k)) g.initializers.delete(k);
    g.types = new Map(m.types);
    for (const n of [...this.used]) if (!m.used.has(n)) this.used.delete(n);
  }

  /** The graph, verified (subgraphs included). @throws GraphError on a broken invariant. */
  buildGraph(): Graph {
    this.graph.verify();
    return this.graph;
  }

  /**
   * A model around the graph, with the opset imports (ai.onnx {@link DEFAULT_OPSET} unless given,
   * plus every domain nodes used) and IR version 10.
   * @throws GraphError when the graph breaks an IR invariant
   */
  build(options: { producerName?: string; irVersion?: number } = {}): Model {
    const m = new Model(this.buildGraph());
    m.opsets = new Map(this.opsets);
    m.irVersion = options.irVersion ?? 10;
    m.producerName = options.producerName ?? 'vkrt';
    return m;
  }
}
