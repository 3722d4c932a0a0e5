/**
 * In-kernel PSCI and SMCCC handling for arm64 HVC/SMC (Arm DEN0022 PSCI 1.1,
 * DEN0028 SMCCC; Linux arch/arm64/kvm/psci.c and hypercalls.c).
 *
 * KVM answers PSCI_VERSION (1.1), CPU_ON/CPU_OFF/AFFINITY_INFO, CPU_SUSPEND
 * (as WFI), MIGRATE_INFO_TYPE, PSCI_FEATURES and SMCCC_VERSION in the
 * kernel; SYSTEM_OFF / SYSTEM_RESET / SYSTEM_RESET2 become
 * KVM_EXIT_SYSTEM_EVENT after every vCPU is powered off
 * (kvm_prepare_system_event). SYSTEM_SUSPEND needs KVM_CAP_ARM_SYSTEM_SUSPEND,
 * which this model does not offer: NOT_SUPPORTED. Anything else gets
 * SMCCC_RET_NOT_SUPPORTED in x0. The SMCCC filter (KVM_ARM_VM_SMCCC_FILTER) is
 * applied by the caller before this handler.
 */

import {
  FW_DONE,
  FW_STOPPED,
  FW_SYSTEM_EVENT,
  FW_WFI,
  mpidrHwid,
  type FirmwareOutcome,
  type FirmwareVcpu,
  type FirmwareVm,
} from "./firmware.js";
import {
  ARM_SMCCC_ARCH_FEATURES_FUNC_ID,
  ARM_SMCCC_VERSION_1_1,
  ARM_SMCCC_VERSION_FUNC_ID,
  PSCI_0_2_AFFINITY_LEVEL_OFF,
  PSCI_0_2_AFFINITY_LEVEL_ON,
  PSCI_0_2_FN64_AFFINITY_INFO,
  PSCI_0_2_FN64_CPU_ON,
  PSCI_0_2_FN64_CPU_SUSPEND,
  PSCI_0_2_FN_AFFINITY_INFO,
  PSCI_0_2_FN_CPU_OFF,
  PSCI_0_2_FN_CPU_ON,
  PSCI_0_2_FN_CPU_SUSPEND,
  PSCI_0_2_FN_MIGRATE_INFO_TYPE,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_0_2_FN_SYSTEM_OFF,
  PSCI_0_2_FN_SYSTEM_RESET,
  PSCI_0_2_TOS_MP,
  PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_1_1_FN64_SYSTEM_RESET2,
  PSCI_1_1_FN_SYSTEM_RESET2,
  PSCI_RET_ALREADY_ON,
  PSCI_RET_INVALID_PARAMS,
  PSCI_RET_NOT_SUPPORTED,
  PSCI_RET_SUCCESS,
  PSCI_VERSION_1_1,
  SMCCC_RET_NOT_SUPPORTED,
} from "./uapi/psci.js";
import {
  KVM_SYSTEM_EVENT_RESET,
  KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2,
  KVM_SYSTEM_EVENT_SHUTDOWN,
} from "./uapi/system-event.js";


const SUPPORTED = new Set([
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_0_2_FN_CPU_SUSPEND,
  PSCI_0_2_FN64_CPU_SUSPEND,
  PSCI_0_2_FN_CPU_OFF,
  PSCI_0_2_FN_CPU_ON,
  PSCI_0_2_FN64_CPU_ON,
  PSCI_0_2_FN_AFFINITY_INFO,
  PSCI_0_2_FN64_AFFINITY_INFO,
  PSCI_0_2_FN_MIGRATE_INFO_TYPE,
  PSCI_0_2_FN_SYSTEM_OFF,
  PSCI_0_2_FN_SYSTEM_RESET,
  PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_1_1_FN_SYSTEM_RESET2,
  PSCI_1_1_FN64_SYSTEM_RESET2,
]);

/**
 * Handles an SMCCC call in the kernel. `args` are x0..x7 (x0 = function id);
 * results go to `ret` (x0..x3, JS numbers: negative error codes stay negative).
 * Returns FW_DONE, FW_WFI, FW_STOPPED or FW_SYSTEM_EVENT (then `out` is set).
 */
