// Tests are TypeScript compiled to CommonJS by ts-jest (type-checking is `npm run
// typecheck`'s job, so ts-jest only transpiles). The `.js` suffixes that NodeNext
// imports need are mapped back to the .ts sources.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Jest's default is one worker fewer than the cores: on a 2-core machine one suite
  // at a time. Two overlap the suites' waits (child processes, the browser).
  maxWorkers: 2,
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }],
  },
  moduleNameMapper: {
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
};
