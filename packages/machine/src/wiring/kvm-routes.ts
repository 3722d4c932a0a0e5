/**
 * QEMU's GSI routing table of a VM (accel/kvm/kvm-all.c kvm_irqchip_add_irq_route,
 * kvm_irqchip_add_msi_route, kvm_irqchip_update_msi_route,
 * kvm_irqchip_release_virq, kvm_irqchip_commit_routes). KVM_SET_GSI_ROUTING
 * replaces the whole table, so QEMU keeps every entry — the irqchip pins the
 * board adds and the MSI routes devices add — and commits all of them. New
 * MSI routes take the lowest free GSI above the pins (kvm_irqchip_get_virq
 * → next_virq), which is where QEMU's virq numbers come from.
 */

import { EventFd, KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQ_ROUTING_MSI, KVM_MSI_VALID_DEVID, type RoutingEntry, type Vm } from "@irqlab/kvm";
import type { KvmCallLog } from "../core/kvm-call-log.js";
import type { MsiMessage } from "../devices/interrupt.js";

/** The routing table of one VM, as QEMU's KVMState holds it. */
export class KvmRoutes {
  readonly #entries = new Map<number, RoutingEntry>();
  #nextFd = 100;

  constructor(
    private readonly vm: Vm,
    private readonly calls: KvmCallLog,
    /** Whether MSI routes carry the requester id (arm64 with an ITS: kvm_msi_use_devid). */
    private readonly useDevid: boolean,
  ) {}

  /** The entries, by GSI. */
  get entries(): readonly RoutingEntry[] {
    return [...this.#entries.values()];
  }

  /** kvm_irqchip_add_irq_route(): GSI `gsi` → pin `pin` of irqchip 0 (not committed). */
  addIrqchipRoute(gsi: number, pin: number): void {
    this.#entries.set(gsi, { gsi, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin });
  }

  /** kvm_irqchip_add_msi_route(): a new GSI for `msg` (not committed). */
  addMsiRoute(msg: MsiMessage, requesterId: number): number {
    let gsi = 0;
    while (this.#entries.has(gsi)) gsi++;
    this.#entries.set(gsi, this.#msi(gsi, msg, requesterId));
    return gsi;
  }

  /** kvm_irqchip_update_msi_route() (not committed). */
  updateMsiRoute(gsi: number, msg: MsiMessage, requesterId: number): void {
    this.#entries.set(gsi, this.#msi(gsi, msg, requesterId));
  }

  /** kvm_irqchip_release_virq() (not committed). */
  release(gsi: number): void {
    this.#entries.delete(gsi);
  }

  /** kvm_irqchip_commit_routes(): KVM_SET_GSI_ROUTING with every entry. */
  commit(): void {
    const entries = [...this.#entries.values()].sort((a, b) => a.gsi - b.gsi);
    const msis = entries.filter((e) => e.type === KVM_IRQ_ROUTING_MSI).length;
    this.calls.call("KVM_SET_GSI_ROUTING", `${entries.length - msis} irqchip + ${msis} msi routes`, () => {
      this.vm.setGsiRouting(entries);
    });
  }

  /** A new eventfd with a descriptor number of its own (deterministic, for traces). */
  newEventFd(): EventFd {
    return new EventFd(0, this.#nextFd++);
  }

  #msi(gsi: number, msg: MsiMessage, requesterId: number): RoutingEntry {
    return {
      gsi,
      type: KVM_IRQ_ROUTING_MSI,
      addressLo: msg.addressLo,
      addressHi: msg.addressHi,
      data: msg.data,
      ...(this.useDevid ? { flags: KVM_MSI_VALID_DEVID, devid: requesterId } : {}),
    };
  }
}