export function handleSmccc(
  vcpu: FirmwareVcpu,
  vm: FirmwareVm,
  args: readonly number[],
  ret: number[],
  out: FirmwareOutcome,
): number {
  const fid = (args[0] ?? 0) >>> 0;
  const a1 = args[1] ?? 0;
  const a2 = args[2] ?? 0;
  const a3 = args[3] ?? 0;
  ret[1] = a1;
  ret[2] = a2;
  ret[3] = a3;
  let r: number;
  switch (fid) {
    case ARM_SMCCC_VERSION_FUNC_ID:
      r = ARM_SMCCC_VERSION_1_1;
      break;
    case ARM_SMCCC_ARCH_FEATURES_FUNC_ID:
      r = SMCCC_RET_NOT_SUPPORTED;
      break;
    case PSCI_0_2_FN_PSCI_VERSION:
      r = PSCI_VERSION_1_1;
      break;
    case PSCI_0_2_FN_CPU_SUSPEND:
    case PSCI_0_2_FN64_CPU_SUSPEND:
      ret[0] = PSCI_RET_SUCCESS;
      return FW_WFI;
    case PSCI_0_2_FN_CPU_OFF:
      vcpu.stopSelf();
      ret[0] = PSCI_RET_SUCCESS;
      return FW_STOPPED;
    case PSCI_0_2_FN_CPU_ON:
    case PSCI_0_2_FN64_CPU_ON:
      r = cpuOn(vm, fid === PSCI_0_2_FN_CPU_ON ? a1 >>> 0 : a1, a2, a3);
      break;
    case PSCI_0_2_FN_AFFINITY_INFO:
    case PSCI_0_2_FN64_AFFINITY_INFO:
      r = affinityInfo(vm, a1, a2);
      break;
    case PSCI_0_2_FN_MIGRATE_INFO_TYPE:
      r = PSCI_0_2_TOS_MP;
      break;
    case PSCI_1_0_FN_PSCI_FEATURES:
      r = SUPPORTED.has((a1 >>> 0)) ? 0 : PSCI_RET_NOT_SUPPORTED;
      break;
    case PSCI_0_2_FN_SYSTEM_OFF:
      out.type = KVM_SYSTEM_EVENT_SHUTDOWN;
      out.data0 = 0;
      return FW_SYSTEM_EVENT;
    case PSCI_0_2_FN_SYSTEM_RESET:
      out.type = KVM_SYSTEM_EVENT_RESET;
      out.data0 = 0;
      return FW_SYSTEM_EVENT;
    case PSCI_1_1_FN_SYSTEM_RESET2:
    case PSCI_1_1_FN64_SYSTEM_RESET2:
      out.type = KVM_SYSTEM_EVENT_RESET;
      out.data0 = KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2;
      return FW_SYSTEM_EVENT;
    default:
      r = SMCCC_RET_NOT_SUPPORTED;
  }
  ret[0] = r;
  return FW_DONE;
}

/** kvm_psci_vcpu_on(): find the target by MPIDR, refuse if it is on. */
function cpuOn(vm: FirmwareVm, target: number, entry: number, context: number): number {
  const want = mpidrHwid(target);
  const t = vm.firmwareVcpus.find((v) => mpidrHwid(v.mpidr) === want);
  if (t === undefined) return PSCI_RET_INVALID_PARAMS;
  if (!t.stopped) return PSCI_RET_ALREADY_ON;
  t.startAt(entry, context);
  return PSCI_RET_SUCCESS;
}

/** kvm_psci_vcpu_affinity_info(): ON if any matching vCPU is not stopped, else OFF (KVM never reports ON_PENDING). */
function affinityInfo(vm: FirmwareVm, target: number, level: number): number {
  if (level < 0 || level > 3) return PSCI_RET_INVALID_PARAMS;
  const shift = [0, 8, 16, 32][level]!;
  const scale = 2 ** shift;
  const want = Math.floor(mpidrHwid(target) / scale);
  for (const v of vm.firmwareVcpus) {
    if (Math.floor(mpidrHwid(v.mpidr) / scale) === want && !v.stopped) return PSCI_0_2_AFFINITY_LEVEL_ON;
  }
  return PSCI_0_2_AFFINITY_LEVEL_OFF;
}
