/**
 * Horizontal fusion: sibling Conv (or Gemm) layers reading the same input with the same geometry
 * become one layer with the weights stacked along the output channels; a Split on the channel
 * axis gives back the original outputs, and the builder turns that Split into views (byte
 * offsets into the wide output) when the batch is 1 and the offsets meet the device's alignment.
 *
 * A sibling whose output feeds a Concat as its first input (the 1x1 branch of an Inception block)
 * joins too, as the last slice of the wide output: the builder then starts the concatenated tensor
 * at that slice (passes/subviews.ts), so the merged layer writes the branch in place and no copy
 * is added. This needs the other siblings' bytes in front of it to meet the device's storage-buffer
 * offset alignment (GraphView.slices, FP16 elements in FP16 engines); otherwise, and for a second
 * Concat-feeding sibling, that sibling stays its own layer writing its Concat slice.
 */
import { Node } from '../../../ir/graph';
import { Tensor } from '../../../ir/tensor';
import { fusedNode, GraphView, Rule } from '../rule';
import { attrsOf, evalOp, f32, int, ints, isF32 } from '../util';
import { EPILOGUE_ATTRS } from '../../../ops/nn/gpu/epilogue';

const EPILOGUE = Object.values(EPILOGUE_ATTRS);
const GEOMETRY = ['kernel_shape', 'strides', 'pads', 'dilations', 'auto_pad', 'group', ...EPILOGUE];
const GEMM_ATTRS = ['alpha', 'beta', 'transA', 'transB', ...EPILOGUE];

function attrKey(node: Node, names: readonly string[]): string {
  return names.map((k) => JSON.stringify(node.attrs.get(k)?.value ?? null)).join('|');
}

/** The output feeds exactly one Concat, as its first input, along the channel axis. */
function feedsConcatFirst(node: Node, g: GraphView): boolean {
  const users = g.consumers(node.outputs[0]);
  const c = users[0];
  return users.length === 1 && c.opType === 'Concat' && !c.domain && c.inputs[0] === node.outputs[0] && c.inputs.indexOf(node.outputs[0]) === c.inputs.lastIndexOf(node.outputs[0])
    && attrsOf(c).int('axis', 1) === 1;
}

function candidate(node: Node, g: GraphView): boolean {
  if (node.domain || node.outputs.length !== 1 || g.isGraphOutput(node.outputs[0])) return false;
  const users = g.consumers(node.outputs[0]);
  if (users.some((c) => c.opType === 'Concat') && !feedsConcatFirst(node, g)) return false;
  if (!g.constant(node.inputs[1]) || (node.inputs[2] && !g.constant(node.inputs[2])) || !isF32(g, node.inputs[1])) return false;
  const out = g.shape(node.outputs[0]);
  if (!out || out[0] !== 1) return false;
  if (node.opType === 'Conv') return node.inputs.length <= 3 && attrsOf(node).int('group', 1) === 1;
  return node.opType === 'Gemm' && attrsOf(node).int('transA', 0) === 0;
}

function splitNode(g: GraphView, name: string, wide: string, sizes: number[], outputs: string[]): { node: Node; init?: [string, Tensor] } {
  if (g.opset('') >= 13) {
    const s = g.fresh(`${wide}.split_sizes`);
    return {
      node: new Node({ name, opType: 'Split', inputs: [wide, s], outputs, attrs: { axis: int(1) } }),
      init: [s, Tensor.from('int64', [sizes.length], sizes.map((v) => BigInt(v)))],
    };
  }
  return { node: new Node({ name, opType: 'Split', inputs: [wide], outputs, attrs: { axis: int(1), split: ints(sizes) } }) };
}

export const horizontalFusion: Rule = {
  name: 'horizontal-fusion',
  ops: ['Conv', 'Gemm'],
  match(node, g) {
    if (!candidate(node, g)) return undefined;
    const names = node.opType === 'Conv' ? GEOMETRY : GEMM_ATTRS;
    const key = attrKey(node, names);
    const wShape = g.constant(node.inputs[1])!.dims;
    const sibs = g.consumers(node.inputs[0]).filter((n) => n.opType === node.opType && n.inputs[0] === node.inputs[0] && candidate(n, g)
      && attrKey(n, names) === key && !!n.inputs[2] === !!node.inputs[2]
      && (node.opType === 'Conv' ? g.constant(n.inputs[1])!.dims.slice(1).join(',') === wShape.slice(1).join(',') : true));
    const byPosition = sibs.sort((a, b) => g.compareOrder(a, b));
    // at most one Concat-feeding sibling, last, and only where its slice offset stays aligned
    const plain = byPosition.filter((n) => !feedsConcatFirst(n, g));
    const tail = byPosition.find((n) => feedsConcatFirst(n, g));
    const spatial = (g.shape(node.outputs[0]) ?? []).slice(2).reduce((a, b) => a * b, 1);
    const headBytes = plain.reduce((a, n) => a + g.shape(n.outputs[0])![1], 0) * spatial * g.slices.elemBytes;
    const order = tail && plain.length && headBytes % g.slices.alignment === 0 ? [...plain, tail] : plain;
    if (order.length < 2) return undefined;
    const outs = order.map((n) => g.shape(n.outputs[0])!);
    const sizes = outs.map((s) => s[1]);
    const total = sizes.reduce((a, b) => a + b, 0);
    const base = order[0];
    const w = g.fresh(`${base.inputs[1]}.wide`);
    const inits: [string, Tensor][] = [];
    let inputs: string[];
    if (node.opType === 'Conv') {
      inits.push([w, evalOp(g, 'Concat', order.map((n) => g.constant(n.inputs[1])!), { axis: int(0) })[0]]);
      inputs = [base.inputs[0], w];
      if (base.inputs[2]) {
        const b = g.fresh(`${base.outputs[0]}.wide_bias`);
        inits.push([b, evalOp(g, 'Concat', order.map((n) => g.constant(n.inputs[2])!), { axis: int(0) })[0]]);
        inputs.push(b);
      }
    } else {
      const transB = attrsOf(base).int('transB', 0) !== 0;
      inits.push([w, evalOp(g, 'Concat', order.map((n) => g.constant(n.inputs[1])!), { axis: int(transB ? 0 : 1) })[0]]);
      inputs = [base.inputs[0], w];
      if (base.inputs[2]) {
        // each C broadcast to its [1, N_i] row, then stacked
        const rows = order.map((n, k) => evalOp(g, 'Add', [g.constant(n.inputs[2])!, f32([1, sizes[k]], new Array<number>(sizes[k]).fill(0))])[0]);
        if (rows.some((r) => r.dims.length !== 2 || r.dims[0] !== 1)) return undefined;
        const b = g.fresh(`${base.outputs[0]}.wide_bias`);
        inits.push([b, evalOp(g, 'Concat', rows, { axis: int(1) })[0]]);
        inputs.push(b);
      }
    }
    const wide = g.fresh(`${base.outputs[0]}.heads`);
    const fused = fusedNode(base, order, { inputs, outputs: [wide] });
    const split = splitNode(g, g.fresh(`${fused.name}.split`), wide, sizes, order.map((n) => n.outputs[0]));
    if (split.init) inits.push(split.init);
    const wideShape = outs[0].slice();
    wideShape[1] = total;
    return {
      remove: order, add: [fused, split.node], initializers: inits,
      types: [[wide, { kind: 'tensor', dtype: 'float32', shape: wideShape }]],
      note: `${fused.name}: ${order.length} siblings on '${base.inputs[0]}' -> one layer of ${total} channels`,
    };
  },
};

export const HORIZONTAL_RULES: readonly Rule[] = [horizontalFusion];
