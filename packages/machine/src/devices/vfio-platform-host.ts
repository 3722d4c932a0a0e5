/**
 * The host side of a `vfio-platform` passthrough: a platform device on the
 * host with one MMIO region and one interrupt line, the host interrupt
 * controller and irq core as they deliver that line, and Linux's
 * vfio-platform driver for it (drivers/vfio/platform/vfio_platform_irq.c
 * vfio_platform_irq_init, vfio_set_trigger, vfio_automasked_irq_handler,
 * vfio_irq_handler, vfio_platform_set_irq_mask/unmask, the unmask virqfd of
 * drivers/vfio/virqfd.c; UAPI names and values from include/uapi/linux/vfio.h).
 *
 * The device's registers are irqlab's stand-in for a real device's (an
 * xgmac's interrupt status registers in seed 003): one 4 KiB region with
 * {@link IRQLAB_PDEV_ID}, {@link IRQLAB_PDEV_STATUS} (the line and a latched
 * event bit), {@link IRQLAB_PDEV_ACK} (any write lowers the line and clears
 * the event: what a driver's interrupt-status write does), a count of
 * interrupts raised and a {@link IRQLAB_PDEV_RAISE} doorbell. Registers are
 * 32-bit; other sizes, unknown offsets and writes to read-only registers
 * read 0 / are ignored and count as guest errors.
 *
 * The interrupt, as the host sees it:
 * - level (`"level"`): VFIO_IRQ_INFO_MASKABLE | AUTOMASKED. While the line is
 *   high and the IRQ is requested and unmasked, the host takes it: the
 *   handler masks it (disable_irq_nosync) and signals the trigger eventfd
 *   once. It stays masked until VFIO_IRQ_SET_ACTION_UNMASK — from the unmask
 *   eventfd (virqfd: QEMU passes KVM's resamplefd) or with DATA_NONE (QEMU's
 *   EOI on the userspace path) — and fires again then if the line is still
 *   high.
 * - edge (`"edge"`): VFIO_IRQ_INFO_EVENTFD only; each rising edge is latched
 *   in the host interrupt controller's pending bit and signals the eventfd
 *   once when taken; edges that come while one is pending merge (one bit).
 *   An edge while nobody has requested the IRQ stays pending in the
 *   distributor (the SPI is disabled, its pending bit is not) and is taken
 *   as soon as request_irq enables it.
 * - The device is never reset by the host (no reset module is modelled),
 *   so a line left high by a previous owner is high when VFIO requests the
 *   IRQ: seed 003's "as soon as VFIO driver calls request_irq, the IRQ hits".
 *
 * Taking a host interrupt is asynchronous: it happens `hostIrqNs` after the
 * line (or the enable) that causes it, in virtual time, never in the caller's
 * stack — an unmask from KVM's resampler therefore cannot recurse into KVM.
 */

