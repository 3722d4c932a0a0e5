/**
 * The KVM side of a `vfio-pci` function (hw/vfio/pci.c): for each MSI-X
 * vector the guest unmasks, a GSI routed to the vector's message and an
 * irqfd bound to it (vfio_add_kvm_msi_virq, vfio_connect_kvm_msi_virq), and
 * the host interrupt behind the vector registered as an IRQ-bypass producer
 * on the eventfd it signals (VFIO_DEVICE_SET_IRQS → vfio_msi_set_vector_signal
 * → irq_bypass_register_producer). When that eventfd is the irqfd's, KVM's
 * consumer meets the producer and may forward the host interrupt (GICv4.1
 * vLPIs: seed 001). Torn down on reset and when the guest disables MSI-X.
 */

import { KVM_IRQFD_FLAG_DEASSIGN, type EventFd, type IrqBypassProducer } from "@irqlab/kvm";
import type { MsiMessage } from "../devices/interrupt.js";
import type { MsiVectorBackend, VfioTrigger } from "../devices/pci/vfio-pci-backend.js";
import type { DeviceContext } from "./device-context.js";

interface VectorRoute {
  readonly gsi: number;
  readonly fd: EventFd;
}

/** MsiVectorBackend through KVM_SET_GSI_ROUTING, KVM_IRQFD and the host's IRQ-bypass manager. */
export class VfioPciKvmBackend implements MsiVectorBackend {
  /** Route per vector while the vector is in use. */
  readonly #routes = new Map<number, VectorRoute>();
  /** Registered producer per host vector. */
  readonly #producers = new Map<number, IrqBypassProducer>();
  /** What each host vector signals now. */
  readonly triggers = new Map<number, VfioTrigger>();

  constructor(
    private readonly ctx: DeviceContext,
    /** The device's name (traces, the KVM call log). */
    private readonly name: string,
    /** Linux IRQ number of host vector 0; vector k is firstHostIrq + k. */
    readonly firstHostIrq: number,
  ) {}

  /** The GSI and eventfd of a vector in use. */
  route(vector: number): VectorRoute | undefined {
    return this.#routes.get(vector);
  }

  addRoute(vector: number, msg: MsiMessage, requesterId: number): void {
    const { routes, calls, vm } = this.ctx;
    const gsi = routes.addMsiRoute(msg, requesterId);
    routes.commit();
    const fd = routes.newEventFd();
    calls.call("KVM_IRQFD", `${this.name} vector ${vector} fd=${fd.fd} gsi=${gsi}`, () => {
      vm.irqfd({ fd, gsi });
    });
    this.#routes.set(vector, { gsi, fd });
  }

  updateRoute(vector: number, msg: MsiMessage, requesterId: number): void {
    const r = this.#routes.get(vector);
    if (r === undefined) return;
    this.ctx.routes.updateMsiRoute(r.gsi, msg, requesterId);
    this.ctx.routes.commit();
  }

  removeRoute(vector: number): void {
    const r = this.#routes.get(vector);
    if (r === undefined) return;
    const { routes, calls, vm } = this.ctx;
    calls.call("KVM_IRQFD", `${this.name} vector ${vector} fd=${r.fd.fd} gsi=${r.gsi} DEASSIGN`, () => {
      vm.irqfd({ fd: r.fd, gsi: r.gsi, flags: KVM_IRQFD_FLAG_DEASSIGN });
    });
    routes.release(r.gsi);
    routes.commit();
    this.#routes.delete(vector);
  }

  setTrigger(vector: number, trigger: VfioTrigger): void {
    this.#unregister(vector);
    this.triggers.set(vector, trigger);
    if (trigger !== "irqfd") return;
    const r = this.#routes.get(vector);
    if (r === undefined) return;
    const producer: IrqBypassProducer = { irq: this.firstHostIrq + vector };
    this.ctx.kvm.irqBypass.registerProducer(producer, r.fd);
    this.#producers.set(vector, producer);
  }

  disableIndex(): void {
    for (const v of [...this.#producers.keys()]) this.#unregister(v);
    this.triggers.clear();
  }

  signalIrqfd(vector: number): void {
    this.#routes.get(vector)?.fd.signal();
  }

  #unregister(vector: number): void {
    const p = this.#producers.get(vector);
    if (p === undefined) return;
    this.ctx.kvm.irqBypass.unregisterProducer(p);
    this.#producers.delete(vector);
  }
}
