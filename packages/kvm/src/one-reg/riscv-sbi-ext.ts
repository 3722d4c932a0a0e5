/**
 * Which SBI extensions a RISC-V vCPU offers its guest, by KVM's own ids
 * (enum KVM_RISCV_SBI_EXT_ID), as arch/riscv/kvm/vcpu_sbi.c keeps them in
 * sbi_context.ext_status: UNAVAILABLE (the host cannot provide it: probe
 * failed), ENABLED or DISABLED (KVM_SET_ONE_REG of its SBI_EXT register,
 * before the vCPU first runs). kvm_riscv_vcpu_sbi_init starts each available
 * one enabled unless its kvm_vcpu_sbi_extension is `default_disabled`: DBCN,
 * SUSP and MPXY. BASE has no id (KVM_RISCV_SBI_EXT_MAX): it cannot be
 * disabled and has no register. A call to a disabled or unavailable
 * extension gets SBI_ERR_NOT_SUPPORTED without an exit, and BASE's
 * probe_extension answers 0 for it (kvm_vcpu_sbi_find_ext returns NULL).
 *
 * The modelled host provides V01, TIME, IPI, RFENCE, SRST, HSM, DBCN and the
 * experimental and vendor ranges. PMU, STA, SUSP, FWFT and MPXY are not
 * modelled and count as unavailable (their registers are absent, ENOENT).
 */

import {
  SBI_EXT_0_1_SET_TIMER,
  SBI_EXT_DBCN,
  SBI_EXT_EXPERIMENTAL_END,
  SBI_EXT_EXPERIMENTAL_START,
  SBI_EXT_HSM,
  SBI_EXT_IPI,
  SBI_EXT_PMU,
  SBI_EXT_RFENCE,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SBI_EXT_VENDOR_END,
  SBI_EXT_VENDOR_START,
} from "../uapi/sbi.js";
import {
  KVM_RISCV_SBI_EXT_DBCN,
  KVM_RISCV_SBI_EXT_EXPERIMENTAL,
  KVM_RISCV_SBI_EXT_HSM,
  KVM_RISCV_SBI_EXT_IPI,
  KVM_RISCV_SBI_EXT_MPXY,
  KVM_RISCV_SBI_EXT_PMU,
  KVM_RISCV_SBI_EXT_RFENCE,
  KVM_RISCV_SBI_EXT_SRST,
  KVM_RISCV_SBI_EXT_SUSP,
  KVM_RISCV_SBI_EXT_TIME,
  KVM_RISCV_SBI_EXT_V01,
  KVM_RISCV_SBI_EXT_VENDOR,
} from "./riscv-reg-ids.js";

/** The last legacy (v0.1) extension id, SBI_EXT_0_1_SHUTDOWN. */
const SBI_EXT_0_1_SHUTDOWN = 0x08;

/** KVM SBI extension ids the modelled host provides (a bit per id). */
export const RISCV_SBI_EXT_AVAILABLE =
  (1 << KVM_RISCV_SBI_EXT_V01) |
  (1 << KVM_RISCV_SBI_EXT_TIME) |
  (1 << KVM_RISCV_SBI_EXT_IPI) |
  (1 << KVM_RISCV_SBI_EXT_RFENCE) |
  (1 << KVM_RISCV_SBI_EXT_SRST) |
  (1 << KVM_RISCV_SBI_EXT_HSM) |
  (1 << KVM_RISCV_SBI_EXT_EXPERIMENTAL) |
  (1 << KVM_RISCV_SBI_EXT_VENDOR) |
  (1 << KVM_RISCV_SBI_EXT_DBCN);

/** Extensions whose kvm_vcpu_sbi_extension is `default_disabled` (vcpu_sbi_forward.c, vcpu_sbi_system.c). */
const DEFAULT_DISABLED = (1 << KVM_RISCV_SBI_EXT_DBCN) | (1 << KVM_RISCV_SBI_EXT_SUSP) | (1 << KVM_RISCV_SBI_EXT_MPXY);

/**
 * A new vCPU's SBI extensions that are not enabled (a bit per KVM id):
 * the unavailable ones and those disabled by default.
 */
export const RISCV_SBI_EXT_OFF_AT_RESET = ~RISCV_SBI_EXT_AVAILABLE | DEFAULT_DISABLED;

/**
 * The KVM id of the extension that handles SBI extension id `ext` (a7),
 * as the sbi_ext[] table's extid ranges match it; -1 for BASE and for ids
 * no extension claims.
 */
export function kvmSbiExtIndex(ext: number): number {
  if (ext <= SBI_EXT_0_1_SHUTDOWN && ext >= SBI_EXT_0_1_SET_TIMER) return KVM_RISCV_SBI_EXT_V01;
  switch (ext) {
    case SBI_EXT_TIME:
      return KVM_RISCV_SBI_EXT_TIME;
    case SBI_EXT_IPI:
      return KVM_RISCV_SBI_EXT_IPI;
    case SBI_EXT_RFENCE:
      return KVM_RISCV_SBI_EXT_RFENCE;
    case SBI_EXT_SRST:
      return KVM_RISCV_SBI_EXT_SRST;
    case SBI_EXT_HSM:
      return KVM_RISCV_SBI_EXT_HSM;
    case SBI_EXT_PMU:
      return KVM_RISCV_SBI_EXT_PMU;
    case SBI_EXT_DBCN:
      return KVM_RISCV_SBI_EXT_DBCN;
    default:
      if (ext >= SBI_EXT_EXPERIMENTAL_START && ext <= SBI_EXT_EXPERIMENTAL_END) return KVM_RISCV_SBI_EXT_EXPERIMENTAL;
      if (ext >= SBI_EXT_VENDOR_START && ext <= SBI_EXT_VENDOR_END) return KVM_RISCV_SBI_EXT_VENDOR;
      return -1;
  }
}
