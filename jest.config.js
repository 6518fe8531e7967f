/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]sx?$': ['@swc/jest'],
  },
  // @noble/ciphers ships ES modules only; let swc turn it into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!@noble/)'],
  // A dynamic import() names the compiled file ('./database.js', as Node resolves it); jest finds the .ts source.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean', '<rootDir>/test/helpers/validation-reports.ts'],
  snapshotSerializers: ['<rootDir>/test/helpers/mask-asset-hashes.ts'],
  // Synthesis and real servers are slow on a 2-core machine.
  testTimeout: 60000,
};
