/**
 * The system fd (/dev/kvm): KVM_GET_API_VERSION, KVM_CHECK_EXTENSION,
 * KVM_CREATE_VM (virt/kvm/kvm_main.c kvm_dev_ioctl; Documentation/virt/kvm/api.rst).
 * A Kvm is one host of one
 * architecture — /dev/kvm on an arm64 host makes arm64 VMs — with its
 * physical CPUs, the virtual clock every VM on it shares, the tracer, and the
 * registry of device models that KVM_CREATE_DEVICE instantiates.
 */

import { KVM_GUESTDBG_VALID_MASK_ARM64 } from "./uapi/guest-debug.js";
import { ConfigError, EventQueue, Tracer } from "@irqlab/sim";
import { makeCostModel, type CostModel } from "./cost-model.js";
import type { KvmDeviceFactory } from "./device.js";
import { fail } from "./errno.js";
import { Host } from "./host.js";
import { HostCpuTrace } from "./host-cpu-trace.js";
import { RUNNABLE_POLICIES, type RunnablePolicy } from "./runnable.js";
import * as CAP from "./uapi/capabilities.js";
import { KVM_DEV_TYPE_ARM_VGIC_V2, KVM_DEV_TYPE_ARM_VGIC_V3, KVM_DEV_TYPE_RISCV_AIA } from "./uapi/device-types.js";
import { Vm, KVM_USER_MEM_SLOTS } from "./vm.js";
import { DEFAULT_COUNTER_HZ, MAX_COUNTER_HZ } from "./arch-counter.js";
import { IrqBypassManager } from "./irqfd/irq-bypass.js";
import { KVM_MAX_IRQ_ROUTES } from "./irqfd/gsi-routing.js";
import { registerVgicItsDevice } from "./vgic/its/vits-device.js";
import { registerVgicV3, type VgicV3Options } from "./vgic/vgic-device.js";

/** Options of a {@link Kvm} (the host). */
export interface KvmOptions {
  /** Host architecture (default "arm64"). */
  readonly arch?: "arm64" | "riscv64";
  /** The host's CPUs and placement (default: 4 CPUs). */
  readonly host?: Host;
  /** The virtual clock (default: a new EventQueue). */
  readonly queue?: EventQueue;
  /** The tracer (default: a disabled Tracer on the queue's clock). */
  readonly tracer?: Tracer;
  /** KVM_CAP_MAX_VCPUS (default 512 on arm64, 1024 on RISC-V: KVM_MAX_VCPUS). */
  readonly maxVcpus?: number;
  /** KVM_CAP_MAX_VCPU_ID (default = maxVcpus). */
  readonly maxVcpuId?: number;
  /** arm64 KVM_CAP_ARM_VM_IPA_SIZE (default 48). */
  readonly ipaLimit?: number;
  /**
   * arm64: the host has a GICv3, so KVM registers the in-kernel irqchip
   * device types at init (default true): KVM_DEV_TYPE_ARM_VGIC_V3 and
   * KVM_DEV_TYPE_ARM_VGIC_ITS, as vgic_v3_probe → kvm_register_vgic_device
   * (arch/arm64/kvm/vgic/vgic-kvm-device.c) does, the ITS right after the
   * vgic-v3. false models a host without them: KVM_CAP_IRQCHIP is 0 and
   * KVM_CREATE_DEVICE answers ENODEV until registerVgicV3 /
   * registerVgicItsDevice. RISC-V hosts register their AIA explicitly
   * (registerRiscvAia, which needs the harts' GEILEN); this option does not
   * apply to them.
   */
  readonly irqchips?: boolean;
  /**
   * arm64: when the vgic-v3 of each VM is initialised (default "explicit",
   * KVM_DEV_ARM_VGIC_CTRL_INIT; "lazy-init" initialises it at the first
   * KVM_RUN). A function chooses per VM. See {@link VgicV3Options}.
   */
  readonly vgicInitMode?: VgicV3Options["initMode"];
  /**
   * riscv64: the host's G-stage translation mode, which fixes every VM's
   * guest-physical address space (KVM_CAP_VM_GPA_BITS): "sv39x4" 41 bits,
   * "sv48x4" 50 bits, "sv57x4" 59 bits. Default "sv57x4": Linux's
   * kvm_riscv_gstage_mode_detect (arch/riscv/kvm/gstage.c) probes Sv57x4,
   * then Sv48x4, then Sv39x4, and keeps the largest the hart supports.
   */
  readonly gstageMode?: RiscvGstageMode;
}

