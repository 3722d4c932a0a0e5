/**
 * The public API of @irqlab/kvm as a user compiles against it: the value
 * exports, the Kvm → Vm → Vcpu → Device hierarchy and its ioctl-like methods,
 * the exit union KVM_RUN returns, KvmError's errno fields, Linux UAPI numbers,
 * and misuse the types reject. Checked (never run) by vitest's typecheck
 * project against the built declarations, and by this package's
 * `tsc --noEmit` against the sources.
 */
import * as kvm from "@irqlab/kvm";
import {
  DebugExit,
  ERRNO,
  EventFd,
  FailEntryExit,
  IntrExit,
  KVM_API_VERSION,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_CAP_IRQFD,
  KVM_DEV_TYPE_ARM_VGIC_ITS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_DEV_TYPE_RISCV_AIA,
  KVM_EXIT_DEBUG,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_HYPERCALL,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_EXIT_RISCV_CSR,
  KVM_EXIT_RISCV_SBI,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_IRQ_ROUTING_MSI,
  Kvm,
  KvmError,
  MmioExit,
  RUNNABLE_POLICIES,
  fail,
  type CreatedThread,
  type Device,
  type DeviceAttr,
  type ErrnoName,
  type GuestImage,
  type HostThread,
  type IntrCause,
  type IrqfdArgs,
  type KvmMsi,
  type KvmOptions,
  type KvmVcpuInit,
  type RoutingEntry,
  type QuietUserLoads,
  type RunOptions,
  type RunnablePolicy,
  type UserspaceMemoryRegion,
  type Vcpu,
  type VcpuExit,
  type VgicInitMode,
  type Vm,
  type VmOptions,
} from "@irqlab/kvm";
import { IrqlabError, op, type AccessSize, type GuestProgram } from "@irqlab/sim";
import { describe, expectTypeOf, test } from "vitest";

