/**
 * In-kernel SBI handling for RISC-V ecalls (RISC-V SBI specification v2.0;
 * Linux arch/riscv/kvm/vcpu_sbi*.c).
 *
 * KVM handles BASE, TIME, IPI, RFENCE, HSM and SRST in the kernel. Legacy
 * console putchar/getchar, DBCN and the experimental and vendor ranges are
 * forwarded to userspace with KVM_EXIT_RISCV_SBI (kvm_riscv_vcpu_sbi_forward,
 * which pre-sets ret = { SBI_ERR_NOT_SUPPORTED, 0 }). Any other extension
 * returns SBI_ERR_NOT_SUPPORTED to the guest without an exit, and so does
 * an extension the vCPU has not enabled (kvm_vcpu_sbi_find_ext; DBCN is off
 * until the VMM enables it with KVM_SET_ONE_REG, one-reg/riscv-sbi-ext.ts).
 * SRST ends in KVM_EXIT_SYSTEM_EVENT with the reset reason in data[0].
 * RFENCE succeeds without effect: the model has no TLBs.
 */

import {
  FW_DONE,
  FW_EXIT_USER,
  FW_STOPPED,
  FW_SYSTEM_EVENT,
  FW_WFI,
  type FirmwareOutcome,
  type FirmwareVcpu,
  type FirmwareVm,
} from "./firmware.js";
import {
  IRQ_S_SOFT,
  KVM_SBI_IMPID,
  KVM_SBI_SPEC_VERSION,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_0_1_CONSOLE_GETCHAR,
  SBI_EXT_0_1_CONSOLE_PUTCHAR,
  SBI_EXT_0_1_SET_TIMER,
  SBI_EXT_BASE,
  SBI_EXT_BASE_GET_IMP_ID,
  SBI_EXT_BASE_GET_IMP_VERSION,
  SBI_EXT_BASE_GET_MARCHID,
  SBI_EXT_BASE_GET_MIMPID,
  SBI_EXT_BASE_GET_MVENDORID,
  SBI_EXT_BASE_GET_SPEC_VERSION,
  SBI_EXT_BASE_PROBE_EXT,
  SBI_EXT_DBCN,
  SBI_EXT_EXPERIMENTAL_END,
  SBI_EXT_EXPERIMENTAL_START,
  SBI_EXT_HSM,
  SBI_EXT_HSM_HART_START,
  SBI_EXT_HSM_HART_STATUS,
  SBI_EXT_HSM_HART_STOP,
  SBI_EXT_HSM_HART_SUSPEND,
  SBI_EXT_IPI,
  SBI_EXT_IPI_SEND_IPI,
  SBI_EXT_RFENCE,
  SBI_EXT_SRST,
  SBI_EXT_SRST_RESET,
  SBI_EXT_TIME,
  SBI_EXT_TIME_SET_TIMER,
  SBI_EXT_VENDOR_END,
  SBI_EXT_VENDOR_START,
  SBI_HSM_STATE_START_PENDING,
  SBI_HSM_STATE_STARTED,
  SBI_HSM_STATE_STOPPED,
  SBI_SRST_RESET_TYPE_COLD_REBOOT,
  SBI_SRST_RESET_TYPE_SHUTDOWN,
  SBI_SRST_RESET_TYPE_WARM_REBOOT,
  SBI_SUCCESS,
} from "./uapi/sbi.js";
import { KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_SHUTDOWN } from "./uapi/system-event.js";
import { kvmSbiExtIndex } from "./one-reg/riscv-sbi-ext.js";


/** Whether KVM forwards extension `ext` to userspace. */
export function sbiForwarded(ext: number): boolean {
  return (
    ext === SBI_EXT_0_1_CONSOLE_PUTCHAR ||
    ext === SBI_EXT_0_1_CONSOLE_GETCHAR ||
    ext === SBI_EXT_DBCN ||
    (ext >= SBI_EXT_EXPERIMENTAL_START && ext <= SBI_EXT_EXPERIMENTAL_END) ||
    (ext >= SBI_EXT_VENDOR_START && ext <= SBI_EXT_VENDOR_END)
  );
}

