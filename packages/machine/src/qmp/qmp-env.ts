/**
 * What the QMP commands of a monitor work on: the machine, the QOM view of
 * its devices, the version to report and the monitor's own hooks.
 */

import { QEMU_VERSION } from "../cmdline/arm-virt-class.js";
import type { Machine } from "../machine.js";
import type { QomRegistry } from "./qom-model.js";

/** The environment of a monitor's commands. */
export interface QmpCommandEnv {
  readonly machine: Machine;
  readonly registry: QomRegistry;
  /** query-version's package string. */
  readonly version: { readonly package: string };
  /** The names of every registered command, in registration order. */
  readonly commandNames: () => readonly string[];
  /** Called once `quit` has answered and the machine has shut down. */
  readonly onQuit: () => void;
}

/** query-version's `qemu` member: the QEMU release irqlab's command line and defaults follow. */
export function qemuVersionTriple(): { major: number; minor: number; micro: number } {
  const [major, minor, micro] = QEMU_VERSION.split(".").map(Number) as [number, number, number];
  return { major, minor, micro };
}