/** A RISC-V hgatp G-stage mode (riscv-privileged H extension, "hgatp"). */
export type RiscvGstageMode = "sv39x4" | "sv48x4" | "sv57x4";

/** kvm_riscv_gstage_gpa_bits: HGATP_PAGE_SHIFT (12) + 9 per level + 2 (the ×4 root). */
const GSTAGE_GPA_BITS: Readonly<Record<RiscvGstageMode, number>> = { sv39x4: 41, sv48x4: 50, sv57x4: 59 };

/** Per-VM options of {@link Kvm.createVm}. */
export interface VmOptions {
  /** Overrides of the default cost table. */
  readonly costs?: Partial<CostModel>;
  /** kvm_arch_vcpu_runnable() to use (default "irq-lines", Linux's). */
  readonly runnablePolicy?: RunnablePolicy;
  /** Trace group name (default "vm<index>"). */
  readonly name?: string;
  /** RISC-V timebase frequency in Hz (default 10 MHz, QEMU virt). */
  readonly timebaseHz?: number;
  /** arm64 Generic Timer frequency, CNTFRQ_EL0, in Hz (default 25 MHz; arch-counter.ts). */
  readonly counterHz?: number;
}

/** The system fd. */
export class Kvm {
  /** Host architecture. */
  readonly arch: "arm64" | "riscv64";
  /** The host. */
  readonly host: Host;
  /** The virtual clock. */
  readonly queue: EventQueue;
  /** The tracer. */
  readonly tracer: Tracer;
  /** KVM_CAP_MAX_VCPUS. */
  readonly maxVcpus: number;
  /** KVM_CAP_MAX_VCPU_ID. */
  readonly maxVcpuId: number;
  /** KVM_CAP_ARM_VM_IPA_SIZE. */
  readonly ipaLimit: number;
  /** riscv64: the host's G-stage mode; undefined on arm64. */
  readonly gstageMode: RiscvGstageMode | undefined;
  /** riscv64: KVM_CAP_VM_GPA_BITS (kvm_riscv_gstage_gpa_bits); 0 on arm64. */
  readonly gpaBits: number;
  /** The host's IRQ bypass manager (virt/lib/irqbypass.c), shared by every VM's irqfds and VFIO-like producers. */
  readonly irqBypass = new IrqBypassManager();
  /** @internal The host CPU tracks of a trace (host-cpu-trace.ts). */
  readonly hostCpuTrace: HostCpuTrace;
  readonly #devices = new Map<number, KvmDeviceFactory>();
  readonly #vms: Vm[] = [];

  constructor(options: KvmOptions = {}) {
    this.arch = options.arch ?? "arm64";
    if (!["arm64", "riscv64"].includes(this.arch)) throw new ConfigError(`unknown arch '${this.arch}' (arm64 or riscv64)`);
    this.host = options.host ?? new Host();
    this.queue = options.queue ?? new EventQueue();
    this.tracer = options.tracer ?? new Tracer(this.queue);
    this.hostCpuTrace = new HostCpuTrace(this.tracer, this.host);
    this.maxVcpus = options.maxVcpus ?? (this.arch === "arm64" ? 512 : 1024);
    this.maxVcpuId = options.maxVcpuId ?? this.maxVcpus;
    this.ipaLimit = options.ipaLimit ?? 48;
    for (const [k, v] of [["maxVcpus", this.maxVcpus], ["maxVcpuId", this.maxVcpuId], ["ipaLimit", this.ipaLimit]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`${k} ${v} must be a positive integer`);
    }
    const mode = options.gstageMode ?? "sv57x4";
    if (!Object.hasOwn(GSTAGE_GPA_BITS, mode)) throw new ConfigError(`unknown G-stage mode '${mode}' (${Object.keys(GSTAGE_GPA_BITS).join(", ")})`);
    this.gstageMode = this.arch === "riscv64" ? mode : undefined;
    this.gpaBits = this.arch === "riscv64" ? GSTAGE_GPA_BITS[mode] : 0;
    if (this.arch === "arm64" && options.irqchips !== false) {
      // vgic_v3_probe → kvm_register_vgic_device(KVM_DEV_TYPE_ARM_VGIC_V3): the vgic-v3, then the ITS.
      registerVgicV3(this, options.vgicInitMode === undefined ? {} : { initMode: options.vgicInitMode });
      registerVgicItsDevice(this);
    }
  }

