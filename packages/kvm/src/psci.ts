/**
 * In-kernel PSCI and SMCCC handling for arm64 HVC/SMC (Arm DEN0022 PSCI 1.3,
 * DEN0028 SMCCC; Linux arch/arm64/kvm/psci.c and hypercalls.c).
 *
 * The VM's PSCI version (kvm->arch.psci_version, KVM_ARM_PSCI_LATEST = 1.3
 * unless the VMM lowers it) picks the handler as kvm_psci_call does: 1.x goes
 * to kvm_psci_1_x_call with the minor version, 0.2 to kvm_psci_0_2_call.
 * Every vCPU counts as having KVM_ARM_VCPU_PSCI_0_2 (as QEMU's virt machine
 * requests), so PSCI 0.1 and its KVM_PSCI_FN_* ids are not modelled.
 *
 * SYSTEM_OFF / SYSTEM_RESET / SYSTEM_RESET2 / SYSTEM_OFF2 become
 * KVM_EXIT_SYSTEM_EVENT after every vCPU is powered off
 * (kvm_prepare_system_event), with x0 preloaded with INTERNAL_FAILURE for a
 * VMM that resumes the vCPU anyway. SYSTEM_SUSPEND exits only with
 * KVM_CAP_ARM_SYSTEM_SUSPEND; whether the other vCPUs are off (DENIED) is the
 * VMM's check, not KVM's (Documentation/virt/kvm/api.rst). Anything unknown
 * gets NOT_SUPPORTED (-1, also SMCCC_RET_NOT_SUPPORTED) in x0. The SMCCC
 * filter (KVM_ARM_VM_SMCCC_FILTER) is applied by the caller. Only AArch64
 * vCPUs are modelled, so kvm_psci_check_allowed_function never refuses an
 * SMC64 id.
 */

import {
  FW_DONE,
  FW_STOPPED,
  FW_SYSTEM_EVENT,
  FW_SYSTEM_SUSPEND,
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
  PSCI_1_0_FN64_SYSTEM_SUSPEND,
  PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_1_0_FN_SYSTEM_SUSPEND,
  PSCI_1_1_FN64_SYSTEM_RESET2,
  PSCI_1_1_FN_SYSTEM_RESET2,
  PSCI_1_1_RESET_TYPE_SYSTEM_WARM_RESET,
  PSCI_1_1_RESET_TYPE_VENDOR_START,
  PSCI_1_3_FN64_SYSTEM_OFF2,
  PSCI_1_3_FN_SYSTEM_OFF2,
  PSCI_1_3_OFF_TYPE_HIBERNATE_OFF,
  PSCI_RET_ALREADY_ON,
  PSCI_RET_INTERNAL_FAILURE,
  PSCI_RET_INVALID_PARAMS,
  PSCI_RET_NOT_SUPPORTED,
  PSCI_RET_SUCCESS,
  PSCI_VERSION_0_2,
  PSCI_VERSION_1_0,
  PSCI_VERSION_1_1,
  PSCI_VERSION_1_2,
  PSCI_VERSION_1_3,
  SMCCC_RET_NOT_SUPPORTED,
  psciVersion,
} from "./uapi/psci.js";
import {
  KVM_SYSTEM_EVENT_RESET,
  KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2,
  KVM_SYSTEM_EVENT_SHUTDOWN,
  KVM_SYSTEM_EVENT_SHUTDOWN_FLAG_PSCI_OFF2,
} from "./uapi/system-event.js";
import { workaroundFeature } from "./arm64-spectre.js";

/**
 * The versions KVM_SET_ONE_REG(KVM_REG_ARM_PSCI_VERSION) accepts for a vCPU
 * with KVM_ARM_VCPU_PSCI_0_2 (hypercalls.c kvm_arm_set_fw_reg).
 */
export const PSCI_VERSIONS: readonly number[] = [PSCI_VERSION_0_2, PSCI_VERSION_1_0, PSCI_VERSION_1_1, PSCI_VERSION_1_2, PSCI_VERSION_1_3];

/** Functions every PSCI 1.x answers 0 for in PSCI_FEATURES (kvm_psci_1_x_call). */
const ALWAYS_FEATURES = new Set([
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
  ARM_SMCCC_VERSION_FUNC_ID,
]);

/**
 * AFFINITY_MASK(level) & MPIDR_HWID_BITMASK as a divisor: the affinity bits
 * below the level are ignored; Aff3 sits at bit 32, so level 3 keeps only it.
 */
