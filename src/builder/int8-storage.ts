/**
 * Byte storage of int8/uint8 activations (docs/int8.md): which tensors the GPU holds one byte per
 * element ('i8' / 'u8', src/kernel/storage.ts) instead of int32. Decided once before kernel
 * selection, per tensor: a non-constant int8/uint8 value with a static shape is stored as bytes
 * when every node that produces or reads it lists that position in OpDef.traits.byteStorage
 * (QuantizeLinear's y, DequantizeLinear's x, QLinearConv / QLinearMatMul / ConvInteger /
 * MatMulInteger's data inputs and quantized output, MaxPool) or is a view (Reshape, Flatten, ...)
 * whose input and output are stored alike (a view shares the bytes, so a chain of views is decided
 * as one group). Model inputs and outputs may be byte tensors: they keep int32 at the engine's edge
 * and a conversion layer meets them (kernels.ts bindAs, io.ts).
 *
 * The kernel phase then offers each layer its byte descriptors first; an implementation that
 * refuses them (some attribute its byte path lacks) falls back to int32, and the tensor gets a
 * conversion layer where the two storages meet, as FP16 storage does.
 */
import { isStatic } from '../ops/infer-shapes';
import { ByteType, byteTypeOf } from '../kernel/storage';
import type { BuildState } from './state';

/** The tensors to hold as bytes (name -> 'i8' / 'u8'); empty when the device lacks 8-bit storage or the config does not ask for it (BuilderConfig.int8Storage, off by default). */
export function planByteStorage(state: BuildState): Map<string, ByteType> {
  const chosen = new Map<string, ByteType>();
  if (!state.caps.int8 || state.config.int8Storage !== true) return chosen;
  const { types, constants, registry } = state;
  const byteOf = (name: string): ByteType | undefined => {
    const t = types.get(name);
    if (!t || constants.has(name) || !isStatic(t.shape)) return undefined;
    return byteTypeOf(t.dtype);
  };
  // groups of values sharing bytes through views (union-find)
  const parent = new Map<string, string>();
  const find = (n: string): string => {
    let r = n;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  const refused = new Set<string>();
  for (const node of state.model.graph.nodes) {
    if (state.folded.has(node)) continue;
    const def = registry.get(node.domain, node.opType);
    const outs = node.outputs.filter((o) => o);
    const view = def?.view === true && outs.length === 1 && !!node.inputs[0];
    const bs = def?.traits?.byteStorage;
    node.inputs.forEach((name, k) => {
      if (!name || !byteOf(name) || (view && k === 0)) return;
      if (!bs?.inputs.includes(k)) refused.add(name);
    });
    node.outputs.forEach((name, k) => {
      if (!name || !byteOf(name) || view) return;
      if (!bs?.outputs.includes(k)) refused.add(name);
    });
    if (view) {
      const [i, o] = [node.inputs[0], outs[0]];
      const bi = byteOf(i), bo = byteOf(o);
      if (bi && bo && bi === bo) {
        const ri = find(i), ro = find(o);
        if (ri !== ro) parent.set(ro, ri);
      } else {
        if (bi) refused.add(i);
        if (bo) refused.add(o);
      }
    }
  }
  const bad = new Set([...refused].map(find));
  for (const [name, t] of types) {
    const b = byteOf(name);
    if (b && !bad.has(find(name)) && byteTypeOf(t.dtype)) chosen.set(name, b);
  }
  return chosen;
}
