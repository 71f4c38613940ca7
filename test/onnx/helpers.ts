/** Shared helpers of the ONNX parser tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Graph, Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';

export const MODELS = path.resolve(__dirname, '..', '..', '.data', 'models');

/** The bytes of a tensor's host data (JSON for strings): equality of what was decoded. */
export function tensorBytes(t: Tensor): string {
  const d = t.data;
  if (Array.isArray(d)) return JSON.stringify(d);
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64');
}

/** Everything a round trip must preserve: print(), types, tensor bytes, subgraphs, functions. */
export function modelDigest(m: Model): string[] {
  const out: string[] = [`ir=${m.irVersion}`, `opsets=${JSON.stringify([...m.opsets])}`];
  const graph = (g: Graph) => {
    out.push(g.print());
    for (const [k, t] of g.initializers) out.push(`${k}=${t.dtype}[${t.dims}]${tensorBytes(t)}`);
    // types are a map: order carries no meaning
    out.push(JSON.stringify([...g.types].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    for (const n of g.nodes) {
      for (const [k, a] of n.attrs) {
        const vs = Array.isArray(a.value) ? a.value : [a.value];
        for (const v of vs as unknown[]) {
          if (v instanceof Tensor) out.push(`${n.name}.${k}=${tensorBytes(v)}`);
          if (v instanceof Graph) graph(v);
        }
      }
    }
  };
  graph(m.graph);
  for (const f of m.functions) {
    out.push(`function ${f.domain}::${f.name}(${f.inputs}) -> (${f.outputs}) attrs=${f.attributes} opsets=${JSON.stringify([...f.opsets])}`);
    const g = new Graph(f.name);
    g.nodes = f.nodes;
    out.push(g.print());
  }
  return out;
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'vkrt-onnx-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Every .onnx file under a folder. */
export function onnxFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.onnx')) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

export { rng } from '../../src/models/rng';
