/**
 * SBI calls from a riscv64 guest (RISC-V Supervisor Binary Interface
 * Specification v2.0): an ECALL with the extension id in a7, the function id
 * in a6 and arguments in a0..a5, answered with `struct sbiret { error, value }`
 * (chapter 3, "Binary Encoding"). Under KVM the kernel answers BASE, HSM and
 * SRST itself and forwards the console extensions to the VMM
 * (arch/riscv/kvm/vcpu_sbi*.c).
 *
 * - BASE (EID 0x10, chapter 4): sbi_probe_extension, FID 3.
 * - Legacy console putchar (EID 0x01, chapter 5).
 * - HSM (EID 0x48534D "HSM", chapter 9): hart_start FID 0 (hartid,
 *   start_addr, opaque: the hart starts in S-mode at start_addr with
 *   a0 = hartid, a1 = opaque), hart_stop FID 1, hart_get_status FID 2.
 * - SRST (EID 0x53525354 "SRST", chapter 10): system_reset FID 0 with
 *   reset_type (0 shutdown, 1 cold reboot, 2 warm reboot) and reset_reason
 *   (0 no reason, 1 system failure).
 * - DBCN (EID 0x4442434E "DBCN", chapter 12): console_write_byte FID 2.
 */

import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";

/** Legacy extension: console_putchar (chapter 5). */
export const SBI_EXT_0_1_CONSOLE_PUTCHAR = 0x01;
/** Base extension (chapter 4). */
export const SBI_EXT_BASE = 0x10;
/** BASE: sbi_probe_extension. */
export const SBI_EXT_BASE_PROBE_EXT = 3;
/** Hart State Management extension, "HSM" (chapter 9). */
export const SBI_EXT_HSM = 0x48_534d;
/** HSM: sbi_hart_start. */
export const SBI_EXT_HSM_HART_START = 0;
/** HSM: sbi_hart_stop. */
export const SBI_EXT_HSM_HART_STOP = 1;
/** HSM: sbi_hart_get_status. */
export const SBI_EXT_HSM_HART_STATUS = 2;
/** System Reset extension, "SRST" (chapter 10). */
export const SBI_EXT_SRST = 0x5352_5354;
/** SRST: sbi_system_reset. */
export const SBI_EXT_SRST_RESET = 0;
/** SRST reset_type: shutdown. */
export const SBI_SRST_RESET_TYPE_SHUTDOWN = 0;
/** SRST reset_type: cold reboot. */
export const SBI_SRST_RESET_TYPE_COLD_REBOOT = 1;
/** SRST reset_type: warm reboot. */
export const SBI_SRST_RESET_TYPE_WARM_REBOOT = 2;
/** SRST reset_reason: none. */
export const SBI_SRST_RESET_REASON_NONE = 0;
/** SRST reset_reason: system failure. */
export const SBI_SRST_RESET_REASON_SYS_FAILURE = 1;
/** Debug Console extension, "DBCN" (chapter 12). */
export const SBI_EXT_DBCN = 0x4442_434e;
/** DBCN: sbi_debug_console_write_byte. */
export const SBI_EXT_DBCN_CONSOLE_WRITE_BYTE = 2;

/** sbiret.error: success (chapter 3, Table "Standard SBI Errors"). */
export const SBI_SUCCESS = 0;
/** sbiret.error: failed. */
export const SBI_ERR_FAILED = -1;
/** sbiret.error: not supported. */
export const SBI_ERR_NOT_SUPPORTED = -2;
/** sbiret.error: invalid parameter. */
export const SBI_ERR_INVALID_PARAM = -3;
/** sbiret.error: denied. */
export const SBI_ERR_DENIED = -4;
/** sbiret.error: invalid address. */
export const SBI_ERR_INVALID_ADDRESS = -5;
/** sbiret.error: already available (hart_start of a hart that is not stopped). */
export const SBI_ERR_ALREADY_AVAILABLE = -6;
/** sbiret.error: already started. */
export const SBI_ERR_ALREADY_STARTED = -7;
/** sbiret.error: already stopped. */
export const SBI_ERR_ALREADY_STOPPED = -8;

/** What an SBI call returned. */
export interface SbiRet {
  readonly error: number;
  readonly value: number;
}

/** One ecall. */
export function* sbiCall(ext: number, fid: number, args: readonly number[] = []): GuestCode<SbiRet> {
  const r = yield op.sbi(ext, fid, args);
  return { error: r.error, value: r.value };
}

/** sbi_probe_extension(ext): true when the SBI implementation offers `ext`. */
export function* sbiProbeExtension(ext: number): GuestCode<boolean> {
  const r = yield* sbiCall(SBI_EXT_BASE, SBI_EXT_BASE_PROBE_EXT, [ext]);
  return r.error === SBI_SUCCESS && r.value !== 0;
}

/**
 * sbi_system_reset(type, reason). Returns only if the call failed, with
 * sbiret.error.
 */
export function* sbiSystemReset(type: number, reason: number = SBI_SRST_RESET_REASON_NONE): GuestCode<number> {
  return (yield* sbiCall(SBI_EXT_SRST, SBI_EXT_SRST_RESET, [type, reason])).error;
}

/** sbi_hart_start(hartid, start_addr, opaque): returns sbiret.error (0: the hart will start). */
export function* sbiHartStart(hartid: number, startAddr: number, opaque: number): GuestCode<number> {
  return (yield* sbiCall(SBI_EXT_HSM, SBI_EXT_HSM_HART_START, [hartid, startAddr, opaque])).error;
}

/** sbi_hart_stop(): stops this hart. Returns only on failure, with sbiret.error. */
export function* sbiHartStop(): GuestCode<number> {
  return (yield* sbiCall(SBI_EXT_HSM, SBI_EXT_HSM_HART_STOP)).error;
}
