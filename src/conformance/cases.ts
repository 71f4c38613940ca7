/** Reading ONNX backend test folders: model.onnx + test_data_set_N/{input,output}_K.pb. */
import * as fs from 'fs';
import * as path from 'path';
import { Model } from '../ir/graph';
import { loadModel, parseValue } from '../onnx/parse';
import type { RuntimeValue } from '../ops/types';

export interface DataSet {
  name: string;
  inputs: Map<string, RuntimeValue>;
  outputs: Map<string, RuntimeValue>;
}

export interface TestCase {
  name: string;
  dir: string;
  model: Model;
  dataSets: DataSet[];
}

/** Every test folder (one holding model.onnx) directly under `root`, or `root` itself. */
export function listTestDirs(root: string): string[] {
  if (fs.existsSync(path.join(root, 'model.onnx'))) return [root];
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!e.isDirectory()) continue;
    const d = path.join(root, e.name);
    if (fs.existsSync(path.join(d, 'model.onnx'))) out.push(d);
    else out.push(...listTestDirs(d));
  }
  return out;
}

const numbered = (prefix: string) => (f: string) => new RegExp(`^${prefix}_(\\d+)\\.pb$`).exec(f);

/** Load a test: the model and each data set, inputs bound to the model's graph inputs in order. */
export function loadTestCase(dir: string): TestCase {
  const model = loadModel(path.join(dir, 'model.onnx'));
  const g = model.graph;
  const realInputs = g.inputs.filter((i) => !g.initializers.has(i));
  const dataSets: DataSet[] = [];
  const sets = fs.readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
  for (const s of sets) {
    const sdir = path.join(dir, s);
    const files = fs.readdirSync(sdir);
    const read = (prefix: string, names: string[]) => {
      const m = new Map<string, RuntimeValue>();
      const found = files.map(numbered(prefix)).filter((x): x is RegExpExecArray => !!x).sort((a, b) => Number(a[1]) - Number(b[1]));
      for (const f of found) {
        const k = Number(f[1]);
        // inputs beyond the non-initializer inputs override initializers, in graph order
        const name = names[k];
        if (name === undefined) continue;
        m.set(name, parseValue(fs.readFileSync(path.join(sdir, f[0])), g.types.get(name), path.join(sdir, f[0])));
      }
      return m;
    };
    const inputNames = [...realInputs, ...g.inputs.filter((i) => g.initializers.has(i))];
    dataSets.push({ name: s, inputs: read('input', inputNames), outputs: read('output', g.outputs) });
  }
  return { name: path.basename(dir), dir, model, dataSets };
}
