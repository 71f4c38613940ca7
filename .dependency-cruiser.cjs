/**
 * The layering of src/, checked by `npm run lint:layers` (part of `npm test`). Bottom up:
 *   errors.ts -> native.ts, gpu/ (the addon) | ir/ -> kernel/ -> ops/ -> builder/ -> runtime/ ->
 *   api/ -> serve/ -> cli/
 * with onnx/, io/, models/ beside ir/ (they build IR), and conformance/ beside api/; plugins/ (plugin
 * definitions as operators) sits on ops/ and below builder/, network/ (the layer API) on ops/ and
 * onnx/ and below api/; the runtime needs neither (engines carry plugin SPIR-V). A lower layer
 * never imports a higher one, and nothing imports in a circle. docs/architecture.md draws it.
 */
const layer = (name, path, mayNotImport) => ({
  name: `layering-${name}`,
  comment: `${path} is below ${mayNotImport}: it may not import it`,
  severity: 'error',
  from: { path: `^src/${path}` },
  to: { path: `^src/(${mayNotImport})` },
});

const ABOVE_IR = 'kernel|ops|builder|runtime|api|serve|cli|conformance|gpu|native|onnx|io|models|plugins|network';
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
    layer('kernel', 'kernel/', 'ops|builder|runtime|api|serve|cli|conformance|gpu|native|onnx|io|models|plugins|network'),
    layer('ops', 'ops/', 'builder|runtime|api|serve|cli|conformance|gpu|native|onnx|io|models|plugins|network'),
    layer('plugins', 'plugins/', 'builder|runtime|api|serve|cli|conformance|gpu|native|onnx|io|models|network'),
    layer('network', 'network/', 'builder|runtime|api|serve|cli|conformance|gpu|native|io|models'),
    layer('onnx', 'onnx/', 'kernel|builder|runtime|api|serve|cli|conformance|gpu|native|io|models|plugins|network'),
    layer('io', 'io/', 'kernel|ops|builder|runtime|api|serve|cli|conformance|gpu|native|onnx|models|plugins|network'),
    layer('models', 'models/', 'kernel|ops|builder|runtime|api|serve|cli|conformance|gpu|native|io|plugins|network'),
    layer('builder', 'builder/', 'runtime|api|serve|cli|conformance'),
    layer('runtime', 'runtime/', 'builder|api|serve|cli|conformance|onnx|models|plugins|network'),
    layer('api', 'api/', 'serve|cli|conformance'),
    layer('serve', 'serve/', 'cli|conformance'),
    layer('conformance', 'conformance/', 'cli|serve'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|build)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
