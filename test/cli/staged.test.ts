/**
 * The CLI on staged engines (docs/dynamic-shapes.md): `vkrt exec` runs a model with NonZero staged
 * by itself and refuses a node the GPU cannot run unless `--hostFallback`, which lists it; the
 * staged engine file it saves loads again (`--loadEngine`) and `vkrt inspect` shows its stages and
 * fallback nodes; `vkrt compare --hostFallback` passes against the reference.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseNpz } from '../../src/io/npy';
import { GraphBuilder } from '../../src/ir/builder';
import { Tensor } from '../../src/ir/tensor';
import { serializeModel } from '../../src/onnx/serialize';
import { ensureDriver } from '../helpers/gpu';
import { runCli } from './run-cli';

/** idx = Transpose(NonZero(Relu(x))); y = -TfIdfVectorizer(Cast(Floor(x * 2))) (TfIdfVectorizer has no GPU kernel). */
function model(): Uint8Array {
  const b = new GraphBuilder('staged_cli', { '': 17 });
  const x = b.input('x', 'float32', [4, 6]);
  const [r] = b.node('Relu', [x]);
  const [nz] = b.node('NonZero', [r]);
  b.node('Transpose', [nz], { perm: [1, 0] }, { outputs: ['idx'] });
  const [m] = b.node('Mul', [x, b.constant(Tensor.from('float32', [], [2]))]);
  const [fr] = b.node('Floor', [m]);
  const [c] = b.node('Cast', [fr], { to: 6 });
  const [t] = b.node('TfIdfVectorizer', [c], { mode: 'TF', min_gram_length: 1, max_gram_length: 1, max_skip_count: 0, ngram_counts: [0], ngram_indexes: [0, 1, 2, 3], pool_int64s: [-2, -1, 0, 1] }, { name: 'tfidf' });
  b.node('Neg', [t], {}, { outputs: ['y'] });
  b.output('idx', 'int64');
  b.output('y', 'float32');
  return serializeModel(b.build());
}

describe('vkrt exec / inspect / compare on staged engines', function () {
  this.timeout(300000);
  let dir: string;
  const f = (name: string) => path.join(dir, name);

  before(() => {
    ensureDriver();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-staged-cli-'));
    fs.writeFileSync(f('m.onnx'), model());
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exec: without --hostFallback the node with no GPU kernel fails the run, naming it', async () => {
    const r = await runCli('exec', `--onnx=${f('m.onnx')}`, '--iterations=1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /TfIdfVectorizer.*no GPU kernel/s);
  });

  it('exec --hostFallback: stages, the fallback node, a saved file that loads and inspects', async () => {
    const r = await runCli('exec', `--onnx=${f('m.onnx')}`, '--hostFallback', '--iterations=2', `--saveEngine=${f('m.staged')}`, `--exportOutput=${f('out.npz')}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /staged engine: 3 stage\(s\), 2 on the GPU, 1 node\(s\) on the host/);
    assert.match(r.stdout, /output 'NonZero_1:0' trimmed along axis 1/);
    assert.match(r.stdout, /fallback: tfidf \(TfIdfVectorizer\) runs on the host: no GPU kernel/);
    const out = parseNpz(fs.readFileSync(f('out.npz')));
    assert.equal(out.get('idx')!.dims[1], 2);

    const loaded = await runCli('exec', `--loadEngine=${f('m.staged')}`, '--iterations=1', `--exportOutput=${f('loaded.npz')}`);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /Staged engine loaded from .* 2 GPU stage engine\(s\)/);
    const again = parseNpz(fs.readFileSync(f('loaded.npz')));
    for (const name of ['idx', 'y']) assert.deepEqual(Array.from(again.get(name)!.toNumbers()), Array.from(out.get(name)!.toNumbers()), name);

    const ins = await runCli('inspect', f('m.staged'));
    assert.equal(ins.code, 0, ins.stderr);
    assert.match(ins.stdout, /3 stage\(s\), 1 node\(s\) on the host \(host fallback on\), 2 GPU stage engine\(s\) built/);
    assert.match(ins.stdout, /stage 1 \(host\): tfidf \(TfIdfVectorizer\)/);
    assert.match(ins.stdout, /fallback: tfidf \(TfIdfVectorizer\) runs on the host/);
    assert.match(ins.stdout, /NonZero_1 +nonzero_scan/);
  });

  it('compare --hostFallback passes against the reference', async () => {
    const r = await runCli('compare', `--onnx=${f('m.onnx')}`, '--hostFallback');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /a staged engine/);
    assert.match(r.stdout, /PASSED/);
  });
});
