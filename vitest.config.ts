import { defineConfig } from "vitest/config";

// CI (.ci/run) sets IRQLAB_VITEST_JSON to a file path to get vitest's JSON report
// beside the usual console output; it prints the "N passed, N failed" line from it.
const jsonReport = process.env.IRQLAB_VITEST_JSON;

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "test"],
    reporters: jsonReport ? ["default", "json"] : ["default"],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
    coverage: { provider: "v8", include: ["packages/*/src/**/*.ts", "apps/*/src/**/*.ts"] },
  },
});
