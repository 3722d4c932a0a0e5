/**
 * The 64-bit register ids of KVM_GET_ONE_REG / KVM_SET_ONE_REG /
 * KVM_GET_REG_LIST (include/uapi/linux/kvm.h): the architecture in bits
 * 56-63, the access size in bits 52-55, the rest architecture-defined.
 * Ids and values are bigints: both are 64-bit quantities in the UAPI.
 */

/** Bits holding the architecture of a register id. */
export const KVM_REG_ARCH_MASK = 0xff00_0000_0000_0000n;
/** Architecture-independent registers. */
export const KVM_REG_GENERIC = 0n;
/** arm64 register ids. */
export const KVM_REG_ARM64 = 0x6000_0000_0000_0000n;
/** RISC-V register ids. */
export const KVM_REG_RISCV = 0x8000_0000_0000_0000n;

/** Shift of the size field: the register is 1 << size bytes wide. */
export const KVM_REG_SIZE_SHIFT = 52n;
/** Bits holding the size of a register id. */
export const KVM_REG_SIZE_MASK = 0x00f0_0000_0000_0000n;
/** An 8-bit register. */
export const KVM_REG_SIZE_U8 = 0x0000_0000_0000_0000n;
/** A 16-bit register. */
export const KVM_REG_SIZE_U16 = 0x0010_0000_0000_0000n;
/** A 32-bit register. */
export const KVM_REG_SIZE_U32 = 0x0020_0000_0000_0000n;
/** A 64-bit register. */
export const KVM_REG_SIZE_U64 = 0x0030_0000_0000_0000n;
/** A 128-bit register. */
export const KVM_REG_SIZE_U128 = 0x0040_0000_0000_0000n;

/** The width in bytes a register id encodes (kvm.h KVM_REG_SIZE). */
export function kvmRegSize(id: bigint): number {
  return 1 << Number((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
}

/** The largest value a register of this id holds. */
export function kvmRegMax(id: bigint): bigint {
  return (1n << BigInt(8 * kvmRegSize(id))) - 1n;
}

/** A register id as Linux's selftests print it (0x%llx). */
export function formatRegId(id: bigint): string {
  return `0x${id.toString(16)}`;
}
