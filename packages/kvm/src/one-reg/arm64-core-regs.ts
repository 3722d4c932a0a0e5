/**
 * arm64 KVM_REG_ARM_CORE registers (arch/arm64/kvm/guest.c get_core_reg /
 * set_core_reg, core_reg_size_from_offset, copy_core_reg_indices): the
 * 64-bit members of struct kvm_regs — x0..x30, SP, PC, PSTATE, SP_EL1,
 * ELR_EL1 and the five SPSRs. The FP/SIMD part (fp_regs) is not modelled.
 */
import { KVM_REG_ARCH_MASK, KVM_REG_SIZE_MASK, formatRegId, kvmRegSize } from "./one-reg-id.js";
import { CORE_OFF, KVM_NR_SPSR, KVM_REG_ARM_CORE, KVM_REGS_WORDS, arm64CoreReg } from "./arm64-reg-ids.js";
import type { Arm64RegVcpu } from "./arm64-regs.js";

/** VCPU_RESET_PSTATE_EL1 (arch/arm64/kvm/reset.c): EL1h with D, A, I and F masked. */
export const VCPU_RESET_PSTATE_EL1 = 0x3c5n;

const PSR_MODE_MASK = 0x1fn;
/** AArch64 modes a 64-bit EL1 vCPU may be given: EL0t, EL1t, EL1h. */
const AARCH64_EL1_MODES = new Set([0x0n, 0x4n, 0x5n]);

/** Word offsets of the FP/SIMD part of struct kvm_regs: vregs (128-bit), fpsr, fpcr. */
function isFpOffset(off: number): boolean {
  return off >= CORE_OFF.vregs(0);
}

/**
 * core_reg_size_from_offset: the width of the member at `off`, or -1
 * (EINVAL) for an offset inside a member or in the padding.
 */
function coreRegSize(off: number): number {
  if (off < CORE_OFF.vregs(0)) return off % 2 === 0 && off <= CORE_OFF.spsr(KVM_NR_SPSR - 1) ? 8 : -1;
  if (off < CORE_OFF.fpsr) return (off - CORE_OFF.vregs(0)) % 4 === 0 ? 16 : -1;
  return off <= CORE_OFF.fpcr ? 4 : -1;
}

/** The core registers beyond the general-purpose file and PC: PSTATE, SP_EL1, ELR_EL1, SPSR[0..4]. */
export class Arm64CoreRegs {
  pstate = VCPU_RESET_PSTATE_EL1;
  spEl1 = 0n;
  elrEl1 = 0n;
  readonly spsr: bigint[] = new Array<bigint>(KVM_NR_SPSR).fill(0n);

  constructor(private readonly vcpu: Arm64RegVcpu) {}

  /** kvm_reset_vcpu: PSTATE to EL1h with exceptions masked, the rest zero. */
  reset(): void {
    this.pstate = VCPU_RESET_PSTATE_EL1;
    this.spEl1 = 0n;
    this.elrEl1 = 0n;
    this.spsr.fill(0n);
  }

  /**
   * The member `id` names, after get_core_reg's checks: ENOENT beyond
   * struct kvm_regs, EINVAL for an offset inside a member or an id whose
   * size is not the member's; the FP/SIMD members are ENOENT (not modelled).
   */
  #offset(id: bigint, io: string): number {
    const off = Number(id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | KVM_REG_ARM_CORE));
    const words = kvmRegSize(id) / 4;
    if (off >= KVM_REGS_WORDS || off + words >= KVM_REGS_WORDS) this.vcpu.fail("ENOENT", io, `core register offset ${off} is beyond struct kvm_regs`);
    const size = coreRegSize(off);
    if (size < 0 || size !== kvmRegSize(id)) this.vcpu.fail("EINVAL", io, `${formatRegId(id)} is not a core register of its size`);
    if (isFpOffset(off)) this.vcpu.fail("ENOENT", io, `${formatRegId(id)}: the FP/SIMD registers are not modelled`);
    return off;
  }

  /** get_core_reg. */
  get(id: bigint): bigint {
    const off = this.#offset(id, "KVM_GET_ONE_REG");
    const v = this.vcpu;
    if (off <= CORE_OFF.sp) return v.readGpr(off / 2);
    switch (off) {
      case CORE_OFF.pc:
        return v.pc;
      case CORE_OFF.pstate:
        return this.pstate;
      case CORE_OFF.spEl1:
        return this.spEl1;
      case CORE_OFF.elrEl1:
        return this.elrEl1;
      default:
        return this.spsr[(off - CORE_OFF.spsr(0)) / 2]!;
    }
  }

  /**
   * set_core_reg. A PSTATE whose mode is not an AArch64 EL0/EL1 one is
   * EINVAL: the model's vCPUs are AArch64 at EL1 and the host has no AArch32
   * (system_supports_32bit_el0 false).
   */
  set(id: bigint, value: bigint): void {
    const io = "KVM_SET_ONE_REG";
    const off = this.#offset(id, io);
    const v = this.vcpu;
    if (off <= CORE_OFF.sp) {
      v.writeGpr(off / 2, value);
      return;
    }
    switch (off) {
      case CORE_OFF.pc:
        v.pc = value;
        return;
      case CORE_OFF.pstate:
        if (!AARCH64_EL1_MODES.has(value & PSR_MODE_MASK)) v.fail("EINVAL", io, `PSTATE mode 0x${(value & PSR_MODE_MASK).toString(16)} is not EL0t, EL1t or EL1h`);
        this.pstate = value;
        return;
      case CORE_OFF.spEl1:
        this.spEl1 = value;
        return;
      case CORE_OFF.elrEl1:
        this.elrEl1 = value;
        return;
      default:
        this.spsr[(off - CORE_OFF.spsr(0)) / 2] = value;
    }
  }

  /** The ids copy_core_reg_indices lists for the modelled members, in offset order. */
  static ids(): bigint[] {
    const ids: bigint[] = [];
    for (let off = 0; off <= CORE_OFF.spsr(KVM_NR_SPSR - 1); off += 2) ids.push(arm64CoreReg(off));
    return ids;
  }
}
