// Shared vitest project settings: resolve workspace packages to their TypeScript
// sources (the "@irqlab/source" export condition) so tests need no build first.
import { defaultServerConditions } from "vite";
import { defineProject, type UserWorkspaceConfig } from "vitest/config";

export function irqlabProject(name: string): UserWorkspaceConfig {
  return defineProject({
    // Keep modern syntax (private fields) native, as the built packages ship it.
    oxc: { target: "es2023" },
    resolve: { conditions: ["@irqlab/source", ...defaultServerConditions] },
    ssr: { resolve: { conditions: ["@irqlab/source", ...defaultServerConditions] } },
    test: {
      name,
      include: ["src/**/*.test.ts", "test/**/*.test.ts", "*.test.ts"],
      benchmark: { include: ["bench/**/*.bench.ts"] },
    },
  });
}
