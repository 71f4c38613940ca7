/**
 * The operator registry: an explicit list of every family, so `grep` finds everything.
 * Each family folder exports an array of OpDef from its index.ts.
 */
import { OpRegistry } from './registry';
import { OpDef } from './types';

const FAMILIES: OpDef[][] = [
];

/** Every operator vkrt knows. */
export const ALL_OPS: OpDef[] = FAMILIES.flat();

/** The default registry. */
export const registry = new OpRegistry(ALL_OPS);

export { OpRegistry } from './registry';
export * from './types';