/** Every value export: adding or removing one fails here until this list is updated. */
type ValueExports =
  | "AIA_MODE_NAMES" | "ARCH_TIMER_CTRL_ENABLE" | "ARCH_TIMER_CTRL_IT_MASK" | "ARCH_TIMER_CTRL_IT_STAT"
  | "ARM64_FW_REG_IDS" | "ARM64_TIMER_REG_IDS" | "ARM_SMCCC_ARCH_FEATURES_FUNC_ID"
  | "ARM_SMCCC_ARCH_WORKAROUND_1" | "ARM_SMCCC_ARCH_WORKAROUND_2" | "ARM_SMCCC_ARCH_WORKAROUND_3"
  | "ARM_SMCCC_VERSION_1_1" | "ARM_SMCCC_VERSION_FUNC_ID" | "AiaVcpuChip" | "ArchTimerContext"
  | "ArchTimerVmData" | "AttrGroupTable" | "BasicIrqChip" | "CNTFRQ_EL0" | "CNTPCT_EL0" | "CNTP_CTL_EL0"
  | "CNTP_CVAL_EL0" | "CNTP_TVAL_EL0" | "CNTVCT_EL0" | "CNTV_CTL_EL0" | "CNTV_CVAL_EL0" | "CNTV_TVAL_EL0"
  | "CORE_OFF" | "CSR_EXIT_TO_USER" | "CSR_SCAUSE" | "CSR_SEED" | "CSR_SIE" | "CSR_SIP" | "CSR_SIREG"
  | "CSR_SISELECT" | "CSR_SSTATUS" | "CSR_STIMECMP" | "CSR_STOPEI" | "CSR_TIME" | "DEFAULT_COSTS"
  | "DEFAULT_COUNTER_HZ" | "DEFAULT_TIMER_PPIS" | "DebugExit" | "Device" | "ERRNO" | "ESR_ELx_EC_BRK64"
  | "ESR_ELx_EC_SHIFT" | "ESR_ELx_IL" | "EXITING_GUEST_MODE" | "EventFd" | "FailEntryExit" | "FdTable"
  | "FlushedIrqSource" | "GICV4_BEHAVIOURS" | "GsiRoutingTable" | "HGEI_NONE_FREE" | "HOST_SPECTRE"
  | "HgeiAllocator" | "Host" | "HostGicv4" | "HostScheduler" | "HypercallExit" | "IMSIC_MMIO_PAGE_SHIFT"
  | "IN_GUEST_MODE" | "IRQLAB_REQ_IRQ_DEASSERT" | "IRQ_S_EXT" | "IRQ_S_SOFT" | "IRQ_S_TIMER"
  | "InternalErrorExit" | "IntrExit" | "IrqBypassManager" | "Irqfd" | "KVM_API_VERSION"
  | "KVM_ARM_DEV_EL1_PTIMER" | "KVM_ARM_DEV_EL1_VTIMER" | "KVM_ARM_DEV_PMU" | "KVM_ARM_IRQ_CPU_FIQ"
  | "KVM_ARM_IRQ_CPU_IRQ" | "KVM_ARM_IRQ_TYPE_CPU" | "KVM_ARM_IRQ_TYPE_PPI" | "KVM_ARM_IRQ_TYPE_SHIFT"
  | "KVM_ARM_IRQ_TYPE_SPI" | "KVM_ARM_IRQ_VCPU2_SHIFT" | "KVM_ARM_IRQ_VCPU_SHIFT" | "KVM_ARM_PSCI_LATEST"
  | "KVM_ARM_TARGET_GENERIC_V8" | "KVM_ARM_VCPU_EL1_32BIT" | "KVM_ARM_VCPU_PMU_V3" | "KVM_ARM_VCPU_PMU_V3_CTRL"
  | "KVM_ARM_VCPU_PMU_V3_FILTER" | "KVM_ARM_VCPU_PMU_V3_INIT" | "KVM_ARM_VCPU_PMU_V3_IRQ"
  | "KVM_ARM_VCPU_PMU_V3_SET_PMU" | "KVM_PMU_EVENT_ALLOW" | "KVM_PMU_EVENT_DENY" | "KVM_ARM_VCPU_POWER_OFF" | "KVM_ARM_VCPU_PSCI_0_2"
  | "KVM_ARM_VCPU_PVTIME_CTRL" | "KVM_ARM_VCPU_TIMER_CTRL" | "KVM_ARM_VCPU_TIMER_IRQ_HPTIMER"
  | "KVM_ARM_VCPU_TIMER_IRQ_HVTIMER" | "KVM_ARM_VCPU_TIMER_IRQ_PTIMER" | "KVM_ARM_VCPU_TIMER_IRQ_VTIMER"
  | "KVM_ARM_VM_SMCCC_CTRL" | "KVM_ARM_VM_SMCCC_FILTER" | "KVM_CAP_ARM_NISV_TO_USER" | "KVM_CAP_ARM_PMU_V3"
  | "KVM_CAP_ARM_PSCI" | "KVM_CAP_ARM_PSCI_0_2" | "KVM_CAP_ARM_SYSTEM_SUSPEND" | "KVM_CAP_ARM_VM_IPA_SIZE"
  | "KVM_CAP_CHECK_EXTENSION_VM" | "KVM_CAP_DEVICE_CTRL" | "KVM_CAP_HALT_POLL" | "KVM_CAP_IMMEDIATE_EXIT"
  | "KVM_CAP_IOEVENTFD" | "KVM_CAP_IRQCHIP" | "KVM_CAP_IRQFD" | "KVM_CAP_IRQFD_RESAMPLE" | "KVM_CAP_IRQ_ROUTING"
  | "KVM_CAP_MAX_VCPUS" | "KVM_CAP_MAX_VCPU_ID" | "KVM_CAP_MP_STATE" | "KVM_CAP_MSI_DEVID"
  | "KVM_CAP_NR_MEMSLOTS" | "KVM_CAP_NR_VCPUS" | "KVM_CAP_ONE_REG" | "KVM_CAP_READONLY_MEM"
  | "KVM_CAP_SET_GUEST_DEBUG" | "KVM_CAP_SET_GUEST_DEBUG2" | "KVM_CAP_SIGNAL_MSI" | "KVM_CAP_SYSTEM_EVENT_DATA"
  | "KVM_CAP_USER_MEMORY" | "KVM_CAP_VCPU_ATTRIBUTES" | "KVM_CAP_VM_ATTRIBUTES" | "KVM_CAP_VM_GPA_BITS"
  | "KVM_CREATE_DEVICE_TEST" | "KVM_DEBUG_ARCH_HSR_HIGH_VALID" | "KVM_DEV_ARM_ITS_CTRL_RESET"
  | "KVM_DEV_ARM_ITS_RESTORE_TABLES" | "KVM_DEV_ARM_ITS_SAVE_TABLES" | "KVM_DEV_ARM_VGIC_CTRL_INIT"
  | "KVM_DEV_ARM_VGIC_GRP_ADDR" | "KVM_DEV_ARM_VGIC_GRP_CPU_REGS" | "KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS"
  | "KVM_DEV_ARM_VGIC_GRP_CTRL" | "KVM_DEV_ARM_VGIC_GRP_DIST_REGS" | "KVM_DEV_ARM_VGIC_GRP_ITS_REGS"
  | "KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO" | "KVM_DEV_ARM_VGIC_GRP_NR_IRQS" | "KVM_DEV_ARM_VGIC_GRP_REDIST_REGS"
  | "KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT" | "KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK"
  | "KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES" | "KVM_DEV_RISCV_AIA_ADDR_APLIC" | "KVM_DEV_RISCV_AIA_ADDR_IMSIC"
  | "KVM_DEV_RISCV_AIA_CONFIG_GROUP_BITS" | "KVM_DEV_RISCV_AIA_CONFIG_GROUP_SHIFT"
  | "KVM_DEV_RISCV_AIA_CONFIG_GUEST_BITS" | "KVM_DEV_RISCV_AIA_CONFIG_HART_BITS"
  | "KVM_DEV_RISCV_AIA_CONFIG_IDS" | "KVM_DEV_RISCV_AIA_CONFIG_MODE" | "KVM_DEV_RISCV_AIA_CONFIG_SRCS"
  | "KVM_DEV_RISCV_AIA_CTRL_INIT" | "KVM_DEV_RISCV_AIA_GROUP_BITS_MAX" | "KVM_DEV_RISCV_AIA_GROUP_SHIFT_MAX"
  | "KVM_DEV_RISCV_AIA_GROUP_SHIFT_MIN" | "KVM_DEV_RISCV_AIA_GRP_ADDR" | "KVM_DEV_RISCV_AIA_GRP_APLIC"
  | "KVM_DEV_RISCV_AIA_GRP_CONFIG" | "KVM_DEV_RISCV_AIA_GRP_CTRL" | "KVM_DEV_RISCV_AIA_GRP_IMSIC"
  | "KVM_DEV_RISCV_AIA_GUEST_BITS_MAX" | "KVM_DEV_RISCV_AIA_HART_BITS_MAX" | "KVM_DEV_RISCV_AIA_IDS_MAX"
  | "KVM_DEV_RISCV_AIA_IDS_MIN" | "KVM_DEV_RISCV_AIA_IMSIC_ISEL_BITS" | "KVM_DEV_RISCV_AIA_IMSIC_ISEL_MASK"
  | "KVM_DEV_RISCV_AIA_IMSIC_MKATTR" | "KVM_DEV_RISCV_AIA_MODE_AUTO" | "KVM_DEV_RISCV_AIA_MODE_EMUL"
  | "KVM_DEV_RISCV_AIA_MODE_HWACCEL" | "KVM_DEV_RISCV_AIA_SRCS_MAX" | "KVM_DEV_RISCV_APLIC_ALIGN"
  | "KVM_DEV_RISCV_APLIC_MAX_HARTS" | "KVM_DEV_RISCV_APLIC_SIZE" | "KVM_DEV_RISCV_IMSIC_ALIGN"
  | "KVM_DEV_RISCV_IMSIC_SIZE" | "KVM_DEV_TYPE_ARM_PV_TIME" | "KVM_DEV_TYPE_ARM_VGIC_ITS"
  | "KVM_DEV_TYPE_ARM_VGIC_V2" | "KVM_DEV_TYPE_ARM_VGIC_V3" | "KVM_DEV_TYPE_FLIC" | "KVM_DEV_TYPE_FSL_MPIC_20"
  | "KVM_DEV_TYPE_FSL_MPIC_42" | "KVM_DEV_TYPE_RISCV_AIA" | "KVM_DEV_TYPE_VFIO" | "KVM_DEV_TYPE_XICS"
  | "KVM_DEV_TYPE_XIVE" | "KVM_EXIT_AP_RESET_HOLD" | "KVM_EXIT_ARM_NISV" | "KVM_EXIT_ARM_SEA" | "KVM_EXIT_DCR"
  | "KVM_EXIT_DEBUG" | "KVM_EXIT_DIRTY_RING_FULL" | "KVM_EXIT_EPR" | "KVM_EXIT_EXCEPTION"
  | "KVM_EXIT_FAIL_ENTRY" | "KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED" | "KVM_EXIT_FAIL_ENTRY_NO_VSFILE"
  | "KVM_EXIT_HLT" | "KVM_EXIT_HYPERCALL" | "KVM_EXIT_HYPERV" | "KVM_EXIT_INTERNAL_ERROR" | "KVM_EXIT_INTR"
  | "KVM_EXIT_IO" | "KVM_EXIT_IOAPIC_EOI" | "KVM_EXIT_IRQ_WINDOW_OPEN" | "KVM_EXIT_LOONGARCH_IOCSR"
  | "KVM_EXIT_MEMORY_FAULT" | "KVM_EXIT_MMIO" | "KVM_EXIT_NMI" | "KVM_EXIT_NOTIFY" | "KVM_EXIT_OSI"
  | "KVM_EXIT_PAPR_HCALL" | "KVM_EXIT_RISCV_CSR" | "KVM_EXIT_RISCV_SBI" | "KVM_EXIT_S390_RESET"
  | "KVM_EXIT_S390_SIEIC" | "KVM_EXIT_S390_STSI" | "KVM_EXIT_S390_TSCH" | "KVM_EXIT_S390_UCONTROL"
  | "KVM_EXIT_SET_TPR" | "KVM_EXIT_SHUTDOWN" | "KVM_EXIT_SYSTEM_EVENT" | "KVM_EXIT_TDX" | "KVM_EXIT_TPR_ACCESS"
  | "KVM_EXIT_UNKNOWN" | "KVM_EXIT_WATCHDOG" | "KVM_EXIT_X86_BUS_LOCK" | "KVM_EXIT_X86_RDMSR"
  | "KVM_EXIT_X86_WRMSR" | "KVM_EXIT_XEN" | "KVM_GUESTDBG_ENABLE" | "KVM_GUESTDBG_SINGLESTEP"
  | "KVM_GUESTDBG_USE_HW" | "KVM_GUESTDBG_USE_SW_BP" | "KVM_GUESTDBG_VALID_MASK_ARM64"
  | "KVM_HYPERCALL_EXIT_16BIT" | "KVM_HYPERCALL_EXIT_SMC" | "KVM_INTERNAL_ERROR_DELIVERY_EV"
  | "KVM_INTERNAL_ERROR_EMULATION" | "KVM_INTERNAL_ERROR_SIMUL_EX" | "KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON"
  | "KVM_INTERRUPT_SET" | "KVM_INTERRUPT_UNSET" | "KVM_IRQCHIP_NUM_PINS_ARM64" | "KVM_IRQCHIP_NUM_PINS_RISCV"
  | "KVM_IRQFD_FLAG_DEASSIGN" | "KVM_IRQFD_FLAG_RESAMPLE" | "KVM_IRQ_ROUTING_IRQCHIP" | "KVM_IRQ_ROUTING_MSI"
  | "KVM_MAX_IRQ_ROUTES" | "KVM_MEM_LOG_DIRTY_PAGES" | "KVM_MEM_MAX_NR_PAGES" | "KVM_MEM_READONLY"
  | "KVM_MP_STATE_AP_RESET_HOLD" | "KVM_MP_STATE_CHECK_STOP" | "KVM_MP_STATE_HALTED"
  | "KVM_MP_STATE_INIT_RECEIVED" | "KVM_MP_STATE_LOAD" | "KVM_MP_STATE_OPERATING" | "KVM_MP_STATE_RUNNABLE"
  | "KVM_MP_STATE_SIPI_RECEIVED" | "KVM_MP_STATE_STOPPED" | "KVM_MP_STATE_SUSPENDED"
  | "KVM_MP_STATE_UNINITIALIZED" | "KVM_MSI_VALID_DEVID" | "KVM_NR_IRQCHIPS" | "KVM_NR_SPSR" | "KVM_REGS_WORDS"
  | "KVM_REG_ARCH_MASK" | "KVM_REG_ARM64" | "KVM_REG_ARM64_SVE" | "KVM_REG_ARM64_SYSREG"
  | "KVM_REG_ARM_COPROC_MASK" | "KVM_REG_ARM_CORE" | "KVM_REG_ARM_FW" | "KVM_REG_ARM_FW_FEAT_BMAP"
  | "KVM_REG_ARM_PSCI_VERSION" | "KVM_REG_ARM_PTIMER_CNT" | "KVM_REG_ARM_PTIMER_CTL" | "KVM_REG_ARM_PTIMER_CVAL"
  | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1" | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_AVAIL"
  | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_AVAIL" | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_REQUIRED"
  | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2" | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL"
  | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED" | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL"
  | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED" | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN"
  | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3" | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_AVAIL"
  | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_NOT_AVAIL" | "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_NOT_REQUIRED"
  | "KVM_REG_ARM_STD_BMAP" | "KVM_REG_ARM_STD_HYP_BMAP" | "KVM_REG_ARM_TIMER_CNT" | "KVM_REG_ARM_TIMER_CTL"
  | "KVM_REG_ARM_TIMER_CVAL" | "KVM_REG_ARM_VENDOR_HYP_BMAP" | "KVM_REG_ARM_VENDOR_HYP_BMAP_2"
  | "KVM_REG_GENERIC" | "KVM_REG_RISCV" | "KVM_REG_SIZE_MASK" | "KVM_REG_SIZE_SHIFT" | "KVM_REG_SIZE_U128"
  | "KVM_REG_SIZE_U16" | "KVM_REG_SIZE_U32" | "KVM_REG_SIZE_U64" | "KVM_REG_SIZE_U8" | "KVM_REQUEST_ARCH_BASE"
  | "KVM_REQUEST_MASK" | "KVM_REQUEST_NO_ACTION" | "KVM_REQUEST_NO_WAKEUP" | "KVM_REQUEST_WAIT"
  | "KVM_REQ_IRQ_PENDING" | "KVM_REQ_OUTSIDE_GUEST_MODE" | "KVM_REQ_SLEEP" | "KVM_REQ_SUSPEND" | "KVM_REQ_TLB_FLUSH" | "KVM_REQ_UNBLOCK"
  | "KVM_REQ_VCPU_RESET" | "KVM_REQ_VM_DEAD" | "KVM_RISCV_AIA_UNDEF_ADDR" | "KVM_SBI_IMPID"
  | "KVM_SBI_SPEC_VERSION" | "KVM_SMCCC_FILTER_DENY" | "KVM_SMCCC_FILTER_FWD_TO_USER"
  | "KVM_SMCCC_FILTER_HANDLE" | "KVM_SYSTEM_EVENT_CRASH" | "KVM_SYSTEM_EVENT_RESET"
  | "KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2" | "KVM_SYSTEM_EVENT_SEV_TERM" | "KVM_SYSTEM_EVENT_SHUTDOWN"
  | "KVM_SYSTEM_EVENT_SHUTDOWN_FLAG_PSCI_OFF2" | "KVM_SYSTEM_EVENT_SUSPEND" | "KVM_SYSTEM_EVENT_TDX_FATAL"
  | "KVM_SYSTEM_EVENT_WAKEUP" | "KVM_USER_MEM_SLOTS" | "KVM_VGIC_ITS_ADDR_TYPE" | "KVM_VGIC_V3_ADDR_TYPE_DIST"
  | "KVM_VGIC_V3_ADDR_TYPE_REDIST" | "KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION" | "KVM_VGIC_V3_DIST_SIZE"
  | "KVM_VGIC_V3_ITS_SIZE" | "KVM_VGIC_V3_RDIST_BASE_MASK" | "KVM_VGIC_V3_RDIST_COUNT_SHIFT"
  | "KVM_VGIC_V3_RDIST_FLAGS_MASK" | "KVM_VGIC_V3_RDIST_INDEX_MASK" | "KVM_VGIC_V3_REDIST_SIZE" | "Kvm"
  | "KvmAplic" | "KvmError" | "KvmRun" | "MAX_COUNTER_HZ" | "MP_STATES_ARM64" | "MP_STATES_RISCV" | "MmioExit"
  | "NR_ITS_ABIS" | "OUTSIDE_GUEST_MODE" | "PSCI_0_2_64BIT" | "PSCI_0_2_AFFINITY_LEVEL_OFF"
  | "PSCI_0_2_AFFINITY_LEVEL_ON" | "PSCI_0_2_AFFINITY_LEVEL_ON_PENDING" | "PSCI_0_2_FN64_AFFINITY_INFO"
  | "PSCI_0_2_FN64_CPU_ON" | "PSCI_0_2_FN64_CPU_SUSPEND" | "PSCI_0_2_FN_AFFINITY_INFO" | "PSCI_0_2_FN_CPU_OFF"
  | "PSCI_0_2_FN_CPU_ON" | "PSCI_0_2_FN_CPU_SUSPEND" | "PSCI_0_2_FN_MIGRATE_INFO_TYPE"
  | "PSCI_0_2_FN_PSCI_VERSION" | "PSCI_0_2_FN_SYSTEM_OFF" | "PSCI_0_2_FN_SYSTEM_RESET" | "PSCI_0_2_TOS_MP"
  | "PSCI_1_0_FN64_SYSTEM_SUSPEND" | "PSCI_1_0_FN_PSCI_FEATURES" | "PSCI_1_0_FN_SYSTEM_SUSPEND"
  | "PSCI_1_1_FN64_SYSTEM_RESET2" | "PSCI_1_1_FN_SYSTEM_RESET2" | "PSCI_1_1_RESET_TYPE_SYSTEM_WARM_RESET"
  | "PSCI_1_1_RESET_TYPE_VENDOR_START" | "PSCI_1_3_FN64_SYSTEM_OFF2" | "PSCI_1_3_FN_SYSTEM_OFF2"
  | "PSCI_1_3_OFF_TYPE_HIBERNATE_OFF" | "PSCI_RET_ALREADY_ON" | "PSCI_RET_DENIED" | "PSCI_RET_DISABLED"
  | "PSCI_RET_INTERNAL_FAILURE" | "PSCI_RET_INVALID_ADDRESS" | "PSCI_RET_INVALID_PARAMS"
  | "PSCI_RET_NOT_PRESENT" | "PSCI_RET_NOT_SUPPORTED" | "PSCI_RET_ON_PENDING" | "PSCI_RET_SUCCESS"
  | "PSCI_VERSION_0_2" | "PSCI_VERSION_1_0" | "PSCI_VERSION_1_1" | "PSCI_VERSION_1_2" | "PSCI_VERSION_1_3"
  | "REG_DIRECT" | "REG_NOT_HANDLED" | "REG_TRAP" | "RISCV_FAIL_ENTRY_REASON_CSR_HSTATUS"
  | "RISCV_IRQCHIP_NUM_PINS" | "RUNNABLE_POLICIES" | "RiscvAiaDevice" | "RiscvAiaHost" | "RiscvCsrExit"
  | "RiscvSbiExit" | "SBI_ERR_ALREADY_AVAILABLE" | "SBI_ERR_ALREADY_STARTED" | "SBI_ERR_ALREADY_STOPPED"
  | "SBI_ERR_DENIED" | "SBI_ERR_FAILURE" | "SBI_ERR_INVALID_ADDRESS" | "SBI_ERR_INVALID_PARAM"
  | "SBI_ERR_NOT_SUPPORTED" | "SBI_EXT_0_1_CONSOLE_GETCHAR" | "SBI_EXT_0_1_CONSOLE_PUTCHAR"
  | "SBI_EXT_0_1_SET_TIMER" | "SBI_EXT_BASE" | "SBI_EXT_BASE_GET_IMP_ID" | "SBI_EXT_BASE_GET_IMP_VERSION"
  | "SBI_EXT_BASE_GET_MARCHID" | "SBI_EXT_BASE_GET_MIMPID" | "SBI_EXT_BASE_GET_MVENDORID"
  | "SBI_EXT_BASE_GET_SPEC_VERSION" | "SBI_EXT_BASE_PROBE_EXT" | "SBI_EXT_DBCN" | "SBI_EXT_EXPERIMENTAL_END"
  | "SBI_EXT_EXPERIMENTAL_START" | "SBI_EXT_HSM" | "SBI_EXT_HSM_HART_START" | "SBI_EXT_HSM_HART_STATUS"
  | "SBI_EXT_HSM_HART_STOP" | "SBI_EXT_HSM_HART_SUSPEND" | "SBI_EXT_IPI" | "SBI_EXT_IPI_SEND_IPI"
  | "SBI_EXT_PMU" | "SBI_EXT_RFENCE" | "SBI_EXT_SRST" | "SBI_EXT_SRST_RESET" | "SBI_EXT_TIME"
  | "SBI_EXT_TIME_SET_TIMER" | "SBI_EXT_VENDOR_END" | "SBI_EXT_VENDOR_START" | "SBI_HSM_STATE_STARTED"
  | "SBI_HSM_STATE_START_PENDING" | "SBI_HSM_STATE_STOPPED" | "SBI_SRST_RESET_TYPE_COLD_REBOOT"
  | "SBI_SRST_RESET_TYPE_SHUTDOWN" | "SBI_SRST_RESET_TYPE_WARM_REBOOT" | "SBI_SUCCESS"
  | "SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED" | "SMCCC_RET_NOT_REQUIRED" | "SMCCC_RET_NOT_SUPPORTED"
  | "SMCCC_RET_SUCCESS" | "SR_SIE" | "SchedulerPlacement" | "SmcccFeatures" | "StickyRoundRobinPlacement"
  | "SystemEventExit" | "TIMER_HPTIMER" | "TIMER_HVTIMER" | "TIMER_PTIMER" | "TIMER_VTIMER"
  | "VCPU_RESET_PSTATE_EL1" | "VGIC_ADDR_UNDEF" | "VGIC_INIT_MODES" | "VGIC_LEVEL_INFO_LINE_LEVEL"
  | "VGIC_MAX_RESERVED" | "VGIC_NR_IRQS_LEGACY" | "VGIC_NR_PRIVATE_IRQS" | "VGIC_V3_MAX_CPUS"
  | "VITS_BEHAVIOURS" | "VITS_FRAME_SIZE" | "VITS_UACCESS_REGISTERS" | "Vcpu" | "VcpuArchTimer"
  | "VgicAddresses" | "VgicItsDevice" | "VgicRedistFrame" | "VgicV3" | "VgicV4Forwarding" | "VgicVcpu"
  | "VitsLpiTarget" | "VitsVmContext" | "Vm" | "VmIrqfds" | "arm64CoreReg" | "arm64FwFeatBmapReg" | "arm64FwReg"
  | "arm64SysReg" | "attachVgicV3ForIts" | "brkEsr" | "clearImsicFile" | "counterTicks" | "enableVgicV4"
  | "exitReasonName" | "fail" | "formatRegId" | "gicv3GuestImage" | "isArchTimerReg" | "kvmAplicMsiAddrCfg"
  | "kvmArchVcpuRunnable" | "kvmRegMax" | "kvmRegSize" | "makeCostModel" | "moveImsicState" | "mpidrHwid"
  | "mpidrOf" | "psciVersion" | "readTimeCsr" | "redistRegionAttr" | "registerRiscvAia"
  | "registerVgicItsDevice" | "registerVgicV3" | "requestBit" | "requestName" | "resolveLpi" | "resolveTarget"
  | "restoreItsTables" | "saveItsTables" | "sysregFromVgicAttr" | "timeDeadlineNs" | "vgicItsInjectMsi"
  | "vgicRegAttr" | "vgicSysregAttr" | "vgicV3DeviceOps" | "vgicV4Forwarding" | "vgicV4SetForwarding"
  | "vgicV4UnsetForwarding" | "vitsContext" | "vmHasIts"
  // RISC-V ONE_REG ids, its modelled host, guest debug.
  | "EXC_BREAKPOINT" | "KVM_REG_RISCV_CONFIG" | "KVM_REG_RISCV_CORE" | "KVM_REG_RISCV_CSR"
  | "KVM_REG_RISCV_CSR_AIA" | "KVM_REG_RISCV_CSR_GENERAL" | "KVM_REG_RISCV_CSR_SMSTATEEN"
  | "KVM_REG_RISCV_FP_D" | "KVM_REG_RISCV_FP_F" | "KVM_REG_RISCV_ISA_EXT" | "KVM_REG_RISCV_ISA_MULTI_DIS"
  | "KVM_REG_RISCV_ISA_MULTI_EN" | "KVM_REG_RISCV_ISA_SINGLE" | "KVM_REG_RISCV_SBI_EXT"
  | "KVM_REG_RISCV_SBI_MULTI_DIS" | "KVM_REG_RISCV_SBI_MULTI_EN" | "KVM_REG_RISCV_SBI_SINGLE"
  | "KVM_REG_RISCV_SBI_STATE" | "KVM_REG_RISCV_SUBTYPE_MASK" | "KVM_REG_RISCV_TIMER"
  | "KVM_REG_RISCV_TYPE_MASK" | "KVM_REG_RISCV_VECTOR" | "KVM_RISCV_ISA_EXT_A" | "KVM_RISCV_ISA_EXT_C"
  | "KVM_RISCV_ISA_EXT_D" | "KVM_RISCV_ISA_EXT_F" | "KVM_RISCV_ISA_EXT_H" | "KVM_RISCV_ISA_EXT_I"
  | "KVM_RISCV_ISA_EXT_M" | "KVM_RISCV_ISA_EXT_MAX" | "KVM_RISCV_ISA_EXT_SMSTATEEN" | "KVM_RISCV_ISA_EXT_SSAIA"
  | "KVM_RISCV_ISA_EXT_SSTC" | "KVM_RISCV_ISA_EXT_SVINVAL" | "KVM_RISCV_ISA_EXT_SVNAPOT"
  | "KVM_RISCV_ISA_EXT_SVPBMT" | "KVM_RISCV_ISA_EXT_V" | "KVM_RISCV_ISA_EXT_ZBA" | "KVM_RISCV_ISA_EXT_ZBB"
  | "KVM_RISCV_ISA_EXT_ZBS" | "KVM_RISCV_ISA_EXT_ZICBOM" | "KVM_RISCV_ISA_EXT_ZICBOZ"
  | "KVM_RISCV_ISA_EXT_ZICNTR" | "KVM_RISCV_ISA_EXT_ZICSR" | "KVM_RISCV_ISA_EXT_ZIFENCEI"
  | "KVM_RISCV_ISA_EXT_ZIHINTPAUSE" | "KVM_RISCV_ISA_EXT_ZIHPM" | "KVM_RISCV_MODE_S" | "KVM_RISCV_MODE_U"
  | "KVM_RISCV_SBI_EXT_DBCN" | "KVM_RISCV_SBI_EXT_EXPERIMENTAL" | "KVM_RISCV_SBI_EXT_FWFT"
  | "KVM_RISCV_SBI_EXT_HSM" | "KVM_RISCV_SBI_EXT_IPI" | "KVM_RISCV_SBI_EXT_MAX" | "KVM_RISCV_SBI_EXT_MPXY"
  | "KVM_RISCV_SBI_EXT_PMU" | "KVM_RISCV_SBI_EXT_RFENCE" | "KVM_RISCV_SBI_EXT_SRST" | "KVM_RISCV_SBI_EXT_STA"
  | "KVM_RISCV_SBI_EXT_SUSP" | "KVM_RISCV_SBI_EXT_TIME" | "KVM_RISCV_SBI_EXT_V01" | "KVM_RISCV_SBI_EXT_VENDOR"
  | "KVM_RISCV_TIMER_STATE_OFF" | "KVM_RISCV_TIMER_STATE_ON" | "RISCV_AIA_CSR_REGS" | "RISCV_CONFIG_REGS"
  | "RISCV_CORE_REGS" | "RISCV_CSR_REGS" | "RISCV_HOST_ISA_EXTS" | "RISCV_SBI_EXT_AVAILABLE"
  | "RISCV_SBI_EXT_OFF_AT_RESET" | "RISCV_TIMER_REGS" | "riscvAiaCsrReg" | "riscvConfigReg" | "riscvCoreReg"
  | "riscvCsrReg" | "riscvIsaExtReg" | "riscvSbiExtReg" | "riscvTimerReg";

