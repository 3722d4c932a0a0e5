import { defineConfig } from "tsup";
import { libraryConfig } from "../../tsup.shared.js";

// Two entries: the main one runs anywhere (browser included); `./node` holds what needs node:fs.
export default defineConfig({ ...libraryConfig, entry: ["src/index.ts", "src/node.ts"] });
