/**
 * Phase 1, input shapes: every real graph input gets a concrete type, from the model where its
 * shape is static, else from BuilderConfig.inputShapes (checked against what the model fixes).
 */
import { InputError, UnsupportedError } from '../../errors';
import type { Dim, ValueType } from '../../ir/graph';
import type { BuildState } from '../state';

export function describeShape(s: readonly Dim[] | undefined): string {
  return s ? `[${s.join(',')}]` : '[?]';
}

export function resolveInputShapes(state: BuildState): void {
  const g = state.model.graph;
  const given = state.config.inputShapes ?? {};
  state.realInputs = g.inputs.filter((i) => !g.initializers.has(i));
  const real = new Set(state.realInputs);
  for (const name of Object.keys(given)) {
    if (!real.has(name)) throw new InputError(`inputShapes names '${name}', which is not an input of the model (inputs: ${state.realInputs.join(', ')})`);
  }
  const inputTypes = new Map<string, ValueType>();
  for (const name of state.realInputs) {
    const declared = g.types.get(name);
    if (!declared || (declared.kind && declared.kind !== 'tensor')) throw new UnsupportedError(`input '${name}' is not a tensor with a known type`);
    const shapeGiven = given[name];
    const shape: Dim[] | undefined = shapeGiven ? [...shapeGiven] : declared.shape;
    if (shapeGiven && declared.shape) {
      if (shapeGiven.length !== declared.shape.length) throw new InputError(`input '${name}' has rank ${declared.shape.length} (${describeShape(declared.shape)}); inputShapes gave [${shapeGiven.join(',')}]`);
      declared.shape.forEach((d, i) => {
        if (typeof d === 'number' && d !== shapeGiven[i]) throw new InputError(`input '${name}' dimension ${i} is fixed at ${d} by the model; inputShapes gave ${shapeGiven[i]}`);
      });
    }
    if (!shape) throw new InputError(`input '${name}' has unknown rank; give its shape in inputShapes: { ${name}: [1, 3, 224, 224] }`);
    const sym = shape.filter((d) => typeof d !== 'number');
    if (sym.length) throw new InputError(`input '${name}' has symbolic dimension(s) ${sym.map((s) => `'${s}'`).join(', ')} (${describeShape(shape)}); give a value in inputShapes: { ${name}: [${shape.map((d) => (typeof d === 'number' ? d : 1)).join(', ')}] } (InferenceSession: or freeDimensionOverrides: { ${sym.map((s) => `${s}: 1`).join(', ')} })`);
    inputTypes.set(name, { kind: 'tensor', dtype: declared.dtype, shape });
  }
  state.inputTypes = inputTypes;
}
