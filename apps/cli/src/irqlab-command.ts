/**
 * The `irqlab` command bound to the process: what dist/irqlab-main.cjs
 * exports for the `irqlab` bin (main.ts, through launch/launch.ts).
 */

import { runCli } from "./cli.js";
import { fdOutput } from "./launch/fd-output.js";

/** How far this process's command got: its subcommand, then "+machine" once it built one. */
let scope = "command-line";

/** The scope of the bin's code cache (launch.ts): the subcommand run ("scenario-run"), "+machine" when it built one. */
export function codeCacheScope(): string {
  return scope;
}

/** Runs `irqlab` with the process's arguments and sets the process's exit code. */
export async function runIrqlab(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), {
    out: fdOutput(1, () => process.stdout),
    err: fdOutput(2, () => process.stderr),
    reached: (stage) => {
      scope = stage === "machine" ? `${scope}+machine` : stage;
    },
  });
}
