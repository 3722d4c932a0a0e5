/**
 * The `irqlab` command bound to the process: what dist/irqlab-main.cjs
 * exports for the `irqlab` bin (main.ts, through launch/launch.ts).
 */

import { runCli } from "./cli.js";

/** Runs `irqlab` with the process's arguments and sets the process's exit code. */
export async function runIrqlab(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  });
}
