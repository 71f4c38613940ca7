/** The control operator family. */
import { OpDef } from '../types';

export const CONTROL_OPS: OpDef[] = [];
