import { defaultClientConditions, defineConfig } from "vite";

// The app resolves the workspace packages to their TypeScript sources (the
// "@irqlab/source" condition, as the tests do), so `npm run web` needs no
// build first; `vite build` bundles them into dist/ as a static folder.
export default defineConfig({
  root: import.meta.dirname,
  // Relative asset paths: dist/ works from any folder a static server gives it.
  base: "./",
  resolve: { conditions: ["@irqlab/source", ...defaultClientConditions] },
  worker: { format: "es" },
  build: { target: "es2023", outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
});
