#!/usr/bin/env node
// `npm run fuzz`: bundles fuzz/main.ts with esbuild from the TypeScript
// sources (the "@irqlab/source" condition), as scripts/bench.mjs bundles the
// bench files, and runs it with the given arguments (--seed, --ops,
// --minutes, --target, --list; see fuzz/main.ts).
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { SOURCE_BUNDLE } from "./source-bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".bench-raw", "fuzz-main.mjs");
await build({ ...SOURCE_BUNDLE, entryPoints: [join(root, "fuzz", "main.ts")], outfile: out });
await import(pathToFileURL(out).href);
