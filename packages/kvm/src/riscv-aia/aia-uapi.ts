/**
 * UAPI of the in-kernel RISC-V AIA device (KVM_DEV_TYPE_RISCV_AIA) with
 * Linux's names and values: arch/riscv/include/uapi/asm/kvm.h (attribute
 * groups, CONFIG attributes and their limits, ADDR, CTRL, GRP_IMSIC attribute
 * encoding, KVM_EXIT_FAIL_ENTRY_NO_VSFILE), arch/riscv/kvm/aia_device.c
 * (defaults) and include/linux/irqchip/riscv-imsic.h (IMSIC page shift).
 */

/** Attribute group: configuration (before CTRL_INIT). */
export const KVM_DEV_RISCV_AIA_GRP_CONFIG = 0;
/** CONFIG attr: mode (EMUL / HWACCEL / AUTO). */
export const KVM_DEV_RISCV_AIA_CONFIG_MODE = 0;
/** CONFIG attr: number of MSI identities of each vCPU's IMSIC. */
export const KVM_DEV_RISCV_AIA_CONFIG_IDS = 1;
/** CONFIG attr: number of APLIC wired sources (0 = no APLIC). */
export const KVM_DEV_RISCV_AIA_CONFIG_SRCS = 2;
/** CONFIG attr: IMSIC group-index bits. */
export const KVM_DEV_RISCV_AIA_CONFIG_GROUP_BITS = 3;
/** CONFIG attr: IMSIC group-index shift. */
export const KVM_DEV_RISCV_AIA_CONFIG_GROUP_SHIFT = 4;
/** CONFIG attr: IMSIC hart-index bits. */
export const KVM_DEV_RISCV_AIA_CONFIG_HART_BITS = 5;
/** CONFIG attr: IMSIC guest-index bits. */
export const KVM_DEV_RISCV_AIA_CONFIG_GUEST_BITS = 6;

/** MODE: trap-and-emulate only (software IMSIC files). */
export const KVM_DEV_RISCV_AIA_MODE_EMUL = 0;
/** MODE: hardware guest files (VS-files) only; no free file fails entry. */
export const KVM_DEV_RISCV_AIA_MODE_HWACCEL = 1;
/** MODE: a VS-file when one is free, else the software file. */
export const KVM_DEV_RISCV_AIA_MODE_AUTO = 2;

/** IDS lower bound; aia_config also wants (IDS & 63) == 63. */
export const KVM_DEV_RISCV_AIA_IDS_MIN = 63;
/** IDS upper bound (exclusive). */
export const KVM_DEV_RISCV_AIA_IDS_MAX = 2048;
/** SRCS upper bound (exclusive). */
export const KVM_DEV_RISCV_AIA_SRCS_MAX = 1024;
/** GROUP_BITS upper bound (exclusive). */
export const KVM_DEV_RISCV_AIA_GROUP_BITS_MAX = 8;
/** GROUP_SHIFT lower bound. */
export const KVM_DEV_RISCV_AIA_GROUP_SHIFT_MIN = 24;
/** GROUP_SHIFT upper bound (exclusive). */
export const KVM_DEV_RISCV_AIA_GROUP_SHIFT_MAX = 56;
/** HART_BITS upper bound (exclusive). */
export const KVM_DEV_RISCV_AIA_HART_BITS_MAX = 16;
/** GUEST_BITS upper bound (exclusive). */
export const KVM_DEV_RISCV_AIA_GUEST_BITS_MAX = 8;

