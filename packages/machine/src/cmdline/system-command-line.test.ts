/**
 * Command lines QEMU 11.1.0 accepts, and the MachineConfig each resolves to.
 * Defaults come from QEMU: 128 MiB of RAM (machine_class_init), one CPU
 * (machine_initfn), the "max" CPU on arm virt under KVM
 * (virt_get_default_cpu_type) and "rv64" on riscv virt, KVM as the only
 * accelerator, GICv3 with an ITS (finalize_gic_version and
 * finalize_msi_controller on a vgic-v3 host), and a serial port that goes
 * nowhere without -nographic (no display's text console).
 */

import { describe, expect, test } from "vitest";
import type { AccelConfig, ArmVirtMachineConfig, MachineConfig, RiscvVirtMachineConfig, SmpConfig } from "../config/machine-config.js";
import { parseSystemCommandLine } from "./system-command-line.js";
import type { RunOptions } from "./run-options.js";

const SMP1: SmpConfig = { cpus: 1, maxcpus: 1, drawers: 1, books: 1, sockets: 1, dies: 1, clusters: 1, modules: 1, cores: 1, threads: 1 };
const KVM: AccelConfig = { type: "kvm", kernelIrqchip: "on", riscvAia: "auto", failEntry: "stop" };
const HOST = { harts: 4, guestFiles: 7, kernel: "linux-6.19" } as const;
const MiB = 1024 * 1024;

interface Overrides extends Partial<Omit<MachineConfig, "machine" | "accel" | "smp">> {
  readonly machine?: Partial<ArmVirtMachineConfig> | Partial<RiscvVirtMachineConfig>;
  readonly accel?: Partial<AccelConfig>;
  readonly smp?: Partial<SmpConfig>;
}

function arm(o: Overrides = {}): MachineConfig {
  const machine: ArmVirtMachineConfig = {
    type: "virt", gicVersion: 3, its: true, highmem: true, highmemRedists: true, highmemEcam: true, highmemMmio: true,
    cpuHotplug: "off", vgicInit: "board-init", ...(o.machine as Partial<ArmVirtMachineConfig> | undefined),
  };
  return { arch: "aarch64", ramBytes: 128 * MiB, cpu: "max", devices: [], serial: ["null"], host: HOST, startPaused: false, ...o, machine, accel: { ...KVM, ...o.accel }, smp: { ...SMP1, ...o.smp } };
}

function riscv(o: Overrides = {}): MachineConfig {
  const machine: RiscvVirtMachineConfig = { type: "virt", aia: "none", aiaGuests: 0, ...(o.machine as Partial<RiscvVirtMachineConfig> | undefined) };
  return { arch: "riscv64", ramBytes: 128 * MiB, cpu: "rv64", devices: [], serial: ["null"], host: HOST, startPaused: false, ...o, machine, accel: { ...KVM, ...o.accel }, smp: { ...SMP1, ...o.smp } };
}

function run(arch: "aarch64" | "riscv64", argv: readonly string[]): { config: MachineConfig; run: RunOptions; warnings: string[] } {
  const r = parseSystemCommandLine(arch, argv);
  if (r.kind !== "run") throw new Error(`expected a run, got ${r.kind}`);
  return { config: r.config, run: r.run, warnings: r.diagnostics.map((d) => d.text) };
}

const args = (s: string): string[] => s.split(" ").filter((a) => a !== "");

