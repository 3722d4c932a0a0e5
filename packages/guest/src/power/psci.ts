/**
 * PSCI calls from an arm64 guest (Arm DEN0022D "Arm Power State Coordination
 * Interface" 1.1, chapter 5: the PSCI_VERSION, CPU_OFF, CPU_ON, SYSTEM_OFF and
 * SYSTEM_RESET function prototypes, their function ids and the return error
 * codes; Linux spells them in include/uapi/linux/psci.h), made through
 * the conduit the device tree names (`method` = "hvc" or "smc") with the SMC
 * Calling Convention (Arm DEN0028: function id in x0, arguments in x1..x3,
 * result in x0). Under KVM the conduit is HVC, answered by the kernel
 * (arch/arm64/kvm/psci.c).
 *
 * The function ids of PSCI 0.2 and later are fixed by DEN0022; a
 * PSCI 0.1 node supplies its own CPU_ON / CPU_OFF ids and has no SYSTEM_OFF
 * (PsciInfo carries whichever applies).
 */

import { op } from "@irqlab/sim";
import type { PsciInfo } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";

/** PSCI_VERSION. */
export const PSCI_0_2_FN_PSCI_VERSION = 0x8400_0000;
/** CPU_OFF. */
export const PSCI_0_2_FN_CPU_OFF = 0x8400_0002;
/** CPU_ON, SMC32 calling convention. */
export const PSCI_0_2_FN_CPU_ON = 0x8400_0003;
/** CPU_ON, SMC64 calling convention: the one a 64-bit guest uses (Linux PSCI_FN_NATIVE). */
export const PSCI_0_2_FN64_CPU_ON = 0xc400_0003;
/** SYSTEM_OFF. */
export const PSCI_0_2_FN_SYSTEM_OFF = 0x8400_0008;
/** SYSTEM_RESET. */
export const PSCI_0_2_FN_SYSTEM_RESET = 0x8400_0009;

/** Return code: success. */
export const PSCI_RET_SUCCESS = 0;
/** Return code: the function is not supported. */
export const PSCI_RET_NOT_SUPPORTED = -1;
/** Return code: invalid parameters (e.g. an unknown target MPIDR). */
export const PSCI_RET_INVALID_PARAMS = -2;
/** Return code: denied. */
export const PSCI_RET_DENIED = -3;
/** Return code: the target CPU is already on. */
export const PSCI_RET_ALREADY_ON = -4;
/** Return code: a CPU_ON for the target is pending. */
export const PSCI_RET_ON_PENDING = -5;
/** Return code: internal failure. */
export const PSCI_RET_INTERNAL_FAILURE = -6;
/** Return code: the target is not present. */
export const PSCI_RET_NOT_PRESENT = -7;
/** Return code: the target is disabled. */
export const PSCI_RET_DISABLED = -8;
/** Return code: invalid entry point address. */
export const PSCI_RET_INVALID_ADDRESS = -9;

/** The conduit of a call: PSCI from the device tree, or plain HVC when the tree could not be read. */
export type PsciConduit = Pick<PsciInfo, "method"> | undefined;

/**
 * One SMCCC call: `fid` in x0, `args` in x1... Returns x0 as a signed number
 * (the PSCI return codes are negative).
 */
export function* psciCall(conduit: PsciConduit, fid: number, args: readonly number[] = []): GuestCode<number> {
  const regs = [fid, ...args];
  const r = yield conduit?.method === "smc" ? op.smc(regs) : op.hvc(regs);
  return signedX0(r.value, r.hi);
}

/** x0 from its two 32-bit halves, as a signed 64-bit value (exact for |x| < 2^53). */
export function signedX0(lo: number, hi: number): number {
  if (hi >>> 31 === 0) return hi * 2 ** 32 + (lo >>> 0);
  return -((~hi >>> 0) * 2 ** 32 + (~lo >>> 0) + 1);
}

/**
 * CPU_ON: start the CPU whose MPIDR affinity is `target` at `entry`, with
 * `context` in its x0. Returns the PSCI return code (0 = the CPU will start).
 */
export function* psciCpuOn(psci: PsciInfo, target: number, entry: number, context: number): GuestCode<number> {
  if (psci.cpuOn === undefined) return PSCI_RET_NOT_SUPPORTED;
  return yield* psciCall(psci, psci.cpuOn, [target, entry, context]);
}

/** CPU_OFF: power this CPU down. Returns only on failure, with the return code. */
export function* psciCpuOff(psci: PsciInfo): GuestCode<number> {
  if (psci.cpuOff === undefined) return PSCI_RET_NOT_SUPPORTED;
  return yield* psciCall(psci, psci.cpuOff);
}

/**
 * SYSTEM_OFF: power the machine off. Returns only if the call failed or the
 * PSCI version has none (0.1), with the return code. `psci` undefined means
 * the device tree could not say: HVC is used, KVM's conduit.
 */
export function* psciSystemOff(psci: PsciInfo | undefined): GuestCode<number> {
  const fid = psci === undefined ? PSCI_0_2_FN_SYSTEM_OFF : psci.systemOff;
  if (fid === undefined) return PSCI_RET_NOT_SUPPORTED;
  return yield* psciCall(psci, fid);
}

/** SYSTEM_RESET: reboot the machine. Returns only on failure, like SYSTEM_OFF. */
export function* psciSystemReset(psci: PsciInfo | undefined): GuestCode<number> {
  const fid = psci === undefined ? PSCI_0_2_FN_SYSTEM_RESET : psci.systemReset;
  if (fid === undefined) return PSCI_RET_NOT_SUPPORTED;
  return yield* psciCall(psci, fid);
}
