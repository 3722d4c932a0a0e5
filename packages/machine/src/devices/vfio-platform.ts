/**
 * A `vfio-platform` device: QEMU's VFIOPlatformDevice for a host platform
 * device with one MMIO region and one interrupt (hw/vfio/platform.c
 * vfio_init_intp, vfio_set_trigger_eventfd, vfio_intp_interrupt,
 * vfio_platform_eoi, vfio_intp_mmap_enable, vfio_start_eventfd_injection,
 * vfio_set_resample_eventfd, vfio_start_irqfd_injection; hw/vfio/region.c
 * vfio_region_read/write; hw/vfio/device.c vfio_device_reset_handler).
 * The host device and Linux's VFIO driver behind it are a
 * {@link VfioPlatformHostDevice}; KVM is reached through an injected
 * {@link VfioIrqfdBackend} (kvm_irqchip_add_irqfd_notifier) and the sysbus
 * interrupt output (an {@link IrqLine}: qemu_set_irq, KVM_IRQ_LINE).
 *
 * Injection starts when the platform bus connects the interrupt
 * ({@link VfioPlatformDevice.startIrqfdInjection}, the connect-irq notifier):
 * - irqfd: KVM_IRQFD on the trigger eventfd, with the unmask eventfd as
 *   resamplefd for an automasked (level) IRQ; then VFIO signals the trigger
 *   eventfd (nothing in QEMU reads it) and, for a level IRQ, unmasks the host
 *   IRQ from the unmask eventfd. QEMU sees no interrupt at all.
 * - userspace (when x-irqfd=off, without KVM_CAP_IRQFD_RESAMPLE, or when
 *   KVM_IRQFD fails — QEMU falls back silently, goto fail_irqfd): the main
 *   loop reads the trigger eventfd (`mainLoopNs` after it is signalled) and
 *   vfio_intp_interrupt marks the IRQ active, traps the region (slow path)
 *   and raises the sysbus IRQ. The next trapped access to the region — any
 *   read or write, after it is done — is taken as the guest's EOI
 *   (vfio_platform_eoi): the sysbus IRQ is lowered and a level host IRQ
 *   unmasked (VFIO_DEVICE_SET_IRQS UNMASK, DATA_NONE), firing again if the
 *   line is still high. The mmap timer (mmap-timeout-ms, QEMU_CLOCK_VIRTUAL)
 *   restores the fast path once no IRQ is active; accesses through the fast
 *   path are not seen by QEMU and EOI nothing (x-no-mmap: always trapped).
 *   In irqlab every access exits to the VMM; the fast path only changes what
 *   QEMU does with it, not its cost.
 *
 * With one IRQ, vfio_intp_interrupt's pending queue (another IRQ active) is
 * never used. A system reset changes nothing here: vfio-platform has no
 * reset callback, and vfio_device_reset_handler's vfio_hot_reset_multi is
 * "not implemented yet" (returns −1) for platform devices, so the irqfd, the
 * VFIO signalling and the device's line all stay as they were.
 */

