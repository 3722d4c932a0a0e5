/**
 * The arm64 ONE_REG registers (arch/arm64/kvm/guest.c kvm_arm_get_reg /
 * kvm_arm_set_reg, kvm_arm_copy_reg_indices). An id whose upper 32 bits
 * (size aside) are not KVM_REG_ARM64's is EINVAL; then the register class
 * decides: core (arm64-core-regs.ts), firmware and feature bitmaps
 * (arm64-fw-regs.ts), SVE (not modelled: ENOENT, as for a vCPU without
 * SVE), the timer registers (arm64-timer-regs.ts), and every other system
 * register ENOENT — the model exposes none (kvm_sys_reg_get_user finds no
 * descriptor). KVM_GET_REG_LIST lists core, firmware, then timer registers.
 */
import type { VcpuArchTimer } from "../arch-timer/vcpu-arch-timer.js";
import type { Vm } from "../vm.js";
import type { OneRegBank } from "./one-reg-bank.js";
import { KVM_REG_ARM64, KVM_REG_SIZE_MASK, formatRegId } from "./one-reg-id.js";
import type { OneRegVcpu } from "./one-reg-vcpu.js";
import { KVM_REG_ARM64_SVE, KVM_REG_ARM_COPROC_MASK, KVM_REG_ARM_CORE, KVM_REG_ARM_FW, KVM_REG_ARM_FW_FEAT_BMAP } from "./arm64-reg-ids.js";
import { Arm64CoreRegs } from "./arm64-core-regs.js";
import { ARM64_FW_REG_IDS, getFwReg, setFwReg } from "./arm64-fw-regs.js";
import { ARM64_TIMER_REG_IDS, getTimerReg, isTimerReg, setTimerReg } from "./arm64-timer-regs.js";

/** What the arm64 bank sees of its vCPU. */
export interface Arm64RegVcpu extends OneRegVcpu {
  /** The VM: PSCI version, firmware bitmaps, timer offsets, whether it has run. */
  readonly vm: Vm;
  /** PC. */
  pc: bigint;
  /** x0..x30 (0..30) and SP (31). */
  readGpr(i: number): bigint;
  /** Writes x0..x30 / SP. */
  writeGpr(i: number, v: bigint): void;
  /** The vCPU's vtimer and ptimer (made on first use). */
  archTimers(): VcpuArchTimer;
}

/** The arm64 bank, with the reset of its own part of the core registers. */
export interface Arm64Regs extends OneRegBank {
  /** kvm_reset_vcpu: PSTATE, SP_EL1, ELR_EL1 and the SPSRs to their reset values. */
  reset(): void;
}

/** The arm64 register bank of one vCPU. */
export function createArm64Regs(vcpu: Arm64RegVcpu): Arm64Regs {
  const core = new Arm64CoreRegs(vcpu);
  const ids: readonly bigint[] = [...Arm64CoreRegs.ids(), ...ARM64_FW_REG_IDS, ...ARM64_TIMER_REG_IDS];
  /** The register class of `id`, after kvm_arm_get_reg's check of the upper half. */
  const classOf = (id: bigint, io: string): bigint => {
    if ((id & ~KVM_REG_SIZE_MASK) >> 32n !== KVM_REG_ARM64 >> 32n) vcpu.fail("EINVAL", io, `${formatRegId(id)} is not an arm64 register id`);
    return id & KVM_REG_ARM_COPROC_MASK;
  };
  const noSuch = (id: bigint, io: string, what: string): never => vcpu.fail("ENOENT", io, `${formatRegId(id)}: ${what}`);
  return {
    get(id) {
      const io = "KVM_GET_ONE_REG";
      const c = classOf(id, io);
      if (c === KVM_REG_ARM_CORE) return core.get(id);
      if (c === KVM_REG_ARM_FW || c === KVM_REG_ARM_FW_FEAT_BMAP) return getFwReg(vcpu, id);
      if (c === KVM_REG_ARM64_SVE) return noSuch(id, io, "the vCPU has no SVE");
      if (isTimerReg(id)) return getTimerReg(vcpu, id);
      return noSuch(id, io, "no such register in the model");
    },
    set(id, value) {
      const io = "KVM_SET_ONE_REG";
      const c = classOf(id, io);
      if (c === KVM_REG_ARM_CORE) core.set(id, value);
      else if (c === KVM_REG_ARM_FW || c === KVM_REG_ARM_FW_FEAT_BMAP) setFwReg(vcpu, id, value);
      else if (c === KVM_REG_ARM64_SVE) noSuch(id, io, "the vCPU has no SVE");
      else if (isTimerReg(id)) setTimerReg(vcpu, id, value);
      else noSuch(id, io, "no such register in the model");
    },
    list: () => ids,
    reset: () => {
      core.reset();
    },
  };
}
