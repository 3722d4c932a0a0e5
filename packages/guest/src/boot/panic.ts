/**
 * The guest's panic path: what a Linux guest's panic() prints, then a request
 * to end the machine.
 *
 * Linux (kernel/panic.c) masks interrupts, prints
 * "Kernel panic - not syncing: <message>", runs the panic notifiers and
 * prints "---[ end Kernel panic - not syncing: <message> ]---". Under QEMU a
 * guest with a pvpanic device has a notifier that writes PVPANIC_PANICKED to
 * it; QEMU then raises GUEST_PANICKED and applies `-action panic=...`
 * (pause, shutdown, exit-failure or none). irqlab does not model pvpanic, so
 * this panic powers the machine off instead, the way the guest's own
 * poweroff would: PSCI SYSTEM_OFF on arm64, SBI SRST shutdown on riscv64 —
 * with reset_reason "system failure" (SBI v2.0 §10.1), which KVM hands to the
 * VMM in KVM_EXIT_SYSTEM_EVENT's data[0], so the VMM can tell a crash from
 * an orderly shutdown there. If that returns, the CPU halts with interrupts
 * masked, as Linux's panic loop does.
 *
 * The message goes to the console when one is known: the UART, or on riscv64
 * the SBI console, which needs nothing from the device tree. On arm64 a
 * panic before the console was found prints nothing.
 */

import { op } from "@irqlab/sim";
import type { GuestArch, GuestCode } from "../guest-image.js";
import { openConsole, putLine, type Console } from "../console/console.js";
import { psciSystemOff } from "../power/psci.js";
import { SBI_SRST_RESET_REASON_SYS_FAILURE, SBI_SRST_RESET_TYPE_SHUTDOWN, sbiSystemReset } from "../power/sbi.js";
import type { PsciInfo } from "./platform-info.js";

/**
 * What the panic path needs to know: the architecture (undefined when not
 * even the boot protocol could be told, and then the CPU just halts), the
 * console (or undefined) and PSCI (undefined: HVC, KVM's conduit).
 */
export interface PanicTarget {
  readonly arch: GuestArch | undefined;
  readonly console: Console | undefined;
  readonly psci: PsciInfo | undefined;
}

/** The first panic line for `message`. */
export function panicLine(message: string): string {
  return `Kernel panic - not syncing: ${message}`;
}

/** The last panic line for `message`. */
export function panicEndLine(message: string): string {
  return `---[ end Kernel panic - not syncing: ${message} ]---`;
}

/** `return yield* panic(target, message)`: never returns. */
export function* panic(target: PanicTarget, message: string): GuestCode<never> {
  yield op.mask();
  const arch = target.arch;
  if (arch !== undefined) {
    const console = target.console ?? (yield* openConsole(arch, undefined));
    if (console !== undefined) {
      yield* putLine(console, panicLine(message));
      yield* putLine(console, panicEndLine(message));
    }
    if (arch === "aarch64") yield* psciSystemOff(target.psci);
    else yield* sbiSystemReset(SBI_SRST_RESET_TYPE_SHUTDOWN, SBI_SRST_RESET_REASON_SYS_FAILURE);
  }
  return yield* halt();
}

/** Stops this CPU for good: WFI with interrupts masked, forever. */
export function* halt(): GuestCode<never> {
  yield op.mask();
  const wfi = op.wfi();
  for (;;) yield wfi;
}