describe("good aarch64 command lines", () => {
  test.each<[string, MachineConfig]>([
    ["-M virt", arm()],
    // The usual KVM line of a QEMU user.
    ["-M virt -accel kvm -cpu host -smp 4 -m 1G -nographic -kernel irqlab:hello",
      arm({ cpu: "host", smp: { cpus: 4, maxcpus: 4, cores: 4 }, ramBytes: 1024 * MiB, serial: ["mon:stdio"], kernel: "irqlab:hello" })],
    // Arm's `pmu` CPU property; the properties are global ones applied in order: the last wins (QEMU 7.2 too).
    ["-M virt -cpu host,pmu=off", arm({ cpu: "host", cpuPmu: false })],
    ["-M virt -cpu max,pmu=on,pmu=no", arm({ cpuPmu: false })],
    ["-M virt -cpu max,pmu=no,pmu=y", arm({ cpuPmu: true })],
    // "--opt" is "-opt" (lookup_opt); "-m 512" is 512 MiB (parse_memory_options appends "M").
    ["--machine virt --smp 8,sockets=2 --m 512", arm({ smp: { cpus: 8, maxcpus: 8, sockets: 2, cores: 4 }, ramBytes: 512 * MiB })],
    ["-machine type=virt-11.1,gic-version=max,its=off -enable-kvm", arm({ machine: { its: false } })],
    ["-M virt,gic-version=host,msi=off", arm({ machine: { its: false } })],
    ["-M virt,gic-version=3,msi=its", arm()],
    // highmem=off leaves no room above 4 GiB for the other high regions (virt_set_high_memmap).
    ["-M virt,highmem=off", arm({ machine: { highmem: false, highmemRedists: false, highmemEcam: false, highmemMmio: false } })],
    ["-M virt,highmem-redists=off,highmem-ecam=off,highmem-mmio=on", arm({ machine: { highmemRedists: false, highmemEcam: false } })],
    // qapi_bool_parse: yes/true/y are on.
    ["-M virt,its=yes,highmem=true,highmem-ecam=y", arm()],
    // -M and -smp are merged: later keys win, earlier ones stay (keyval_merge).
    ["-M virt -M gic-version=3 -M its=on -smp 2 -smp maxcpus=4", arm({ smp: { cpus: 2, maxcpus: 4, cores: 4 } })],
    ["-M virt,smp.cpus=2,smp.sockets=2", arm({ smp: { cpus: 2, maxcpus: 2, sockets: 2 } })],
    ["-M virt,x-cpu-hotplug=precreate,x-vgic-init=first-run -smp 2,maxcpus=4",
      arm({ machine: { cpuHotplug: "precreate", vgicInit: "first-run" }, smp: { cpus: 2, maxcpus: 4, cores: 4 } })],
    ["-M virt,x-cpu-hotplug=naive -smp 1,maxcpus=2", arm({ machine: { cpuHotplug: "naive" }, smp: { maxcpus: 2, cores: 2 } })],
    ["-M virt -m 1.5G", arm({ ramBytes: 1536 * MiB })],
    ["-M virt -m 1024", arm({ ramBytes: 1024 * MiB })],
    ["-M virt -m size=2G", arm({ ramBytes: 2048 * MiB })],
    // A size of 0 is dropped: the machine's default applies.
    ["-M virt -m 0", arm()],
    // machine_set_mem rounds up to 8 KiB.
    ["-M virt -m 100k", arm({ ramBytes: 13 * 8192 })],
    ["-M virt -m 1G,maxmem=1G", arm({ ramBytes: 1024 * MiB })],
    ["-M virt -m 1G -m 2G", arm({ ramBytes: 2048 * MiB })],
    ["-M virt,accel=kvm", arm()],
    ["-M virt -accel accel=kvm,kernel-irqchip=on,x-fail-entry=pin-next", arm({ accel: { failEntry: "pin-next" } })],
    // "-machine kernel_irqchip=on": dashified, then sugar for kvm-accel.
    ["-M virt,kernel_irqchip=on", arm()],
    ["-M virt -S -name vm1,process=irq,debug-threads=on", arm({ startPaused: true, name: "vm1" })],
    ["-M virt -name guest=a,,b", arm({ name: "a,b" })],
    ["-M virt -display none -serial stdio", arm({ serial: ["stdio"] })],
    ["-M virt -serial none -serial mon:stdio", arm({ serial: ["none", "mon:stdio"] })],
    ["-M virt -nodefaults", arm({ serial: [] })],
    ["-M virt -nographic -nodefaults -serial stdio", arm({ serial: ["stdio"] })],
    ["-M virt,dumpdtb=virt.dtb", arm({ machine: { dumpdtb: "virt.dtb" } })],
    ["-M virt,kernel=irqlab:a -kernel irqlab:b", arm({ kernel: "irqlab:b" })],
    // Properties QEMU has and irqlab accepts at the values it models.
    ["-M virt,acpi=off,secure=off,virtualization=off,mte=off,ras=off,iommu=none,dtb-randomness=off,graphics=off,usb=off,mem-merge=off",
      arm()],
    ["-M virt,highmem-mmio-size=512G,virtio-mmio-transports=32,compact-highmem=off,x-oem-id=IRQLAB", arm()],
    ["-M virt -smp 16,sockets=2,clusters=2,cores=2,threads=2 --host harts=16",
      arm({ smp: { cpus: 16, maxcpus: 16, sockets: 2, clusters: 2, cores: 2, threads: 2 }, host: { ...HOST, harts: 16 } })],
    ["-M virt -no-user-config", arm()],
  ])("%s", (cmdline, config) => {
    expect(run("aarch64", args(cmdline)).config).toEqual(config);
  });

  test("-device: QemuOpts devices in order, then JSON ones (qemu_create_cli_devices)", () => {
    const argv = [
      "-M", "virt",
      "-device", '{"driver":"virtio-rng-pci","id":"rng0","max-bytes":1024,"disable-legacy":true}',
      "-device", "virtio-net-pci,id=n0,mac=52:54:00:12:34:56,bus=pcie.0",
      "-device", "driver=pl061,x=1,x=2",
    ];
    expect(run("aarch64", argv).config.devices).toEqual([
      { driver: "virtio-net-pci", id: "n0", props: { mac: "52:54:00:12:34:56", bus: "pcie.0" } },
      { driver: "pl061", props: { x: "2" } },
      { driver: "virtio-rng-pci", id: "rng0", props: { "max-bytes": "1024", "disable-legacy": "on" } },
    ]);
  });

  test("the run options: --until, --trace, --seed (QEMU's -seed syntax), --host", () => {
    const r = run("aarch64", args("-M virt --until 2s -trace out.json --seed 0x2a --host 8,kernel=linux-6.18"));
    expect(r.run).toEqual({ untilNs: 2_000_000_000, trace: "out.json", seed: 42 });
    expect(r.config.host).toEqual({ harts: 8, guestFiles: 7, kernel: "linux-6.18" });
  });

  test("non-fatal messages: a missing accelerator, KVM's recommended vCPU count", () => {
    expect(run("aarch64", args("-M virt -accel tcg -accel kvm")).warnings).toEqual(["invalid accelerator tcg", "falling back to KVM"]);
    expect(run("aarch64", args("-M virt -smp 8")).warnings).toEqual([
      "Number of SMP cpus requested (8) exceeds the recommended cpus supported by KVM (4)",
      "Number of hotpluggable cpus requested (8) exceeds the recommended cpus supported by KVM (4)",
    ]);
  });
});

