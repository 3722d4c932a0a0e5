/**
 * The VM fd: KVM_CREATE_VCPU, KVM_SET_USER_MEMORY_REGION, KVM_CREATE_DEVICE,
 * KVM_IRQ_LINE, KVM_IRQFD / KVM_SET_GSI_ROUTING / KVM_SIGNAL_MSI (logic in
 * irqfd/vm-irqfds.ts), KVM_CHECK_EXTENSION, KVM_ENABLE_CAP and the VM attributes
 * (arm64 SMCCC filter), with the errnos Linux returns (virt/kvm/kvm_main.c
 * kvm_vm_ioctl_create_vcpu, kvm_set_memory_region, kvm_ioctl_create_device;
 * arch/arm64/kvm/arm.c kvm_arch_vcpu_precreate, kvm_vm_ioctl_irq_line;
 * Documentation/virt/kvm/api.rst).
 *
 * It also owns what KVM keeps per VM: guest memory (memslots), the kernel
 * MMIO bus that in-kernel devices sit on (kvm_io_bus, consulted before an
 * exit to the VMM), the cost model and the runnable policy.
 */

import { SmcccFeatures } from "./smccc-features.js";
import { ConfigError, GuestMemory, MmioBus, type EventQueue, type Tracer, type TrackId } from "@irqlab/sim";
import type { CostModel } from "./cost-model.js";
import { Device, type DeviceAttr } from "./device.js";
import { fail, type ErrnoName } from "./errno.js";
import type { FirmwareVm } from "./firmware.js";
import type { Host } from "./host.js";
import { BasicIrqChip, type KvmMsi, type VmIrqChip } from "./irqchip.js";
import type { RoutingEntry } from "./irqfd/gsi-routing.js";
import { VmIrqfds, type IrqfdArgs } from "./irqfd/vm-irqfds.js";
import type { Kvm } from "./kvm.js";
import { KVM_REQ_SLEEP } from "./requests.js";
import type { RunnablePolicy } from "./runnable.js";
import {
  KVM_ARM_IRQ_TYPE_CPU,
  KVM_ARM_IRQ_TYPE_SHIFT,
  KVM_ARM_IRQ_VCPU2_SHIFT,
  KVM_ARM_IRQ_VCPU_SHIFT,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_CREATE_DEVICE_TEST,
  KVM_SMCCC_FILTER_FWD_TO_USER,
  KVM_SMCCC_FILTER_HANDLE,
} from "./uapi/device-types.js";
import { KVM_CAP_ARM_SYSTEM_SUSPEND, KVM_CAP_HALT_POLL, KVM_CAP_MSI_DEVID } from "./uapi/capabilities.js";
import { PSCI_VERSIONS } from "./psci.js";
import { KVM_ARM_PSCI_LATEST } from "./uapi/psci.js";
import { counterDeadlineNs } from "./arch-counter.js";
import { ArchTimerVmData, type KvmArmCounterOffset } from "./arch-timer/timer-vm-data.js";
import { KVM_MP_STATE_STOPPED } from "./uapi/mp-state.js";
import { Vcpu } from "./vcpu.js";
import { VmPmu } from "./vm-pmu.js";

/** struct kvm_userspace_memory_region (the host address is not modelled). */
export interface UserspaceMemoryRegion {
  /** Bits 0-15 slot id, bits 16-31 address-space id. */
  readonly slot: number;
  /** KVM_MEM_LOG_DIRTY_PAGES (1), KVM_MEM_READONLY (2). */
  readonly flags?: number;
  /** Guest-physical base, page-aligned. */
  readonly guestPhysAddr: number;
  /** Size in bytes, page-aligned; 0 deletes the slot. */
  readonly memorySize: number;
}

/** struct kvm_smccc_filter (KVM_ARM_VM_SMCCC_FILTER). */
export interface SmcccFilter {
  readonly base: number;
  readonly nrFunctions: number;
  /** KVM_SMCCC_FILTER_HANDLE, _DENY or _FWD_TO_USER. */
  readonly action: number;
}

