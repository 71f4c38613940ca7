/**
 * The command line's manners: -h/--help on every command prints every flag with its value, default
 * and examples and does nothing else; --version; an unknown or mistyped flag is an error on every
 * command; switches take no value and value flags need one; bare model names resolve; progress
 * goes to stderr only on a terminal.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { allFlags, type CommandSpec } from '../../src/cli/args';
import { COMMANDS, inCliTerms } from '../../src/cli/main';
import { progressLine } from '../../src/cli/progress';
import { runCli } from './run-cli';

const specOf = (cmd: string) => (require(`../../src/cli/${COMMANDS[cmd].module.slice(2)}`) as { SPEC: CommandSpec }).SPEC;

describe('vkrt CLI: help, version, flags', function () {
  this.timeout(120000);
  let cwd: string;
  let dir: string;
  before(() => {
    cwd = process.cwd();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-help-'));
    process.chdir(dir);
  });
  after(() => {
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const cmd of Object.keys(COMMANDS)) {
    it(`${cmd} --help and -h list every flag and an example, and have no side effects`, async () => {
      const spec = specOf(cmd);
      for (const flag of ['--help', '-h']) {
        const tmpBefore = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('vkrt-demo-')).length;
        const r = await runCli(cmd, flag);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stderr, '');
        assert.match(r.stdout, new RegExp(`^usage: vkrt ${cmd}`));
        for (const f of allFlags(spec)) assert.match(r.stdout, new RegExp(`--${f}\\b`), `${cmd} --help lacks --${f}`);
        assert.doesNotMatch(r.stdout, /\(undocumented\)/);
        assert.match(r.stdout, /examples:\n {2}vkrt /);
        assert.deepEqual(fs.readdirSync(dir), [], `${cmd} ${flag} wrote into the working directory`);
        assert.equal(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('vkrt-demo-')).length, tmpBefore);
      }
      // --help wins over everything else on the line, even flags that would fail
      assert.equal((await runCli(cmd, '--help', '--device=banana')).code, 0);
      assert.equal((await runCli('help', cmd)).code, 0);
    });

    it(`${cmd}: an unknown flag is an error naming the command, with a suggestion for a near miss`, async () => {
      const r = await runCli(cmd, '--definitelyNotAFlag');
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`vkrt ${cmd}: error \\[INPUT\\]: ${cmd}: unknown flag --definitelyNotAFlag; see \`vkrt ${cmd} --help\``));
      const spec = specOf(cmd);
      const some = [...spec.valueFlags, ...spec.switches][0];
      if (some) {
        const near = await runCli(cmd, `--${some.toLowerCase() === some ? some.toUpperCase() : some.toLowerCase()}${spec.valueFlags.includes(some) ? '=1' : ''}`);
        assert.match(near.stderr, new RegExp(`did you mean --${some}\\?`));
      }
    });
  }

  it('--version prints the package version', async () => {
    const r = await runCli('--version');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, JSON.parse(fs.readFileSync(path.join(cwd, 'package.json'), 'utf8')).version);
  });

  it('switches take no value; value flags need one; unexpected arguments are errors', async () => {
    assert.match((await runCli('exec', '--fp16=yes')).stderr, /exec: --fp16 is a switch and takes no value/);
    assert.match((await runCli('exec', '--onnx')).stderr, /exec: --onnx needs a value \(--onnx=FILE\)/);
    assert.match((await runCli('exec', 'model.onnx')).stderr, /exec: unexpected argument 'model.onnx' \(flags are --name=value\)/);
    assert.match((await runCli('devices', 'extra')).stderr, /devices: unexpected argument 'extra'/);
    assert.match((await runCli('inspect')).stderr, /usage: vkrt inspect FILE/);
    assert.equal((await runCli('nope')).code, 2);
  });

  it('a bare model name resolves to NAME.onnx; a missing one names both', async () => {
    const r = await runCli('exec', '--onnx=nosuchmodel');
    assert.match(r.stderr, /--onnx: nosuchmodel does not exist \(nor nosuchmodel\.onnx\)/);
  });

  it('API shape advice becomes the --shapes flag in CLI messages', () => {
    assert.equal(inCliTerms("input 'x' has symbolic dimension(s) 'N' ([N,4]); give a value in inputShapes: { x: [1, 4] } (InferenceSession: or freeDimensionOverrides: { N: 1 })"),
      "input 'x' has symbolic dimension(s) 'N' ([N,4]); give a value in --shapes=x:1x4");
  });

  it('progress is drawn on a terminal only', () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const pipe = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    assert.equal(progressLine('build', pipe), undefined);
    const p = progressLine('build', tty)!;
    p({ phase: 'shaders', layer: 4, layers: 10, fraction: 0.5 });
    p({ phase: 'done', fraction: 1 });
    assert.match(written[0], /\[build\] {2}50% shaders 5\/10/);
    assert.equal(written[written.length - 1], '\r\x1b[K');
  });
});
