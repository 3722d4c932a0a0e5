/**
 * Reading a user scenario file from disk (Node only: node:fs). Kept apart
 * from user-file-load.ts so that the package's main entry stays free of
 * Node built-ins and runs in a browser; reached through
 * `@irqlab/scenarios/node`.
 */

import { readFileSync } from "node:fs";
import { ScenarioError } from "../framework/scenario-error.js";
import { parseUserScenario } from "./user-file-load.js";
import type { UserScenarioFile } from "./user-file-schema.js";

/** Reads and validates a scenario file; messages name it as `shown` (default: the path). */
export function loadUserScenarioFile(path: string, shown: string = path): UserScenarioFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ScenarioError("bad-file", `${shown}: cannot read the scenario file${code === undefined ? "" : ` (${code})`}`);
  }
  return parseUserScenario(text, shown.endsWith(".json") || !path.endsWith(".json") ? shown : path);
}
