/**
 * IMSIC constants: interrupt-file indirect register numbers, MMIO page
 * offsets, the AIA CSR numbers and the limits on identities and guest files.
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/IMSIC.adoc §3.1 "Interrupt files
 * and interrupt identities", §3.2 "Memory region for an interrupt file",
 * §3.8 "CSRs for external interrupts via an IMSIC"; src/CSRs.adoc §2 for the
 * CSR numbers. Cross-check: Linux include/linux/irqchip/riscv-imsic.h,
 * arch/riscv/include/asm/csr.h; QEMU hw/intc/riscv_imsic.c.
 */

// ---- Identities (IMSIC.adoc §3.1) ----

/** Smallest number of identities an interrupt file may implement (N = 63). */
export const IMSIC_MIN_ID = 63;
/** Largest number of identities an interrupt file may implement (N = 2047). */
export const IMSIC_MAX_ID = 2047;
/** Number of 32-bit `eip`/`eie` words for the largest file (64). */
export const IMSIC_MAX_EIX32 = 64;

// ---- MMIO page of one interrupt file (IMSIC.adoc §3.2) ----

/** log2 of an interrupt file's page size (Linux IMSIC_MMIO_PAGE_SHIFT). */
export const IMSIC_MMIO_PAGE_SHIFT = 12;
/** Size of an interrupt file's MMIO page: 4 KiB. */
export const IMSIC_MMIO_PAGE_SIZE = 0x1000;
/** `seteipnum_le`: write an identity in little-endian order to set its pending bit. */
export const IMSIC_SETEIPNUM_LE = 0x000;
/** `seteipnum_be`: the same in big-endian order. */
export const IMSIC_SETEIPNUM_BE = 0x004;

// ---- Indirectly accessed registers, `*iselect` values (IMSIC.adoc §3.8, §3.9) ----

/** First `*iselect` number of the IMSIC range. */
export const IMSIC_ISELECT_FIRST = 0x70;
/** `eidelivery`: 0 off, 1 on, 0x40000000 PLIC/APLIC pass-through (optional). */
export const ISELECT_EIDELIVERY = 0x70;
/** `eithreshold`: a nonzero P masks identities ≥ P. */
export const ISELECT_EITHRESHOLD = 0x72;
/** `eip0`; `eip63` is 0xBF. */
export const ISELECT_EIP0 = 0x80;
/** `eip63`. */
export const ISELECT_EIP63 = 0xbf;
/** `eie0`; `eie63` is 0xFF. */
export const ISELECT_EIE0 = 0xc0;
/** `eie63`. */
export const ISELECT_EIE63 = 0xff;
/** Last `*iselect` number of the IMSIC range. */
export const IMSIC_ISELECT_LAST = 0xff;

/** `eidelivery` value: delivery from the file disabled. */
export const EIDELIVERY_OFF = 0;
/** `eidelivery` value: delivery from the file enabled. */
export const EIDELIVERY_ON = 1;
/** `eidelivery` value: a PLIC or APLIC delivers instead (optional; never for guest files). */
export const EIDELIVERY_APLIC = 0x40000000;

/** `*topei` field position of the identity (bits 26:16), Linux TOPEI_ID_SHIFT. */
export const TOPEI_ID_SHIFT = 16;
/** `*topei` mask of an identity or priority field (11 bits). */
export const TOPEI_ID_MASK = 0x7ff;

// ---- Status of an indirect access (what the CSR instruction does) ----

/** Result of an indirect register access through `*ireg`. */
export type IregStatus = typeof IREG_OK | typeof IREG_ILLEGAL | typeof IREG_EXIT_TO_USER;
/** The access completed (a reserved number read zero / ignored the write). */
export const IREG_OK = 0;
/**
 * The access raises an illegal-instruction exception (virtual-instruction
 * exception when made from VS-mode): odd `eip`/`eie` on RV64 (IMSIC.adoc §3.9),
 * or a reserved number under the QEMU profile.
 */
export const IREG_ILLEGAL = 1;
/**
 * KVM cannot handle the access in the kernel and exits to user space with
 * KVM_EXIT_RISCV_CSR (Linux profile, reserved numbers; arch/riscv/kvm/aia_imsic.c).
 */
export const IREG_EXIT_TO_USER = 2;

/** Register width of an indirect access: the current XLEN. */
export type Xlen = 32 | 64;

// ---- Guest interrupt files (priv spec H extension, AIA IMSIC.adoc §3.1) ----

/** Largest GEILEN on RV64. */
export const GEILEN_MAX_RV64 = 63;
/** Largest GEILEN on RV32. */
export const GEILEN_MAX_RV32 = 31;

// ---- CSR numbers (CSRs.adoc; priv spec) ----

/** Machine indirect register select. */
export const CSR_MISELECT = 0x350;
/** Machine indirect register alias. */
export const CSR_MIREG = 0x351;
/** Machine top external interrupt. */
export const CSR_MTOPEI = 0x35c;
/** Machine top interrupt. */
export const CSR_MTOPI = 0xfb0;
/** Supervisor indirect register select. */
export const CSR_SISELECT = 0x150;
/** Supervisor indirect register alias. */
export const CSR_SIREG = 0x151;
/** Supervisor top external interrupt. */
export const CSR_STOPEI = 0x15c;
/** Supervisor top interrupt. */
export const CSR_STOPI = 0xdb0;
/** VS indirect register select. */
export const CSR_VSISELECT = 0x250;
/** VS indirect register alias. */
export const CSR_VSIREG = 0x251;
/** VS top external interrupt. */
export const CSR_VSTOPEI = 0x25c;
/** VS top interrupt. */
export const CSR_VSTOPI = 0xeb0;
/** Hypervisor status (VGEIN in bits 17:12). */
export const CSR_HSTATUS = 0x600;
/** Hypervisor guest external interrupt enable. */
export const CSR_HGEIE = 0x607;
/** Hypervisor guest external interrupt pending. */
export const CSR_HGEIP = 0xe12;
/** Hypervisor virtual interrupt control. */
export const CSR_HVICTL = 0x609;

/** Position of `hstatus.VGEIN`. */
export const HSTATUS_VGEIN_SHIFT = 12;
/** Mask of `hstatus.VGEIN` after shifting. */
export const HSTATUS_VGEIN_MASK = 0x3f;

// ---- Interrupt numbers (priv spec, mip/mie bit positions) ----

/** Supervisor external interrupt. */
export const IRQ_S_EXT = 9;
/** Virtual supervisor external interrupt. */
export const IRQ_VS_EXT = 10;
/** Machine external interrupt. */
export const IRQ_M_EXT = 11;
/** Supervisor guest external interrupt. */
export const IRQ_S_GEXT = 12;

/** Byte-swaps a 32-bit value (seteipnum_be, setipnum_be). */
export function swab32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** True if `n` is a legal identity count: 63 ≤ n ≤ 2047 and n = 64k − 1. */
export function isValidNrIds(n: number): boolean {
  return Number.isInteger(n) && n >= IMSIC_MIN_ID && n <= IMSIC_MAX_ID && (n & 63) === 63;
}