  /** The VMs created so far. */
  get vms(): readonly Vm[] {
    return this.#vms;
  }

  /** KVM_GET_API_VERSION: 12. */
  getApiVersion(): number {
    return CAP.KVM_API_VERSION;
  }

  /**
   * KVM_CHECK_EXTENSION on the system fd: 0 = not supported, > 0 = supported
   * or the value. Unknown capabilities are 0, as in Linux. The answers are
   * Linux's for what the model implements: virt/kvm/kvm_main.c
   * kvm_vm_ioctl_check_extension_generic (IRQFD, SIGNAL_MSI, IRQ_ROUTING =
   * KVM_MAX_IRQ_ROUTES, NR_MEMSLOTS, ...), then arch/arm64/kvm/arm.c or
   * arch/riscv/kvm/vm.c kvm_vm_ioctl_check_extension. KVM_CAP_IOEVENTFD is
   * 1 on both in Linux but 0 here: the model has no ioeventfd.
   * @throws KvmError EINVAL for KVM_CAP_MSI_DEVID on arm64 (arm.c answers
   *   -EINVAL without a VM; ask the VM fd, {@link Vm.checkExtension}).
   */
  checkExtension(cap: number): number {
    const arm = this.arch === "arm64";
    switch (cap) {
      case CAP.KVM_CAP_IRQCHIP: {
        const types = arm ? [KVM_DEV_TYPE_ARM_VGIC_V2, KVM_DEV_TYPE_ARM_VGIC_V3] : [KVM_DEV_TYPE_RISCV_AIA];
        return types.some((t) => this.#devices.has(t)) ? 1 : 0;
      }
      // kvm_vm_ioctl_check_extension_generic
      case CAP.KVM_CAP_USER_MEMORY:
      case CAP.KVM_CAP_SIGNAL_MSI: // CONFIG_HAVE_KVM_MSI (arm64 and riscv select it)
      case CAP.KVM_CAP_IRQFD: // CONFIG_HAVE_KVM_IRQCHIP
      case CAP.KVM_CAP_CHECK_EXTENSION_VM:
      case CAP.KVM_CAP_HALT_POLL:
      case CAP.KVM_CAP_SYSTEM_EVENT_DATA: // and both architectures' kvm_vm_ioctl_check_extension:
      case CAP.KVM_CAP_MP_STATE:
      case CAP.KVM_CAP_IMMEDIATE_EXIT:
      case CAP.KVM_CAP_DEVICE_CTRL:
      case CAP.KVM_CAP_READONLY_MEM:
      case CAP.KVM_CAP_ONE_REG:
        return 1;
      case CAP.KVM_CAP_IRQ_ROUTING: // CONFIG_HAVE_KVM_IRQ_ROUTING
        return KVM_MAX_IRQ_ROUTES;
      case CAP.KVM_CAP_NR_VCPUS:
        return Math.min(this.host.cpus.length, this.maxVcpus);
      case CAP.KVM_CAP_MAX_VCPUS:
        return this.maxVcpus;
      case CAP.KVM_CAP_MAX_VCPU_ID:
        return this.maxVcpuId;
      case CAP.KVM_CAP_NR_MEMSLOTS:
        return KVM_USER_MEM_SLOTS;
      // Since Linux 6.4 KVM_CAP_IRQFD_RESAMPLE is per architecture: arm64's arm.c lists it, RISC-V's vm.c does not.
      case CAP.KVM_CAP_IRQFD_RESAMPLE:
      case CAP.KVM_CAP_ARM_PSCI:
      case CAP.KVM_CAP_ARM_PSCI_0_2:
      case CAP.KVM_CAP_ARM_SYSTEM_SUSPEND:
      case CAP.KVM_CAP_ARM_PMU_V3:
      case CAP.KVM_CAP_VM_ATTRIBUTES:
      case CAP.KVM_CAP_VCPU_ATTRIBUTES:
      case CAP.KVM_CAP_COUNTER_OFFSET:
        return arm ? 1 : 0;
      // Both: arm.c, and riscv vm.c since guest debugging came (EBREAK → KVM_EXIT_DEBUG); only arm64 has SET_GUEST_DEBUG2.
      case CAP.KVM_CAP_SET_GUEST_DEBUG:
        return 1;
      case CAP.KVM_CAP_SET_GUEST_DEBUG2:
        return arm ? KVM_GUESTDBG_VALID_MASK_ARM64 : 0;
      case CAP.KVM_CAP_MSI_DEVID:
        if (arm) fail("EINVAL", "KVM_CHECK_EXTENSION", "KVM_CAP_MSI_DEVID is a VM capability on arm64 (kvm is NULL on the system fd)");
        return 0;
      case CAP.KVM_CAP_ARM_VM_IPA_SIZE:
        return arm ? this.ipaLimit : 0;
      case CAP.KVM_CAP_VM_GPA_BITS:
        return this.gpaBits;
      default:
        return 0;
    }
  }

  /**
   * KVM_CREATE_VM. arm64: `type` bits [7:0] are the IPA size in bits (0 =
   * 40); other bits, or a size outside 32..KVM_CAP_ARM_VM_IPA_SIZE, EINVAL.
   * RISC-V ignores `type` (arch/riscv/kvm/vm.c kvm_arch_init_vm).
   */
  createVm(type = 0, options: VmOptions = {}): Vm {
    let ipaBits = 0;
    if (this.arch === "arm64") {
      if (!Number.isInteger(type) || type < 0 || (type & ~0xff) !== 0 || type > 0xff) fail("EINVAL", "KVM_CREATE_VM", `type 0x${type.toString(16)} has bits outside KVM_VM_TYPE_ARM_IPA_SIZE_MASK`);
      ipaBits = type === 0 ? 40 : type;
      if (ipaBits < 32 || ipaBits > this.ipaLimit) fail("EINVAL", "KVM_CREATE_VM", `IPA size ${ipaBits} bits is outside 32..${this.ipaLimit}`);
    }
    const policy = options.runnablePolicy ?? "irq-lines";
    if (!RUNNABLE_POLICIES.includes(policy)) throw new ConfigError(`unknown runnable policy '${policy}' (${RUNNABLE_POLICIES.join(", ")})`);
    const timebaseHz = options.timebaseHz ?? 10_000_000;
    if (!Number.isSafeInteger(timebaseHz) || timebaseHz < 1) throw new ConfigError(`timebaseHz ${timebaseHz} must be a positive integer`);
    const counterHz = options.counterHz ?? DEFAULT_COUNTER_HZ;
    if (!Number.isSafeInteger(counterHz) || counterHz < 1 || counterHz > MAX_COUNTER_HZ) {
      throw new ConfigError(`counterHz ${counterHz} must be an integer in 1..${MAX_COUNTER_HZ}`);
    }
    const index = this.#vms.length;
    const vm = new Vm(this, {
      name: options.name ?? `vm${index}`,
      index,
      type,
      ipaBits,
      costs: makeCostModel(options.costs),
      runnablePolicy: policy,
      timebaseHz,
      counterHz,
    });
    this.#vms.push(vm);
    return vm;
  }

  /**
   * Registers the device model KVM_CREATE_DEVICE instantiates for `type`
   * (how the vgic and AIA packages plug in). One factory per type: a second
   * registration throws ConfigError unless `replace` is set, which swaps the
   * factory for VMs created devices from then on.
   */
  registerDeviceType(type: number, factory: KvmDeviceFactory, options: { readonly replace?: boolean } = {}): void {
    if (!Number.isInteger(type) || type < 1) throw new ConfigError(`device type ${type} is not a KVM_DEV_TYPE_*`);
    if (this.#devices.has(type) && options.replace !== true) throw new ConfigError(`device type ${type} is already registered`);
    this.#devices.set(type, factory);
  }

  /** @internal The factory for `type`, if registered. */
  deviceFactory(type: number): KvmDeviceFactory | undefined {
    return this.#devices.get(type);
  }
}