import { ConfigError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import { KvmError, type EventFd } from "@irqlab/kvm";
import { DeviceLog, type DeviceTimers, type DeviceTraceOptions } from "./device-io.js";

// ---- irqlab's register block (a stand-in for a real device's registers) ----

/** Size of the device's one MMIO region (a page: VFIO can mmap it). */
export const IRQLAB_PDEV_REGION_SIZE = 0x1000;
/** RO: identification, {@link IRQLAB_PDEV_ID_VALUE}. */
export const IRQLAB_PDEV_ID = 0x00;
/** RO: bit 0 LINE (the interrupt line now), bit 1 EVENT (raised since the last ACK), bit 2 EDGE (edge-triggered device). */
export const IRQLAB_PDEV_STATUS = 0x04;
/** WO: any write acknowledges: the line goes low and EVENT clears. */
export const IRQLAB_PDEV_ACK = 0x08;
/** RO: interrupts raised (rising edges of the line) since the device was created. */
export const IRQLAB_PDEV_COUNT = 0x0c;
/** WO: any write raises the interrupt as {@link VfioPlatformHostDevice.hostPulse} does. */
export const IRQLAB_PDEV_RAISE = 0x10;
/** "IRQL" in little-endian bytes. */
export const IRQLAB_PDEV_ID_VALUE = 0x4c51_5249;
/** STATUS.LINE. */
export const IRQLAB_PDEV_STATUS_LINE = 1 << 0;
/** STATUS.EVENT. */
export const IRQLAB_PDEV_STATUS_EVENT = 1 << 1;
/** STATUS.EDGE. */
export const IRQLAB_PDEV_STATUS_EDGE = 1 << 2;

// ---- include/uapi/linux/vfio.h ----

/** struct vfio_irq_info flags. */
export const VFIO_IRQ_INFO_EVENTFD = 1 << 0;
export const VFIO_IRQ_INFO_MASKABLE = 1 << 1;
export const VFIO_IRQ_INFO_AUTOMASKED = 1 << 2;
/** struct vfio_irq_set flags: data type. */
export const VFIO_IRQ_SET_DATA_NONE = 1 << 0;
export const VFIO_IRQ_SET_DATA_BOOL = 1 << 1;
export const VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2;
/** struct vfio_irq_set flags: action. */
export const VFIO_IRQ_SET_ACTION_MASK = 1 << 3;
export const VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5;
export const VFIO_IRQ_SET_DATA_TYPE_MASK = 0x7;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;

/** Default delay from a line (or enable) to the host's handler running: assumed 1 us. */
export const DEFAULT_HOST_IRQ_NS = 1_000;

/** How the device signals its interrupt. */
export type HostIrqTrigger = "edge" | "level";

/**
 * struct vfio_irq_set for VFIO_DEVICE_SET_IRQS on the device's IRQ. With
 * DATA_EVENTFD, `eventfd` undefined is fd −1 (tear down).
 */
export interface VfioIrqSet {
  readonly flags: number;
  readonly index: number;
  readonly start: number;
  readonly count: number;
  readonly eventfd?: EventFd | undefined;
  readonly bool?: boolean;
}

/** Construction options of a {@link VfioPlatformHostDevice}. */
export interface VfioPlatformHostOptions extends DeviceTraceOptions {
  /** Edge or level (default level, as device trees describe most platform devices). */
  readonly trigger?: HostIrqTrigger;
  /** The line is already high (a level device left asserting, or one edge already latched). */
  readonly lineHigh?: boolean;
  /** Where the host's interrupt delivery is scheduled. */
  readonly timers: DeviceTimers;
  /** Line-to-handler delay in ns (default {@link DEFAULT_HOST_IRQ_NS}; at least 1). */
  readonly hostIrqNs?: number;
}

/** Counters and state of the host side (see {@link VfioPlatformHostDevice.state}). */
export interface VfioPlatformHostState {
  readonly trigger: HostIrqTrigger;
  /** The device's interrupt line. */
  readonly line: boolean;
  /** VFIO holds the IRQ (a trigger eventfd is set: request_irq). */
  readonly requested: boolean;
  /** Masked by VFIO (automask or ACTION_MASK). */
  readonly masked: boolean;
  /** An edge latched in the host interrupt controller, not yet taken. */
  readonly edgePending: boolean;
  /** Rising edges of the line. */
  readonly raised: number;
  /** Host interrupts taken by VFIO's handler; each signalled the trigger eventfd once. */
  readonly signalled: number;
  /** ACTION_UNMASK that unmasked a masked IRQ. */
  readonly unmasks: number;
  /** Guest (or driver) writes to ACK. */
  readonly acks: number;
}

/** The host device, its interrupt and Linux's vfio-platform driver for it (IRQ index 0). */
export class VfioPlatformHostDevice implements MmioDevice {
  readonly trigger: HostIrqTrigger;
  readonly #log: DeviceLog;
  readonly #timers: DeviceTimers;
  readonly #irqNs: number;
  #line = false;
  #event = false;
  #raised = 0;
  #acks = 0;
  #edgePending = false;
  #masked = false;
  #triggerFd: EventFd | undefined;
  #unmaskFd: EventFd | undefined;
  #scheduled = false;
  #signalled = 0;
  #unmasks = 0;
  /** The virqfd waiter of the unmask eventfd (virqfd_wakeup). */
  readonly #virqfd = (fd: EventFd, why: "in" | "hup"): void => {
    if (why === "hup") {
      if (this.#unmaskFd === fd) this.#setUnmaskFd(undefined);
      return;
    }
    fd.drain();
    this.#unmask();
  };
  static readonly #take = (h: VfioPlatformHostDevice): void => {
    h.#takeIrq();
  };

  constructor(options: VfioPlatformHostOptions) {
    const trigger: string = options.trigger ?? "level";
    if (trigger !== "edge" && trigger !== "level") throw new ConfigError(`host IRQ trigger '${trigger}' is not edge or level`);
    this.trigger = trigger;
    const ns = options.hostIrqNs ?? DEFAULT_HOST_IRQ_NS;
    if (!Number.isSafeInteger(ns) || ns < 1) throw new ConfigError(`hostIrqNs ${ns} must be a positive integer`);
    this.#irqNs = ns;
    this.#timers = options.timers;
    this.#log = new DeviceLog(options, "vfio-platform-host");
    if (options.lineHigh === true) this.hostLine(true);
  }

  // ---- the device's line ----

  /** Drives the interrupt line. A rising edge counts as one interrupt raised (and, edge-triggered, latches one edge). */
  hostLine(level: boolean): void {
    if (level === this.#line) return;
    this.#line = level;
    if (!level) return;
    this.#raised++;
    this.#event = true;
    if (this.trigger === "edge") this.#edgePending = true;
    this.#trace("host-line", 1);
    this.#kick();
  }

  /**
   * One interrupt from the device: edge-triggered, a pulse (one edge);
   * level-sensitive, the line goes high and stays so until ACK.
   */
  hostPulse(): void {
    if (this.trigger === "edge") {
      this.hostLine(false);
      this.hostLine(true);
      this.hostLine(false);
    } else this.hostLine(true);
  }

  /** The line now. */
  get line(): boolean {
    return this.#line;
  }

  // ---- the region (pread/pwrite on the VFIO device fd, or an mmap of it) ----

  read(offset: number, size: AccessSize, wide: WideValue): number {
    wide.hi = 0;
    if (size !== 4 || (offset & 3) !== 0) return this.#bad("access", `read of ${size} bytes at 0x${offset.toString(16)}: registers are 32-bit`);
    switch (offset) {
      case IRQLAB_PDEV_ID:
        return IRQLAB_PDEV_ID_VALUE;
      case IRQLAB_PDEV_STATUS:
        return (this.#line ? IRQLAB_PDEV_STATUS_LINE : 0) | (this.#event ? IRQLAB_PDEV_STATUS_EVENT : 0) | (this.trigger === "edge" ? IRQLAB_PDEV_STATUS_EDGE : 0);
      case IRQLAB_PDEV_COUNT:
        return this.#raised >>> 0;
      case IRQLAB_PDEV_ACK:
      case IRQLAB_PDEV_RAISE:
        return 0; // write-only
      default:
        return this.#bad("offset", `read at bad offset 0x${offset.toString(16)}`);
    }
  }

  write(offset: number, size: AccessSize, _value: number, _hi: number): void {
    if (size !== 4 || (offset & 3) !== 0) {
      this.#bad("access", `write of ${size} bytes at 0x${offset.toString(16)}: registers are 32-bit`);
      return;
    }
    switch (offset) {
      case IRQLAB_PDEV_ACK:
        this.#acks++;
        this.#event = false;
        this.hostLine(false);
        return;
      case IRQLAB_PDEV_RAISE:
        this.hostPulse();
        return;
      case IRQLAB_PDEV_ID:
      case IRQLAB_PDEV_STATUS:
      case IRQLAB_PDEV_COUNT:
        this.#bad("read-only", `write to read-only register 0x${offset.toString(16)}`);
        return;
      default:
        this.#bad("offset", `write at bad offset 0x${offset.toString(16)}`);
    }
  }

  // ---- VFIO (vfio_platform_irq.c) ----

  /** VFIO_DEVICE_GET_IRQ_INFO flags of index 0 (vfio_platform_irq_init). */
  get irqInfoFlags(): number {
    return this.trigger === "level" ? VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED : VFIO_IRQ_INFO_EVENTFD;
  }

  /**
   * VFIO_DEVICE_SET_IRQS (vfio_platform_set_irqs_ioctl) on index 0.
   * @throws KvmError EINVAL for another index, a bad start/count or an
   * action the IRQ does not support (mask/unmask of an edge IRQ); ENOTTY
   * for an unknown action.
   */
  setIrqs(s: VfioIrqSet): void {
    const io = "VFIO_DEVICE_SET_IRQS";
    if (s.index !== 0) throw new KvmError("EINVAL", io, `index ${s.index}: the device has one IRQ`);
    const data = s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    switch (s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) {
      case VFIO_IRQ_SET_ACTION_TRIGGER:
        if (s.count === 0 && data === VFIO_IRQ_SET_DATA_NONE) {
          this.#setTrigger(undefined);
          return;
        }
        this.#one(s, io);
        if (data === VFIO_IRQ_SET_DATA_EVENTFD) this.#setTrigger(s.eventfd);
        else if (data === VFIO_IRQ_SET_DATA_NONE || s.bool === true) this.#handler(); // a software trigger
        return;
      case VFIO_IRQ_SET_ACTION_MASK:
      case VFIO_IRQ_SET_ACTION_UNMASK: {
        const unmask = (s.flags & VFIO_IRQ_SET_ACTION_UNMASK) !== 0;
        this.#one(s, io);
        if ((this.irqInfoFlags & VFIO_IRQ_INFO_MASKABLE) === 0) throw new KvmError("EINVAL", io, "the IRQ is not maskable (edge)");
        if (data === VFIO_IRQ_SET_DATA_EVENTFD) {
          if (!unmask) throw new KvmError("EINVAL", io, "mask eventfd is not implemented");
          this.#setUnmaskFd(s.eventfd);
        } else if (data === VFIO_IRQ_SET_DATA_NONE || s.bool === true) {
          if (unmask) this.#unmask();
          else this.#mask();
        }
        return;
      }
      default:
        throw new KvmError("ENOTTY", io, `flags 0x${s.flags.toString(16)}: no action`);
    }
  }

  // ---- helpers ----

  #one(s: VfioIrqSet, io: string): void {
    if (s.start !== 0 || s.count !== 1) throw new KvmError("EINVAL", io, `start ${s.start} count ${s.count}: the IRQ has one vector`);
  }

  /** vfio_set_trigger(): free_irq the old, request_irq (IRQ_NOAUTOEN) the new, enable unless masked. */
  #setTrigger(fd: EventFd | undefined): void {
    this.#triggerFd = fd;
    this.#trace(fd === undefined ? "free-irq" : "request-irq", fd?.fd ?? -1);
    this.#kick();
  }

  #setUnmaskFd(fd: EventFd | undefined): void {
    this.#unmaskFd?.removeWaiter(this.#virqfd); // vfio_virqfd_disable
    this.#unmaskFd = fd;
    if (fd === undefined) return;
    fd.addWaiter(this.#virqfd);
    if (fd.count > 0) this.#virqfd(fd, "in"); // vfs_poll at registration
  }

  #mask(): void {
    this.#masked = true;
  }

  /** vfio_platform_unmask(): enable_irq if masked; a high line is then taken again. */
  #unmask(): void {
    if (!this.#masked) return;
    this.#masked = false;
    this.#unmasks++;
    this.#trace("unmask", this.#line ? 1 : 0);
    this.#kick();
  }

  /** Schedules the host taking the interrupt, if it would. */
  #kick(): void {
    if (this.#scheduled || !this.#takeable()) return;
    this.#scheduled = true;
    this.#timers.scheduleAfter(this.#irqNs, VfioPlatformHostDevice.#take, this);
  }

  #takeable(): boolean {
    if (this.#triggerFd === undefined || this.#masked) return false;
    return this.trigger === "level" ? this.#line : this.#edgePending;
  }

  /** The host interrupt is taken: the handler runs if the line is still there. */
  #takeIrq(): void {
    this.#scheduled = false;
    if (!this.#takeable()) return;
    if (this.trigger === "edge") this.#edgePending = false;
    this.#handler();
  }

  /** vfio_automasked_irq_handler / vfio_irq_handler. */
  #handler(): void {
    const fd = this.#triggerFd;
    if (fd === undefined) return;
    if (this.trigger === "level") {
      if (this.#masked) return; // IRQ_NONE
      this.#masked = true; // disable_irq_nosync
    }
    this.#signalled++;
    this.#trace("host-irq", fd.fd);
    fd.signal();
  }

  #bad(what: string, message: string): number {
    this.#log.guestError(what, `${this.#log.name}: ${message}`);
    return 0;
  }

  #trace(name: string, value: number): void {
    const t = this.#log.tracer;
    if (t.enabled) t.instant(this.#log.track, "vfio", name, { value });
  }

  // ---- snapshot ----

  /** A plain copy of the line, VFIO's IRQ state and the counters. */
  state(): VfioPlatformHostState {
    return {
      trigger: this.trigger,
      line: this.#line,
      requested: this.#triggerFd !== undefined,
      masked: this.#masked,
      edgePending: this.#edgePending,
      raised: this.#raised,
      signalled: this.#signalled,
      unmasks: this.#unmasks,
      acks: this.#acks,
    };
  }
}