const AFFINITY_SCALE: readonly number[] = [1, 2 ** 8, 2 ** 16, 2 ** 32];

/** MPIDR_HWID_BITMASK's complement: affinity bits a CPU_ON / AFFINITY_INFO target must not set. */
function validAffinity(mpidr: number): boolean {
  return mpidr >= 0 && (mpidr >>> 0) >>> 24 === 0 && Math.floor(mpidr / 2 ** 32) <= 0xff;
}

/**
 * Handles an SMCCC call in the kernel. `args` are x0..x7 (x0 = function id);
 * results go to `ret` (x0..x3, JS numbers: negative error codes stay negative).
 * Returns FW_DONE, FW_WFI, FW_STOPPED, FW_SYSTEM_EVENT (then `out` is set) or
 * FW_SYSTEM_SUSPEND.
 */
export function handleSmccc(
  vcpu: FirmwareVcpu,
  vm: FirmwareVm,
  args: readonly number[],
  ret: number[],
  out: FirmwareOutcome,
): number {
  const fid = (args[0] ?? 0) >>> 0;
  // smccc_set_retval(vcpu, val, 0, 0, 0): x1..x3 read back as zero.
  ret[1] = 0;
  ret[2] = 0;
  ret[3] = 0;
  switch (fid) {
    // hypercalls.c kvm_smccc_call_handler answers these before PSCI.
    case ARM_SMCCC_VERSION_FUNC_ID:
      ret[0] = ARM_SMCCC_VERSION_1_1;
      return FW_DONE;
    case ARM_SMCCC_ARCH_FEATURES_FUNC_ID:
      // The Spectre workarounds answer from the host's mitigation state (arm64-spectre.ts); nothing else is advertised.
      ret[0] = workaroundFeature((args[1] ?? 0) >>> 0) ?? SMCCC_RET_NOT_SUPPORTED;
      return FW_DONE;
  }
  // Anything but a PSCI function reaches the default of kvm_psci_0_2_call, NOT_SUPPORTED, whatever
  // the version (checked first: the switches compare one by one).
  if (!isPsciFunction(fid)) {
    ret[0] = PSCI_RET_NOT_SUPPORTED;
    return FW_DONE;
  }
  const version = vm.psciVersion;
  // The id is read again inside rather than passed: an id of 2^30 or more crosses a call boxed, on every HVC.
  if (version >= PSCI_VERSION_1_0) return psci1x(vcpu, vm, version & 0xffff, args, ret, out);
  return psci02(vcpu, vm, args, ret, out);
}

/**
 * Whether KVM answers SMCCC function `fid` from the VM's configuration alone,
 * changing nothing, so that the same call again gives the same answer: the
 * calls kvm_smccc_call_handler answers before PSCI (SMCCC_VERSION,
 * SMCCC_ARCH_FEATURES) and every id outside PSCI's range (NOT_SUPPORTED, the
 * default of kvm_psci_0_2_call). Without an SMCCC filter.
 */
export function smcccQuery(fid: number): boolean {
  return fid === ARM_SMCCC_VERSION_FUNC_ID || fid === ARM_SMCCC_ARCH_FEATURES_FUNC_ID || !isPsciFunction(fid);
}

/**
 * Whether `fid` lies in PSCI's function range: function numbers 0x00–0x1F of
 * the Standard Secure Service calls, 0x8400_0000–0x8400_001F (SMC32) and
 * 0xC400_0000–0xC400_001F (SMC64) — Trusted Firmware-A's is_psci_fid
 * (include/bl31/services/std_svc.h, PSCI_FID_MASK 0xffe0); the last id
 * Linux defines is 0x15, PSCI 1.3's SYSTEM_OFF2 (include/uapi/linux/psci.h).
 */
function isPsciFunction(fid: number): boolean {
  return (fid & 0xbfff_ffe0) >>> 0 === PSCI_0_2_FN_PSCI_VERSION;
}

/** Argument `i` of an SMC32 call keeps its low 32 bits (kvm_psci_narrow_to_32bit). */
function arg(args: readonly number[], i: number, smc64: boolean): number {
  const a = args[i] ?? 0;
  return smc64 ? a : a >>> 0;
}

