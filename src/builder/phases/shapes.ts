/** Phase 3, shapes: every value's type for the concrete input shapes, with constant folding. */
import { UnsupportedError } from '../../errors';
import type { Node } from '../../ir/graph';
import { inferShapes } from '../../ops/infer-shapes';
import type { BuildState } from '../state';

export function inferTypes(state: BuildState): void {
  const unknownOps: Node[] = [];
  const { types, constants, folded } = inferShapes(state.model.graph, state.model.opsets, {
    registry: state.registry, inputTypes: state.inputTypes,
    onUnknown: (node, reason) => { if (reason === 'operator not implemented') unknownOps.push(node); },
  });
  if (unknownOps.length) {
    // Fail here, naming the operators, rather than later on the first value whose shape is unknown.
    const ops = [...new Set(unknownOps.map((n) => `${n.domain || 'ai.onnx'}::${n.opType}`))];
    const where = unknownOps.slice(0, 8).map((n) => `'${n.name || n.outputs[0]}' (${n.domain ? `${n.domain}::` : ''}${n.opType}, opset ${state.model.opsets.get(n.domain) ?? 0})`).join(', ');
    throw new UnsupportedError(`${unknownOps.length} node(s) use operators vkrt does not implement (${ops.join(', ')}): ${where}${unknownOps.length > 8 ? ', ...' : ''}: operator not implemented; register a plugin for ${ops.length > 1 ? 'them' : 'it'} (plugins.register, BuilderConfig.plugins, vkrt exec --plugins=./plugin.js; docs/plugins.md)`);
  }
  state.types = types;
  state.constants = constants;
  state.folded = folded;
}
