import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../src/cli/main';
import { Device } from '../../src/gpu';
import { explainLoadFailure } from '../../src/native';
import { ensureDriver } from '../helpers/gpu';

const ROOT = path.resolve(__dirname, '../..');

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    const code = await main(argv);
    return { code, out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

describe('devices and the CLI', () => {
  before(ensureDriver);

  it('Device.list() reports every capability and marks one default device', () => {
    const list = Device.list();
    assert.ok(list.length >= 1);
    assert.equal(list.filter((d) => d.isDefault).length, 1);
    for (const d of list) {
      for (const k of ['name', 'type', 'driverName', 'driverVersion', 'apiVersion', 'pipelineCacheUUID'] as const)
        assert.equal(typeof d[k], 'string', k);
      for (const k of ['vendorId', 'deviceId', 'driverVersionRaw', 'subgroupSize', 'timestampPeriodNs', 'timestampValidBits',
        'computeQueues', 'maxComputeWorkGroupInvocations', 'maxStorageBufferRange', 'maxPushConstantsSize'] as const)
        assert.equal(typeof d[k], 'number', k);
      for (const k of ['fp16', 'int8', 'int8DotProduct', 'usable'] as const) assert.equal(typeof d[k], 'boolean', k);
      assert.ok(Array.isArray(d.cooperativeMatrix));
      assert.ok(d.memoryHeaps.length >= 1 && d.memoryHeaps.every((h) => h.size > 0));
      assert.equal(d.maxComputeWorkGroupCount.length, 3);
      assert.match(d.pipelineCacheUUID, /^[0-9a-f]{32}$/);
      assert.match(d.apiVersion, /^1\.\d+\.\d+$/);
    }
  });

  it('lists lavapipe when it is the driver in use', function () {
    const lvp = Device.list().find((d) => d.driverName === 'llvmpipe');
    if (!lvp) this.skip();
    assert.equal(lvp.type, 'cpu');
    assert.ok(lvp.computeQueues >= 1);
  });

  it('`vkrt devices --json` prints the same array', async () => {
    const { code, out } = await capture(['devices', '--json']);
    assert.equal(code, 0);
    const parsed = JSON.parse(out);
    assert.deepEqual(parsed.map((d: { name: string }) => d.name), Device.list().map((d) => d.name));
  });

  it('`vkrt devices` prints a table', async () => {
    const { code, out } = await capture(['devices']);
    assert.equal(code, 0);
    assert.match(out, /Device 0.*:/);
    for (const k of ['driver', 'fp16', 'int8DotProduct', 'cooperativeMatrix', 'timestampValidBits', 'computeQueues', 'memoryHeaps'])
      assert.match(out, new RegExp(`\\b${k}\\b`));
  });

  it('`vkrt selftest --validation` passes', async function () {
    this.timeout(120000);
    const { code, out } = await capture(['selftest', '--validation']);
    assert.equal(code, 0, out);
    assert.doesNotMatch(out, /FAIL/);
    assert.match(out, /all \d+ checks passed/);
  });
});

describe('loading without the addon or without Vulkan', () => {
  it('explains a missing Vulkan loader in one sentence with the install command', () => {
    const msg = explainLoadFailure('/x/vkrt.node', 'libvulkan.so.1: cannot open shared object file: No such file or directory');
    assert.equal(msg, 'The Vulkan loader (libvulkan.so.1) is not installed; install it with `sudo apt-get install libvulkan1 mesa-vulkan-drivers`.');
    assert.match(explainLoadFailure('/x/vkrt.node', '/x/vkrt.node: wrong ELF class: ELFCLASS32'), /rebuild it with `npm run build:native`/);
    assert.match(explainLoadFailure('/x/vkrt.node', 'libfoo.so.2: cannot open shared object file: No such file or directory'), /needs libfoo\.so\.2/);
  });

  it('a process without the addon does not crash: the CLI prints the sentence and exits 1', function () {
    this.timeout(60000);
    // node-gyp-build's <NAME>_PREBUILD points the lookup at a folder with neither build/ nor prebuilds/
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-noaddon-'));
    const env = { ...process.env, VKRT_PREBUILD: empty, VKRT_NATIVE: '' };
    const script = `
      const n = require('./src/native.ts');
      const { VulkanError } = require('./src/errors.ts');
      if (!/npm run build:native/.test(n.nativeLoadError())) throw new Error('bad sentence: ' + n.nativeLoadError());
      try { n.loadNative(); throw new Error('loadNative did not throw'); }
      catch (e) { if (!(e instanceof VulkanError)) throw e; }
      console.log('ok');`;
    const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: ROOT, env, encoding: 'utf8' });
    assert.match(out, /ok/);
    const cli = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'src/cli/main.ts', 'devices'], { cwd: ROOT, env, encoding: 'utf8' });
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /vkrt devices: error \[VULKAN\]: The vkrt native addon for linux-(x64|arm64) is missing .*npm run build:native.*sudo apt-get install cmake/);
    fs.rmSync(empty, { recursive: true, force: true });
    const missing = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'src/cli/main.ts', 'devices'], {
      cwd: ROOT, env: { ...process.env, VKRT_NATIVE: path.join(ROOT, 'build', 'no-such-addon.node') }, encoding: 'utf8',
    });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no-such-addon\.node \(VKRT_NATIVE\) does not exist; unset VKRT_NATIVE/);
  });
});
