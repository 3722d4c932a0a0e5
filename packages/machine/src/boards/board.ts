/**
 * What a board (the `virt` machine of one architecture) does at machine
 * init, in QEMU's order: create the VM (accelerator phase), then in board
 * init the RAM, the CPUs and the in-kernel interrupt controller, and the
 * devices; at machine-init-done the late KVM set-up and the device tree in
 * RAM; at reset, the boot state of every CPU.
 */

import type { Vcpu, Vm } from "@irqlab/kvm";
import type { MmioBus } from "@irqlab/sim";
import type { KvmCallLog } from "../core/kvm-call-log.js";
import type { KvmRoutes } from "../wiring/kvm-routes.js";
import type { PlatformBus } from "../wiring/platform-bus.js";
import type { MachineHost } from "../host/machine-host.js";
import type { MachineConfig } from "../config/machine-config.js";

/** The part of the machine a board works on. */
export interface BoardContext {
  readonly config: MachineConfig;
  readonly host: MachineHost;
  /** Every KVM ioctl goes through it, so the machine's set-up can be compared with QEMU's. */
  readonly calls: KvmCallLog;
  /** The VM's GSI routing table (created once the VM exists). */
  readonly routes: (vm: Vm) => KvmRoutes;
  /** The machine's address space for everything that exits to userspace (KVM_EXIT_MMIO). */
  readonly bus: MmioBus;
  /** Output of the guest's console. */
  readonly console: (byte: number) => void;
  /** The name of the machine (traces, VM name). */
  readonly name: string;
}

/** One possible CPU (QEMU's CPUArchId in possible_cpus). */
export interface BoardCpuSlot {
  /** cpu_index. */
  readonly index: number;
  /** KVM vCPU id (kvm_arch_vcpu_id). */
  readonly vcpuId: number;
  /** MPIDR_EL1 affinity (arm64) or hart id (riscv64): fixed for the slot. */
  readonly archId: number;
  /** Present at boot (index < smp.cpus). */
  readonly present: boolean;
}

/** A board after board init. */
export interface Board {
  readonly vm: Vm;
  /** The VM's GSI routing table. */
  readonly routes: KvmRoutes;
  /** The platform bus window for dynamic sysbus devices. */
  readonly platformBus: PlatformBus;
  /** The PCIe ECAM window, 32-bit MMIO window and the base of MSI GSIs. */
  readonly pcie: { readonly ecam: { readonly base: number; readonly size: number }; readonly mmio: { readonly base: number; readonly size: number } };
  /** Every possible CPU, by cpu_index. */
  readonly slots: readonly BoardCpuSlot[];
  /** The device tree the guest boots with. */
  readonly fdt: Uint8Array;
  /** Guest-physical address of the device tree in RAM. */
  readonly fdtAddress: number;
  /** Creates (or finds, when pre-created and parked) the vCPU of a slot and initialises it: kvm_init_vcpu + kvm_arch_init_vcpu. */
  createVcpu(slot: BoardCpuSlot): Vcpu;
  /** The registers a CPU starts with at reset (x0.. / a0..). */
  bootRegs(slot: BoardCpuSlot): readonly number[];
  /** machine-init-done: late KVM set-up (vgic addresses) and the device tree written to RAM. */
  machineInitDone(): void;
  /** system reset: the board's devices (irqchip resets, UART). */
  reset(): void;
  /** A CPU's reset through KVM (arm64: KVM_ARM_VCPU_INIT again; riscv64: its mp_state). */
  resetCpu(slot: BoardCpuSlot, vcpu: Vcpu): void;
}