import type { EventFd } from "@irqlab/kvm";
import { ConfigError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import { DeviceLog, type DeviceTimers, type DeviceTraceOptions } from "./device-io.js";
import type { IrqLine } from "./interrupt.js";
import {
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  type VfioIrqSet,
  type VfioPlatformHostDevice,
  type VfioPlatformHostState,
} from "./vfio-platform-host.js";

/** vfio_device_irq_unmask(): VFIO_DEVICE_SET_IRQS ACTION_UNMASK, DATA_NONE, index 0. */
const UNMASK_IRQ: VfioIrqSet = { flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, index: 0, start: 0, count: 1 };

/** QEMU's default mmap-timeout-ms. */
export const VFIO_PLATFORM_MMAP_TIMEOUT_MS = 1100;
/** Default delay from the trigger eventfd being signalled to QEMU's main loop handling it: assumed 2 us. */
export const DEFAULT_MAIN_LOOP_NS = 2_000;

/** How the device's interrupt reaches the guest. */
export type VfioInjection = "none" | "irqfd" | "userspace";

/** KVM as QEMU's accel/kvm offers it to a VFIO device (kvm_irqchip_add_irqfd_notifier for the sysbus IRQ). */
export interface VfioIrqfdBackend {
  /**
   * KVM_IRQFD: `trigger` injects the device's GSI, `resample` (if given) is
   * signalled at each level EOI. Returns undefined, or the errno name of the
   * failure ("EAGAIN"), where QEMU gets a negative errno.
   */
  addIrqfdNotifier(trigger: EventFd, resample: EventFd | undefined): string | undefined;
}

/** Records an ioctl the way the machine's KVM call log does (KvmCallLog.call). */
export interface IoctlRecorder {
  call<T>(ioctl: string, arg: string, fn: () => T): T;
}

/** Construction options of a {@link VfioPlatformDevice}. */
export interface VfioPlatformDeviceOptions extends DeviceTraceOptions {
  /** The host device and its VFIO driver. */
  readonly host: VfioPlatformHostDevice;
  /** The sysbus interrupt output (qemu_irq): the userspace path drives it. */
  readonly irq: IrqLine;
  /** event_notifier_init(): a new eventfd. */
  readonly newEventFd: () => EventFd;
  /** The main loop's fd dispatch and the mmap timer. */
  readonly timers: DeviceTimers;
  /** x-no-mmap (default false). */
  readonly noMmap?: boolean;
  /** mmap-timeout-ms (default 1100; 0: the fast path is never restored). */
  readonly mmapTimeoutMs?: number;
  /** x-irqfd (default true). */
  readonly irqfdAllowed?: boolean;
  /** Delay of the main loop's eventfd dispatch (default {@link DEFAULT_MAIN_LOOP_NS}; at least 1). */
  readonly mainLoopNs?: number;
  /** Where VFIO_DEVICE_SET_IRQS calls are recorded (the machine's call log). */
  readonly calls?: IoctlRecorder;
}

/** What QEMU holds for the device's interrupt, with counters (see {@link VfioPlatformDevice.state}). */
export interface VfioPlatformState {
  readonly injection: VfioInjection;
  /** Why the irqfd path is not used: "x-irqfd=off", "no KVM resamplefds", "no KVM", or "KVM_IRQFD: ERRNO". */
  readonly fallbackReason: string | undefined;
  /** VFIOINTp.state: active between vfio_intp_interrupt and the EOI (userspace path). */
  readonly active: boolean;
  /** The region's mmap (fast path) is enabled. */
  readonly mmapEnabled: boolean;
  /** vfio_intp_interrupt runs (userspace path). */
  readonly userspaceInterrupts: number;
  /** EOIs that completed an active IRQ. */
  readonly eois: number;
  /** "Error when clearing fd" reports (the handler found the eventfd empty). */
  readonly clearErrors: number;
  /** System resets seen (nothing is reset: see the module doc). */
  readonly resets: number;
  /** The host side. */
  readonly host: VfioPlatformHostState;
}

/** QEMU's vfio-platform device (one region, one IRQ). Map it on the machine's bus. */
export class VfioPlatformDevice implements MmioDevice {
  /** The host device behind it. */
  readonly host: VfioPlatformHostDevice;
  /** intp->interrupt: the trigger eventfd. */
  readonly interrupt: EventFd;
  /** intp->unmask: the resample/unmask eventfd (automasked IRQs only). */
  readonly unmask: EventFd | undefined;
  readonly #log: DeviceLog;
  readonly #irq: IrqLine;
  readonly #timers: DeviceTimers;
  readonly #calls: IoctlRecorder | undefined;
  readonly #noMmap: boolean;
  readonly #mmapTimeoutNs: number;
  readonly #irqfdAllowed: boolean;
  readonly #mainLoopNs: number;
  readonly #automasked: boolean;
  #injection: VfioInjection = "none";
  #fallbackReason: string | undefined;
  #active = false;
  #mmapEnabled: boolean;
  #mmapTimer = -1;
  #dispatchScheduled = false;
  #userspaceInterrupts = 0;
  #eois = 0;
  #clearErrors = 0;
  #resets = 0;
  /** qemu_set_fd_handler(fd, vfio_intp_interrupt): the main loop polls the trigger eventfd. */
  readonly #fdHandler = (_fd: EventFd, why: "in" | "hup"): void => {
    if (why !== "in" || this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    this.#timers.scheduleAfter(this.#mainLoopNs, VfioPlatformDevice.#dispatch, this);
  };
  static readonly #dispatch = (d: VfioPlatformDevice): void => {
    d.#dispatchScheduled = false;
    d.#intpInterrupt();
  };
  static readonly #mmapEnable = (d: VfioPlatformDevice): void => {
    d.#mmapTimer = -1;
    d.#intpMmapEnable();
  };

  /** vfio_platform_realize → vfio_populate_device → vfio_init_intp. */
  constructor(options: VfioPlatformDeviceOptions) {
    this.host = options.host;
    this.#log = new DeviceLog(options, "vfio-platform");
    this.#irq = options.irq;
    this.#timers = options.timers;
    this.#calls = options.calls;
    this.#noMmap = options.noMmap ?? false;
    const timeout = options.mmapTimeoutMs ?? VFIO_PLATFORM_MMAP_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeout) || timeout < 0 || timeout > 0xffff_ffff) throw new ConfigError(`mmap-timeout-ms ${timeout} is not a uint32`);
    this.#mmapTimeoutNs = timeout * 1_000_000;
    this.#irqfdAllowed = options.irqfdAllowed ?? true;
    const loop = options.mainLoopNs ?? DEFAULT_MAIN_LOOP_NS;
    if (!Number.isSafeInteger(loop) || loop < 1) throw new ConfigError(`mainLoopNs ${loop} must be a positive integer`);
    this.#mainLoopNs = loop;
    this.#mmapEnabled = !this.#noMmap; // vfio_region_mmap at realize
    this.#automasked = (this.host.irqInfoFlags & VFIO_IRQ_INFO_AUTOMASKED) !== 0;
    this.interrupt = options.newEventFd();
    this.unmask = this.#automasked ? options.newEventFd() : undefined;
  }

  // ---- the region (vfio_region_read / vfio_region_write) ----

  read(offset: number, size: AccessSize, wide: WideValue): number {
    const v = this.host.read(offset, size, wide);
    if (this.#trapped()) this.#eoi();
    return v;
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    this.host.write(offset, size, value, hi);
    if (this.#trapped()) this.#eoi();
  }

  // ---- interrupt injection ----

  /** How the interrupt is injected now. */
  get injection(): VfioInjection {
    return this.#injection;
  }

  /**
   * vfio_start_irqfd_injection(), the sysbus connect-irq notifier: irqfd
   * through `kvm` when allowed and KVM_IRQFD succeeds, else the userspace
   * path. `resamplefds` is kvm_resamplefds_enabled() (KVM_CAP_IRQFD_RESAMPLE),
   * required even for an edge IRQ.
   */
  startIrqfdInjection(kvm: VfioIrqfdBackend | undefined, resamplefds: boolean): void {
    if (this.#injection !== "none") throw new ConfigError(`${this.#log.name}: the IRQ is already connected (${this.#injection})`);
    let reason: string | undefined;
    if (kvm === undefined) reason = "no KVM";
    else if (!resamplefds) reason = "no KVM resamplefds";
    else if (!this.#irqfdAllowed) reason = "x-irqfd=off";
    else {
      const errno = kvm.addIrqfdNotifier(this.interrupt, this.unmask);
      if (errno !== undefined) reason = `KVM_IRQFD: ${errno}`;
    }
    if (reason !== undefined) {
      this.#fallbackReason = reason;
      this.startEventfdInjection();
      return;
    }
    this.#setIrqs("TRIGGER", VFIO_IRQ_SET_ACTION_TRIGGER, this.interrupt); // vfio_set_trigger_eventfd(intp, NULL)
    if (this.unmask !== undefined) this.#setIrqs("UNMASK", VFIO_IRQ_SET_ACTION_UNMASK, this.unmask); // vfio_set_resample_eventfd
    this.#injection = "irqfd";
    this.#trace("start-irqfd-injection", this.interrupt.fd);
  }

  /** vfio_start_eventfd_injection(): QEMU handles the trigger eventfd itself. */
  startEventfdInjection(): void {
    if (this.#injection === "userspace") return;
    this.interrupt.addWaiter(this.#fdHandler);
    this.#setIrqs("TRIGGER", VFIO_IRQ_SET_ACTION_TRIGGER, this.interrupt);
    this.#injection = "userspace";
    this.#trace("start-eventfd-injection", this.interrupt.fd);
    if (this.interrupt.count > 0) this.#fdHandler(this.interrupt, "in");
  }

  /**
   * vfio_device_reset_handler() at a system reset: needs_reset is set and
   * vfio_platform_hot_reset_multi() does nothing (−1). Counted only.
   */
  systemReset(): number {
    this.#resets++;
    return -1;
  }

  // ---- helpers ----

  #setIrqs(action: string, flags: number, fd: EventFd): void {
    const set: VfioIrqSet = { flags: VFIO_IRQ_SET_DATA_EVENTFD | flags, index: 0, start: 0, count: 1, eventfd: fd };
    const call = (): void => {
      this.host.setIrqs(set);
    };
    if (this.#calls === undefined) call();
    else this.#calls.call("VFIO_DEVICE_SET_IRQS", `index=0 ${action} eventfd=${fd.fd}`, call);
  }

  /** Accesses QEMU sees: all with x-no-mmap, else only while the slow path is set. */
  #trapped(): boolean {
    return this.#noMmap || !this.#mmapEnabled;
  }

  /** vfio_intp_interrupt(). */
  #intpInterrupt(): void {
    if (this.interrupt.read() === undefined) {
      this.#clearErrors++; // error_report("Error when clearing fd=%d ...")
      this.#log.tracer.counters.add("vfio.clear_errors");
    }
    this.#userspaceInterrupts++;
    this.#active = true;
    this.#mmapEnabled = false; // slow path: the next access is trapped
    this.#trace("intp-interrupt", 1);
    this.#irq(true);
    if (this.#mmapTimeoutNs > 0) {
      if (this.#mmapTimer >= 0) this.#timers.cancel(this.#mmapTimer);
      this.#mmapTimer = this.#timers.scheduleAfter(this.#mmapTimeoutNs, VfioPlatformDevice.#mmapEnable, this);
    }
  }

  /** vfio_platform_eoi(): the first trapped access after an interrupt completes it. */
  #eoi(): void {
    if (!this.#active) return;
    this.#active = false;
    this.#eois++;
    this.#trace("eoi", 0);
    this.#irq(false);
    if (this.#automasked) this.host.setIrqs(UNMASK_IRQ);
  }

  /** vfio_intp_mmap_enable(): the fast path comes back once no IRQ is active. */
  #intpMmapEnable(): void {
    if (this.#active) {
      this.#mmapTimer = this.#timers.scheduleAfter(this.#mmapTimeoutNs, VfioPlatformDevice.#mmapEnable, this);
      return;
    }
    this.#mmapEnabled = !this.#noMmap;
  }

  #trace(name: string, value: number): void {
    const t = this.#log.tracer;
    if (t.enabled) t.instant(this.#log.track, "vfio", name, { value });
  }

  // ---- snapshot ----

  /** A plain copy of QEMU's IRQ state, the counters and the host's state. */
  state(): VfioPlatformState {
    return {
      injection: this.#injection,
      fallbackReason: this.#fallbackReason,
      active: this.#active,
      mmapEnabled: this.#mmapEnabled,
      userspaceInterrupts: this.#userspaceInterrupts,
      eois: this.#eois,
      clearErrors: this.#clearErrors,
      resets: this.#resets,
      host: this.host.state(),
    };
  }
}
