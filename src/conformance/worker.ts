/** Worker-thread entry of the conformance runner: runs the cases it is sent, one at a time. */
import { parentPort, workerData } from 'worker_threads';
import { ConformanceBackend, referenceBackend, runCase } from './run-case';
import type { Tolerance } from './compare';

async function backendFor(name: string): Promise<ConformanceBackend> {
  if (name === 'reference') return referenceBackend;
   
  const mod = require('./backends') as { createBackend(name: string): Promise<ConformanceBackend> };
  return mod.createBackend(name);
}

if (parentPort) {
  const port = parentPort;
  const backendP = backendFor((workerData as { backend: string }).backend);
  port.on('message', async (msg: { dir: string; tol: Tolerance }) => {
    try {
      const backend = await backendP;
      port.postMessage(await runCase(msg.dir, backend, msg.tol));
    } catch (e) {
      port.postMessage({ name: msg.dir.split(/[\\/]/).pop(), status: 'error', message: (e as Error).message, code: 'BACKEND', ops: [], ms: 0 });
    }
  });
}
