/**
 * The VM-level irqfd machinery: KVM_IRQFD (assign / deassign, resamplefd),
 * KVM_SET_GSI_ROUTING, KVM_SIGNAL_MSI, the ack notifier resamplefd follows,
 * and each irqfd as an irq-bypass consumer (virt/kvm/eventfd.c
 * kvm_irqfd_assign, kvm_irqfd_deassign, irqfd_wakeup, irqfd_inject,
 * irqfd_resampler_ack, kvm_irq_routing_update; virt/kvm/irqchip.c kvm_set_irq,
 * kvm_send_userspace_msi, kvm_notify_acked_irq; arch/arm64/kvm/arm.c
 * kvm_arch_irq_bypass_add_producer / del_producer, kvm_arch_update_irqfd_routing;
 * arch/arm64/kvm/vgic/vgic-irqfd.c vgic_irqfd_set_irq, kvm_arch_set_irq_inatomic).
 *
 * Injection runs synchronously in the eventfd writer's context (the wake-up
 * callback): the count is drained, then every route of the GSI is driven.
 * Once the in-kernel irqchip is initialised, arm64's and RISC-V's
 * kvm_arch_set_irq_inatomic() succeed for irqchip and MSI routes and pass
 * level 1 only (vgic-irqfd.c: "Injecting SPIs is always possible in atomic
 * context as long as the damn vgic is initialized"; riscv vm.c), so an edge
 * SPI latches pending and a level-configured one stays asserted until a
 * resampler or KVM_IRQ_LINE lowers it. Before that (-EWOULDBLOCK) the
 * irqfd_inject work pulses the line, 1 then 0, unless a resampler holds it.
 * After a level EOI of a pin the resampler of its GSI lowers the line once
 * and signals every resamplefd of the GSI.
 */

import type { EventFd, EventFdWake, EventFdWakeTarget } from "./eventfd.js";
import type { IrqBypassConsumer, IrqBypassProducer } from "./irq-bypass.js";
import {
  GsiRoutingTable,
  KVM_IRQCHIP_NUM_PINS_ARM64,
  KVM_IRQCHIP_NUM_PINS_RISCV,
  KVM_IRQ_ROUTING_IRQCHIP,
  KVM_IRQ_ROUTING_MSI,
  KVM_MSI_VALID_DEVID,
  type MsiRoute,
  type RoutingEntry,
  type StoredMsiRoute,
  type StoredRoute,
} from "./gsi-routing.js";
import { KvmError } from "../errno.js";
import type { KvmMsi } from "../irqchip.js";
import type { Vm } from "../vm.js";
import type { TrackId } from "@irqlab/sim";

/** KVM_IRQFD_FLAG_DEASSIGN. */
export const KVM_IRQFD_FLAG_DEASSIGN = 1 << 0;
/** KVM_IRQFD_FLAG_RESAMPLE. */
export const KVM_IRQFD_FLAG_RESAMPLE = 1 << 1;

/** struct kvm_irqfd. */
export interface IrqfdArgs {
  /** The eventfd that triggers the interrupt. */
  readonly fd: EventFd;
  /** The GSI it injects. */
  readonly gsi: number;
  /** KVM_IRQFD_FLAG_DEASSIGN and/or KVM_IRQFD_FLAG_RESAMPLE. */
  readonly flags?: number;
  /** With KVM_IRQFD_FLAG_RESAMPLE: signalled at each level EOI. */
  readonly resamplefd?: EventFd;
}


interface Resampler {
  readonly gsi: number;
  readonly irqfds: Irqfd[];
}

/**
 * One assigned irqfd (struct kvm_kernel_irqfd). It is the eventfd's priority
 * waiter itself ({@link eventfdWake}), and it is the {@link KvmMsi} it injects:
 * irqfd_update copies the GSI's MSI route into the irqfd (irqfd->irq_entry),
 * so a wake-up reads the irqfd and not the routing table.
 */
export class Irqfd implements IrqBypassConsumer, EventFdWakeTarget, KvmMsi {
  /** The MSI route cached for bypass (irqfd->irq_entry), if the GSI has one. */
  msiRoute: StoredMsiRoute | undefined;
  /** The routes of the GSI (irqfd_update: re-resolved at each KVM_SET_GSI_ROUTING). */
  routes: readonly StoredRoute[] = [];
  /** The connected bypass producer (VFIO vector), if any. */
  producer: IrqBypassProducer | undefined;
  /** Injections done. */
  injections = 0;
  /** @internal */
  resampler: Resampler | undefined;
  /** {@link msiRoute}'s message, copied when routes change (zero without one); the VM writes these, users only read them. */
  addressLo = 0;
  addressHi = 0;
  data = 0;
  flags = 0;
  devid = 0;

