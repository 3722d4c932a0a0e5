/**
 * @irqlab/kvm — a KVM-like hypervisor model: Kvm / Vm / Vcpu / Device objects
 * mirroring the KVM file-descriptor hierarchy and its ioctls, KVM_RUN with
 * Linux's exit reasons executing guest programs on a virtual clock, vCPU
 * requests and kicks, blocking and wake-up with two selectable
 * kvm_arch_vcpu_runnable() policies, a cost model with cited defaults, a
 * simple host, and the seam through which in-kernel interrupt controllers
 * (vgic, AIA) plug into a vCPU.
 *
 * @packageDocumentation
 */

export {
  Kvm,
  type KvmOptions,
  type RiscvGstageMode,
  type VmOptions,
} from "./kvm.js";
export {
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  KVM_USER_MEM_SLOTS,
  KVM_MEM_MAX_NR_PAGES,
  Vm,
  type UserspaceMemoryRegion,
  type SmcccFilter,
  type VmSetup,
} from "./vm.js";
export {
  Vcpu,
  type KvmVcpuInit,
} from "./vcpu.js";
export {
  OUTSIDE_GUEST_MODE,
  IN_GUEST_MODE,
  EXITING_GUEST_MODE,
  type GuestImage,
} from "./vcpu-core.js";
export {
  Device,
  AttrGroupTable,
  type DeviceAttr,
  type KvmDeviceOps,
  type KvmDeviceFactory,
  type AttrGroup,
} from "./device.js";
export {
  ERRNO,
  KvmError,
  fail,
  type ErrnoName,
} from "./errno.js";
export {
  MmioExit,
  HypercallExit,
  SystemEventExit,
  FailEntryExit,
  RiscvSbiExit,
  RiscvCsrExit,
  IntrExit,
  InternalErrorExit,
  KvmRun,
  type IntrCause,
  type RunOptions,
  type VcpuExit,
} from "./kvm-run.js";
export {
  REG_NOT_HANDLED,
  REG_DIRECT,
  REG_TRAP,
  CSR_EXIT_TO_USER,
  FlushedIrqSource,
  BasicIrqChip,
  type IrqChipVcpu,
  type VcpuIrqChip,
  type VmIrqChip,
  type KvmMsi,
  type IrqChipArch,
} from "./irqchip.js";
export {
  StickyRoundRobinPlacement,
  Host,
  type HostCpu,
  type PlacedVcpu,
  type PlacementPolicy,
  type HostOptions,
} from "./host.js";
export {
  DEFAULT_COSTS,
  makeCostModel,
  type CostModel,
} from "./cost-model.js";
export {
  CNTFRQ_EL0,
  CNTPCT_EL0,
  CNTVCT_EL0,
  DEFAULT_COUNTER_HZ,
  MAX_COUNTER_HZ,
  counterTicks,
} from "./arch-counter.js";
/** The RISC-V `time` CSR and Sstc `stimecmp` of a vCPU. */
export { CSR_TIME, CSR_STIMECMP, readTimeCsr, timeDeadlineNs } from "./riscv-time.js";
/**
 * The arm64 Generic Timer's EL1 timers under KVM: the guest's CNTV_* / CNTP_*
 * registers, the vCPU attributes that choose their PPIs, and the
 * device_irq_level bits a userspace irqchip reads.
 */
