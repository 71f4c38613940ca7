/**
 * Child process of plugin.test.ts: loads an engine file and runs it in a process that never saw
 * the plugin (no registration, no plugin module loaded), then prints the output's bytes (base64)
 * and what it knows of plugins as one JSON line.
 *   node -r tsx/cjs load-engine-child.ts ENGINE INPUT.npy
 */
import * as fs from 'fs';
import { Runtime } from '../../src/runtime/runtime';
import { parseNpy } from '../../src/io/npy';
import { registered } from '../../src/plugins/registry';

(async () => {
  const [file, input] = process.argv.slice(2);
  const engine = Runtime.deserializeEngine(fs.readFileSync(file), { file });
  const out = await engine.createExecutionContext().execute({ [engine.inputs[0].name]: parseNpy(fs.readFileSync(input)) });
  const t = [...out.values()][0];
  const data = t.data as Float32Array;
  console.log(JSON.stringify({
    dims: t.dims,
    bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    registered: registered().map((p) => p.name),
    pluginModuleLoaded: Object.keys(require.cache).some((k) => k.includes('swiglu-plugin')),
    enginePlugins: (engine.plan.plugins ?? []).map((p) => `${p.name}@${p.version}`),
  }));
  engine.dispose();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
