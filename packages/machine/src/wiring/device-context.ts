/**
 * What a `-device` needs from its machine to plug in: the VM and its
 * address space for MMIO, the GSI routing table and eventfds for irqfds
 * (as QEMU's VFIO devices use them), the machine's init-done notifiers and
 * reset handlers, the platform bus for dynamic sysbus devices, and the
 * recording of KVM calls.
 */

import type { Kvm, Vm } from "@irqlab/kvm";
import type { EventQueue, MmioBus, Tracer } from "@irqlab/sim";
import type { MachineArch } from "../config/machine-config.js";
import type { KvmCallLog } from "../core/kvm-call-log.js";
import type { KvmRoutes } from "./kvm-routes.js";
import type { PlatformBus } from "./platform-bus.js";

/** A machine as a device sees it. */
export interface DeviceContext {
  readonly arch: MachineArch;
  /** The machine's name (traces). */
  readonly name: string;
  readonly kvm: Kvm;
  readonly vm: Vm;
  /** The machine's MMIO address space (KVM_EXIT_MMIO). */
  readonly bus: MmioBus;
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  readonly calls: KvmCallLog;
  readonly routes: KvmRoutes;
  /** The platform bus for dynamic sysbus devices. */
  readonly platformBus: PlatformBus;
  /** qemu_add_machine_init_done_notifier(). */
  addMachineInitDoneNotifier(fn: () => void): void;
  /** Host interrupt numbers (Linux IRQs) for a passthrough device's vectors; returns the first of `n`. */
  allocateHostIrqs(n: number): number;
  /** qemu_register_reset(): run at every system reset. */
  addResetHandler(fn: () => void): void;
}
