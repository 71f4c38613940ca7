/**
 * The layering of src/, checked by `npm run lint:layers` (part of `npm test`). Bottom up:
 *   errors.ts -> native.ts, gpu/ (the addon) | ir/ -> kernel/ -> ops/ -> builder/ -> runtime/ ->
 *   api/ -> cli/
 * with onnx/, io/, models/ beside ir/ (they build IR), and conformance/ beside api/. A lower layer
 * never imports a higher one, and nothing imports in a circle. docs/architecture.md draws it.
 */
const layer = (name, path, mayNotImport) => ({
  name: `layering-${name}`,
  comment: `${path} is below ${mayNotImport}: it may not import it`,
  severity: 'error',
  from: { path: `^src/${path}` },
  to: { path: `^src/(${mayNotImport})` },
});

const ABOVE_IR = 'kernel|ops|builder|runtime|api|cli|conformance|gpu|native|onnx|io|models';
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle is a design bug: move the shared part down a layer',
      from: {},
      to: { circular: true },
    },
    layer('errors', 'errors\\.ts', '(?!errors\\.ts)'),
    layer('native', 'native\\.ts', '(?!errors\\.ts|native\\.ts)'),
    layer('gpu', 'gpu/', '(?!errors\\.ts|native\\.ts|gpu/)'),
    layer('ir', 'ir/', ABOVE_IR),
    layer('kernel', 'kernel/', 'ops|builder|runtime|api|cli|conformance|gpu|native|onnx|io|models'),
    layer('ops', 'ops/', 'builder|runtime|api|cli|conformance|gpu|native|onnx|io|models'),
    layer('onnx', 'onnx/', 'kernel|builder|runtime|api|cli|conformance|gpu|native|io|models'),
    layer('io', 'io/', 'kernel|ops|builder|runtime|api|cli|conformance|gpu|native|onnx|models'),
    layer('models', 'models/', 'kernel|ops|builder|runtime|api|cli|conformance|gpu|native|io'),
    layer('builder', 'builder/', 'runtime|api|cli|conformance'),
    layer('runtime', 'runtime/', 'builder|api|cli|conformance|onnx|models'),
    layer('api', 'api/', 'cli|conformance'),
    layer('conformance', 'conformance/', 'cli'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|build)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
