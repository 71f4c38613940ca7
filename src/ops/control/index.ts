/** The control operator family: control flow, sequences, recurrent, signal, strings, ml and the rest. */
import { OpDef } from '../types';
import { CONTROL_FLOW_OPS } from './if-loop-scan';
import { RECURRENT_OPS } from './rnn';
import { SEQUENCE_OPS } from './sequence';
import { SIGNAL_OPS } from './signal';

export const CONTROL_OPS: OpDef[] = [...CONTROL_FLOW_OPS, ...SEQUENCE_OPS, ...RECURRENT_OPS, ...SIGNAL_OPS];