/** KVM_MEM_LOG_DIRTY_PAGES. */
export const KVM_MEM_LOG_DIRTY_PAGES = 1;
/** KVM_MEM_READONLY: guest writes exit with KVM_EXIT_MMIO. */
export const KVM_MEM_READONLY = 2;
const PAGE = 4096;
/** KVM_MEM_MAX_NR_PAGES (include/linux/kvm_host.h): pages in one userspace memslot. */
export const KVM_MEM_MAX_NR_PAGES = 2 ** 31 - 1;
/** Where @irqlab/sim's GuestMemory ends (2^52, the largest arm64 IPA space). */
const MODEL_RAM_LIMIT = 2 ** 52;
/** KVM_USER_MEM_SLOTS on arm64 and RISC-V (KVM_MEM_SLOTS_NUM = SHRT_MAX). */
export const KVM_USER_MEM_SLOTS = 32767;

interface Slot {
  readonly id: number;
  readonly base: number;
  readonly end: number;
  readonly readonly: boolean;
}

/** Per-VM construction options (see {@link Kvm.createVm}). */
export interface VmSetup {
  readonly name: string;
  readonly index: number;
  readonly type: number;
  readonly ipaBits: number;
  readonly costs: CostModel;
  readonly runnablePolicy: RunnablePolicy;
  readonly timebaseHz: number;
  readonly counterHz: number;
}

/** A VM fd. */
export class Vm implements FirmwareVm {
  /** Guest-physical RAM (the memslots' contents). */
  readonly memory = new GuestMemory();
  /** The kernel MMIO bus (kvm_io_bus): in-kernel devices, consulted before KVM_EXIT_MMIO. */
  readonly kernelBus = new MmioBus();
  /** Name of the VM in traces. */
  readonly name: string;
  /** Index of the VM on its Kvm. */
  readonly index: number;
  /** KVM_CREATE_VM's type argument. */
  readonly type: number;
  /** arm64 IPA size in bits (40 for type 0); 0 on RISC-V. */
  readonly ipaBits: number;
  /** The cost model. */
  readonly costs: CostModel;
  /**
   * @internal The kvm.exit.* counters by exit reason, found once for all the
   * VM's vCPUs: one table the exits of all of them read, rather than one per vCPU.
   */
  readonly exitCounters: ({ value: number } | undefined)[] = [];
  /** kvm_arch_vcpu_runnable() in use. */
  readonly runnablePolicy: RunnablePolicy;
  /** RISC-V timebase frequency for SBI set_timer (QEMU virt: 10 MHz). */
  readonly timebaseHz: number;
  /** arm64 CNTFRQ_EL0 in Hz (arch-counter.ts). */
  readonly counterHz: number;
  /**
   * Virtual time of KVM_CREATE_VM: the guest's CNTVCT_EL0 / RISC-V `time`
   * counts from here (kvm_timer_init_vm's offset; RISC-V
   * kvm_riscv_guest_timer_init's time_delta). RISC-V's TIMER `time` register
   * moves it ({@link Vm.setRiscvGuestTime}).
   */
  get counterEpoch(): number {
    return this.#counterEpoch;
  }
  /** KVM_CAP_HALT_POLL's value: the maximum halt-polling window (0 = off). */
  haltPollMaxNs = 0;
  /** FirmwareVm: arm64 kvm->arch.psci_version, KVM_ARM_PSCI_LATEST until {@link Vm.setPsciVersion}. */
  psciVersion = KVM_ARM_PSCI_LATEST;
  /** FirmwareVm: KVM_CAP_ARM_SYSTEM_SUSPEND was enabled (PSCI SYSTEM_SUSPEND exits to the VMM). */
  systemSuspendEnabled = false;
  /** arm64 kvm->arch.smccc_feat: the firmware feature bitmaps (smccc-features.ts). */
  readonly smcccFeatures = new SmcccFeatures();
  /** arm64 kvm->arch.timer_data: the timers' PPIs (arch-timer/timer-vm-data.ts). */
  readonly timerData = new ArchTimerVmData();
  /** Set by KVM_REQ_VM_DEAD; every KVM_RUN then fails with EIO. */
  dead = false;
  /** arm64 kvm->arch.vgic.msis_require_devid: set when a vITS is created (vgic_its_create). */
  msisRequireDevid = false;
  readonly #vcpus: Vcpu[] = [];
  readonly #slots: Slot[] = [];
  readonly #devices: Device[] = [];
  readonly #filters: { base: number; end: number; action: number }[] = [];
  #supportedPmu = -1;
  #pmu: VmPmu | undefined;
  #ran = false;
  #counterEpoch: number;
  #irqchip: VmIrqChip | undefined;
  readonly #irqfds: VmIrqfds;