  constructor(
    readonly owner: VmIrqfds,
    readonly fd: EventFd,
    readonly gsi: number,
    readonly resamplefd: EventFd | undefined,
  ) {}

  /** @internal irqfd_update: the GSI's MSI route, if it has one route and that is an MSI, with its message copied here. */
  setMsiRoute(route: StoredMsiRoute | undefined): void {
    this.msiRoute = route;
    this.addressLo = route?.addressLo ?? 0;
    this.addressHi = route?.addressHi ?? 0;
    this.data = route?.data ?? 0;
    this.flags = route?.flags ?? 0;
    this.devid = route?.devid ?? 0;
  }

  /** @internal irqfd_wakeup(): EPOLLIN drains the eventfd and injects, EPOLLHUP deassigns. */
  eventfdWake(fd: EventFd, why: EventFdWake): void {
    if (why === "in") {
      fd.drain();
      this.owner.inject(this);
    } else this.owner.deactivate(this);
  }

  addProducer(producer: IrqBypassProducer): void {
    this.producer = producer;
    if (this.msiRoute) this.owner.vm.irqchip?.setForwarding?.(producer.irq, this.msiRoute);
  }

  delProducer(producer: IrqBypassProducer): void {
    if (this.msiRoute) this.owner.vm.irqchip?.unsetForwarding?.(producer.irq);
    this.producer = undefined;
  }
}

function sameMsi(a: MsiRoute, b: RoutingEntry | undefined): boolean {
  return b?.type === KVM_IRQ_ROUTING_MSI && a.addressLo === b.addressLo && a.addressHi === b.addressHi && a.data === b.data && (a.flags ?? 0) === (b.flags ?? 0) && (a.devid ?? 0) === (b.devid ?? 0);
}

/** The irqfds, routing table and resamplers of one VM. */
export class VmIrqfds {
  readonly #irqfds: Irqfd[] = [];
  readonly #resamplers = new Map<number, Resampler>();
  #routing: GsiRoutingTable;
  #chipPin = new Map<number, number>();
  readonly #track: TrackId;

  constructor(readonly vm: Vm) {
    this.#routing = new GsiRoutingTable([], this.#numPins());
    this.#track = vm.tracer.track(vm.name, "irqfd", "device");
  }

  /** The current routing table. */
  get routing(): GsiRoutingTable {
    return this.#routing;
  }

  /** The assigned irqfds. */
  get irqfds(): readonly Irqfd[] {
    return this.#irqfds;
  }

