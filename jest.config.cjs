// Two projects. "cjs": the tests in TypeScript, compiled to CommonJS by ts-jest
// (type-checking is `npm run typecheck`'s job, so ts-jest only transpiles); the
// `.js` suffixes that NodeNext imports need are mapped back to the .ts sources.
// "esm": test/esm/*.test.mjs, untransformed, importing dist/ as shipped (rebuilt
// first when stale), with Jest's native ES modules (`npm test` passes
// --experimental-vm-modules): what needs `import.meta.url`, as the worker threads do.
/** @type {import('jest').Config} */
module.exports = {
  // Jest's default is one worker fewer than the cores: on a 2-core machine one suite
  // at a time. Two overlap the suites' waits (child processes, the browser).
  maxWorkers: 2,
  projects: [
    {
      displayName: "cjs",
      testEnvironment: "node",
      roots: ["<rootDir>/test"],
      testMatch: ["**/*.test.ts"],
      transform: {
        "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }],
      },
      moduleNameMapper: {
        "^(\\.{1,2}/.*)\\.js$": "$1",
      },
    },
    {
      displayName: "esm",
      testEnvironment: "node",
      testMatch: ["<rootDir>/test/esm/**/*.test.mjs"],
      transform: {},
      globalSetup: "<rootDir>/test/support/ensure-built-dist.mjs",
    },
  ],
};