describe("@irqlab/kvm public API", () => {
  test("the value exports are exactly the pinned list", () => {
    expectTypeOf<Exclude<keyof typeof kvm, ValueExports>>().toBeNever(); // exported, not pinned
    expectTypeOf<Exclude<ValueExports, keyof typeof kvm>>().toBeNever(); // pinned, not exported
  });

  test("UAPI numbers are Linux's (include/uapi/linux/kvm.h)", () => {
    expectTypeOf<typeof KVM_API_VERSION>().toEqualTypeOf<12>();
    expectTypeOf<[typeof KVM_EXIT_HYPERCALL, typeof KVM_EXIT_MMIO, typeof KVM_EXIT_FAIL_ENTRY, typeof KVM_EXIT_INTR]>().toEqualTypeOf<[3, 6, 9, 10]>();
    expectTypeOf<[typeof KVM_EXIT_INTERNAL_ERROR, typeof KVM_EXIT_SYSTEM_EVENT, typeof KVM_EXIT_RISCV_SBI, typeof KVM_EXIT_RISCV_CSR]>().toEqualTypeOf<[17, 24, 35, 36]>();
    // enum kvm_device_type
    expectTypeOf<[typeof KVM_DEV_TYPE_ARM_VGIC_V3, typeof KVM_DEV_TYPE_ARM_VGIC_ITS, typeof KVM_DEV_TYPE_RISCV_AIA]>().toEqualTypeOf<[7, 8, 11]>();
    expectTypeOf<typeof KVM_CAP_IRQFD>().toEqualTypeOf<32>();
    // arch/arm64/include/uapi/asm/kvm.h
    expectTypeOf<typeof KVM_ARM_TARGET_GENERIC_V8>().toEqualTypeOf<5>();
  });

  test("Kvm: the /dev/kvm handle, for one architecture", () => {
    expectTypeOf<ConstructorParameters<typeof Kvm>>().toEqualTypeOf<[options?: KvmOptions | undefined]>();
    expectTypeOf<KvmOptions["arch"]>().toEqualTypeOf<"arm64" | "riscv64" | undefined>();
    expectTypeOf<KvmOptions["vgicInitMode"]>().toEqualTypeOf<VgicInitMode | ((vm: Vm) => VgicInitMode) | undefined>();
    expectTypeOf<VgicInitMode>().toEqualTypeOf<"explicit" | "lazy-init" | "lazy-init-irqfd-eagain">();
    expectTypeOf<Kvm["arch"]>().toEqualTypeOf<"arm64" | "riscv64">();
    expectTypeOf<Kvm["getApiVersion"]>().toEqualTypeOf<() => number>();
    expectTypeOf<Kvm["checkExtension"]>().toEqualTypeOf<(cap: number) => number>();
    expectTypeOf<Kvm["createVm"]>().toEqualTypeOf<(type?: number, options?: VmOptions) => Vm>();
    expectTypeOf<VmOptions["runnablePolicy"]>().toEqualTypeOf<RunnablePolicy | undefined>();
    expectTypeOf<RunnablePolicy>().toEqualTypeOf<"irq-lines" | "linux-7.0" | "irq-pending-request">();
    expectTypeOf(RUNNABLE_POLICIES).toEqualTypeOf<readonly RunnablePolicy[]>();
    // @ts-expect-error -- the architectures are "arm64" and "riscv64" (Linux's arch names), not "aarch64"
    new Kvm({ arch: "aarch64" });
    // @ts-expect-error -- x86 is not modelled
    new Kvm({ arch: "x86_64" });
    // @ts-expect-error -- the option is maxVcpus (KVM_CAP_MAX_VCPUS)
    new Kvm({ maxCpus: 8 });
    // @ts-expect-error -- the runnable policies are "irq-lines", "linux-7.0" and "irq-pending-request"
    new Kvm().createVm(0, { runnablePolicy: "always" });
  });

  test("Vm: vCPUs, memory slots, devices, irqfd and GSI routing", () => {
    expectTypeOf<Vm["createVcpu"]>().toEqualTypeOf<(id: number) => Vcpu>();
    expectTypeOf<Vm["setUserMemoryRegion"]>().toEqualTypeOf<(r: UserspaceMemoryRegion) => void>();
    expectTypeOf<UserspaceMemoryRegion>().toEqualTypeOf<{
      readonly slot: number;
      readonly flags?: number;
      readonly guestPhysAddr: number;
      readonly memorySize: number;
    }>();
    // KVM_CREATE_DEVICE: with KVM_CREATE_DEVICE_TEST in flags only a check, no device.
    expectTypeOf<Vm["createDevice"]>().toEqualTypeOf<{ (type: number): Device; (type: number, flags: number): Device | undefined }>();
    expectTypeOf<Vm["enableCap"]>().toEqualTypeOf<(cap: number, args?: readonly number[]) => void>();
    expectTypeOf<Vm["irqLine"]>().toEqualTypeOf<(irq: number, level: number) => void>();
    expectTypeOf<Vm["vcpus"]>().toEqualTypeOf<readonly Vcpu[]>();
    expectTypeOf<Vm["arch"]>().toEqualTypeOf<"arm64" | "riscv64">();
    expectTypeOf<Vm["irqfds"]["irqfd"]>().toEqualTypeOf<(args: IrqfdArgs) => void>();
    expectTypeOf<IrqfdArgs["fd"]>().toEqualTypeOf<EventFd>();
    expectTypeOf<IrqfdArgs["resamplefd"]>().toEqualTypeOf<EventFd | undefined>();
    expectTypeOf<Vm["irqfds"]["setGsiRouting"]>().toEqualTypeOf<(entries: readonly RoutingEntry[], flags?: number) => void>();
    expectTypeOf<Vm["irqfds"]["signalMsi"]>().toEqualTypeOf<(msi: KvmMsi) => number>();
    expectTypeOf<Extract<RoutingEntry, { type: typeof KVM_IRQ_ROUTING_MSI }>>().toHaveProperty("addressLo");
    expectTypeOf<Device["setDeviceAttr"]>().toEqualTypeOf<(attr: DeviceAttr) => void>();
    expectTypeOf<DeviceAttr["attr"]>().toEqualTypeOf<number | bigint>();
    const vm = new Kvm().createVm();
    // @ts-expect-error -- the field is guestPhysAddr (guest_phys_addr), and memorySize is required
    vm.setUserMemoryRegion({ slot: 0, gpa: 0x4000_0000 });
    // @ts-expect-error -- an irqfd takes an EventFd, not a descriptor number
    vm.irqfds.irqfd({ fd: 3, gsi: 5 });
    // @ts-expect-error -- a route's type is KVM_IRQ_ROUTING_IRQCHIP or KVM_IRQ_ROUTING_MSI
    vm.irqfds.setGsiRouting([{ gsi: 0, type: 3, irqchip: 0, pin: 0 }]);
  });

  test("Vcpu: KVM_ARM_VCPU_INIT, a guest image, KVM_RUN and its exit union", () => {
    expectTypeOf<Vcpu["armVcpuInit"]>().toEqualTypeOf<(init: KvmVcpuInit) => void>();
    expectTypeOf<KvmVcpuInit["features"]>().toEqualTypeOf<number | readonly number[] | undefined>();
    expectTypeOf<Vcpu["loadGuest"]>().toEqualTypeOf<(image: GuestImage, bootRegs?: readonly number[]) => void>();
    expectTypeOf<GuestImage["main"]>().toEqualTypeOf<(bootRegs: readonly number[]) => GuestProgram>();
    expectTypeOf<Vcpu["run"]>().toEqualTypeOf<(arg?: number, options?: RunOptions) => VcpuExit>();
    expectTypeOf<RunOptions>().toEqualTypeOf<{ readonly until?: number; readonly onWakeup?: () => void; readonly quietLoads?: QuietUserLoads }>();
    expectTypeOf<QuietUserLoads>().toEqualTypeOf<{ quiet(addr: number, size: AccessSize): boolean; answered(count: number): void }>();
    expectTypeOf<Vcpu["kick"]>().toEqualTypeOf<() => void>();
    expectTypeOf<VcpuExit["reason"]>().toEqualTypeOf<3 | 4 | 6 | 9 | 10 | 17 | 24 | 35 | 36>();
    expectTypeOf<Vcpu["getOneReg"]>().toEqualTypeOf<(id: bigint) => bigint>();
    expectTypeOf<Vcpu["setOneReg"]>().toEqualTypeOf<(id: bigint, value: bigint) => void>();
    expectTypeOf<Vcpu["getRegList"]>().toEqualTypeOf<(n?: number) => bigint[]>();
    expectTypeOf<Vcpu["setGuestDebug"]>().toEqualTypeOf<(control: number) => void>();
    expectTypeOf<IntrCause>().toEqualTypeOf<"immediate-exit" | "kick" | "idle" | "budget" | "blocked" | "running" | "device-irq-level">();
    expectTypeOf<IntrExit["ret"]>().toEqualTypeOf<-4>(); // -EINTR

    const vcpu = new Kvm({ arch: "arm64" }).createVm().createVcpu(0);
    vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8, features: [0] });
    vcpu.loadGuest({ main: function* () { yield op.wfi(); } });
    const exit = vcpu.run();
    switch (exit.reason) {
      case KVM_EXIT_MMIO:
        expectTypeOf(exit).toEqualTypeOf<MmioExit>();
        expectTypeOf(exit.physAddr).toEqualTypeOf<number>();
        expectTypeOf(exit.len).toEqualTypeOf<1 | 2 | 4 | 8>();
        expectTypeOf(exit.data).toEqualTypeOf<Uint8Array<ArrayBuffer>>();
        exit.value = 0x1234; // a load is completed by setting the value
        break;
      case KVM_EXIT_FAIL_ENTRY:
        expectTypeOf(exit).toEqualTypeOf<FailEntryExit>();
        expectTypeOf(exit.hardwareEntryFailureReason).toEqualTypeOf<number>();
        break;
      case KVM_EXIT_INTR:
        expectTypeOf(exit.cause).toEqualTypeOf<IntrCause>();
        break;
      case KVM_EXIT_DEBUG:
        expectTypeOf(exit).toEqualTypeOf<DebugExit>();
        expectTypeOf(exit.hsr).toEqualTypeOf<number>();
        break;
      case KVM_EXIT_HYPERCALL:
      case KVM_EXIT_SYSTEM_EVENT:
      case KVM_EXIT_RISCV_SBI:
      case KVM_EXIT_RISCV_CSR:
      case KVM_EXIT_INTERNAL_ERROR:
        break;
      default:
        expectTypeOf(exit).toBeNever(); // the union has no other member
    }
    // @ts-expect-error -- the init struct's field is target (KVM_ARM_TARGET_*), as struct kvm_vcpu_init
    vcpu.armVcpuInit({ cpu: KVM_ARM_TARGET_GENERIC_V8 });
    // @ts-expect-error -- a guest image's entry point is main, a generator function
    vcpu.loadGuest({ start: function* () { yield op.wfi(); } });
    // @ts-expect-error -- RunOptions.until is virtual nanoseconds, a number
    vcpu.run(0, { until: "1ms" });
  });

  test("HostScheduler: a created thread carries its creator's two fields, the rest read-only", () => {
    expectTypeOf<ReturnType<kvm.HostScheduler["createThread"]>>().toEqualTypeOf<CreatedThread>();
    expectTypeOf<CreatedThread>().toExtend<HostThread>();
    expectTypeOf<CreatedThread["owner"]>().toEqualTypeOf<unknown>();
    expectTypeOf<CreatedThread["ownerAffinity"]>().toEqualTypeOf<readonly number[] | undefined>();
    const t = {} as CreatedThread;
    t.owner = t;
    t.ownerAffinity = [0];
    // @ts-expect-error -- the scheduler alone moves a thread
    t.hart = 1;
  });

  test("KvmError: Node's errno convention for a failed ioctl", () => {
    expectTypeOf<KvmError>().toExtend<IrqlabError>();
    expectTypeOf<ConstructorParameters<typeof KvmError>>().toEqualTypeOf<[code: ErrnoName, ioctl: string, detail: string]>();
    expectTypeOf<KvmError["errno"]>().toEqualTypeOf<number>();
    expectTypeOf<KvmError["syscall"]>().toEqualTypeOf<"ioctl">();
    expectTypeOf<KvmError["ioctl"]>().toEqualTypeOf<string>();
    expectTypeOf<ErrnoName>().toEqualTypeOf<keyof typeof ERRNO>();
    expectTypeOf<(typeof ERRNO)["EBUSY"]>().toEqualTypeOf<16>(); // include/uapi/asm-generic/errno-base.h
    expectTypeOf<(typeof ERRNO)["EINVAL"]>().toEqualTypeOf<22>();
    expectTypeOf(fail).returns.toBeNever();
    // @ts-expect-error -- errno names are Linux's; there is no EBUSYY
    new KvmError("EBUSYY", "KVM_CREATE_VCPU", "typo");
    // @ts-expect-error -- the code is the errno name, not its number
    fail(16, "KVM_CREATE_VCPU", "numbers are not names");
  });
});
