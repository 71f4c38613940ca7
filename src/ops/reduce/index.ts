/** The reduce operator family. */
import { OpDef } from '../types';

export const REDUCE_OPS: OpDef[] = [];
