import { defineConfig } from "vitest/config";

// CI (.ci/run) sets IRQLAB_VITEST_JSON to a file path to get vitest's JSON report
// beside the usual console output; it prints the "N passed, N failed" line from it.
const jsonReport = process.env.IRQLAB_VITEST_JSON;

export default defineConfig({
  test: {
    projects: [
      "packages/*",
      "apps/*",
      "test",
      // Each package's public API pinned by type tests (packages/*/test/*.test-d.ts): vitest
      // runs one tsc over all of them (tsconfig.type-tests.json, against the built dist/*.d.ts
      // a user installs, so `npm test` builds first) and counts each test() like any other.
      {
        test: {
          name: "api-types",
          typecheck: { enabled: true, only: true, include: ["packages/*/test/*.test-d.ts"], tsconfig: "tsconfig.type-tests.json" },
        },
      },
    ],
    reporters: jsonReport ? ["default", "json"] : ["default"],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
    coverage: { provider: "v8", include: ["packages/*/src/**/*.ts", "apps/*/src/**/*.ts"] },
  },
});