/**
 * Whether KVM answers an SBI call of extension `ext` from the vCPU's configuration
 * alone, changing nothing, so that the same call again gives the same
 * answer: the BASE extension (kvm_sbi_ext_base_handler: the spec, implementation
 * and machine ids, probe_extension; an unknown function is NOT_SUPPORTED).
 */
export function sbiQuery(ext: number): boolean {
  return ext === SBI_EXT_BASE;
}

/**
 * BASE probe_extension (kvm_sbi_ext_base_probe): 1 when an enabled extension
 * of the vCPU claims `ext`, BASE included; none of the model's has a probe
 * callback of its own.
 */
function probe(vcpu: FirmwareVcpu, ext: number): number {
  if (ext === SBI_EXT_BASE) return 1;
  const idx = kvmSbiExtIndex(ext);
  return idx >= 0 && (vcpu.sbiExtOff & (1 << idx)) === 0 ? 1 : 0;
}

/**
 * Handles an ecall. `args` are a0..a5; `ret` receives [error, value].
 * Returns FW_DONE, FW_WFI, FW_STOPPED, FW_EXIT_USER or FW_SYSTEM_EVENT.
 */
export function handleSbi(
  vcpu: FirmwareVcpu,
  vm: FirmwareVm,
  ext: number,
  fid: number,
  args: readonly number[],
  ret: number[],
  out: FirmwareOutcome,
): number {
  const a0 = args[0] ?? 0;
  const a1 = args[1] ?? 0;
  const a2 = args[2] ?? 0;
  ret[0] = SBI_SUCCESS;
  ret[1] = 0;
  const idx = kvmSbiExtIndex(ext);
  if (idx >= 0 && (vcpu.sbiExtOff & (1 << idx)) !== 0) {
    ret[0] = SBI_ERR_NOT_SUPPORTED; // kvm_riscv_vcpu_sbi_ecall: no enabled extension claims it
    return FW_DONE;
  }
  if (sbiForwarded(ext)) return FW_EXIT_USER;
  switch (ext) {
    case SBI_EXT_BASE:
      return base(vcpu, fid, a0, ret);
    case SBI_EXT_0_1_SET_TIMER:
    case SBI_EXT_TIME:
      if (ext === SBI_EXT_TIME && fid !== SBI_EXT_TIME_SET_TIMER) {
        ret[0] = SBI_ERR_INVALID_PARAM; // kvm_sbi_ext_time_handler
        return FW_DONE;
      }
      vcpu.setTimer(a0);
      return FW_DONE;
    case SBI_EXT_IPI:
      if (fid !== SBI_EXT_IPI_SEND_IPI) break;
      return sendIpi(vm, a0, a1, ret);
    case SBI_EXT_RFENCE:
      if (fid > 6) break;
      return FW_DONE;
    case SBI_EXT_HSM:
      return hsm(vcpu, vm, fid, a0, a1, a2, ret);
    case SBI_EXT_SRST:
      if (fid !== SBI_EXT_SRST_RESET) break;
      if (a0 === SBI_SRST_RESET_TYPE_SHUTDOWN) out.type = KVM_SYSTEM_EVENT_SHUTDOWN;
      else if (a0 === SBI_SRST_RESET_TYPE_COLD_REBOOT || a0 === SBI_SRST_RESET_TYPE_WARM_REBOOT) {
        out.type = KVM_SYSTEM_EVENT_RESET;
      } else {
        ret[0] = SBI_ERR_INVALID_PARAM;
        return FW_DONE;
      }
      out.data0 = a1;
      return FW_SYSTEM_EVENT;
    default:
      break;
  }
  ret[0] = SBI_ERR_NOT_SUPPORTED;
  return FW_DONE;
}

