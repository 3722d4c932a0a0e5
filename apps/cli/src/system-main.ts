/**
 * What the `irqlab-system-aarch64` and `irqlab-system-riscv64` bins share:
 * {@link runSystem} bound to the process. The program name in messages is
 * the invoked name, as QEMU's (argv[0]'s basename, without the bin's
 * ".cjs"), so a link named qemu-system-aarch64 speaks as one.
 */

import { basename } from "node:path";
import type { MachineArch } from "@irqlab/machine";
import { fdOutput } from "./launch/fd-output.js";
import { runSystem, systemProgName } from "./system/run-system.js";

/** The program name for messages: the script's basename without ".js", ".cjs" or ".mjs", or the default. */
export function invokedName(script: string | undefined, arch: MachineArch): string {
  if (script === undefined) return systemProgName(arch);
  const name = basename(script).replace(/\.[cm]?js$/, "");
  return name === "" ? systemProgName(arch) : name;
}

/** How far this process's command got: "command-line", or "machine" once it built one. */
let scope = "command-line";

/** The scope of the bin's code cache (launch.ts): "machine" once the command built a machine. */
export function codeCacheScope(): string {
  return scope;
}

/** Runs the command for `arch` with the process's arguments and sets the exit code. */
export async function systemMain(arch: MachineArch): Promise<void> {
  const prog = invokedName(process.argv[1], arch);
  const err = fdOutput(2, () => process.stderr);
  try {
    process.exitCode = await runSystem(arch, process.argv.slice(2), {
      out: fdOutput(1, () => process.stdout),
      err,
      prog,
      reached: (stage) => {
        scope = stage;
      },
    });
  } catch (e) {
    // A bug of irqlab's, not a user error: say so with the stack.
    err(`${prog}: internal error in irqlab: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  }
}
