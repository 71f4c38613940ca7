/** Worker-thread entry of the conformance runner: runs the cases it is sent, one at a time. */
import { parentPort, workerData } from 'worker_threads';
import { ConformanceBackend, referenceBackend, runCase } from './run-case';
import type { Tolerance } from './compare';

async function backendFor(name: string, hostFallback: boolean): Promise<ConformanceBackend> {
  if (name === 'reference') return referenceBackend;
   
  const mod = require('./backends') as { createBackend(name: string, options: { hostFallback?: boolean }): Promise<ConformanceBackend> };
  return mod.createBackend(name, { hostFallback });
}

if (parentPort) {
  const port = parentPort;
  const wd = workerData as { backend: string; hostFallback?: boolean };
  const backendP = backendFor(wd.backend, !!wd.hostFallback);
  port.on('message', async (msg: { dir: string; tol: Tolerance }) => {
    try {
      const backend = await backendP;
      port.postMessage(await runCase(msg.dir, backend, msg.tol));
    } catch (e) {
      port.postMessage({ name: msg.dir.split(/[\\/]/).pop(), status: 'error', message: (e as Error).message, code: 'BACKEND', ops: [], ms: 0 });
    }
  });
}
