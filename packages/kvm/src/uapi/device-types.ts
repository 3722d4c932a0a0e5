/**
 * Device types for KVM_CREATE_DEVICE (`enum kvm_device_type`,
 * include/uapi/linux/kvm.h) and the attribute groups of the vCPU and VM fds
 * that this package implements itself (arch/arm64/include/uapi/asm/kvm.h).
 * Attribute groups of the vgic and AIA devices belong to those device models.
 */

/** Freescale MPIC 2.0. */
export const KVM_DEV_TYPE_FSL_MPIC_20 = 1;
/** Freescale MPIC 4.2. */
export const KVM_DEV_TYPE_FSL_MPIC_42 = 2;
/** POWER XICS. */
export const KVM_DEV_TYPE_XICS = 3;
/** VFIO pseudo-device. */
export const KVM_DEV_TYPE_VFIO = 4;
/** Arm GICv2 vgic. */
export const KVM_DEV_TYPE_ARM_VGIC_V2 = 5;
/** s390 FLIC. */
export const KVM_DEV_TYPE_FLIC = 6;
/** Arm GICv3 vgic. */
export const KVM_DEV_TYPE_ARM_VGIC_V3 = 7;
/** Arm GICv3 ITS. */
export const KVM_DEV_TYPE_ARM_VGIC_ITS = 8;
/** POWER XIVE. */
export const KVM_DEV_TYPE_XIVE = 9;
/** Arm stolen-time device. */
export const KVM_DEV_TYPE_ARM_PV_TIME = 10;
/** RISC-V AIA (APLIC + IMSIC). */
export const KVM_DEV_TYPE_RISCV_AIA = 11;

/** KVM_CREATE_DEVICE flag: only test whether the type could be created. */
export const KVM_CREATE_DEVICE_TEST = 1;

/** arm64 vCPU attribute group: PMUv3 control. */
export const KVM_ARM_VCPU_PMU_V3_CTRL = 0;
/** PMUv3 attribute: the PPI the PMU overflow interrupt uses. */
export const KVM_ARM_VCPU_PMU_V3_IRQ = 0;
/** PMUv3 attribute: initialise the vPMU. */
export const KVM_ARM_VCPU_PMU_V3_INIT = 1;
/** PMUv3 attribute: event filter. */
export const KVM_ARM_VCPU_PMU_V3_FILTER = 2;
/** PMUv3 attribute: choose the host PMU, which restricts the VM to that PMU's CPUs. */
export const KVM_ARM_VCPU_PMU_V3_SET_PMU = 3;
/** struct kvm_pmu_event_filter's action: count the events in the range. */
export const KVM_PMU_EVENT_ALLOW = 0;
/** struct kvm_pmu_event_filter's action: do not count them. */
export const KVM_PMU_EVENT_DENY = 1;
/** arm64 vCPU attribute group: timer control. */
export const KVM_ARM_VCPU_TIMER_CTRL = 1;
/** arm64 vCPU attribute group: stolen time. */
export const KVM_ARM_VCPU_PVTIME_CTRL = 2;

/** arm64 VM attribute group: SMCCC controls. */
export const KVM_ARM_VM_SMCCC_CTRL = 0;
/** SMCCC attribute: a `struct kvm_smccc_filter` range. */
export const KVM_ARM_VM_SMCCC_FILTER = 0;
/** SMCCC filter action: handle as usual. */
export const KVM_SMCCC_FILTER_HANDLE = 0;
/** SMCCC filter action: deny (the guest gets SMCCC_RET_NOT_SUPPORTED). */
export const KVM_SMCCC_FILTER_DENY = 1;
/** SMCCC filter action: exit to userspace with KVM_EXIT_HYPERCALL. */
export const KVM_SMCCC_FILTER_FWD_TO_USER = 2;
/** kvm_run.hypercall.flags bit: the call was an SMC (not an HVC). */
export const KVM_HYPERCALL_EXIT_SMC = 1;
/** kvm_run.hypercall.flags bit: a 16-bit immediate was used (HVC #imm != 0). */
export const KVM_HYPERCALL_EXIT_16BIT = 2;

/** KVM_IRQ_LINE irq_type (arm64): the CPU's IRQ/FIQ line, without an in-kernel irqchip. */
export const KVM_ARM_IRQ_TYPE_CPU = 0;
/** KVM_IRQ_LINE irq_type (arm64): an SPI of the in-kernel vgic. */
export const KVM_ARM_IRQ_TYPE_SPI = 1;
/** KVM_IRQ_LINE irq_type (arm64): a PPI of the in-kernel vgic. */
export const KVM_ARM_IRQ_TYPE_PPI = 2;
/** KVM_IRQ_LINE irq_id for KVM_ARM_IRQ_TYPE_CPU: IRQ (HCR_EL2.VI). */
export const KVM_ARM_IRQ_CPU_IRQ = 0;
/** KVM_IRQ_LINE irq_id for KVM_ARM_IRQ_TYPE_CPU: FIQ (HCR_EL2.VF). */
export const KVM_ARM_IRQ_CPU_FIQ = 1;
/** Shift of the irq_type field in KVM_IRQ_LINE's irq. */
export const KVM_ARM_IRQ_TYPE_SHIFT = 24;
/** Shift of the vcpu_index field in KVM_IRQ_LINE's irq. */
export const KVM_ARM_IRQ_VCPU_SHIFT = 16;
/** Shift of the vcpu2_index field in KVM_IRQ_LINE's irq (KVM_CAP_ARM_IRQ_LINE_LAYOUT_2). */
export const KVM_ARM_IRQ_VCPU2_SHIFT = 28;

/** KVM_INTERRUPT (RISC-V): assert the VS-level external interrupt. */
export const KVM_INTERRUPT_SET = 0xffff_ffff;
/** KVM_INTERRUPT (RISC-V): deassert it. */
export const KVM_INTERRUPT_UNSET = 0xffff_fffe;

/** KVM_ARM_VCPU_INIT feature bit: start powered off. */
export const KVM_ARM_VCPU_POWER_OFF = 0;
/** KVM_ARM_VCPU_INIT feature bit: AArch32 EL1. */
export const KVM_ARM_VCPU_EL1_32BIT = 1;
/** KVM_ARM_VCPU_INIT feature bit: PSCI 0.2+. */
export const KVM_ARM_VCPU_PSCI_0_2 = 2;
/** KVM_ARM_VCPU_INIT feature bit: PMUv3. */
export const KVM_ARM_VCPU_PMU_V3 = 3;
/** arm64 `KVM_ARM_TARGET_GENERIC_V8`, what KVM_ARM_PREFERRED_TARGET reports on modern hosts. */
export const KVM_ARM_TARGET_GENERIC_V8 = 5;
