/**
 * @irqlab/scenarios/node — the part of the package that needs Node's file
 * system: reading a user scenario file from a path. Everything else is in
 * the main entry, which runs in a browser as well.
 *
 * @packageDocumentation
 */

/** Reads a YAML or JSON scenario file from disk and validates it (errors name the file and the bad field). */
export { loadUserScenarioFile } from "./user-file/user-file-read.js";