/** Attribute group: guest-physical addresses of the APLIC and the IMSICs. */
export const KVM_DEV_RISCV_AIA_GRP_ADDR = 1;
/** ADDR attr: the APLIC. */
export const KVM_DEV_RISCV_AIA_ADDR_APLIC = 0;
/** ADDR attr of vCPU `vcpu`'s IMSIC page (KVM_DEV_RISCV_AIA_ADDR_IMSIC(vcpu) = 1 + vcpu). */
export function KVM_DEV_RISCV_AIA_ADDR_IMSIC(vcpu: number): number {
  return 1 + vcpu;
}
/** Alignment of the APLIC address. */
export const KVM_DEV_RISCV_APLIC_ALIGN = 0x1000;
/** Size of the APLIC region. */
export const KVM_DEV_RISCV_APLIC_SIZE = 0x4000;
/** Largest APLIC hart count. */
export const KVM_DEV_RISCV_APLIC_MAX_HARTS = 0x4000;
/** Alignment of an IMSIC address. */
export const KVM_DEV_RISCV_IMSIC_ALIGN = 0x1000;
/** Size of one IMSIC page. */
export const KVM_DEV_RISCV_IMSIC_SIZE = 0x1000;
/** An address not set yet: KVM_RISCV_AIA_UNDEF_ADDR, (-1) as a u64. */
export const KVM_RISCV_AIA_UNDEF_ADDR = 0xffff_ffff_ffff_ffffn;

/** Attribute group: control. */
export const KVM_DEV_RISCV_AIA_GRP_CTRL = 2;
/** CTRL attr: initialise the in-kernel AIA. */
export const KVM_DEV_RISCV_AIA_CTRL_INIT = 0;

/** Attribute group: APLIC registers by offset (u32). */
export const KVM_DEV_RISCV_AIA_GRP_APLIC = 3;
/** Attribute group: IMSIC registers, attr = vcpu_id << 12 | isel (unsigned long). */
export const KVM_DEV_RISCV_AIA_GRP_IMSIC = 4;
/** Bits of the isel field of a GRP_IMSIC attribute. */
export const KVM_DEV_RISCV_AIA_IMSIC_ISEL_BITS = 12;
/** Mask of the isel field. */
export const KVM_DEV_RISCV_AIA_IMSIC_ISEL_MASK = (1 << KVM_DEV_RISCV_AIA_IMSIC_ISEL_BITS) - 1;
/** A GRP_IMSIC attribute: vCPU id and isel. */
export function KVM_DEV_RISCV_AIA_IMSIC_MKATTR(vcpu: number, isel: number): number {
  return vcpu * (1 << KVM_DEV_RISCV_AIA_IMSIC_ISEL_BITS) + (isel & KVM_DEV_RISCV_AIA_IMSIC_ISEL_MASK);
}

/** KVM_IRQCHIP_NUM_PINS on RISC-V (= KVM_APLIC_MAX_NR_IRQS = 1024). */
export const RISCV_IRQCHIP_NUM_PINS = 1024;

/** IMSIC_MMIO_PAGE_SHIFT. */
export const IMSIC_MMIO_PAGE_SHIFT = 12;

/**
 * `hardware_entry_failure_reason` for "no VS-file" before Linux 6.19: the
 * number of CSR_HSTATUS (0x600), as kvm_riscv_vcpu_aia_imsic_update() wrote it.
 */
export const RISCV_FAIL_ENTRY_REASON_CSR_HSTATUS = 0x600;

/**
 * Which kernel's VS-file failure reason to report: "linux-6.18" gives
 * CSR_HSTATUS (0x600), "linux-6.19" (default) KVM_EXIT_FAIL_ENTRY_NO_VSFILE (1),
 * commit a2483d5d1ee9 "RISC-V: KVM: Introduce KVM_EXIT_FAIL_ENTRY_NO_VSFILE".
 */
export type RiscvAiaKernelProfile = "linux-6.18" | "linux-6.19";

/** Mode name ↔ value, as QEMU's `riscv-aia=` accel property spells them. */
export const AIA_MODE_NAMES: Readonly<Record<number, "emul" | "hwaccel" | "auto">> = Object.freeze({
  [KVM_DEV_RISCV_AIA_MODE_EMUL]: "emul",
  [KVM_DEV_RISCV_AIA_MODE_HWACCEL]: "hwaccel",
  [KVM_DEV_RISCV_AIA_MODE_AUTO]: "auto",
});
