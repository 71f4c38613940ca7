/**
 * The real models in .data/models with their reference data, normalized to
 * { model file, inputs, expected outputs, tolerance }. Used by the model tests (reference and GPU)
 * and the benchmarks. Reference data comes in three shapes: ONNX test_data_set folders, onnx2c's
 * reference.json files, and tract's io.npz.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Tensor } from '../../src/ir/tensor';
import { loadModel, parseValue } from '../../src/onnx/parse';
import { parseNpz } from '../../src/io/npy';
import type { RuntimeValue } from '../../src/ops/types';

export const DATA = path.resolve(__dirname, '..', '..', '.data');
export const MODELS = path.join(DATA, 'models');

export interface ModelCase {
  /** e.g. 'mnist-8/test_data_set_0' */
  name: string;
  modelPath: string;
  inputs: Map<string, RuntimeValue>;
  outputs: Map<string, Tensor>;
  /** Absolute tolerance stated by the data's source (or a relative-L2 bound). */
  atol: number;
  /** When the reference is only trustworthy as a class label (argmax of output). */
  argmaxOnly?: boolean;
}

function fromTestDataSets(name: string, modelPath: string, atol: number, argmaxOnly = false): ModelCase[] {
  const dir = path.dirname(modelPath);
  const model = loadModel(modelPath);
  const g = model.graph;
  const ins = g.inputs.filter((i) => !g.initializers.has(i));
  return fs.readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort().map((s) => {
    const sd = path.join(dir, s);
    const read = (prefix: string, names: string[]) => {
      const m = new Map<string, RuntimeValue>();
      for (const f of fs.readdirSync(sd).filter((f) => f.startsWith(prefix)).sort()) {
        const k = Number(/_(\d+)\.pb$/.exec(f)![1]);
        m.set(names[k], parseValue(fs.readFileSync(path.join(sd, f)), g.types.get(names[k])));
      }
      return m;
    };
    return { name: `${name}/${s}`, modelPath, inputs: read('input', ins), outputs: read('output', g.outputs) as Map<string, Tensor>, atol, argmaxOnly };
  });
}

interface RefJson {
  model: string;
  tolerance_abs: number;
  cases: { inputs: Record<string, { dims: number[]; data: number[] }>; outputs: Record<string, { dims: number[]; data: number[] }> }[];
}

function fromReferenceJson(name: string, file: string): ModelCase[] {
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as RefJson;
  const modelPath = path.join(path.dirname(file), j.model);
  const toMap = (o: Record<string, { dims: number[]; data: number[] }>) =>
    new Map(Object.entries(o).map(([k, v]) => [k, Tensor.from('float32', v.dims, v.data)]));
  return j.cases.map((c, i) => ({ name: `${name}/case${i}`, modelPath, inputs: toMap(c.inputs), outputs: toMap(c.outputs), atol: j.tolerance_abs }));
}

/** Every model case with reference data (empty when .data is not unpacked). */
export function modelCases(): ModelCase[] {
  if (!fs.existsSync(MODELS)) return [];
  const cases: ModelCase[] = [];
  // mnist-8: model zoo data; onnx2c checks with 0.01 on logits of magnitude ~1e3
  cases.push(...fromTestDataSets('mnist-8', path.join(MODELS, 'mnist-8/model.onnx'), 1e-2));
  // mnist-8 cut after every layer
  const lw = path.join(MODELS, 'mnist-8-layerwise-connxr');
  for (const d of fs.readdirSync(lw).filter((d) => fs.statSync(path.join(lw, d)).isDirectory()).sort()) {
    cases.push(...fromTestDataSets(`mnist-8-layerwise/${d}`, path.join(lw, d, `${d}.onnx`), 1e-2)); // logits reach ~1e3: float32 rounding of the sums
  }
  // quantized mnist: its reference is the float model's output, so only the class is comparable
  cases.push(...fromTestDataSets('mnist-quantized', path.join(MODELS, 'mnist-quantized-connxr/model_quantized.onnx'), Infinity, true));
  cases.push(...fromReferenceJson('mnist-8-pytorch', path.join(MODELS, 'mnist-8-pytorch-onnx2c/reference.json')));
  cases.push(...fromReferenceJson('tfl-sine', path.join(MODELS, 'tfl-helloworld-sine-onnx2c/reference.json')));
  cases.push(...fromReferenceJson('velardo-lesson9', path.join(MODELS, 'velardo-keras-onnx2c/lesson9_reference.json')));
  cases.push(...fromReferenceJson('velardo-lesson14', path.join(MODELS, 'velardo-keras-onnx2c/lesson14_reference.json')));
  const npz = parseNpz(fs.readFileSync(path.join(MODELS, 'tract-keras-tf2-example/io.npz')));
  const tract = path.join(MODELS, 'tract-keras-tf2-example/example.onnx');
  const tg = loadModel(tract).graph;
  cases.push({
    name: 'tract-keras-tf2', modelPath: tract, atol: 1e-5,
    inputs: new Map([[tg.inputs.filter((i) => !tg.initializers.has(i))[0], npz.get('input')!.dtype === 'float64' ? Tensor.from('float32', npz.get('input')!.dims, npz.get('input')!.data as Float64Array) : npz.get('input')!]]),
    outputs: new Map([[tg.outputs[0], npz.get('output')!.dtype === 'float64' ? Tensor.from('float32', npz.get('output')!.dims, npz.get('output')!.data as Float64Array) : npz.get('output')!]]),
  });
  return cases;
}

/** max |a-b| and relative L2 error of two float tensors. */
export function errorStats(expected: Tensor, actual: Tensor): { maxAbs: number; relL2: number } {
  const e = expected.toNumbers(), a = actual.toNumbers();
  let maxAbs = 0, num = 0, den = 0;
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(e[i] - a[i]);
    if (!(d <= maxAbs)) maxAbs = d;
    num += d * d;
    den += e[i] * e[i];
  }
  return { maxAbs, relL2: Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30) };
}

export function argmax(t: Tensor): number {
  const d = t.toNumbers();
  let best = 0;
  for (let i = 1; i < d.length; i++) if (d[i] > d[best]) best = i;
  return best;
}

/** The model cases grouped by model file, in discovery order. */
export function modelCasesByModel(): Map<string, ModelCase[]> {
  const byModel = new Map<string, ModelCase[]>();
  for (const c of modelCases()) {
    const l = byModel.get(c.modelPath) ?? [];
    l.push(c);
    byModel.set(c.modelPath, l);
  }
  return byModel;
}
