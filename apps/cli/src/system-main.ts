/**
 * What the `irqlab-system-aarch64` and `irqlab-system-riscv64` bins share:
 * {@link runSystem} bound to the process. The program name in messages is
 * the invoked name, as QEMU's (argv[0]'s basename, without the bundle's
 * ".js"), so a link named qemu-system-aarch64 speaks as one.
 */

import { basename } from "node:path";
import type { MachineArch } from "@irqlab/machine";
import { runSystem, systemProgName } from "./system/run-system.js";

/** The program name for messages: the script's basename without ".js", or the default. */
export function invokedName(script: string | undefined, arch: MachineArch): string {
  if (script === undefined) return systemProgName(arch);
  const name = basename(script).replace(/\.m?js$/, "");
  return name === "" ? systemProgName(arch) : name;
}

/** Runs the command for `arch` with the process's arguments and sets the exit code. */
export async function systemMain(arch: MachineArch): Promise<void> {
  const prog = invokedName(process.argv[1], arch);
  try {
    process.exitCode = await runSystem(arch, process.argv.slice(2), {
      out: (s) => process.stdout.write(s),
      err: (s) => process.stderr.write(s),
      prog,
    });
  } catch (e) {
    // A bug of irqlab's, not a user error: say so with the stack.
    process.stderr.write(`${prog}: internal error in irqlab: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  }
}