  constructor(
    /** The system fd this VM came from. */
    readonly kvm: Kvm,
    setup: VmSetup,
  ) {
    this.name = setup.name;
    this.index = setup.index;
    this.type = setup.type;
    this.ipaBits = setup.ipaBits;
    this.costs = setup.costs;
    this.runnablePolicy = setup.runnablePolicy;
    this.timebaseHz = setup.timebaseHz;
    this.counterHz = setup.counterHz;
    this.#counterEpoch = kvm.queue.now;
    this.#irqfds = new VmIrqfds(this);
  }

  /** "arm64" or "riscv64" (the host's). */
  get arch(): "arm64" | "riscv64" {
    return this.kvm.arch;
  }
  /** The shared virtual clock. */
  get queue(): EventQueue {
    return this.kvm.queue;
  }
  /** The tracer. */
  get tracer(): Tracer {
    return this.kvm.tracer;
  }
  /** The host. */
  get host(): Host {
    return this.kvm.host;
  }
  /** The vCPUs in creation order. */
  get vcpus(): readonly Vcpu[] {
    return this.#vcpus;
  }
  /** The devices created on this VM. */
  get devices(): readonly Device[] {
    return this.#devices;
  }
  /** True once a vCPU's KVM_RUN has passed its first-run checks (arm64 KVM_ARCH_FLAG_HAS_RAN_ONCE). */
  get hasRun(): boolean {
    return this.#ran;
  }
  /** FirmwareVm: the vCPUs. */
  get firmwareVcpus(): readonly Vcpu[] {
    return this.#vcpus;
  }

  /** The vCPU with id `id`, if created (kvm_get_vcpu_by_id). */
  vcpuById(id: number): Vcpu | undefined {
    return this.#vcpus.find((v) => v.vcpuId === id);
  }

