/**
 * KVM_CAP_* capability numbers for KVM_CHECK_EXTENSION, with Linux's values
 * (include/uapi/linux/kvm.h). Only the ones this
 * model answers are listed; any other number is "not supported" (0), as Linux
 * answers for a capability it does not know.
 */

/** In-kernel irqchip. */
export const KVM_CAP_IRQCHIP = 0;
/** KVM_SET_USER_MEMORY_REGION. */
export const KVM_CAP_USER_MEMORY = 3;
/** Recommended maximum number of vCPUs. */
export const KVM_CAP_NR_VCPUS = 9;
/** Maximum number of memory slots. */
export const KVM_CAP_NR_MEMSLOTS = 10;
/** KVM_GET/SET_MP_STATE. */
export const KVM_CAP_MP_STATE = 14;
/** KVM_SET_GUEST_DEBUG. */
export const KVM_CAP_SET_GUEST_DEBUG = 23;
/** KVM_SET_GSI_ROUTING. */
export const KVM_CAP_IRQ_ROUTING = 25;
/** KVM_IRQFD. */
export const KVM_CAP_IRQFD = 32;
/** KVM_IOEVENTFD. */
export const KVM_CAP_IOEVENTFD = 36;
/** Hard maximum number of vCPUs. */
export const KVM_CAP_MAX_VCPUS = 66;
/** KVM_GET/SET_ONE_REG. */
export const KVM_CAP_ONE_REG = 70;
/** KVM_SIGNAL_MSI. */
export const KVM_CAP_SIGNAL_MSI = 77;
/** Read-only memory slots. */
export const KVM_CAP_READONLY_MEM = 81;
/** irqfd resamplefd. */
export const KVM_CAP_IRQFD_RESAMPLE = 82;
/** arm64 PSCI. */
export const KVM_CAP_ARM_PSCI = 87;
/** KVM_CREATE_DEVICE and device attributes. */
export const KVM_CAP_DEVICE_CTRL = 89;
/** VM attributes (KVM_SET/GET/HAS_DEVICE_ATTR on the VM fd). */
export const KVM_CAP_VM_ATTRIBUTES = 101;
/** arm64 PSCI 0.2 and later. */
export const KVM_CAP_ARM_PSCI_0_2 = 102;
/** KVM_CHECK_EXTENSION on the VM fd. */
export const KVM_CAP_CHECK_EXTENSION_VM = 105;
/** arm64 PMUv3. */
export const KVM_CAP_ARM_PMU_V3 = 126;
/** vCPU attributes. */
export const KVM_CAP_VCPU_ATTRIBUTES = 127;
/** Maximum vCPU id plus one. */
export const KVM_CAP_MAX_VCPU_ID = 128;
/** KVM_MSI_VALID_DEVID in MSI routes and KVM_SIGNAL_MSI. */
export const KVM_CAP_MSI_DEVID = 131;
/** kvm_run.immediate_exit. */
export const KVM_CAP_IMMEDIATE_EXIT = 136;
/** arm64 maximum IPA size in bits for KVM_CREATE_VM. */
export const KVM_CAP_ARM_VM_IPA_SIZE = 165;
/** arm64 NISV exits to userspace. */
export const KVM_CAP_ARM_NISV_TO_USER = 177;
/** Per-VM halt polling window. */
export const KVM_CAP_HALT_POLL = 182;
/** Guest-physical address bits of a VM (RISC-V: kvm_riscv_gstage_gpa_bits). */
export const KVM_CAP_VM_GPA_BITS = 207;
/** system_event.ndata is valid. */
export const KVM_CAP_SYSTEM_EVENT_DATA = 215;
/** arm64 PSCI SYSTEM_SUSPEND exits. */
export const KVM_CAP_ARM_SYSTEM_SUSPEND = 216;
/** arm64 KVM_ARM_SET_COUNTER_OFFSET: a VM-wide offset of the guest's counters. */
export const KVM_CAP_COUNTER_OFFSET = 227;

/** KVM_GET_API_VERSION's answer. */
export const KVM_API_VERSION = 12;
/** KVM_SET_GUEST_DEBUG's control bits the architecture accepts (KVM_GUESTDBG_VALID_MASK). */
export const KVM_CAP_SET_GUEST_DEBUG2 = 195;
