// Prints the closing line of a CI run, "N passed, N failed", from vitest's JSON
// report, and exits with the test command's status (or 1 if tests failed).
import { existsSync, readFileSync } from "node:fs";

const [file, statusText] = process.argv.slice(2);
const status = Number(statusText ?? "1");
if (!file || !existsSync(file)) {
  console.log("the test command failed before vitest reported (build, typecheck or lint): see above");
  console.log("0 passed, 0 failed");
  process.exit(status === 0 ? 1 : status);
}
const r = JSON.parse(readFileSync(file, "utf8"));
const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
console.log(`${r.numPassedTests} passed, ${failed} failed`);
process.exit(status !== 0 ? status : failed > 0 ? 1 : 0);
