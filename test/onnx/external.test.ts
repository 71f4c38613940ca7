/** External data: good files, escaping paths and symlinks, missing files, ranges past the end. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ParseError } from '../../src/errors';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { loadModel, parseModel } from '../../src/onnx/parse';
import { ModelProto } from '../../src/onnx/schema';
import { serializeModel } from '../../src/onnx/serialize';
import { MODELS, tempDir } from './helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A model whose initializer 'w' (float32[4]) is stored externally with the given entries. */
function externalModel(entries: Record<string, string>): Uint8Array {
  const b = new GraphBuilder('g');
  const x = b.input('x', 'float32', [4]);
  const w = b.initializer('w', Tensor.from('float32', [4], [1, 2, 3, 4]));
  b.output(b.node('Add', [x, w])[0]);
  const msg: any = ModelProto.decode(serializeModel(b.build()));
  const init = msg.graph.initializer[0];
  init.rawData = new Uint8Array(0);
  init.dataLocation = 1;
  init.externalData = Object.entries(entries).map(([key, value]) => ({ key, value }));
  return ModelProto.encode(msg).finish();
}

const W = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);

describe('onnx: external data', () => {
  let dir: string, cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const write = (entries: Record<string, string>, name = 'model.onnx') => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, externalModel(entries));
    return file;
  };
  const values = (file: string) => Array.from(loadModel(file).graph.initializers.get('w')!.data as Float32Array);

  it('reads location/offset/length relative to the model file', () => {
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.concat([Buffer.alloc(8, 0xff), W, Buffer.alloc(3)]));
    assert.deepEqual(values(write({ location: 'w.bin', offset: '8', length: '16' })), [1, 2, 3, 4]);
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'w.bin'), W);
    assert.deepEqual(values(write({ location: 'sub/w.bin' })), [1, 2, 3, 4]);
    assert.deepEqual(values(write({ location: './sub/../sub/w.bin' })), [1, 2, 3, 4]);
  });

  it('shares one read of the file between tensors (views)', () => {
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.concat([W, W]));
    const b = new GraphBuilder('g');
    const x = b.input('x', 'float32', [4]);
    const w1 = b.initializer('w1', Tensor.from('float32', [4], [0, 0, 0, 0]));
    const w2 = b.initializer('w2', Tensor.from('float32', [4], [0, 0, 0, 0]));
    b.output(b.node('Add', [b.node('Add', [x, w1])[0], w2])[0]);
    const msg: any = ModelProto.decode(serializeModel(b.build()));
    msg.graph.initializer.forEach((t: any, k: number) => {
      t.rawData = new Uint8Array(0);
      t.dataLocation = 1;
      t.externalData = [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: String(16 * k) }, { key: 'length', value: '16' }];
    });
    const file = path.join(dir, 'two.onnx');
    fs.writeFileSync(file, ModelProto.encode(msg).finish());
    const m = loadModel(file);
    const a = m.graph.initializers.get('w1')!.data as Float32Array, c = m.graph.initializers.get('w2')!.data as Float32Array;
    assert.equal(a.buffer, c.buffer);
    assert.deepEqual(Array.from(c), [1, 2, 3, 4]);
  });

  it('refuses absolute paths and paths escaping the folder', () => {
    fs.writeFileSync(path.join(dir, 'w.bin'), W);
    const inner = path.join(dir, 'inner');
    for (const location of [path.join(dir, 'w.bin'), '../w.bin', 'a/../../w.bin', '/etc/passwd', '\\\\server\\share\\w.bin', 'C:\\w.bin']) {
      const file = write({ location }, 'inner/model.onnx');
      assert.throws(() => loadModel(file), (e: unknown) => e instanceof ParseError && /refusing/.test(e.message) && e.message.includes("tensor 'w'") && e.message.includes(file), location);
    }
    void inner;
  });

  it('refuses a symlink that resolves outside the folder', () => {
    fs.mkdirSync(path.join(dir, 'inner'));
    fs.writeFileSync(path.join(dir, 'secret.bin'), W);
    fs.symlinkSync(path.join(dir, 'secret.bin'), path.join(dir, 'inner', 'w.bin'));
    const file = write({ location: 'w.bin' }, 'inner/model.onnx');
    assert.throws(() => loadModel(file), /symlink/);
    // a symlink that stays inside is fine
    fs.writeFileSync(path.join(dir, 'inner', 'real.bin'), W);
    fs.symlinkSync(path.join(dir, 'inner', 'real.bin'), path.join(dir, 'inner', 'ok.bin'));
    assert.deepEqual(values(write({ location: 'ok.bin' }, 'inner/model2.onnx')), [1, 2, 3, 4]);
  });

  it('missing file, directory, FIFO and bad ranges are ParseErrors naming the tensor and the file', () => {
    const file = write({ location: 'nope.bin' });
    assert.throws(() => loadModel(file), (e: unknown) => e instanceof ParseError && /tensor 'w'.*nope\.bin.*ENOENT/.test(e.message) && e.message.startsWith(file));
    fs.mkdirSync(path.join(dir, 'adir'));
    assert.throws(() => loadModel(write({ location: 'adir' })), ParseError);
    fs.writeFileSync(path.join(dir, 'w.bin'), W);
    assert.throws(() => loadModel(write({ location: 'w.bin', offset: '4' })), /past the end/);
    assert.throws(() => loadModel(write({ location: 'w.bin', offset: '0', length: '12' })), /does not match/);
    assert.throws(() => loadModel(write({ location: 'w.bin', offset: '-4' })), /not a byte count/);
    assert.throws(() => loadModel(write({ location: 'w.bin', offset: '0x10' })), /not a byte count/);
    assert.throws(() => loadModel(write({ location: 'w.bin', offset: '99999999999999999999' })), /not a byte count/);
    assert.throws(() => loadModel(write({ offset: '0' })), /names no location/);
    if (process.platform !== 'win32') {
      const { execFileSync } = require('child_process');
      execFileSync('mkfifo', [path.join(dir, 'fifo')]);
      assert.throws(() => loadModel(write({ location: 'fifo' })), /not a regular file|ENOTFILE/);
    }
  });

  it('external data in bytes without a path is a ParseError that says what to do', () => {
    assert.throws(() => parseModel(externalModel({ location: 'w.bin' })), /load it from its path/);
  });

  it('reads per tensor when the file is larger than wholeFileBytes', () => {
    fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.concat([Buffer.alloc(100), W]));
    const file = write({ location: 'w.bin', offset: '100' });
    const m = loadModel(file, { limits: { wholeFileBytes: 10 } });
    assert.deepEqual(Array.from(m.graph.initializers.get('w')!.data as Float32Array), [1, 2, 3, 4]);
  });

  it('rten-mnist with external data: same graph as the inline model, weights from the right ranges', function () {
    const ext = path.join(MODELS, 'rten-mnist', 'mnist-external', 'mnist.onnx');
    if (!fs.existsSync(ext)) this.skip();
    // Same architecture; the two files hold different training runs, so compare the graph text
    // and check each external tensor against the data file's bytes at its declared offset.
    const a = loadModel(ext), b = loadModel(path.join(MODELS, 'rten-mnist', 'mnist.onnx'));
    assert.equal(a.graph.print(), b.graph.print());
    const data = fs.readFileSync(ext + '.data');
    const msg: any = ModelProto.decode(fs.readFileSync(ext));
    let external = 0;
    for (const t of msg.graph.initializer) {
      if (t.dataLocation !== 1) continue;
      external++;
      const kv = Object.fromEntries(t.externalData.map((e: any) => [e.key, e.value]));
      const d = a.graph.initializers.get(t.name)!.data as Float32Array;
      assert.ok(Buffer.from(d.buffer, d.byteOffset, d.byteLength).equals(data.subarray(+kv.offset, +kv.offset + +kv.length)), t.name);
    }
    assert.equal(external, 5);
  });
});