function base(vcpu: FirmwareVcpu, fid: number, a0: number, ret: number[]): number {
  switch (fid) {
    case SBI_EXT_BASE_GET_SPEC_VERSION:
      ret[1] = KVM_SBI_SPEC_VERSION;
      break;
    case SBI_EXT_BASE_GET_IMP_ID:
      ret[1] = KVM_SBI_IMPID;
      break;
    case SBI_EXT_BASE_GET_IMP_VERSION:
      // LINUX_VERSION_CODE of the modelled host kernel (6.19).
      ret[1] = (6 << 16) | (19 << 8);
      break;
    case SBI_EXT_BASE_PROBE_EXT:
      ret[1] = probe(vcpu, a0);
      break;
    case SBI_EXT_BASE_GET_MVENDORID:
    case SBI_EXT_BASE_GET_MARCHID:
    case SBI_EXT_BASE_GET_MIMPID:
      // vcpu_sbi_base.c: vcpu->arch.mvendorid / marchid / mimpid (KVM_REG_RISCV_CONFIG).
      ret[1] = vcpu.sbiMachineId(fid - SBI_EXT_BASE_GET_MVENDORID);
      break;
    default:
      ret[0] = SBI_ERR_NOT_SUPPORTED;
  }
  return FW_DONE;
}

/**
 * sbi_send_ipi(hart_mask, hart_mask_base) as kvm_sbi_ext_ipi_handler()
 * (arch/riscv/kvm/vcpu_sbi_replace.c): base -1 means every hart; otherwise
 * the vCPUs are walked in index order, those below the base skipped, and
 * the walk stops at the first one XLEN or more above it. Each named vCPU
 * gets VSSIP; a mask bit that named no vCPU makes the call fail with
 * SBI_ERR_INVALID_PARAM (hmask ^ sentmask), after the others were sent.
 */
function sendIpi(vm: FirmwareVm, mask: number, maskBase: number, ret: number[]): number {
  // hart_mask_base = -1 (all ones, as a JS number -1 or 2^64) means every hart.
  const all = maskBase === -1 || maskBase >= 2 ** 64 - 1;
  let sent = 0;
  for (const v of vm.firmwareVcpus) {
    if (!all) {
      const bit = v.vcpuId - maskBase;
      if (bit < 0) continue;
      if (bit >= 64) break;
      if (bit >= 53 || Math.floor(mask / 2 ** bit) % 2 !== 1) continue;
      sent += 2 ** bit;
    }
    v.raiseLine(IRQ_S_SOFT);
  }
  ret[0] = !all && sent !== mask ? SBI_ERR_INVALID_PARAM : SBI_SUCCESS;
  return FW_DONE;
}

function hsm(
  vcpu: FirmwareVcpu,
  vm: FirmwareVm,
  fid: number,
  a0: number,
  a1: number,
  a2: number,
  ret: number[],
): number {
  switch (fid) {
    case SBI_EXT_HSM_HART_START: {
      const t = vm.firmwareVcpus.find((v) => v.vcpuId === a0);
      if (t === undefined) ret[0] = SBI_ERR_INVALID_PARAM;
      else if (!t.stopped) ret[0] = SBI_ERR_ALREADY_AVAILABLE;
      else t.startAt(a1, a2);
      return FW_DONE;
    }
    case SBI_EXT_HSM_HART_STOP:
      vcpu.stopSelf();
      return FW_STOPPED;
    case SBI_EXT_HSM_HART_STATUS: {
      const t = vm.firmwareVcpus.find((v) => v.vcpuId === a0);
      if (t === undefined) ret[0] = SBI_ERR_INVALID_PARAM;
      else if (t.resetPending) ret[1] = SBI_HSM_STATE_START_PENDING;
      else ret[1] = t.stopped ? SBI_HSM_STATE_STOPPED : SBI_HSM_STATE_STARTED;
      return FW_DONE;
    }
    case SBI_EXT_HSM_HART_SUSPEND:
      // Retentive suspend is WFI-like (kvm_riscv_vcpu_wfi); the model treats every type so.
      return FW_WFI;
    default:
      ret[0] = SBI_ERR_NOT_SUPPORTED;
      return FW_DONE;
  }
}
