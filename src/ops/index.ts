/**
 * The operator registry: an explicit list of every family, so `grep` finds everything.
 * Each family folder exports an array of OpDef from its index.ts.
 */
import { CONTROL_OPS } from './control';
import { ELEMENTWISE_OPS } from './elementwise';
import { vkrtOps } from './fused';
import { NN_OPS } from './nn';
import { REDUCE_OPS } from './reduce';
import { TENSOR_OPS } from './tensor';
import { OpRegistry } from './registry';
import { OpDef } from './types';

const FAMILIES: OpDef[][] = [ELEMENTWISE_OPS, NN_OPS, TENSOR_OPS, REDUCE_OPS, CONTROL_OPS];

/** Every operator vkrt knows. */
export const ALL_OPS: OpDef[] = FAMILIES.flat();

/** The default registry. */
export const registry = new OpRegistry(ALL_OPS);
// the optimizer's internal ops (vkrt domain: fused pointwise programs, recognised patterns)
for (const d of vkrtOps((op) => registry.get('', op)!, () => registry)) registry.add(d);

export { OpRegistry } from './registry';
export * from './types';