  /**
   * KVM_CREATE_VCPU. EINVAL for an id ≥ KVM_CAP_MAX_VCPU_ID or beyond
   * KVM_CAP_MAX_VCPUS vCPUs, the in-kernel irqchip's refusal (its
   * `vcpuPrecreate`: EBUSY once the vgic is initialised), then EEXIST for a
   * duplicate id — in Linux's order (kvm_vm_ioctl_create_vcpu).
   * RISC-V vCPUs other than the first start powered off.
   */
  createVcpu(id: number): Vcpu {
    const io = "KVM_CREATE_VCPU";
    if (!Number.isInteger(id) || id < 0 || id >= this.kvm.maxVcpuId) this.fail("EINVAL", io, `vCPU id ${id} is not below KVM_CAP_MAX_VCPU_ID (${this.kvm.maxVcpuId})`);
    if (this.#vcpus.length >= this.kvm.maxVcpus) this.fail("EINVAL", io, `the VM already has KVM_CAP_MAX_VCPUS (${this.kvm.maxVcpus}) vCPUs`);
    this.#irqchip?.vcpuPrecreate?.(id);
    if (this.vcpuById(id) !== undefined) this.fail("EEXIST", io, `vCPU id ${id} already exists`);
    const vcpu = new Vcpu(this, id, this.#irqchip ? this.#irqchip.vcpuIrqChip(id) : new BasicIrqChip(this.arch));
    // kvm_arch_vcpu_postcreate (RISC-V): every vCPU but the first is powered off.
    if (this.arch === "riscv64" && this.#vcpus.length > 0) {
      vcpu.setMpState(KVM_MP_STATE_STOPPED);
    }
    this.#vcpus.push(vcpu);
    if (this.tracer.enabled) this.tracer.instant(vcpu.track, "kvm", "create-vcpu", { id });
    return vcpu;
  }

  /**
   * KVM_SET_USER_MEMORY_REGION, in Linux's order (virt/kvm/kvm_main.c
   * kvm_set_memory_region, then kvm_arch_prepare_memory_region):
   * EINVAL for unknown flags, a slot id ≥ KVM_USER_MEM_SLOTS, an address
   * space other than 0, a misaligned base or size, more than
   * KVM_MEM_MAX_NR_PAGES pages, or a resize; EEXIST for an overlap; EFAULT for
   * a slot ending beyond the guest-physical address space (arm64
   * arch/arm64/kvm/mmu.c: base_gfn + npages > kvm_phys_size >> PAGE_SHIFT;
   * RISC-V arch/riscv/kvm/mmu.c: base_gfn + npages ≥ kvm_riscv_gstage_gpa_size
   * >> PAGE_SHIFT, so a slot may not even end exactly at the top). Re-setting a
   * slot identically is a no-op. Deleting or moving a slot is not modelled
   * (EINVAL), nor is RAM ending above 2^52 (EINVAL naming the limit; only a
   * riscv64 Sv57x4 host could place it there).
   */
  setUserMemoryRegion(r: UserspaceMemoryRegion): void {
    const io = "KVM_SET_USER_MEMORY_REGION";
    const flags = r.flags ?? 0;
    if ((flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) !== 0) this.fail("EINVAL", io, `flags 0x${flags.toString(16)}`);
    const id = r.slot & 0xffff;
    if (r.slot >>> 16 !== 0) this.fail("EINVAL", io, `address space ${r.slot >>> 16} does not exist (KVM_CAP_MULTI_ADDRESS_SPACE is 1)`);
    if (id >= KVM_USER_MEM_SLOTS) this.fail("EINVAL", io, `slot ${id} ≥ KVM_USER_MEM_SLOTS`);
    const base = r.guestPhysAddr;
    const size = r.memorySize;
    if (!Number.isSafeInteger(base) || base < 0 || base % PAGE !== 0) this.fail("EINVAL", io, `guest_phys_addr 0x${base.toString(16)} is not page-aligned`);
    if (!Number.isSafeInteger(size) || size < 0 || size % PAGE !== 0) this.fail("EINVAL", io, `memory_size ${size} is not a multiple of the page size`);
    if (size / PAGE > KVM_MEM_MAX_NR_PAGES) this.fail("EINVAL", io, `${size / PAGE} pages exceed KVM_MEM_MAX_NR_PAGES (2^31 - 1)`);
    const existing = this.#slots.find((s) => s.id === id);
    if (existing !== undefined) {
      if (size !== 0 && existing.end - existing.base !== size) this.fail("EINVAL", io, `slot ${id} cannot be resized`);
      if (size !== 0 && existing.base === base && existing.readonly === ((flags & KVM_MEM_READONLY) !== 0)) return;
      this.fail("EINVAL", io, `deleting, moving or changing slot ${id} is not modelled`);
    }
    if (size === 0) return;
    for (const s of this.#slots) {
      if (base < s.end && s.base < base + size) this.fail("EEXIST", io, `slot ${id} overlaps slot ${s.id}`);
    }
    // kvm_arch_prepare_memory_region
    const end = base + size;
    if (this.arch === "arm64") {
      if (end > 2 ** this.ipaBits) this.fail("EFAULT", io, `slot ${id} ends at 0x${end.toString(16)}, beyond the ${this.ipaBits}-bit IPA space`);
    } else if (end >= 2 ** this.kvm.gpaBits) {
      this.fail("EFAULT", io, `slot ${id} ends at 0x${end.toString(16)}, not below the ${this.kvm.gpaBits}-bit GPA space of ${this.kvm.gstageMode ?? "sv57x4"}`);
    }
    if (end > MODEL_RAM_LIMIT) this.fail("EINVAL", io, `slot ${id} ends at 0x${end.toString(16)}: the model keeps guest RAM below 2^52`);
    this.memory.addRam(base, size, `slot${id}`);
    this.#slots.push({ id, base, end, readonly: (flags & KVM_MEM_READONLY) !== 0 });
  }

  /**
   * KVM_CREATE_DEVICE. ENODEV for a type no device model registered (see
   * {@link Kvm.registerDeviceType}); the model's own refusals otherwise.
   * With KVM_CREATE_DEVICE_TEST only checks and returns undefined.
   */
  createDevice(type: number): Device;
  createDevice(type: number, flags: number): Device | undefined;
  createDevice(type: number, flags = 0): Device | undefined {
    const io = "KVM_CREATE_DEVICE";
    if ((flags & ~KVM_CREATE_DEVICE_TEST) !== 0) this.fail("EINVAL", io, `flags 0x${flags.toString(16)}`);
    const factory = this.kvm.deviceFactory(type);
    if (factory === undefined) this.fail("ENODEV", io, `device type ${type} is not supported`);
    const test = (flags & KVM_CREATE_DEVICE_TEST) !== 0;
    const ops = factory(this, type, test);
    if (test) return undefined;
    const dev = new Device(this, type, ops);
    this.#devices.push(dev);
    return dev;
  }

  /**
   * KVM_IRQ_LINE. arm64 `irq` = vcpu2_index[31:28] | irq_type[27:24] |
   * vcpu_index[23:16] | irq_id[15:0]. Without an in-kernel irqchip only
   * KVM_ARM_IRQ_TYPE_CPU exists (irq_id 0 IRQ, 1 FIQ; EINVAL for a bad id or
   * vCPU); SPI/PPI need the in-kernel vgic (ENXIO without one; its errnos
   * otherwise). RISC-V needs the in-kernel AIA (ENXIO).
   */
  irqLine(irq: number, level: number): void {
    const tr = this.tracer;
    if (!tr.enabled || level === 0) {
      this.#irqLine(irq, level);
      return;
    }
    // trace_kvm_irq_line (arm64 kvm_vm_ioctl_irq_line; RISC-V has none): the raise a taken interrupt's flow starts at.
    const prev = tr.beginCause(this.irqTrack, "irq", "kvm_irq_line", { irq: `0x${(irq >>> 0).toString(16)}`, level });
    try {
      this.#irqLine(irq, level);
    } finally {
      tr.endCause(prev);
    }
  }

  /** Trace only: the track of the VM's interrupt controller (its name), or "irq" without one. */
  get irqTrack(): TrackId {
    return this.tracer.track(this.name, this.#irqchip?.name ?? "irq", "device");
  }

  #irqLine(irq: number, level: number): void {
    const io = "KVM_IRQ_LINE";
    const chip = this.#irqchip;
    if (this.arch !== "arm64") {
      if (chip?.irqLine === undefined) this.fail("ENXIO", io, "no in-kernel irqchip (KVM_DEV_TYPE_RISCV_AIA) on this VM");
      chip.irqLine(0, 0, irq >>> 0, level !== 0);
      return;
    }
    const type = (irq >>> KVM_ARM_IRQ_TYPE_SHIFT) & 0xf;
    const index = (((irq >>> KVM_ARM_IRQ_VCPU2_SHIFT) & 0xf) << 8) | ((irq >>> KVM_ARM_IRQ_VCPU_SHIFT) & 0xff);
    const id = irq & 0xffff;
    if (type !== KVM_ARM_IRQ_TYPE_CPU) {
      if (chip?.irqLine === undefined) this.fail("ENXIO", io, `irq_type ${type} needs an in-kernel vgic`);
      chip.irqLine(type, index, id, level !== 0);
      return;
    }
    const vcpu = this.#vcpus[index];
    if (vcpu === undefined) this.fail("EINVAL", io, `no vCPU at index ${index}`);
    if (vcpu.irqChip.inKernel) this.fail("ENXIO", io, "KVM_ARM_IRQ_TYPE_CPU with an in-kernel irqchip");
    if (id > 1) this.fail("EINVAL", io, `irq_id ${id} is neither IRQ (0) nor FIQ (1)`);
    vcpu.irqChip.setIrqLine(id, level !== 0);
  }

  /**
   * KVM_ARM_SET_COUNTER_OFFSET (arm64; KVM_CAP_COUNTER_OFFSET): from now on
   * the guest's CNTVCT_EL0 and CNTPCT_EL0 read the host counter minus
   * `counterOffset` (mod 2^64), on every vCPU, and the timers compare against
   * those counts (arch_timer.c kvm_vm_ioctl_set_counter_offset). EINVAL for a
   * non-zero `reserved`; ENOTTY on RISC-V.
   */
  armSetCounterOffset(offset: KvmArmCounterOffset): void {
    if (this.arch !== "arm64") this.fail("ENOTTY", "KVM_ARM_SET_COUNTER_OFFSET", "KVM_ARM_SET_COUNTER_OFFSET is an arm64 ioctl");
    this.timerData.setCounterOffset(offset);
    for (const v of this.#vcpus) v.countersChanged();
  }

  /** The installed in-kernel irqchip, if any. */
  get irqchip(): VmIrqChip | undefined {
    return this.#irqchip;
  }

  /**
   * Installs an in-kernel interrupt controller (called by the vgic / AIA
   * device model at KVM_CREATE_DEVICE): existing and future vCPUs get their
   * CPU side from it, and KVM_IRQ_LINE's in-kernel types go to it.
   * @throws ConfigError if one is already installed.
   */
  installIrqChip(chip: VmIrqChip): void {
    if (this.#irqchip !== undefined) throw new ConfigError(`${this.name}: irqchip '${this.#irqchip.name}' is already installed`);
    this.#irqchip = chip;
    chip.setAckNotifier?.((irqchip, pin) => { this.#irqfds.acked(irqchip, pin); });
    for (const v of this.#vcpus) v.setIrqChip(chip.vcpuIrqChip(v.vcpuId));
  }

  /** The VM's irqfds, GSI routing table and resamplers (src/irqfd/vm-irqfds.ts). */
  get irqfds(): VmIrqfds { return this.#irqfds; }
  /** KVM_IRQFD: assign, or with KVM_IRQFD_FLAG_DEASSIGN remove, an irqfd (errnos: virt/kvm/eventfd.c kvm_irqfd_assign, kvm_irqfd_deassign). */
  irqfd(args: IrqfdArgs): void { this.#irqfds.irqfd(args); }
  /** KVM_SET_GSI_ROUTING: replaces the routing table (EINVAL as kvm_set_irq_routing). */
  setGsiRouting(entries: readonly RoutingEntry[], flags = 0): void { this.#irqfds.setGsiRouting(entries, flags); }
  /** KVM_SIGNAL_MSI: 1 delivered, 0 blocked by the guest; EINVAL without an in-kernel irqchip. */
  signalMsi(msi: KvmMsi): number { return this.#irqfds.signalMsi(msi); }

  /**
   * KVM_CHECK_EXTENSION on the VM fd: the system fd's answers, except arm64
   * KVM_CAP_MSI_DEVID, which is kvm->arch.vgic.msis_require_devid (1 once a
   * vITS exists on the VM: vgic_its_create; arch/arm64/kvm/arm.c).
   */
  checkExtension(cap: number): number {
    if (cap === KVM_CAP_MSI_DEVID && this.arch === "arm64") return this.msisRequireDevid ? 1 : 0;
    return this.kvm.checkExtension(cap);
  }

  /**
   * KVM_ENABLE_CAP on the VM: KVM_CAP_HALT_POLL (args[0] = max ns), arm64
   * KVM_CAP_ARM_SYSTEM_SUSPEND (arm.c kvm_vm_ioctl_enable_cap); anything else EINVAL.
   */
  enableCap(cap: number, args: readonly number[] = []): void {
    if (cap === KVM_CAP_ARM_SYSTEM_SUSPEND && this.arch === "arm64") {
      this.systemSuspendEnabled = true;
      return;
    }
    if (cap !== KVM_CAP_HALT_POLL) this.fail("EINVAL", "KVM_ENABLE_CAP", `capability ${cap} cannot be enabled on this VM`);
    const ns = args[0] ?? 0;
    if (!Number.isSafeInteger(ns) || ns < 0) this.fail("EINVAL", "KVM_ENABLE_CAP", `halt-poll window ${ns} ns`);
    this.haltPollMaxNs = ns;
  }

  /**
   * KVM_SET_ONE_REG(KVM_REG_ARM_PSCI_VERSION) on any arm64 vCPU: the version
   * is per VM (kvm->arch.psci_version). A vCPU with KVM_ARM_VCPU_PSCI_0_2
   * accepts 0.2 and 1.0 to 1.3 (hypercalls.c kvm_arm_set_fw_reg); anything
   * else, or a RISC-V VM, is EINVAL.
   */
  setPsciVersion(version: number): void {
    if (this.arch !== "arm64" || !PSCI_VERSIONS.includes(version)) this.fail("EINVAL", "KVM_SET_ONE_REG", `PSCI version 0x${version.toString(16)}`);
    this.psciVersion = version;
  }

  /**
   * KVM_SET_DEVICE_ATTR on the VM: arm64 KVM_ARM_VM_SMCCC_CTRL /
   * KVM_ARM_VM_SMCCC_FILTER. ENXIO for anything else, EBUSY after a vCPU ran,
   * EINVAL for an empty range or a bad action, EEXIST for an overlap.
   */
  setDeviceAttr(a: DeviceAttr): void {
    const io = "KVM_SET_DEVICE_ATTR";
    this.#smcccAttr(a, io);
    const f = a.value as SmcccFilter | undefined;
    if (f === undefined || !Number.isInteger(f.base) || !Number.isInteger(f.nrFunctions) || f.nrFunctions <= 0 || f.base < 0 || f.base + f.nrFunctions > 2 ** 32) {
      this.fail("EINVAL", io, "struct kvm_smccc_filter range is empty or invalid");
    }
    if (f.action < KVM_SMCCC_FILTER_HANDLE || f.action > KVM_SMCCC_FILTER_FWD_TO_USER || !Number.isInteger(f.action)) this.fail("EINVAL", io, `action ${f.action}`);
    if (this.#ran) this.fail("EBUSY", io, "the VM has already run");
    const end = f.base + f.nrFunctions;
    if (this.#filters.some((x) => f.base < x.end && x.base < end)) this.fail("EEXIST", io, "the range overlaps an existing filter");
    this.#filters.push({ base: f.base, end, action: f.action });
  }

  /** KVM_GET_DEVICE_ATTR on the VM: the SMCCC filter cannot be read back (EINVAL, as Linux). */
  getDeviceAttr(a: DeviceAttr): unknown {
    this.#smcccAttr(a, "KVM_GET_DEVICE_ATTR");
    return this.fail("EINVAL", "KVM_GET_DEVICE_ATTR", "KVM_ARM_VM_SMCCC_FILTER is write-only");
  }

  /** KVM_HAS_DEVICE_ATTR on the VM. */
  hasDeviceAttr(a: DeviceAttr): void {
    this.#smcccAttr(a, "KVM_HAS_DEVICE_ATTR");
  }

  /** KVM_ARM_PREFERRED_TARGET (arm64). */
  armPreferredTarget(): { target: number; features: number } {
    if (this.arch !== "arm64") this.fail("ENOTTY", "KVM_ARM_PREFERRED_TARGET", "an arm64 ioctl");
    return { target: KVM_ARM_TARGET_GENERIC_V8, features: 0 };
  }

  /**
   * @internal RISC-V KVM_SET_ONE_REG of TIMER `time`: kvm->arch.timer.time_delta
   * := ticks − the host's count, for every vCPU of the VM — the guest's
   * `time` reads `ticks` now and counts on from there; each vCPU's timer is
   * re-evaluated against it (vstimecmp compares with the new time). EINVAL
   * where the offset leaves the model's 2^53 ns clock, which Linux's u64
   * arithmetic has no counterpart of.
   */
  setRiscvGuestTime(ticks: bigint): void {
    const ns = ticks > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : counterDeadlineNs(Number(ticks), 0, this.timebaseHz);
    if (ns < 0) this.fail("EINVAL", "KVM_SET_ONE_REG", `time ${ticks} is beyond the model's clock range`);
    this.#counterEpoch = this.queue.now - ns;
    for (const v of this.#vcpus) v.countersChanged();
  }

  // ---- for the run loop -----------------------------------------------------

  /** @internal Throws the KvmError for a failing ioctl of this VM. */
  fail(code: ErrnoName, ioctl: string, detail: string): never {
    return fail(code, ioctl, `${this.name}: ${detail}`);
  }

  /**
   * @internal kvm_arch_vcpu_run_pid_change, at each KVM_RUN of a vCPU until
   * one passes it: the irqchip's first-run hook (the vgic maps its
   * resources), then `enableVcpu` (arm64: the vCPU's timers and vPMU). Either
   * may throw to fail the KVM_RUN; once both pass, the VM has run
   * (KVM_ARCH_FLAG_HAS_RAN_ONCE).
   */
  firstRun(enableVcpu: () => void): void {
    this.#irqchip?.firstRun?.();
    enableVcpu();
    this.#ran = true;
  }

  /** @internal The arm64 vPMU configuration (vm-pmu.ts), made at first use. */
  get pmu(): VmPmu {
    return (this.#pmu ??= new VmPmu(this));
  }

  /** @internal The memory holding [addr, addr+size) if a memslot covers it (and allows the write). */
  ramFor(addr: number, size: number, write: boolean): GuestMemory | undefined {
    const slots = this.#slots;
    // eslint-disable-next-line @typescript-eslint/prefer-for-of -- an iterator's steps are bytecode that counts against what TurboFan inlines into the run loop, which calls this at every load and store
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (addr >= s.base && addr + size <= s.end) return write && s.readonly ? undefined : this.memory;
    }
    return undefined;
  }

  /** @internal Whether the VM may run on host CPU `cpu` (KVM_ARM_VCPU_PMU_V3_SET_PMU). */
  supportsCpu(cpu: number): boolean {
    return this.#supportedPmu < 0 || this.host.cpus[cpu]?.pmu === this.#supportedPmu;
  }

  /** @internal Restricts the VM to the CPUs of one host PMU. */
  setSupportedPmu(pmu: number): void {
    this.#supportedPmu = pmu;
  }

  /** @internal Number of SMCCC filter ranges (0 lets the run loop skip the lookup). */
  get smcccFilterCount(): number {
    return this.#filters.length;
  }

  /** @internal The SMCCC filter action for function `fid`. */
  smcccFilterAction(fid: number): number {
    const fs = this.#filters;
    for (const f of fs) {
      if (fid >= f.base && fid < f.end) return f.action;
    }
    return KVM_SMCCC_FILTER_HANDLE;
  }

  /** @internal kvm_prepare_system_event(): power every vCPU off so none re-enters. */
  prepareSystemEvent(): void {
    for (const v of this.#vcpus) {
      if (!v.stopped) v.setMpState(KVM_MP_STATE_STOPPED);
      else v.makeRequest(KVM_REQ_SLEEP);
    }
  }

  #smcccAttr(a: DeviceAttr, io: string): void {
    if (this.arch !== "arm64" || a.group !== KVM_ARM_VM_SMCCC_CTRL) this.fail("ENXIO", io, `unknown VM attribute group ${a.group}`);
    if (Number(a.attr) !== KVM_ARM_VM_SMCCC_FILTER) this.fail("ENXIO", io, `unknown SMCCC attribute ${a.attr}`);
  }
}
