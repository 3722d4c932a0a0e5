/**
 * The texts the command line prints on stdout: -help (in the layout of
 * system/vl.c help(): version, usage, headed option blocks from
 * qemu-options.hx, footer), -version (vl.c version()), -machine help
 * (machine_help_func) and -accel help. -help lists only what irqlab
 * implements, with QEMU's wording where QEMU's option does the same thing,
 * and says which QEMU release irqlab follows.
 */

import type { MachineArch } from "../config/machine-config.js";
import type { CommandLineExtension } from "./option-table.js";
import { QEMU_VERSION } from "./arm-virt-class.js";
import { ACCELERATORS } from "./accel-config.js";
import { DEFAULT_CPU } from "./cpu-model.js";
import { DEFAULT_HOST } from "./run-options.js";

/** irqlab's version (packages/machine/package.json). */
export const IRQLAB_VERSION = "0.1.0";

/** -version: vl.c version(), saying what this is and which QEMU it follows. */
export function versionText(): string {
  return (
    `irqlab emulator version ${IRQLAB_VERSION} (command line of QEMU emulator version ${QEMU_VERSION})\n` +
    "irqlab is a model of the KVM/QEMU interrupt-virtualization stack, not QEMU.\n" +
    "QEMU is Copyright (c) 2003-2026 Fabrice Bellard and the QEMU Project developers\n"
  );
}

/** -machine help: vl.c machine_help_func()'s list ("%-20s %s"), with the alias line first. */
export function machineListText(arch: MachineArch): string {
  const rows =
    arch === "aarch64"
      ? [
          ["virt", `QEMU 11.1 ARM Virtual Machine (alias of virt-11.1)`],
          ["virt-11.1", "QEMU 11.1 ARM Virtual Machine"],
        ]
      : [["virt", "RISC-V VirtIO board"]];
  return (
    "Supported machines are:\n" +
    rows.map(([n, d]) => `${n!.padEnd(20)} ${d!}\n`).join("") +
    `(irqlab models only these, with the defaults of QEMU ${QEMU_VERSION})\n`
  );
}

/** -accel help: the accelerator classes of the binary. */
export function accelListText(): string {
  return `Accelerators supported in QEMU binary:\n${ACCELERATORS.map((a) => `${a}\n`).join("")}`;
}

function machineProps(arch: MachineArch): string {
  if (arch === "aarch64") {
    return (
      "                gic-version=3|host|max selects the GIC (irqlab models GICv3)\n" +
      "                its=on|off, msi=auto|its|off control the ITS (default: an ITS)\n" +
      "                highmem=on|off, highmem-redists=on|off, highmem-ecam=on|off,\n" +
      "                highmem-mmio=on|off control the regions above 4 GiB (default=on)\n" +
      "                dumpdtb=FILE writes the device tree to FILE and quits\n" +
      "                x-cpu-hotplug=off|precreate|naive (irqlab) absent CPU slots:\n" +
      "                  upstream (off), pre-created and parked (precreate), created at plug (naive)\n" +
      "                x-vgic-init=board-init|first-run (irqlab) when the vgic is initialised\n"
    );
  }
  return (
    "                aia=none|aplic|aplic-imsic selects the interrupt controller (default=none)\n" +
    "                aia-guests=0..7 IMSIC guest interrupt files per hart (default=0)\n" +
    "                dumpdtb=FILE writes the device tree to FILE and quits\n"
  );
}

/** -h / -help: vl.c help(), for what irqlab implements. */
export function helpText(arch: MachineArch, extensions: readonly CommandLineExtension[]): string {
  const prog = `irqlab-system-${arch}`;
  const riscvAia = arch === "riscv64" ? "                riscv-aia=emul|hwaccel|auto selects the in-kernel AIA mode (default=auto)\n" : "";
  const ext = extensions.map((e) => e.help).join("");
  return (
    versionText() +
    `usage: ${prog} [options]\n\n` +
    `irqlab takes qemu-system-${arch}'s command line, parsed as QEMU ${QEMU_VERSION} parses it,\n` +
    `and runs the 'virt' machine under KVM with the defaults of QEMU ${QEMU_VERSION}\n` +
    `(-machine virt${arch === "aarch64" ? " is virt-11.1" : ""}). QEMU options it does not model are refused.\n\n` +
    "Standard options:\n" +
    "-h or -help     display this help and exit\n" +
    "-version        display version information and exit\n" +
    "-machine [type=]name[,prop=value[,...]]\n" +
    "                selects emulated machine ('-machine help' for list)\n" +
    "                property accel=kvm selects accelerator (kvm is the only one)\n" +
    machineProps(arch) +
    "                ('-machine virt,help' lists every property)\n" +
    `-cpu cpu        select CPU ('-cpu help' for list; default=${DEFAULT_CPU[arch]})\n` +
    "-accel [accel=]accelerator[,prop=value[,...]]\n" +
    "                select accelerator (kvm, the default; use 'help' for a list)\n" +
    "                kernel-irqchip=on|off|split controls accelerated irqchip support (default=on)\n" +
    riscvAia +
    "                x-fail-entry=stop|pin-next (irqlab) what the VMM does on KVM_EXIT_FAIL_ENTRY\n" +
    (arch === "aarch64" ? "                x-gicv4=off|linux-6.16|linux-6.6|rfc-shared-vlpi (irqlab) host GICv4.1 vLPI forwarding\n" : "") +
    "-smp [[cpus=]n][,maxcpus=maxcpus][,sockets=sockets]" + (arch === "aarch64" ? "[,clusters=clusters]" : "") + "\n" +
    "               [,cores=cores][,threads=threads]\n" +
    "                set the number of initial CPUs to 'n' [default=1]\n" +
    "                maxcpus= maximum number of total CPUs, including\n" +
    "                offline CPUs for hotplug, etc\n" +
    "-m [size=]megs  configure guest RAM (default=128M; no memory hotplug)\n" +
    "-device driver[,prop=value[,...]]\n" +
    "                add device (based on driver)\n" +
    "                use '-device help' to print all possible drivers\n" +
    "                use '-device driver,help' to print all possible properties\n" +
    "-name string1[,process=string2][,debug-threads=on|off]\n" +
    "                set the name of the guest\n" +
    "-enable-kvm     enable KVM full virtualization support\n" +
    "-nodefaults     don't create default devices\n\n" +
    "Display options:\n" +
    "-display none   no display (the only one)\n" +
    "-nographic      disable graphical output and redirect serial I/Os to console\n" +
    "-serial dev     redirect the serial port to char device 'dev'\n" +
    "                (stdio, mon:stdio, null or none)\n\n" +
    "Boot options:\n" +
    "-kernel image   boot this guest image: irqlab:NAME or the path of an ES module\n\n" +
    "Debug/Expert options:\n" +
    "-S              freeze CPU at startup (use 'c' to start execution)\n" +
    "-no-user-config do not load default user-provided config files at startup\n" +
    ext +
    "\nirqlab options (also spelled --option):\n" +
    "-until duration stop after this much virtual time (ns, us, ms, s: 10ms, 2s)\n" +
    "-trace file     write the run's trace to 'file' (not QEMU's trace events)\n" +
    "-seed number    seed irqlab's random streams (default=0)\n" +
    "-host harts=n[,guest-files=g][,kernel=linux-6.18|linux-6.19]\n" +
    `                the host the VM runs on (default: harts=${String(DEFAULT_HOST.harts)},guest-files=${String(DEFAULT_HOST.guestFiles)},kernel=${DEFAULT_HOST.kernel})\n\n` +
    "When using -nographic, the guest's console is on stdio.\n"
  );
}
