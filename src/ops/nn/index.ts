/** The nn operator family. */
import { OpDef } from '../types';

export const NN_OPS: OpDef[] = [];