export {
  CNTP_TVAL_EL0,
  CNTP_CTL_EL0,
  CNTP_CVAL_EL0,
  CNTV_TVAL_EL0,
  CNTV_CTL_EL0,
  CNTV_CVAL_EL0,
  ARCH_TIMER_CTRL_ENABLE,
  ARCH_TIMER_CTRL_IT_MASK,
  ARCH_TIMER_CTRL_IT_STAT,
  TIMER_VTIMER,
  TIMER_PTIMER,
  TIMER_HVTIMER,
  TIMER_HPTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_VTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_PTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_HVTIMER,
  KVM_ARM_VCPU_TIMER_IRQ_HPTIMER,
  DEFAULT_TIMER_PPIS,
  KVM_ARM_DEV_EL1_VTIMER,
  KVM_ARM_DEV_EL1_PTIMER,
  KVM_ARM_DEV_PMU,
  isArchTimerReg,
} from "./arch-timer/timer-uapi.js";
/** One EL1 timer (struct arch_timer_context) and a vCPU's pair of them. */
export { ArchTimerContext, type ArchTimerClock } from "./arch-timer/arch-timer-context.js";
export { VcpuArchTimer, type ArchTimerVcpu } from "./arch-timer/vcpu-arch-timer.js";
/** The VM's timer PPIs (kvm->arch.timer_data). */
export { ArchTimerVmData, type KvmArmCounterOffset } from "./arch-timer/timer-vm-data.js";
export {
  KVM_REQUEST_MASK,
  KVM_REQUEST_NO_WAKEUP,
  KVM_REQUEST_WAIT,
  KVM_REQUEST_NO_ACTION,
  KVM_REQUEST_ARCH_BASE,
  KVM_REQ_TLB_FLUSH,
  KVM_REQ_VM_DEAD,
  KVM_REQ_UNBLOCK,
  KVM_REQ_SLEEP,
  KVM_REQ_IRQ_PENDING,
  KVM_REQ_VCPU_RESET,
  KVM_REQ_SUSPEND,
  IRQLAB_REQ_IRQ_DEASSERT,
  requestName,
  requestBit,
} from "./requests.js";
export {
  RUNNABLE_POLICIES,
  kvmArchVcpuRunnable,
  type RunnablePolicy,
  type RunnableInputs,
} from "./runnable.js";
export {
  mpidrHwid,
  mpidrOf,
} from "./firmware.js";
export {
  KVM_EXIT_UNKNOWN,
  KVM_EXIT_EXCEPTION,
  KVM_EXIT_IO,
  KVM_EXIT_HYPERCALL,
  KVM_EXIT_DEBUG,
  KVM_EXIT_HLT,
  KVM_EXIT_MMIO,
  KVM_EXIT_IRQ_WINDOW_OPEN,
  KVM_EXIT_SHUTDOWN,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_INTR,
  KVM_EXIT_SET_TPR,
  KVM_EXIT_TPR_ACCESS,
  KVM_EXIT_S390_SIEIC,
  KVM_EXIT_S390_RESET,
  KVM_EXIT_DCR,
  KVM_EXIT_NMI,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_OSI,
  KVM_EXIT_PAPR_HCALL,
  KVM_EXIT_S390_UCONTROL,
  KVM_EXIT_WATCHDOG,
  KVM_EXIT_S390_TSCH,
  KVM_EXIT_EPR,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_EXIT_S390_STSI,
  KVM_EXIT_IOAPIC_EOI,
  KVM_EXIT_HYPERV,
  KVM_EXIT_ARM_NISV,
  KVM_EXIT_X86_RDMSR,
  KVM_EXIT_X86_WRMSR,
  KVM_EXIT_DIRTY_RING_FULL,
  KVM_EXIT_AP_RESET_HOLD,
  KVM_EXIT_X86_BUS_LOCK,
  KVM_EXIT_XEN,
  KVM_EXIT_RISCV_SBI,
  KVM_EXIT_RISCV_CSR,
  KVM_EXIT_NOTIFY,
  KVM_EXIT_LOONGARCH_IOCSR,
  KVM_EXIT_MEMORY_FAULT,
  KVM_EXIT_TDX,
  KVM_EXIT_ARM_SEA,
  KVM_INTERNAL_ERROR_EMULATION,
  KVM_INTERNAL_ERROR_SIMUL_EX,
  KVM_INTERNAL_ERROR_DELIVERY_EV,
  KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
  KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED,
  KVM_EXIT_FAIL_ENTRY_NO_VSFILE,
  exitReasonName,
} from "./uapi/exit-reasons.js";
export {
  KVM_CAP_IRQCHIP,
  KVM_CAP_USER_MEMORY,
  KVM_CAP_NR_VCPUS,
  KVM_CAP_NR_MEMSLOTS,
  KVM_CAP_MP_STATE,
  KVM_CAP_IRQ_ROUTING,
  KVM_CAP_IRQFD,
  KVM_CAP_IOEVENTFD,
  KVM_CAP_MAX_VCPUS,
  KVM_CAP_ONE_REG,
  KVM_CAP_SIGNAL_MSI,
  KVM_CAP_READONLY_MEM,
  KVM_CAP_IRQFD_RESAMPLE,
  KVM_CAP_ARM_PSCI,
  KVM_CAP_DEVICE_CTRL,
  KVM_CAP_VM_ATTRIBUTES,
  KVM_CAP_ARM_PSCI_0_2,
  KVM_CAP_CHECK_EXTENSION_VM,
  KVM_CAP_ARM_PMU_V3,
  KVM_CAP_VCPU_ATTRIBUTES,
  KVM_CAP_MAX_VCPU_ID,
  KVM_CAP_MSI_DEVID,
  KVM_CAP_IMMEDIATE_EXIT,
  KVM_CAP_ARM_VM_IPA_SIZE,
  KVM_CAP_ARM_NISV_TO_USER,
  KVM_CAP_HALT_POLL,
  KVM_CAP_VM_GPA_BITS,
  KVM_CAP_SYSTEM_EVENT_DATA,
  KVM_CAP_ARM_SYSTEM_SUSPEND,
  KVM_API_VERSION,
} from "./uapi/capabilities.js";
export {
  KVM_DEV_TYPE_FSL_MPIC_20,
  KVM_DEV_TYPE_FSL_MPIC_42,
  KVM_DEV_TYPE_XICS,
  KVM_DEV_TYPE_VFIO,
  KVM_DEV_TYPE_ARM_VGIC_V2,
  KVM_DEV_TYPE_FLIC,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_DEV_TYPE_ARM_VGIC_ITS,
  KVM_DEV_TYPE_XIVE,
  KVM_DEV_TYPE_ARM_PV_TIME,
  KVM_DEV_TYPE_RISCV_AIA,
  KVM_CREATE_DEVICE_TEST,
  KVM_ARM_VCPU_PMU_V3_CTRL,
  KVM_ARM_VCPU_PMU_V3_IRQ,
  KVM_ARM_VCPU_PMU_V3_INIT,
  KVM_ARM_VCPU_PMU_V3_FILTER,
  KVM_ARM_VCPU_PMU_V3_SET_PMU,
  KVM_ARM_VCPU_TIMER_CTRL,
  KVM_ARM_VCPU_PVTIME_CTRL,
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_SMCCC_FILTER_HANDLE,
  KVM_SMCCC_FILTER_DENY,
  KVM_SMCCC_FILTER_FWD_TO_USER,
  KVM_HYPERCALL_EXIT_SMC,
  KVM_HYPERCALL_EXIT_16BIT,
  KVM_ARM_IRQ_TYPE_CPU,
  KVM_ARM_IRQ_TYPE_SPI,
  KVM_ARM_IRQ_TYPE_PPI,
  KVM_ARM_IRQ_CPU_IRQ,
  KVM_ARM_IRQ_CPU_FIQ,
  KVM_ARM_IRQ_TYPE_SHIFT,
  KVM_ARM_IRQ_VCPU_SHIFT,
  KVM_ARM_IRQ_VCPU2_SHIFT,
  KVM_INTERRUPT_SET,
  KVM_INTERRUPT_UNSET,
  KVM_ARM_VCPU_POWER_OFF,
  KVM_ARM_VCPU_EL1_32BIT,
  KVM_ARM_VCPU_PSCI_0_2,
  KVM_ARM_VCPU_PMU_V3,
  KVM_ARM_TARGET_GENERIC_V8,
} from "./uapi/device-types.js";
export {
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_UNINITIALIZED,
  KVM_MP_STATE_INIT_RECEIVED,
  KVM_MP_STATE_HALTED,
  KVM_MP_STATE_SIPI_RECEIVED,
  KVM_MP_STATE_STOPPED,
  KVM_MP_STATE_CHECK_STOP,
  KVM_MP_STATE_OPERATING,
  KVM_MP_STATE_LOAD,
  KVM_MP_STATE_AP_RESET_HOLD,
  KVM_MP_STATE_SUSPENDED,
  MP_STATES_ARM64,
  MP_STATES_RISCV,
} from "./uapi/mp-state.js";
export {
  KVM_SYSTEM_EVENT_SHUTDOWN,
  KVM_SYSTEM_EVENT_RESET,
  KVM_SYSTEM_EVENT_CRASH,
  KVM_SYSTEM_EVENT_WAKEUP,
  KVM_SYSTEM_EVENT_SUSPEND,
  KVM_SYSTEM_EVENT_SEV_TERM,
  KVM_SYSTEM_EVENT_TDX_FATAL,
  KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2,
  KVM_SYSTEM_EVENT_SHUTDOWN_FLAG_PSCI_OFF2,
} from "./uapi/system-event.js";
export {
  ARM_SMCCC_VERSION_FUNC_ID,
  ARM_SMCCC_ARCH_FEATURES_FUNC_ID,
  ARM_SMCCC_VERSION_1_1,
  SMCCC_RET_NOT_SUPPORTED,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_0_2_FN_CPU_SUSPEND,
  PSCI_0_2_FN_CPU_OFF,
  PSCI_0_2_FN_CPU_ON,
  PSCI_0_2_FN_AFFINITY_INFO,
  PSCI_0_2_FN_MIGRATE_INFO_TYPE,
  PSCI_0_2_FN_SYSTEM_OFF,
  PSCI_0_2_FN_SYSTEM_RESET,
  PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_1_0_FN_SYSTEM_SUSPEND,
  PSCI_1_1_FN_SYSTEM_RESET2,
  PSCI_0_2_FN64_CPU_SUSPEND,
  PSCI_0_2_FN64_CPU_ON,
  PSCI_0_2_FN64_AFFINITY_INFO,
  PSCI_1_0_FN64_SYSTEM_SUSPEND,
  PSCI_1_1_FN64_SYSTEM_RESET2,
  PSCI_1_3_FN_SYSTEM_OFF2,
  PSCI_1_3_FN64_SYSTEM_OFF2,
  PSCI_0_2_64BIT,
  PSCI_1_1_RESET_TYPE_SYSTEM_WARM_RESET,
  PSCI_1_1_RESET_TYPE_VENDOR_START,
  PSCI_1_3_OFF_TYPE_HIBERNATE_OFF,
  psciVersion,
  PSCI_VERSION_0_2,
  PSCI_VERSION_1_0,
  PSCI_VERSION_1_1,
  PSCI_VERSION_1_2,
  PSCI_VERSION_1_3,
  KVM_ARM_PSCI_LATEST,
  PSCI_0_2_TOS_MP,
  PSCI_RET_SUCCESS,
  PSCI_RET_NOT_SUPPORTED,
  PSCI_RET_INVALID_PARAMS,
  PSCI_RET_DENIED,
  PSCI_RET_ALREADY_ON,
  PSCI_RET_ON_PENDING,
  PSCI_RET_INTERNAL_FAILURE,
  PSCI_RET_NOT_PRESENT,
  PSCI_RET_DISABLED,
  PSCI_RET_INVALID_ADDRESS,
  PSCI_0_2_AFFINITY_LEVEL_ON,
  PSCI_0_2_AFFINITY_LEVEL_OFF,
  PSCI_0_2_AFFINITY_LEVEL_ON_PENDING,
} from "./uapi/psci.js";
export {
  SBI_EXT_0_1_SET_TIMER,
  SBI_EXT_0_1_CONSOLE_PUTCHAR,
  SBI_EXT_0_1_CONSOLE_GETCHAR,
  SBI_EXT_BASE,
  SBI_EXT_TIME,
  SBI_EXT_IPI,
  SBI_EXT_RFENCE,
  SBI_EXT_HSM,
  SBI_EXT_SRST,
  SBI_EXT_PMU,
  SBI_EXT_DBCN,
  SBI_EXT_EXPERIMENTAL_START,
  SBI_EXT_EXPERIMENTAL_END,
  SBI_EXT_VENDOR_START,
  SBI_EXT_VENDOR_END,
  SBI_EXT_BASE_GET_SPEC_VERSION,
  SBI_EXT_BASE_GET_IMP_ID,
  SBI_EXT_BASE_GET_IMP_VERSION,
  SBI_EXT_BASE_PROBE_EXT,
  SBI_EXT_BASE_GET_MVENDORID,
  SBI_EXT_BASE_GET_MARCHID,
  SBI_EXT_BASE_GET_MIMPID,
  SBI_EXT_TIME_SET_TIMER,
  SBI_EXT_IPI_SEND_IPI,
  SBI_EXT_HSM_HART_START,
  SBI_EXT_HSM_HART_STOP,
  SBI_EXT_HSM_HART_STATUS,
  SBI_EXT_HSM_HART_SUSPEND,
  SBI_EXT_SRST_RESET,
  SBI_SRST_RESET_TYPE_SHUTDOWN,
  SBI_SRST_RESET_TYPE_COLD_REBOOT,
  SBI_SRST_RESET_TYPE_WARM_REBOOT,
  SBI_HSM_STATE_STARTED,
  SBI_HSM_STATE_STOPPED,
  SBI_HSM_STATE_START_PENDING,
  SBI_SUCCESS,
  SBI_ERR_FAILURE,
  SBI_ERR_NOT_SUPPORTED,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_DENIED,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_ALREADY_STARTED,
  SBI_ERR_ALREADY_STOPPED,
  KVM_SBI_IMPID,
  KVM_SBI_SPEC_VERSION,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  IRQ_S_EXT,
  CSR_SEED,
  CSR_SSTATUS,
  CSR_SIE,
  CSR_SCAUSE,
  CSR_SIP,
  SR_SIE,
} from "./uapi/sbi.js";

