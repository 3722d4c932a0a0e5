/**
 * Plugging a `vfio-platform` device into a machine under KVM: what QEMU's
 * platform bus and accel/kvm do for it (hw/core/platform-bus.c
 * platform_bus_link_device, platform_bus_map_mmio, platform_bus_map_irq;
 * hw/core/sysbus.c sysbus_connect_irq and the connect-irq notifier;
 * accel/kvm/kvm-all.c kvm_irqchip_add_irqfd_notifier,
 * kvm_irqchip_assign_irqfd, kvm_set_irq; hw/vfio/platform.c
 * vfio_start_irqfd_injection).
 *
 * - The region goes at the first offset of the platform bus window that is
 *   naturally aligned for its size and free; the interrupt is the first free
 *   line of the window. Its GSI is the window's first IRQ plus the line: on
 *   arm64 the identity routing takes GSI n to SPI n (INTID 32 + n), on
 *   riscv64 to APLIC source n.
 * - At machine-init-done the device is linked and its IRQ connected, which
 *   starts injection (vfio_start_irqfd_injection): KVM_IRQFD with the
 *   trigger eventfd — KVM_IRQFD_FLAG_RESAMPLE and the unmask eventfd as
 *   resamplefd for a level IRQ — then VFIO_DEVICE_SET_IRQS TRIGGER (and
 *   UNMASK eventfd). If KVM refuses the irqfd (EAGAIN from a vgic that is
 *   not initialised, for instance) QEMU falls back without a message to its
 *   own handling of the eventfd: the main loop reads it and qemu_set_irq()
 *   becomes KVM_IRQ_LINE. This is the seed-003 ordering of 2014
 *   (platform_bus_init_notify at machine-init-done); QEMU today links the
 *   device when it is plugged (virt_machine_device_plug_cb), which is also
 *   after board init (the vgic's CTRL_INIT) and before the first KVM_RUN.
 * - A failing KVM_IRQ_LINE is where QEMU's kvm_set_irq() calls perror() and
 *   abort(): the message is kept in {@link VfioPlatformPlug.errors} and the
 *   machine goes on.
 * - At a system reset nothing is torn down (see devices/vfio-platform.ts).
 *
 * The KVM and VFIO set-up calls, and KVM_IRQ_LINE, are recorded in the
 * machine's call log.
 */

import { KVM_ARM_IRQ_TYPE_SHIFT, KVM_ARM_IRQ_TYPE_SPI, KVM_CAP_IRQFD_RESAMPLE, KVM_IRQFD_FLAG_RESAMPLE, KvmError, type Irqfd } from "@irqlab/kvm";
import { VfioPlatformHostDevice, IRQLAB_PDEV_REGION_SIZE } from "../devices/vfio-platform-host.js";
import { VfioPlatformDevice, type VfioIrqfdBackend, type VfioPlatformState } from "../devices/vfio-platform.js";
import type { DeviceConfig } from "../config/machine-config.js";
import type { DeviceContext } from "./device-context.js";
import { parseVfioPlatformProps, TYPE_VFIO_PLATFORM, type VfioPlatformConfig } from "./vfio-platform-props.js";

/** Options of {@link plugVfioPlatform} beyond the device's properties. */
export interface VfioPlatformPlugOptions {
  /** The -device id (names the region on the bus and the trace track; default the host device name). */
  readonly id?: string;
  /**
   * kvm_resamplefds_enabled(): KVM_CAP_IRQFD_RESAMPLE, which QEMU reads at
   * kvm_init and vfio_start_irqfd_injection requires, even for an edge IRQ.
   * Default: what KVM_CHECK_EXTENSION answers — 1 on arm64, 0 on riscv64,
   * since Linux 6.4 the capability is per architecture (arm64, x86, s390,
   * powerpc without XIVE advertise it; RISC-V does not), so QEMU on RISC-V
   * always takes the userspace path. The option overrides it.
   */
  readonly kvmResamplefds?: boolean;
  /** Delay from the host line to VFIO's handler (ns; see VfioPlatformHostOptions.hostIrqNs). */
  readonly hostIrqNs?: number;
  /** Delay of QEMU's main-loop eventfd dispatch (ns; see VfioPlatformDeviceOptions.mainLoopNs). */
  readonly mainLoopNs?: number;
}

/** The device's state as the machine sees it (see {@link VfioPlatformPlug.status}). */
export interface VfioPlatformStatus extends VfioPlatformState {
  /** KVM holds an irqfd on the trigger eventfd now. */
  readonly irqfdActive: boolean;
  /** Injections KVM's irqfd made (irqfd_inject). */
  readonly irqfdInjections: number;
  /** KVM_IRQ_LINE calls of the userspace path (raise and lower). */
  readonly irqLineCalls: number;
  /** QEMU's fatal errors (kvm_set_irq's abort). */
  readonly errors: readonly string[];
}

/** A plugged vfio-platform device. */
export interface VfioPlatformPlug {
  readonly config: VfioPlatformConfig;
  /** QEMU's device (the region's MMIO handler). */
  readonly device: VfioPlatformDevice;
  /** The host device and VFIO driver behind it. */
  readonly host: VfioPlatformHostDevice;
  /** Guest-physical base and size of the region. */
  readonly base: number;
  readonly size: number;
  /** The GSI of its interrupt. */
  readonly gsi: number;
  /** What the guest sees: the SPI's INTID on arm64 (32 + GSI), the APLIC source on riscv64. */
  readonly guestIrq: number;
  /** QEMU's fatal errors so far. */
  readonly errors: readonly string[];
  /** Drives the host device's line (before or after QEMU opened it). */
  hostLine(level: boolean): void;
  /** One interrupt from the host device (see VfioPlatformHostDevice.hostPulse). */
  hostPulse(): void;
  /** Injection path, counters and state. */
  status(): VfioPlatformStatus;
}

