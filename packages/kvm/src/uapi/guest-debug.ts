/**
 * KVM_SET_GUEST_DEBUG's control bits (include/uapi/linux/kvm.h and
 * arch/arm64/include/uapi/asm/kvm.h, arch/riscv/include/uapi/asm/kvm.h) and
 * the arm64 exception syndromes a debug exit reports
 * (arch/arm64/include/asm/esr.h).
 */

/** Guest debugging on; without it every other bit is ignored and cleared. */
export const KVM_GUESTDBG_ENABLE = 0x1;
/** Single-step the guest. */
export const KVM_GUESTDBG_SINGLESTEP = 0x2;
/** Software breakpoints (arm64 BRK, RISC-V EBREAK) exit to the VMM: 1 << 16 on both. */
export const KVM_GUESTDBG_USE_SW_BP = 0x1_0000;
/** arm64 hardware breakpoints and watchpoints from `kvm_guest_debug.arch`. */
export const KVM_GUESTDBG_USE_HW = 0x2_0000;
/** arm64 KVM_GUESTDBG_VALID_MASK (arch/arm64/kvm/guest.c): anything else is EINVAL. */
export const KVM_GUESTDBG_VALID_MASK_ARM64 = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_USE_HW | KVM_GUESTDBG_SINGLESTEP;

/** ESR_ELx.EC is bits [31:26]. */
export const ESR_ELx_EC_SHIFT = 26;
/** ESR_ELx.IL: a 32-bit instruction. */
export const ESR_ELx_IL = 1 << 25;
/** ESR_ELx.EC of a BRK instruction in AArch64 state. */
export const ESR_ELx_EC_BRK64 = 0x3c;

/** The ESR of BRK #imm: EC_BRK64, IL, the immediate in ISS[15:0]. */
export function brkEsr(imm: number): number {
  return ((ESR_ELx_EC_BRK64 << ESR_ELx_EC_SHIFT) | ESR_ELx_IL | (imm & 0xffff)) >>> 0;
}

/** RISC-V scause of a breakpoint exception (EBREAK): EXC_BREAKPOINT, which KVM stops delegating to the guest while debugging. */
export const EXC_BREAKPOINT = 3;
