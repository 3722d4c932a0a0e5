/**
 * Test kit: resolved MachineConfigs for the virt option sets the tests use,
 * as the command-line parser would produce them (QEMU's -smp derivation
 * "prefers cores": sockets, clusters and threads default to 1).
 */

import type { MachineConfig, SmpConfig } from "../src/index.js";

const MiB = 2 ** 20;

/** `-smp cpus[,maxcpus=][,sockets=][,clusters=][,cores=][,threads=]`, derived as QEMU ≥ 6.2 does. */
export function smp(cpus: number, o: Partial<Omit<SmpConfig, "cpus">> = {}): SmpConfig {
  const maxcpus = o.maxcpus ?? cpus;
  const sockets = o.sockets ?? 1;
  const clusters = o.clusters ?? 1;
  const threads = o.threads ?? 1;
  const cores = o.cores ?? maxcpus / (sockets * clusters * threads);
  return { cpus, maxcpus, drawers: 1, books: 1, sockets, dies: 1, clusters, modules: 1, cores, threads };
}

const common = {
  devices: [],
  startPaused: false,
  host: { harts: 16, guestFiles: 7, kernel: "linux-6.19" },
} as const;

/** qemu-system-aarch64 -accel kvm -cpu host -M virt,gic-version=3[,…]. */
export function armConfig(
  o: {
    smp?: SmpConfig;
    ramBytes?: number;
    its?: boolean;
    highmem?: boolean;
    highmemRedists?: boolean;
    highmemEcam?: boolean;
    highmemMmio?: boolean;
    cpu?: string;
  } = {},
): MachineConfig {
  return {
    ...common,
    arch: "aarch64",
    machine: {
      type: "virt",
      gicVersion: 3,
      its: o.its ?? true,
      highmem: o.highmem ?? true,
      highmemRedists: o.highmemRedists ?? true,
      highmemEcam: o.highmemEcam ?? true,
      highmemMmio: o.highmemMmio ?? true,
      cpuHotplug: "off",
      vgicInit: "board-init",
    },
    accel: { type: "kvm", kernelIrqchip: "on", riscvAia: "auto", failEntry: "stop" },
    smp: o.smp ?? smp(1),
    ramBytes: o.ramBytes ?? 128 * MiB,
    cpu: o.cpu ?? "host",
  };
}

/** qemu-system-riscv64 -accel kvm[,kernel-irqchip=] -cpu host -M virt,aia=…[,aia-guests=]. */
export function riscvConfig(
  o: {
    smp?: SmpConfig;
    ramBytes?: number;
    aia?: "none" | "aplic" | "aplic-imsic";
    aiaGuests?: number;
    kernelIrqchip?: "on" | "off" | "split";
  } = {},
): MachineConfig {
  return {
    ...common,
    arch: "riscv64",
    machine: { type: "virt", aia: o.aia ?? "aplic-imsic", aiaGuests: o.aiaGuests ?? 0 },
    accel: { type: "kvm", kernelIrqchip: o.kernelIrqchip ?? "on", riscvAia: "auto", failEntry: "stop" },
    smp: o.smp ?? smp(1),
    ramBytes: o.ramBytes ?? 128 * MiB,
    cpu: "host",
  };
}