/**
 * `-device vfio-platform,PROPS` on the machine of `ctx`: parses the
 * properties, creates the simulated host device and QEMU's device, maps the
 * region in the platform bus window, takes a line of the window, and at
 * machine-init-done starts injection (irqfd, or QEMU's userspace path).
 * @throws ConfigError for a bad property (QEMU's message) or a full window.
 */
export function plugVfioPlatform(ctx: DeviceContext, props: Readonly<Record<string, string>>, options: VfioPlatformPlugOptions = {}): VfioPlatformPlug {
  const config = parseVfioPlatformProps(props);
  const label = `${TYPE_VFIO_PLATFORM}:${options.id ?? config.name}`;
  const name = `${ctx.name}/${label}`;
  const host = new VfioPlatformHostDevice({
    tracer: ctx.tracer,
    name: `${name}/host`,
    trigger: config.trigger,
    lineHigh: config.lineHigh,
    timers: ctx.queue,
    ...(options.hostIrqNs === undefined ? {} : { hostIrqNs: options.hostIrqNs }),
  });
  const size = IRQLAB_PDEV_REGION_SIZE;
  const base = ctx.platformBus.allocateMmio(ctx.bus, size);
  const gsi = ctx.platformBus.allocateIrq();
  const arm = ctx.arch === "aarch64";
  const guestIrq = arm ? 32 + gsi : gsi;
  const kvmIrq = arm ? ((KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | guestIrq) >>> 0 : gsi;
  const errors: string[] = [];
  let irqLineCalls = 0;
  let irqfd: Irqfd | undefined;

  const device = new VfioPlatformDevice({
    tracer: ctx.tracer,
    name,
    host,
    timers: ctx.queue,
    newEventFd: () => ctx.routes.newEventFd(),
    noMmap: config.noMmap,
    mmapTimeoutMs: config.mmapTimeoutMs,
    irqfdAllowed: config.irqfd,
    calls: ctx.calls,
    ...(options.mainLoopNs === undefined ? {} : { mainLoopNs: options.mainLoopNs }),
    // qemu_set_irq() on the sysbus IRQ: the in-kernel irqchip's input (kvm_arm_gicv3_set_irq / the AIA's), KVM_IRQ_LINE.
    irq: (level) => {
      irqLineCalls++;
      try {
        ctx.calls.call("KVM_IRQ_LINE", `irq=0x${kvmIrq.toString(16)} level=${level ? 1 : 0}`, () => {
          ctx.vm.irqLine(kvmIrq, level ? 1 : 0);
        });
      } catch (e) {
        if (!(e instanceof KvmError)) throw e;
        errors.push(`kvm_set_irq: ${e.message}`); // perror("kvm_set_irq"); abort()
      }
    },
  });
  ctx.bus.map(base, size, device, label);

  const kvm: VfioIrqfdBackend = {
    addIrqfdNotifier: (trigger, resample) => {
      const flags = resample === undefined ? 0 : KVM_IRQFD_FLAG_RESAMPLE;
      const arg = `fd=${trigger.fd} gsi=${gsi}${resample === undefined ? "" : ` flags=RESAMPLE resamplefd=${resample.fd}`}`;
      try {
        ctx.calls.call("KVM_IRQFD", arg, () => {
          ctx.vm.irqfd({ fd: trigger, gsi, flags, ...(resample === undefined ? {} : { resamplefd: resample }) });
        });
      } catch (e) {
        if (e instanceof KvmError) return e.code;
        throw e;
      }
      irqfd = ctx.vm.irqfds.irqfds.find((f) => f.fd === trigger);
      return undefined;
    },
  };
  const resamplefds = options.kvmResamplefds ?? ctx.vm.checkExtension(KVM_CAP_IRQFD_RESAMPLE) > 0;
  // platform_bus_link_device → sysbus_connect_irq → connect_irq_notifier.
  ctx.addMachineInitDoneNotifier(() => {
    device.startIrqfdInjection(kvm, resamplefds);
  });
  ctx.addResetHandler(() => {
    device.systemReset();
  });

  return {
    config,
    device,
    host,
    base,
    size,
    gsi,
    guestIrq,
    errors,
    hostLine: (level) => {
      host.hostLine(level);
    },
    hostPulse: () => {
      host.hostPulse();
    },
    status: () => {
      const f = irqfd;
      return {
        ...device.state(),
        irqfdActive: f !== undefined && ctx.vm.irqfds.irqfds.includes(f),
        irqfdInjections: f?.injections ?? 0,
        irqLineCalls,
        errors: [...errors],
      };
    },
  };
}

/**
 * `-device vfio-platform,...` from a machine configuration (a
 * DeviceConfig): {@link plugVfioPlatform} with its properties and id. Its
 * shape is the machine's DevicePlug, for `MachineOptions.drivers`.
 */
export function plugVfioPlatformDevice(ctx: DeviceContext, device: DeviceConfig, options: Omit<VfioPlatformPlugOptions, "id"> = {}): VfioPlatformPlug {
  return plugVfioPlatform(ctx, device.props, { ...options, ...(device.id === undefined ? {} : { id: device.id }) });
}
