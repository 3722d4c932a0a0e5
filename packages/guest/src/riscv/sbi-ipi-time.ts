/**
 * The SBI calls a riscv64 kernel makes for IPIs and its timer, and the BASE
 * queries kvm-unit-tests uses to decide known failures (RISC-V Supervisor
 * Binary Interface Specification v2.0):
 *
 * - IPI, EID 0x735049 "sPI" (chapter 7): sbi_send_ipi(hart_mask,
 *   hart_mask_base), FID 0. hart_mask_base = -1 (all ones) means every hart;
 *   otherwise bit i of hart_mask names hart hart_mask_base + i. The receiver
 *   sees a supervisor software interrupt (sip.SSIP), which it clears itself.
 * - TIME, EID 0x54494D45 "TIME" (chapter 6): sbi_set_timer(stime_value),
 *   FID 0: the timer interrupt fires once `time` ≥ stime_value and the call
 *   clears a pending one; set_timer(ULONG_MAX) stops it.
 * - BASE (chapter 4): sbi_get_spec_version FID 0, sbi_get_impl_id FID 1,
 *   sbi_get_impl_version FID 2.
 * - HSM hart_get_status (chapter 9), for the secondaries' lazy start.
 *
 * Wrappers named as kvm-unit-tests lib/riscv/sbi.c names them.
 */

import type { GuestCode } from "../guest-image.js";
import { sbiCall, SBI_EXT_BASE, SBI_EXT_HSM, SBI_EXT_HSM_HART_STATUS, type SbiRet } from "../power/sbi.js";

/** IPI extension "sPI". */
export const SBI_EXT_IPI = 0x73_5049;
/** IPI: sbi_send_ipi. */
export const SBI_EXT_IPI_SEND_IPI = 0;
/** Timer extension "TIME". */
export const SBI_EXT_TIME = 0x5449_4d45;
/** TIME: sbi_set_timer. */
export const SBI_EXT_TIME_SET_TIMER = 0;
/** BASE: sbi_get_spec_version. */
export const SBI_EXT_BASE_GET_SPEC_VERSION = 0;
/** BASE: sbi_get_impl_id. */
export const SBI_EXT_BASE_GET_IMP_ID = 1;
/** BASE: sbi_get_impl_version. */
export const SBI_EXT_BASE_GET_IMP_VERSION = 2;
/** sbi_get_impl_id() of OpenSBI. */
export const SBI_IMPL_OPENSBI = 1;
/** sbi_get_impl_id() of KVM. */
export const SBI_IMPL_KVM = 3;
/** HSM hart state: started. */
export const SBI_EXT_HSM_STARTED = 0;
/** HSM hart state: stopped. */
export const SBI_EXT_HSM_STOPPED = 1;
/** HSM hart state: start pending. */
export const SBI_EXT_HSM_START_PENDING = 2;
/** HSM hart state: stop pending. */
export const SBI_EXT_HSM_STOP_PENDING = 3;
/** hart_mask_base meaning "every hart" (-1UL). */
export const SBI_HART_MASK_BASE_ALL = -1;

/** sbi_send_ipi(hart_mask, hart_mask_base). */
export function* sbiSendIpi(hartMask: number, hartMaskBase: number): GuestCode<SbiRet> {
  return yield* sbiCall(SBI_EXT_IPI, SBI_EXT_IPI_SEND_IPI, [hartMask, hartMaskBase]);
}

/** sbi_send_ipi_broadcast(): sbi_send_ipi(0, -1UL). */
export function* sbiSendIpiBroadcast(): GuestCode<SbiRet> {
  return yield* sbiSendIpi(0, SBI_HART_MASK_BASE_ALL);
}

/** sbi_set_timer(stime_value), in timebase ticks. */
export function* sbiSetTimer(stimeValue: number): GuestCode<SbiRet> {
  return yield* sbiCall(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [stimeValue]);
}

/** sbi_get_impl_id(). */
export function* sbiGetImpId(): GuestCode<SbiRet> {
  return yield* sbiCall(SBI_EXT_BASE, SBI_EXT_BASE_GET_IMP_ID);
}

/** sbi_get_impl_version(). */
export function* sbiGetImpVersion(): GuestCode<SbiRet> {
  return yield* sbiCall(SBI_EXT_BASE, SBI_EXT_BASE_GET_IMP_VERSION);
}

/** sbi_hart_get_status(hartid). */
export function* sbiHartGetStatus(hartid: number): GuestCode<SbiRet> {
  return yield* sbiCall(SBI_EXT_HSM, SBI_EXT_HSM_HART_STATUS, [hartid]);
}

/** sbi_impl_opensbi_mk_version(major, minor): OpenSBI's impl_version encoding. */
export function sbiImplOpensbiVersion(major: number, minor: number): number {
  return major * 2 ** 16 + minor;
}
