/**
 * Power and CPU control for either architecture, on top of PSCI (arm64) and
 * SBI (riscv64), with the log lines Linux prints around them
 * (kernel/reboot.c: "reboot: Power down", "reboot: Restarting system").
 */

import type { BootedGuest } from "../boot/boot.js";
import { halt } from "../boot/panic.js";
import type { CpuInfo } from "../boot/platform-info.js";
import { putLine } from "../console/console.js";
import type { GuestCode } from "../guest-image.js";
import {
  PSCI_RET_ALREADY_ON,
  PSCI_RET_DENIED,
  PSCI_RET_DISABLED,
  PSCI_RET_INTERNAL_FAILURE,
  PSCI_RET_INVALID_ADDRESS,
  PSCI_RET_INVALID_PARAMS,
  PSCI_RET_NOT_PRESENT,
  PSCI_RET_NOT_SUPPORTED,
  PSCI_RET_ON_PENDING,
  psciCpuOff,
  psciCpuOn,
  psciSystemOff,
  psciSystemReset,
} from "./psci.js";
import {
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_ALREADY_STARTED,
  SBI_ERR_ALREADY_STOPPED,
  SBI_ERR_DENIED,
  SBI_ERR_FAILED,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_SRST_RESET_TYPE_COLD_REBOOT,
  SBI_SRST_RESET_TYPE_SHUTDOWN,
  sbiHartStart,
  sbiHartStop,
  sbiSystemReset,
} from "./sbi.js";

/** Prints "reboot: Power down" and powers the machine off (PSCI SYSTEM_OFF / SBI SRST shutdown); halts if that fails. */
export function* powerOff(sys: BootedGuest): GuestCode<never> {
  yield* putLine(sys.console, "reboot: Power down");
  if (sys.arch === "aarch64") yield* psciSystemOff(sys.psci);
  else yield* sbiSystemReset(SBI_SRST_RESET_TYPE_SHUTDOWN);
  return yield* halt();
}

/** Prints "reboot: Restarting system" and resets the machine (PSCI SYSTEM_RESET / SBI SRST cold reboot); halts if that fails. */
export function* restart(sys: BootedGuest): GuestCode<never> {
  yield* putLine(sys.console, "reboot: Restarting system");
  if (sys.arch === "aarch64") yield* psciSystemReset(sys.psci);
  else yield* sbiSystemReset(SBI_SRST_RESET_TYPE_COLD_REBOOT);
  return yield* halt();
}

/**
 * Starts `cpu` at `entry` with `context` (its x0 on arm64, its a1 on
 * riscv64): PSCI CPU_ON with the CPU's MPIDR, or SBI HSM hart_start with its
 * hart id. Returns 0 or the firmware's error code (see {@link firmwareError}).
 * On arm64 a CPU whose enable-method is not "psci", or a tree without PSCI,
 * gives PSCI_RET_NOT_SUPPORTED without a call.
 */
export function* cpuOn(sys: BootedGuest, cpu: CpuInfo, entry: number, context: number): GuestCode<number> {
  if (sys.arch === "riscv64") return yield* sbiHartStart(cpu.hwid, entry, context);
  if (sys.psci === undefined || cpu.enableMethod !== "psci") return PSCI_RET_NOT_SUPPORTED;
  return yield* psciCpuOn(sys.psci, cpu.hwid, entry, context);
}

/** Stops the calling CPU (PSCI CPU_OFF / SBI HSM hart_stop); halts if that fails. */
export function* cpuOff(sys: BootedGuest): GuestCode<never> {
  if (sys.arch === "riscv64") yield* sbiHartStop();
  else if (sys.psci !== undefined) yield* psciCpuOff(sys.psci);
  return yield* halt();
}

const PSCI_NAMES = new Map<number, string>([
  [PSCI_RET_NOT_SUPPORTED, "PSCI_RET_NOT_SUPPORTED"],
  [PSCI_RET_INVALID_PARAMS, "PSCI_RET_INVALID_PARAMS"],
  [PSCI_RET_DENIED, "PSCI_RET_DENIED"],
  [PSCI_RET_ALREADY_ON, "PSCI_RET_ALREADY_ON"],
  [PSCI_RET_ON_PENDING, "PSCI_RET_ON_PENDING"],
  [PSCI_RET_INTERNAL_FAILURE, "PSCI_RET_INTERNAL_FAILURE"],
  [PSCI_RET_NOT_PRESENT, "PSCI_RET_NOT_PRESENT"],
  [PSCI_RET_DISABLED, "PSCI_RET_DISABLED"],
  [PSCI_RET_INVALID_ADDRESS, "PSCI_RET_INVALID_ADDRESS"],
]);

const SBI_NAMES = new Map<number, string>([
  [SBI_ERR_FAILED, "SBI_ERR_FAILED"],
  [SBI_ERR_NOT_SUPPORTED, "SBI_ERR_NOT_SUPPORTED"],
  [SBI_ERR_INVALID_PARAM, "SBI_ERR_INVALID_PARAM"],
  [SBI_ERR_DENIED, "SBI_ERR_DENIED"],
  [SBI_ERR_INVALID_ADDRESS, "SBI_ERR_INVALID_ADDRESS"],
  [SBI_ERR_ALREADY_AVAILABLE, "SBI_ERR_ALREADY_AVAILABLE"],
  [SBI_ERR_ALREADY_STARTED, "SBI_ERR_ALREADY_STARTED"],
  [SBI_ERR_ALREADY_STOPPED, "SBI_ERR_ALREADY_STOPPED"],
]);

/** A firmware return code by name, e.g. "PSCI_RET_INVALID_PARAMS (-2)" or "SBI_ERR_INVALID_PARAM (-3)". */
export function firmwareError(arch: BootedGuest["arch"], code: number): string {
  const name = (arch === "aarch64" ? PSCI_NAMES : SBI_NAMES).get(code);
  return name === undefined ? `${code}` : `${name} (${code})`;
}