/** kvm_psci_1_x_call: the PSCI 1.x functions, then the 0.2 ones. */
function psci1x(
  vcpu: FirmwareVcpu,
  vm: FirmwareVm,
  minor: number,
  args: readonly number[],
  ret: number[],
  out: FirmwareOutcome,
): number {
  const fid = (args[0] ?? 0) >>> 0;
  switch (fid) {
    case PSCI_0_2_FN_PSCI_VERSION:
      ret[0] = psciVersion(1, minor);
      return FW_DONE;
    case PSCI_1_0_FN_PSCI_FEATURES:
      ret[0] = psciFeatures(vm, minor, (args[1] ?? 0) >>> 0);
      return FW_DONE;
    case PSCI_1_0_FN_SYSTEM_SUSPEND:
    case PSCI_1_0_FN64_SYSTEM_SUSPEND:
      if (!vm.systemSuspendEnabled) break;
      // Return to userspace with the registers untouched: the VMM reads the
      // entry point and context id from x1/x2.
      for (let i = 0; i < 4; i++) ret[i] = arg(args, i, fid === PSCI_1_0_FN64_SYSTEM_SUSPEND || i === 0);
      return FW_SYSTEM_SUSPEND;
    case PSCI_1_1_FN_SYSTEM_RESET2:
    case PSCI_1_1_FN64_SYSTEM_RESET2: {
      if (minor < 1) return psci02(vcpu, vm, args, ret, out);
      const smc64 = fid === PSCI_1_1_FN64_SYSTEM_RESET2;
      const type = arg(args, 1, smc64);
      if (type <= PSCI_1_1_RESET_TYPE_SYSTEM_WARM_RESET || type >= PSCI_1_1_RESET_TYPE_VENDOR_START) {
        // Only x0 is written (vcpu_set_reg), so x1..x3 keep the (narrowed) arguments.
        for (let i = 1; i < 4; i++) ret[i] = arg(args, i, smc64);
        return systemEvent(ret, out, KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2);
      }
      ret[0] = PSCI_RET_INVALID_PARAMS;
      return FW_DONE;
    }
    case PSCI_1_3_FN_SYSTEM_OFF2:
    case PSCI_1_3_FN64_SYSTEM_OFF2: {
      if (minor < 3) break;
      const smc64 = fid === PSCI_1_3_FN64_SYSTEM_OFF2;
      const type = arg(args, 1, smc64);
      // PSCI 1.3 issue F.b: zero is an alias of HIBERNATE_OFF; the cookie (x2) must be zero.
      if ((type !== 0 && type !== PSCI_1_3_OFF_TYPE_HIBERNATE_OFF) || arg(args, 2, smc64) !== 0) {
        ret[0] = PSCI_RET_INVALID_PARAMS;
        return FW_DONE;
      }
      return systemEvent(ret, out, KVM_SYSTEM_EVENT_SHUTDOWN, KVM_SYSTEM_EVENT_SHUTDOWN_FLAG_PSCI_OFF2);
    }
    default:
      return psci02(vcpu, vm, args, ret, out);
  }
  ret[0] = PSCI_RET_NOT_SUPPORTED;
  return FW_DONE;
}

/**
 * PSCI_FEATURES(`fn`) at PSCI 1.`minor` (kvm_psci_1_x_call): 0 for the base
 * set and SMCCC_VERSION, SYSTEM_SUSPEND only with KVM_CAP_ARM_SYSTEM_SUSPEND,
 * SYSTEM_RESET2 from 1.1, SYSTEM_OFF2 from 1.3 with its bitmask of supported
 * types (HIBERNATE_OFF only); NOT_SUPPORTED otherwise.
 */
export function psciFeatures(vm: FirmwareVm, minor: number, fn: number): number {
  if (ALWAYS_FEATURES.has(fn)) return PSCI_RET_SUCCESS;
  switch (fn) {
    case PSCI_1_0_FN_SYSTEM_SUSPEND:
    case PSCI_1_0_FN64_SYSTEM_SUSPEND:
      return vm.systemSuspendEnabled ? PSCI_RET_SUCCESS : PSCI_RET_NOT_SUPPORTED;
    case PSCI_1_1_FN_SYSTEM_RESET2:
    case PSCI_1_1_FN64_SYSTEM_RESET2:
      return minor >= 1 ? PSCI_RET_SUCCESS : PSCI_RET_NOT_SUPPORTED;
    case PSCI_1_3_FN_SYSTEM_OFF2:
    case PSCI_1_3_FN64_SYSTEM_OFF2:
      return minor >= 3 ? PSCI_1_3_OFF_TYPE_HIBERNATE_OFF : PSCI_RET_NOT_SUPPORTED;
    default:
      return PSCI_RET_NOT_SUPPORTED;
  }
}

