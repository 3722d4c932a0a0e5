/**
 * Machine configurations for tests, resolved as the command-line parser
 * resolves `-M virt -accel kvm -smp N -m 128M` on each architecture.
 */
import type { MachineConfig, SmpConfig } from "../src/config/machine-config.js";

function smp(cpus: number, maxcpus = cpus): SmpConfig {
  return { cpus, maxcpus, drawers: 1, books: 1, sockets: 1, dies: 1, clusters: 1, modules: 1, cores: maxcpus, threads: 1 };
}

/** qemu-system-aarch64 -M virt,gic-version=3 -accel kvm -cpu host -smp cpus[,maxcpus] -m 128M. */
export function armConfig(o: { cpus?: number; maxcpus?: number; its?: boolean; cpuHotplug?: "off" | "precreate" | "naive"; vgicInit?: "board-init" | "first-run"; startPaused?: boolean; harts?: number } = {}): MachineConfig {
  return {
    arch: "aarch64",
    machine: { type: "virt", gicVersion: 3, its: o.its ?? true, highmem: true, highmemRedists: true, highmemEcam: true, highmemMmio: true, cpuHotplug: o.cpuHotplug ?? "off", vgicInit: o.vgicInit ?? "board-init" },
    accel: { type: "kvm", kernelIrqchip: "on", riscvAia: "auto", failEntry: "stop" },
    smp: smp(o.cpus ?? 1, o.maxcpus),
    ramBytes: 128 * 1024 * 1024,
    cpu: "host",
    devices: [],
    startPaused: o.startPaused ?? false,
    host: { harts: o.harts ?? 4, guestFiles: 5, kernel: "linux-6.19" },
  };
}

/** qemu-system-riscv64 -M virt,aia=aplic-imsic[,aia-guests=G] -accel kvm,riscv-aia=MODE -smp N -m 128M. */
export function riscvConfig(o: { cpus?: number; aiaGuests?: number; riscvAia?: "emul" | "hwaccel" | "auto"; failEntry?: "stop" | "pin-next"; harts?: number; guestFiles?: number; kernel?: "linux-6.18" | "linux-6.19" } = {}): MachineConfig {
  return {
    arch: "riscv64",
    machine: { type: "virt", aia: "aplic-imsic", aiaGuests: o.aiaGuests ?? 0 },
    accel: { type: "kvm", kernelIrqchip: "on", riscvAia: o.riscvAia ?? "auto", failEntry: o.failEntry ?? "stop" },
    smp: smp(o.cpus ?? 1),
    ramBytes: 128 * 1024 * 1024,
    cpu: "host",
    devices: [],
    startPaused: false,
    host: { harts: o.harts ?? 4, guestFiles: o.guestFiles ?? 5, kernel: o.kernel ?? "linux-6.19" },
  };
}
