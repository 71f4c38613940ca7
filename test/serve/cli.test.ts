/**
 * `vkrt serve` as a process: it listens (port 0: a free one, printed), serves a repository, and on
 * SIGTERM with a request in flight answers that request, stops and exits 0. Flag errors exit 1.
 */
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Tensor } from '../../src/ir/tensor';
import { InferenceClient } from '../../src/serve/client';
import { runCli } from '../cli/run-cli';
import { ensureDriver } from '../helpers/gpu';
import { mlpModel, mlpReference, writeRepository } from './helpers';

const ROOT = path.join(__dirname, '..', '..');

describe('serve: the vkrt serve command', function () {
  this.timeout(120000);

  it('needs --model-repository and checks its flags', async () => {
    let r = await runCli('serve');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--model-repository=DIR is required/);
    r = await runCli('serve', '--model-repository=/nonexistent/folder', '--port=0');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--model-repository \/nonexistent\/folder: cannot read the folder \(ENOENT\)/);
    r = await runCli('serve', '--model-repository=.', '--port=70000');
    assert.match(r.stderr, /--port must be at most 65535/);
  });

  it('serves until SIGTERM, answers the request in flight, exits 0', async () => {
    ensureDriver();
    // the batch waits a minute for a second row: the request is still queued when SIGTERM comes
    const repo = writeRepository({ mlp: { model: mlpModel(), config: { max_batch_size: 2, preferred_batch_size: [2], max_queue_delay_microseconds: 60_000_000 } } });
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src', 'cli', 'main.ts'), 'serve', `--model-repository=${repo}`, '--port=0'], {
      cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let client: InferenceClient | undefined;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const check = setInterval(() => {
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m && /1 of 1 model ready/.test(out)) {
            clearInterval(check);
            resolve(m[1]);
          }
        }, 20);
        void exited.then(() => {
          clearInterval(check);
          reject(new Error(`vkrt serve exited early:\n${out}\n${err}`));
        });
      });
      client = new InferenceClient(url);
      assert.equal(await client.isServerReady(), true);
      const x = Float32Array.from([1, -2, 3, -4]);
      const pending = client.infer('mlp', { x: new Tensor('float32', x, [1, 4]) });
      for (let i = 0; i < 200 && !/vkrt_inference_pending_requests\{model="mlp",version="1"\} 1/.test(await client.metrics()); i++) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGTERM');
      const r = await pending;
      const ref = mlpReference(x);
      Array.from(r.outputs.z.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - ref.z[i]) < 1e-5));
      assert.equal(await exited, 0, err);
      assert.match(out, /SIGTERM: shutting down/);
      assert.match(out, /shut down/);
    } finally {
      client?.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(repo, { recursive: true, force: true });
    }
  });
});