/** kvm_psci_0_2_call: the PSCI 0.2 functions; anything else NOT_SUPPORTED. */
function psci02(
  vcpu: FirmwareVcpu,
  vm: FirmwareVm,
  args: readonly number[],
  ret: number[],
  out: FirmwareOutcome,
): number {
  const fid = (args[0] ?? 0) >>> 0;
  const smc64 = (fid & 0x4000_0000) !== 0;
  let r: number;
  switch (fid) {
    case PSCI_0_2_FN_PSCI_VERSION:
      r = PSCI_VERSION_0_2;
      break;
    case PSCI_0_2_FN_CPU_SUSPEND:
    case PSCI_0_2_FN64_CPU_SUSPEND:
      // kvm_psci_vcpu_suspend: every power state is a WFI that keeps the registers.
      ret[0] = PSCI_RET_SUCCESS;
      return FW_WFI;
    case PSCI_0_2_FN_CPU_OFF:
      vcpu.stopSelf();
      ret[0] = PSCI_RET_SUCCESS;
      return FW_STOPPED;
    case PSCI_0_2_FN_CPU_ON:
    case PSCI_0_2_FN64_CPU_ON:
      r = cpuOn(vm, arg(args, 1, smc64), arg(args, 2, smc64), arg(args, 3, smc64));
      break;
    case PSCI_0_2_FN_AFFINITY_INFO:
    case PSCI_0_2_FN64_AFFINITY_INFO:
      r = affinityInfo(vm, arg(args, 1, smc64), arg(args, 2, smc64));
      break;
    case PSCI_0_2_FN_MIGRATE_INFO_TYPE:
      r = PSCI_0_2_TOS_MP;
      break;
    case PSCI_0_2_FN_SYSTEM_OFF:
      return systemEvent(ret, out, KVM_SYSTEM_EVENT_SHUTDOWN, 0);
    case PSCI_0_2_FN_SYSTEM_RESET:
      return systemEvent(ret, out, KVM_SYSTEM_EVENT_RESET, 0);
    default:
      r = PSCI_RET_NOT_SUPPORTED;
  }
  ret[0] = r;
  return FW_DONE;
}

/**
 * kvm_prepare_system_event: the run loop powers every vCPU off and exits;
 * x0 is preloaded with INTERNAL_FAILURE, what the guest sees if the VMM runs
 * the vCPU again instead of shutting down or resetting.
 */
function systemEvent(ret: number[], out: FirmwareOutcome, type: number, flags: number): number {
  ret[0] = PSCI_RET_INTERNAL_FAILURE;
  out.type = type;
  out.data0 = flags;
  return FW_SYSTEM_EVENT;
}

/** kvm_psci_vcpu_on(): a valid affinity naming an existing vCPU, which must be off. */
function cpuOn(vm: FirmwareVm, target: number, entry: number, context: number): number {
  if (!validAffinity(target)) return PSCI_RET_INVALID_PARAMS;
  const t = vm.firmwareVcpus.find((v) => mpidrHwid(v.mpidr) === target);
  if (t === undefined) return PSCI_RET_INVALID_PARAMS;
  if (!t.stopped) return PSCI_RET_ALREADY_ON;
  t.startAt(entry, context);
  return PSCI_RET_SUCCESS;
}

/**
 * kvm_psci_vcpu_affinity_info(): ON if any vCPU matching the target at the
 * level is not stopped, OFF if all matching ones are, INVALID_PARAMS if none
 * matches or the level is above 3 (KVM never reports ON_PENDING).
 */
function affinityInfo(vm: FirmwareVm, target: number, level: number): number {
  if (!validAffinity(target) || level < 0 || level > 3) return PSCI_RET_INVALID_PARAMS;
  const scale = AFFINITY_SCALE[level]!;
  const want = Math.floor(target / scale);
  let matching = 0;
  for (const v of vm.firmwareVcpus) {
    if (Math.floor(mpidrHwid(v.mpidr) / scale) !== want) continue;
    matching++;
    if (!v.stopped) return PSCI_0_2_AFFINITY_LEVEL_ON;
  }
  return matching === 0 ? PSCI_RET_INVALID_PARAMS : PSCI_0_2_AFFINITY_LEVEL_OFF;
}