  /** KVM_IRQFD. */
  irqfd(args: IrqfdArgs): void {
    const io = "KVM_IRQFD";
    const flags = args.flags ?? 0;
    if ((flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE)) !== 0) this.vm.fail("EINVAL", io, `flags 0x${flags.toString(16)}`);
    if ((flags & KVM_IRQFD_FLAG_DEASSIGN) !== 0) {
      // kvm_irqfd_deassign: only eventfd_ctx_fdget can fail (EBADF); an fd/GSI pair
      // that matches no irqfd of this VM is still a success.
      if (args.fd.closed) this.vm.fail("EBADF", io, `eventfd ${args.fd.fd} is closed`);
      const f = this.#irqfds.find((x) => x.fd === args.fd && x.gsi === args.gsi);
      if (f) this.deactivate(f);
      return;
    }
    const chip = this.vm.irqchip;
    if (chip === undefined || chip.intcInitialized?.() === false) this.vm.fail("EAGAIN", io, "the in-kernel irqchip is not initialised (kvm_arch_intc_initialized)");
    if (!Number.isInteger(args.gsi) || args.gsi < 0) this.vm.fail("EINVAL", io, `gsi ${args.gsi}`);
    if (args.fd.closed) this.vm.fail("EBADF", io, `eventfd ${args.fd.fd} is closed`);
    const resample = (flags & KVM_IRQFD_FLAG_RESAMPLE) !== 0;
    if (resample) {
      if (args.resamplefd === undefined || args.resamplefd.closed) this.vm.fail("EBADF", io, "KVM_IRQFD_FLAG_RESAMPLE needs an open resamplefd");
      if (this.#routing.routes(args.gsi).some((r) => r.type !== KVM_IRQ_ROUTING_IRQCHIP)) this.vm.fail("EINVAL", io, `gsi ${args.gsi} is not an irqchip route: resampling needs a level line`);
    }
    // kvm_irqfd_register: the irqfd is the eventfd's exclusive priority waiter, so an
    // eventfd already bound as an irqfd, in this VM or any other, is EBUSY.
    if (args.fd.hasPriorityWaiter) this.vm.fail("EBUSY", io, `eventfd ${args.fd.fd} is already bound to an irqfd`);
    const f = new Irqfd(this, args.fd, args.gsi, resample ? args.resamplefd : undefined);
    f.setMsiRoute(this.#msiRoute(args.gsi));
    f.routes = this.#routing.routes(args.gsi);
    if (resample) {
      let r = this.#resamplers.get(args.gsi);
      if (!r) {
        r = { gsi: args.gsi, irqfds: [] };
        this.#resamplers.set(args.gsi, r);
      }
      r.irqfds.push(f);
      f.resampler = r;
    }
    this.#irqfds.push(f);
    args.fd.addPriorityWaiterExclusive(f);
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.#track, "irqfd", "irqfd-assign", { fd: args.fd.fd, gsi: args.gsi, resample: resample ? 1 : 0 });
    try {
      this.vm.kvm.irqBypass.registerConsumer(f, args.fd);
    } catch (e) {
      // Non-fatal in Linux: "irq bypass consumer (token %p) registration fails".
      if (!(e instanceof KvmError)) throw e;
      if (this.vm.tracer.enabled) this.vm.tracer.instant(this.#track, "irqfd", "bypass-register-failed", { fd: args.fd.fd, errno: e.errno });
    }
    // A signal already pending at registration is delivered (vfs_poll → EPOLLIN → irqfd_inject).
    if (args.fd.count > 0) this.inject(f);
  }

  /** KVM_SET_GSI_ROUTING: replaces the table, re-resolves every irqfd, stops forwarding whose MSI changed. */
  setGsiRouting(entries: readonly RoutingEntry[], flags = 0): void {
    const table = new GsiRoutingTable(entries, this.#numPins(), flags);
    this.#routing = table;
    const chipPin = new Map<number, number>();
    for (const e of table.entries) if (e.type === KVM_IRQ_ROUTING_IRQCHIP) chipPin.set(e.irqchip * 65536 + e.pin, e.gsi);
    this.#chipPin = chipPin;
    for (const f of this.#irqfds) {
      const old = f.msiRoute;
      f.setMsiRoute(this.#msiRoute(f.gsi));
      f.routes = table.routes(f.gsi);
      if (f.producer && old && !sameMsi(old, f.msiRoute)) this.vm.irqchip?.unsetForwarding?.(f.producer.irq);
    }
  }

  /** KVM_SIGNAL_MSI: EINVAL without an in-kernel irqchip or with flags other than KVM_MSI_VALID_DEVID. */
  signalMsi(msi: KvmMsi): number {
    const io = "KVM_SIGNAL_MSI";
    const chip = this.vm.irqchip;
    if (chip === undefined) this.vm.fail("EINVAL", io, "no in-kernel irqchip");
    if ((msi.flags & ~KVM_MSI_VALID_DEVID) !== 0) this.vm.fail("EINVAL", io, `flags 0x${msi.flags.toString(16)}`);
    if (chip.injectMsi === undefined) this.vm.fail("ENODEV", io, `${chip.name} takes no MSIs`);
    const tr = this.vm.tracer;
    if (!tr.enabled) return chip.injectMsi(msi);
    // kvm_send_userspace_msi → kvm_set_msi; Linux traces kvm_msi_set_irq on x86 only, irqlab on both.
    const prev = tr.beginCause(this.#track, "irq", "kvm_msi_set_irq", { address: `0x${(msi.addressHi * 2 ** 32 + msi.addressLo).toString(16)}`, data: msi.data, devid: msi.devid });
    try {
      const r = chip.injectMsi(msi);
      if (r === 0) tr.instant(this.#track, "irq", "msi-blocked", { devid: msi.devid, data: msi.data });
      return r;
    } finally {
      tr.endCause(prev);
    }
  }

  /** kvm_notify_acked_irq(irqchip, pin): the resampler of the pin's GSI de-asserts once and signals every resamplefd. */
  acked(irqchip: number, pin: number): void {
    const gsi = this.#chipPin.get(irqchip * 65536 + pin);
    if (gsi === undefined) return;
    const r = this.#resamplers.get(gsi);
    if (r === undefined) return;
    this.#setIrq(gsi, false);
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.#track, "irqfd", "resample", { gsi, fds: r.irqfds.length });
    for (const f of r.irqfds) if (f.resamplefd && !f.resamplefd.closed) f.resamplefd.signal();
  }

  /** @internal irqfd_inject. */
  inject(f: Irqfd): void {
    f.injections++;
    const tr = this.vm.tracer;
    if (!tr.enabled) {
      this.#inject(f);
      return;
    }
    // irqfd_inject → kvm_set_irq(kvm, KVM_USERSPACE_IRQ_SOURCE_ID, gsi, 1): trace_kvm_set_irq(gsi, level, irq_source_id).
    const prev = tr.beginCause(this.#track, "irq", "kvm_set_irq", { gsi: f.gsi, level: 1, irq_source_id: 0, fd: f.fd.fd });
    try {
      this.#inject(f);
    } finally {
      tr.endCause(prev);
    }
  }

  #inject(f: Irqfd): void {
    // irqfd_wakeup injects a GSI of one MSI route from irqfd->irq_entry, the copy irqfd_update keeps in the irqfd.
    if (f.msiRoute !== undefined) this.#injectEntry(f);
    else this.#setRoutes(f.routes, f.gsi, true);
    // The pulse is irqfd_inject's, taken only when the atomic path would block.
    const atomic = this.vm.irqchip?.intcInitialized?.() ?? true;
    if (!atomic && f.resampler === undefined) this.#setRoutes(f.routes, f.gsi, false);
  }

  /** @internal Deassign or EPOLLHUP: no further injection; the last irqfd of a resampler de-asserts its line. */
  deactivate(f: Irqfd): void {
    const i = this.#irqfds.indexOf(f);
    if (i < 0) return;
    this.#irqfds.splice(i, 1);
    f.fd.removeWaiter(f);
    this.vm.kvm.irqBypass.unregisterConsumer(f);
    const r = f.resampler;
    if (r) {
      r.irqfds.splice(r.irqfds.indexOf(f), 1);
      if (r.irqfds.length === 0) {
        this.#resamplers.delete(r.gsi);
        this.#setIrq(r.gsi, false);
      }
    }
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.#track, "irqfd", "irqfd-deassign", { fd: f.fd.fd, gsi: f.gsi });
  }

  /** kvm_set_irq(gsi, level) over every route of the GSI; a failing route is traced, as Linux ignores it. */
  #setIrq(gsi: number, level: boolean): void {
    this.#setRoutes(this.#routing.routes(gsi), gsi, level);
  }

  #setRoutes(routes: readonly StoredRoute[], gsi: number, level: boolean): void {
    for (const e of routes) this.#setRoute(e, gsi, level);
  }

  #setRoute(e: StoredRoute, gsi: number, level: boolean): void {
    const chip = this.vm.irqchip;
    if (chip === undefined) return;
    try {
      if (e.type === KVM_IRQ_ROUTING_IRQCHIP) chip.setIrqchipPin?.(e.irqchip, e.pin, level);
      else if (level) chip.injectMsi?.(e); // kvm_set_msi: only on level 1
    } catch (err) {
      this.#injectFailed(err, gsi);
    }
  }

  /** kvm_set_msi of the irqfd's own copy of its MSI route. */
  #injectEntry(f: Irqfd): void {
    const chip = this.vm.irqchip;
    if (chip === undefined) return;
    try {
      chip.injectMsi?.(f);
    } catch (err) {
      this.#injectFailed(err, f.gsi);
    }
  }

  /** A route that failed: counted and traced, as Linux ignores it; anything but a KvmError is rethrown. */
  #injectFailed(err: unknown, gsi: number): void {
    if (!(err instanceof KvmError)) throw err;
    this.vm.tracer.counters.add("irqfd.inject_failed");
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.#track, "irqfd", "inject-failed", { gsi, errno: err.errno });
  }

  #msiRoute(gsi: number): StoredMsiRoute | undefined {
    const rs = this.#routing.routes(gsi);
    const r = rs.length === 1 ? rs[0] : undefined;
    return r?.type === KVM_IRQ_ROUTING_MSI ? r : undefined;
  }

  #numPins(): number {
    return this.vm.irqchip?.irqchipNumPins ?? (this.vm.arch === "arm64" ? KVM_IRQCHIP_NUM_PINS_ARM64 : KVM_IRQCHIP_NUM_PINS_RISCV);
  }
}
