/**
 * Phase 1, input shapes: every real graph input gets a concrete type, from the model where its
 * shape is static, else from BuilderConfig.inputShapes (checked against what the model fixes); a
 * dynamic dimension given nowhere becomes 1, with a VkrtWarning naming the input and dimension.
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
    const shape: Dim[] | undefined = shapeGiven ? [...shapeGiven] : declared.shape && [...declared.shape];
    if (shapeGiven && declared.shape) {
      if (shapeGiven.length !== declared.shape.length) throw new InputError(`input '${name}' has rank ${declared.shape.length} (${describeShape(declared.shape)}); inputShapes gave [${shapeGiven.join(',')}]`);
      declared.shape.forEach((d, i) => {
        if (typeof d === 'number' && d !== shapeGiven[i]) throw new InputError(`input '${name}' dimension ${i} is fixed at ${d} by the model; inputShapes gave ${shapeGiven[i]}`);
      });
    }
    if (!shape) throw new InputError(`input '${name}' has unknown rank; give its shape in inputShapes: { ${name}: [1, 3, 224, 224] }`);
    const sym = shape.map((d, i) => [d, i] as const).filter(([d]) => typeof d !== 'number');
    if (sym.length) {
      // as trtexec does: a dynamic dimension nobody gave becomes 1, with a warning naming it
      const dims = sym.map(([d, i]) => `dimension ${i}${d === undefined || d === '' ? '' : ` ('${d}')`}`).join(', ');
      const msg = `input '${name}' ${describeShape(shape)}: dynamic ${dims} not given; using 1. Give the shape in BuilderConfig.inputShapes (CLI: --shapes=${name}:${shape.map((d) => (typeof d === 'number' ? d : 1)).join('x')}) or an optimization profile (BuilderConfig.profiles, --minShapes/--optShapes/--maxShapes)`;
      state.log(`warning: ${msg}`);
      if (state.config.warn) state.config.warn(msg);
      else process.emitWarning(msg, 'VkrtWarning');
      for (const [, i] of sym) shape[i] = 1;
    }
    inputTypes.set(name, { kind: 'tensor', dtype: declared.dtype, shape });
  }
  state.inputTypes = inputTypes;
}