describe("good riscv64 command lines", () => {
  test.each<[string, MachineConfig]>([
    ["-M virt", riscv()],
    ["-M virt,aia=aplic-imsic,aia-guests=7 -accel kvm,riscv-aia=hwaccel,x-fail-entry=pin-next -smp 4 --host harts=4,guest-files=2,kernel=linux-6.18",
      riscv({
        machine: { aia: "aplic-imsic", aiaGuests: 7 }, accel: { riscvAia: "hwaccel", failEntry: "pin-next" },
        smp: { cpus: 4, maxcpus: 4, cores: 4 }, host: { harts: 4, guestFiles: 2, kernel: "linux-6.18" },
      })],
    // kernel-irqchip=split: the APLIC in QEMU, the IMSIC in KVM (accepted since QEMU 10.0).
    ["-M virt,aia=aplic-imsic -accel kvm,kernel-irqchip=split", riscv({ machine: { aia: "aplic-imsic" }, accel: { kernelIrqchip: "split" } })],
    ["-M virt,aia=aplic -accel kvm,kernel-irqchip=off", riscv({ machine: { aia: "aplic" }, accel: { kernelIrqchip: "off" } })],
    // virt_set_aia_guests() reads the value with atoi().
    ["-M virt,aia-guests=3x", riscv({ machine: { aiaGuests: 3 } })],
    ["-M virt,aia-guests=abc", riscv()],
    ["-M virt -cpu host -smp 8,sockets=2 --host harts=8", riscv({ cpu: "host", smp: { cpus: 8, maxcpus: 8, sockets: 2, cores: 4 }, host: { ...HOST, harts: 8 } })],
    ["-M virt,acpi=off,iommu-sys=off,aclint=off", riscv()],
  ])("%s", (cmdline, config) => {
    expect(run("riscv64", args(cmdline)).config).toEqual(config);
  });
});
