/**
 * Running one operator's reference or shape inference directly (no graph): the unit tests of the
 * operator families share these instead of each building the contexts.
 */
import { GraphError, UnsupportedError } from '../../src/errors';
import { Attr, Node, ValueType } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { registry } from '../../src/ops';
import { OpContext, RuntimeValue, ShapeContext } from '../../src/ops/types';
import { Attrs } from '../../src/ir/attrs';

export type AttrMap = Record<string, Attr>;

/** A node 'n0' with inputs i0..i{n-1} and outputs y0..y{outputs-1}. */
export function testNode(opType: string, nInputs: number, attrs: AttrMap = {}, outputs = 1, domain = ''): Node {
  return new Node({
    name: 'n0', opType, domain,
    inputs: Array.from({ length: nInputs }, (_, k) => `i${k}`),
    outputs: Array.from({ length: outputs }, (_, k) => `y${k}`),
    attrs,
  });
}

/** Runs the node's reference on raw values (tensors are also passed as the tensor inputs). */
export function runReference(nd: Node, opset: number, values: readonly (RuntimeValue | undefined)[]): RuntimeValue[] {
  const def = registry.resolve(nd, opset);
  const ctx: OpContext = {
    node: nd, opset, attrs: new Attrs(nd), values, outputCount: nd.outputs.length,
    runGraph: () => { throw new Error('no subgraphs'); },
    fail: (m) => { throw new GraphError(m, nd); },
    unsupported: (m) => { throw new UnsupportedError(m, nd); },
  };
  return def.reference(ctx, values.map((v) => (v instanceof Tensor ? v : undefined)));
}

/** Runs the node's shape inference; `constant(i)` gives inputs known at build time. */
export function runInferShape(nd: Node, opset: number, types: readonly (ValueType | undefined)[], constant: (i: number) => Tensor | undefined = () => undefined): ValueType[] {
  const def = registry.resolve(nd, opset);
  const ctx: ShapeContext = {
    node: nd, opset, attrs: new Attrs(nd), outputCount: nd.outputs.length, constant,
    fail: (m) => { throw new GraphError(m, nd); },
    unsupported: (m) => { throw new UnsupportedError(m, nd); },
  };
  return def.inferShape!(ctx, types);
}
