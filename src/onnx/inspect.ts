/**
 * What a parsed model uses: domains, their opset versions and the operators of each, across the
 * main graph, every nested subgraph (If/Loop/Scan bodies) and the model-local functions. The
 * builder uses it to say up front which operators or domains it cannot handle.
 */
import { ParseError } from '../errors';
import { Attr, FunctionDef, Graph, Model, Node } from '../ir/graph';
import { Tensor } from '../ir/tensor';

/** One operator type of one domain, and how often it appears. */
export interface OperatorUse {
  domain: string;
  opType: string;
  count: number;
  /** True when the op is a model-local function (FunctionProto) rather than a registered op. */
  localFunction: boolean;
}

/** One domain a model uses or imports. */
export interface DomainUse {
  /** '' is the default ONNX domain (ai.onnx). */
  domain: string;
  /** Imported opset version, or undefined when nodes use the domain without importing it. */
  version?: number;
  /** Operators of this domain, sorted by op type. */
  ops: OperatorUse[];
}

/** Calls `fn` on every node of a graph, its subgraphs first-to-last, depth first. */
export function forEachNode(g: Graph, fn: (node: Node, graph: Graph) => void): void {
  for (const n of g.nodes) {
    fn(n, g);
    for (const a of n.attrs.values()) for (const sub of subgraphsOf(a)) forEachNode(sub, fn);
  }
}

function subgraphsOf(a: Attr): Graph[] {
  return a.type === 'graph' ? [a.value as Graph] : a.type === 'graphs' ? (a.value as Graph[]) : [];
}

function forEachFunctionNode(f: FunctionDef, fn: (node: Node) => void): void {
  for (const n of f.nodes) {
    fn(n);
    for (const a of n.attrs.values()) for (const sub of subgraphsOf(a)) forEachNode(sub, fn);
  }
}

/**
 * Domains and operators present in a model (graph, subgraphs and function bodies), sorted by
 * domain then op type. Imported domains with no nodes are listed with empty `ops`.
 */
export function listOperators(model: Model): DomainUse[] {
  const local = new Set(model.functions.map((f) => `${f.domain}::${f.name}`));
  const domains = new Map<string, Map<string, OperatorUse>>();
  for (const d of model.opsets.keys()) domains.set(d, new Map());
  const count = (n: Node) => {
    let ops = domains.get(n.domain);
    if (!ops) domains.set(n.domain, (ops = new Map()));
    const u = ops.get(n.opType);
    if (u) u.count++;
    else ops.set(n.opType, { domain: n.domain, opType: n.opType, count: 1, localFunction: local.has(`${n.domain}::${n.opType}`) });
  };
  forEachNode(model.graph, count);
  for (const f of model.functions) forEachFunctionNode(f, count);
  return [...domains.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([domain, ops]) => ({
      domain,
      version: model.opsets.get(domain),
      ops: [...ops.values()].sort((a, b) => (a.opType < b.opType ? -1 : a.opType > b.opType ? 1 : 0)),
    }));
}

/** Domains other than ai.onnx that nodes use and that are not model-local functions' domains only. */
export function foreignDomains(model: Model): string[] {
  return listOperators(model).filter((d) => d.domain !== '' && d.ops.some((o) => !o.localFunction)).map((d) => d.domain);
}

/**
 * The value of an ONNX Constant node as a tensor, whichever attribute holds it (value,
 * sparse_value (densified by the parser), value_float(s), value_int(s), value_string(s)).
 * Returns undefined for any other node. Throws ParseError when a Constant has no usable value.
 */
export function constantValue(node: Node): Tensor | undefined {
  if (node.opType !== 'Constant' || node.domain !== '') return undefined;
  const [entry, ...rest] = [...node.attrs.entries()];
  if (!entry || rest.length) throw new ParseError(`Constant node '${node.name}' must have exactly one value attribute, has ${node.attrs.size}`);
  const [name, a] = entry;
  const v = a.value;
  switch (name) {
    case 'value': case 'sparse_value': if (v instanceof Tensor) return v; break;
    case 'value_float': if (typeof v === 'number') return Tensor.scalar('float32', v); break;
    case 'value_int': if (typeof v === 'number') return Tensor.scalar('int64', v); break;
    case 'value_string': if (typeof v === 'string') return Tensor.scalar('string', v); break;
    case 'value_floats': if (Array.isArray(v)) return Tensor.from('float32', [v.length], v as number[]); break;
    case 'value_ints': if (Array.isArray(v)) return Tensor.from('int64', [v.length], v as number[]); break;
    case 'value_strings': if (Array.isArray(v)) return Tensor.from('string', [v.length], v as string[]); break;
  }
  throw new ParseError(`Constant node '${node.name}': attribute '${name}' (${a.type}) is not a Constant value`);
}
