/** Running one conformance test on a backend, in whatever thread calls it. */
import { VkrtError } from '../errors';
import { Model } from '../ir/graph';
import { interpret } from '../ops/interpreter';
import type { RuntimeValue } from '../ops/types';
import { loadTestCase } from './cases';
import { compareValues, ONNX_TOLERANCE, Tolerance } from './compare';

export type CaseStatus = 'pass' | 'fail' | 'error';

export interface CaseResult {
  name: string;
  status: CaseStatus;
  /** For fail/error: what went wrong (one line). */
  message?: string;
  /** Error code for errors (PARSE, UNSUPPORTED, GRAPH, ...). */
  code?: string;
  /** Op types in the model (domain::op for non-default domains). */
  ops: string[];
  ms: number;
  /** Nodes the backend ran on the host (host fallback) in the last data set; absent or 0: none. */
  fallback?: number;
}

/** A backend runs a model on feeds and returns the graph outputs by name. */
export interface ConformanceBackend {
  readonly name: string;
  run(model: Model, feeds: Map<string, RuntimeValue>): Promise<Map<string, RuntimeValue>>;
  /** How many nodes the last run gave to the host (a backend with host fallback). */
  fallbackNodes?(): number;
  dispose?(): void;
}

export const referenceBackend: ConformanceBackend = {
  name: 'reference',
  async run(model, feeds) {
    return interpret(model, feeds);
  },
};

export async function runCase(dir: string, backend: ConformanceBackend, tol: Tolerance = ONNX_TOLERANCE): Promise<CaseResult> {
  const t0 = performance.now();
  let ops: string[] = [];
  const done = (status: CaseStatus, message?: string, code?: string): CaseResult => ({ name: dir.split(/[\\/]/).pop()!, status, message, code, ops, ms: performance.now() - t0 });
  try {
    const tc = loadTestCase(dir);
    ops = [...new Set(tc.model.graph.nodes.map((n) => (n.domain ? `${n.domain}::${n.opType}` : n.opType)))];
    for (const ds of tc.dataSets) {
      const out = await backend.run(tc.model, ds.inputs);
      for (const [name, expected] of ds.outputs) {
        const m = compareValues(expected, out.get(name), tol);
        if (m) return done('fail', `${ds.name} output '${name}': ${m}`);
      }
    }
    const fallback = backend.fallbackNodes?.() ?? 0;
    return fallback ? { ...done('pass'), fallback } : done('pass');
  } catch (e) {
    const code = e instanceof VkrtError ? e.code : 'CRASH';
    return done('error', (e as Error).message?.split('\n').slice(0, 3).join(' ') ?? String(e), code);
  }
}