// ---- The host: a thread scheduler for vCPU threads ----
/** Per-hart run queues, affinity, wake-up placement, time slices, load balancing, hotplug. */
export {
  HostScheduler,
  type HostSchedulerOptions,
  type SchedulerObserver,
  type PlacementReason,
} from "./sched/host-scheduler.js";
/** A schedulable host thread (a vCPU thread of a VMM). */
export type { HostThread, ThreadState } from "./sched/host-thread.js";
/** KVM RISC-V's per-CPU guest interrupt file (HGEI line) allocator (arch/riscv/kvm/aia.c). */
export { HgeiAllocator, HGEI_NONE_FREE } from "./vsfile/hgei-allocator.js";

// ---- irqfd building blocks ----
/** An eventfd(2): the wire between devices, irqfd and resamplefd. */
export { EventFd, FdTable, type EventFdWake, type EventFdWaiter } from "./irqfd/eventfd.js";
/** The IRQ bypass manager (virt/lib/irqbypass.c): producers and consumers paired by eventfd. */
export { IrqBypassManager, type IrqBypassProducer, type IrqBypassConsumer } from "./irqfd/irq-bypass.js";
/** KVM_SET_GSI_ROUTING: the validated GSI routing table and its UAPI constants. */
export {
  GsiRoutingTable,
  KVM_IRQ_ROUTING_IRQCHIP,
  KVM_IRQ_ROUTING_MSI,
  KVM_MSI_VALID_DEVID,
  KVM_MAX_IRQ_ROUTES,
  KVM_NR_IRQCHIPS,
  KVM_IRQCHIP_NUM_PINS_ARM64,
  KVM_IRQCHIP_NUM_PINS_RISCV,
  type RoutingEntry,
  type IrqchipRoute,
  type MsiRoute,
} from "./irqfd/gsi-routing.js";

// ---- In-kernel irqchip devices ----
/** The arm64 vgic-v3 and vITS devices and the VM-level irqfd plumbing. */
export * from "./vgic/index.js";
/** The RISC-V AIA device and VS-file handling. */
export * from "./riscv-aia/index.js";
