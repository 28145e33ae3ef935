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
};
