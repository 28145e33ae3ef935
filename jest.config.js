// ESM + @swc/jest: fauxqs is ESM-only and ts-jest rejects TypeScript 7.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2024' },
        module: { type: 'es6' },
      },
    ],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // onnxruntime-node returns main-context typed arrays: see the file for why.
  setupFiles: ['<rootDir>/test/models/ort-realm.ts'],
  testTimeout: 120_000,
  // Tests load ONNX sessions and native image libraries: two workers match the two cores here.
  maxWorkers: 2,
  // A worker ends holding 1.7-2.8 GB (ONNX Runtime sessions, libvips, the suites' heaps) that the
  // process frees after its last JavaScript has run. On a busy machine that took up to 0.65 s, past
  // jest's 0.5 s default, and jest then warned of a worker that "failed to exit gracefully" though
  // its event loop was already empty (its 'exit' event came at once). Timed on 2026-12-03 with
  // logging patched into jest-worker for the purpose, beside two busy processes; no command prints it.
  workerGracefulExitTimeout: 5_000,
};
