/**
 * Small models built in code for the serve tests (quick on lavapipe), a model repository written
 * to a temp folder, and a server on 127.0.0.1 with a free port.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GraphBuilder } from '../../src/ir/builder';
import type { Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { rng } from '../../src/models/rng';
import { serializeModel } from '../../src/onnx/serialize';
import { InferenceServer, type ServerOptions } from '../../src/serve/server';
import type { ModelConfig } from '../../src/serve/repository';

/** x float32 [N,4] -> y = Relu(x W + b) [N,3], z = 2x [N,4]. */
export function mlpModel(): Model {
  const r = rng(3);
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['N', 4]);
  const w = b.initializer('w', Tensor.from('float32', [4, 3], Array.from({ length: 12 }, () => r() * 2 - 1)));
  const bias = b.initializer('b', Tensor.from('float32', [3], [0.1, -0.2, 0.3]));
  const [h] = b.node('MatMul', [x, w]);
  const [hb] = b.node('Add', [h, bias]);
  b.node('Relu', [hb], {}, { outputs: ['y'] });
  b.node('Mul', [x, b.constant(Tensor.scalar('float32', 2))], {}, { outputs: ['z'] });
  b.output('y').output('z');
  return b.build();
}

/** CPU reference of {@link mlpModel} for one row. */
export function mlpReference(row: ArrayLike<number>): { y: number[]; z: number[] } {
  const r = rng(3);
  const w = Array.from({ length: 12 }, () => Math.fround(r() * 2 - 1));
  const bias = [0.1, -0.2, 0.3];
  const y = [0, 1, 2].map((j) => Math.max(0, [0, 1, 2, 3].reduce((a, k) => a + row[k] * w[k * 3 + j], 0) + bias[j]));
  return { y, z: Array.from(row, (v) => 2 * v) };
}

/**
 * Fixed shapes, no batch dimension, several datatypes: a int64 [2,3] -> a_out = a + 5 (int64);
 * b uint8 [2,3] -> b_out = float(b) (float32); c int32 [2,3] -> c_out = c > 0 (bool);
 * d int8 [2,3] -> d_out = float(d).
 */
export function typesModel(): Model {
  const b = new GraphBuilder('types');
  const a = b.input('a', 'int64', [2, 3]);
  const u = b.input('b', 'uint8', [2, 3]);
  const c = b.input('c', 'int32', [2, 3]);
  const d = b.input('d', 'int8', [2, 3]);
  b.node('Add', [a, b.constant(Tensor.scalar('int64', 5n))], {}, { outputs: ['a_out'] });
  b.node('Cast', [u], { to: 1 }, { outputs: ['b_out'] });
  b.node('Greater', [c, b.constant(Tensor.scalar('int32', 0))], {}, { outputs: ['c_out'] });
  b.node('Cast', [d], { to: 1 }, { outputs: ['d_out'] });
  b.output('a_out').output('b_out').output('c_out').output('d_out');
  return b.build();
}

/** x float16 [N,4] -> y = Relu(x) float16. */
export function halfModel(): Model {
  const b = new GraphBuilder('half');
  const x = b.input('x', 'float16', ['N', 4]);
  b.node('Relu', [x], {}, { outputs: ['y'] });
  b.output('y');
  return b.build();
}

/** A repository folder: models by name, each a Model (written as model.onnx, in version folder `version` when given) and a config. */
export function writeRepository(models: Record<string, { model: Model | Uint8Array; config?: ModelConfig | string; version?: number; file?: string }>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-serve-'));
  for (const [name, m] of Object.entries(models)) {
    const folder = path.join(dir, name, m.version !== undefined ? String(m.version) : '');
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, m.file ?? 'model.onnx'), m.model instanceof Uint8Array ? m.model : serializeModel(m.model));
    if (m.config !== undefined) fs.writeFileSync(path.join(dir, name, 'config.json'), typeof m.config === 'string' ? m.config : JSON.stringify(m.config));
  }
  return dir;
}

/** A server on 127.0.0.1, any free port, models loaded. */
export function startServer(repo: string, options: Partial<ServerOptions> = {}): Promise<InferenceServer> {
  return InferenceServer.start({ modelRepository: repo, port: 0, host: '127.0.0.1', ...options });
}
