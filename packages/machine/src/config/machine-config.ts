/**
 * The typed configuration of a machine: what QEMU's command line says
 * (`-M`, `-accel`, `-smp`, `-m`, `-cpu`, `-device`, `-kernel`, `-S`, `-name`)
 * plus the host it runs on. The command-line parser (src/cmdline/) produces
 * one; a library user may write one directly and pass it to the machine.
 * Every field is resolved: defaults applied, `-smp` derived and validated.
 */

/** The two QEMU system emulators irqlab mirrors (`qemu-system-aarch64`, `qemu-system-riscv64`). */
export type MachineArch = "aarch64" | "riscv64";

/**
 * `-smp` after QEMU's derivation (hw/core/machine-smp.c
 * machine_parse_smp_config): every level filled in, `cpus` ≤ `maxcpus` =
 * the product of the levels.
 */
export interface SmpConfig {
  /** CPUs present at boot (`smp.cpus`). */
  readonly cpus: number;
  /** Possible CPUs (`smp.max_cpus`): the CPU slots. */
  readonly maxcpus: number;
  readonly drawers: number;
  readonly books: number;
  readonly sockets: number;
  readonly dies: number;
  readonly clusters: number;
  readonly modules: number;
  readonly cores: number;
  readonly threads: number;
}

/**
 * How absent CPU slots (maxcpus > cpus) are handled on arm64. "off" is
 * upstream QEMU's virt machine (no CPU hotplug); "precreate" is Salil Mehta's
 * RFC V5: every absent slot's vCPU is created, initialised and parked at
 * machine init, unparked on plug; "naive" creates the vCPU at plug time,
 * which KVM refuses with EBUSY once the vgic is initialised.
 */
export type CpuHotplugMode = "off" | "precreate" | "naive";

/** When the in-kernel vgic is initialised (KVM_DEV_ARM_VGIC_CTRL_INIT). */
export type VgicInitMode =
  /** In board init, before machine-init-done notifiers (QEMU's behaviour since 2015). */
  | "board-init"
  /** Never explicitly: KVM initialises it at the first KVM_RUN (QEMU before 2015). */
  | "first-run";

/** `-M virt,...` on qemu-system-aarch64 (hw/arm/virt.c). */
export interface ArmVirtMachineConfig {
  readonly type: "virt";
  /** gic-version, resolved ("max" and "host" become 3 under KVM). */
  readonly gicVersion: 3;
  /** Whether there is an ITS: its=on|off, or msi=auto|its|off (QEMU 11.1); default on. */
  readonly its: boolean;
  /** highmem=on|off (default on). */
  readonly highmem: boolean;
  /** highmem-redists=on|off (default on), resolved: off when highmem=off (nothing fits above 4 GiB). */
  readonly highmemRedists: boolean;
  /** highmem-ecam=on|off (default on), resolved like highmemRedists. */
  readonly highmemEcam: boolean;
  /** highmem-mmio=on|off (default on), resolved like highmemRedists. */
  readonly highmemMmio: boolean;
  /** dumpdtb=FILE: write the device tree and exit. */
  readonly dumpdtb?: string;
  /** x-cpu-hotplug=off|precreate|naive (irqlab; default off). */
  readonly cpuHotplug: CpuHotplugMode;
  /** x-vgic-init=board-init|first-run (irqlab; default board-init). */
  readonly vgicInit: VgicInitMode;
}

/** `-M virt,...` on qemu-system-riscv64 (hw/riscv/virt.c). */
export interface RiscvVirtMachineConfig {
  readonly type: "virt";
  /** aia=none|aplic|aplic-imsic (default none). */
  readonly aia: "none" | "aplic" | "aplic-imsic";
  /** aia-guests=0..7: IMSIC guest interrupt files per hart (default 0). */
  readonly aiaGuests: number;
  /** dumpdtb=FILE: write the device tree and exit. */
  readonly dumpdtb?: string;
}

/** What the VMM does with KVM_EXIT_FAIL_ENTRY (irqlab's `x-fail-entry` accel property). */
export type FailEntryPolicy =
  /** Stock QEMU: dump the vCPU state, vm_stop(RUN_STATE_INTERNAL_ERROR). */
  | "stop"
  /**
   * The RISC-V patch of the VS-file exhaustion thread: on reason CSR_HSTATUS
   * pin the vCPU thread to host CPU (cpu + 1) % N and re-enter.
   */
  | "pin-next";

/** `-accel kvm,...` (accel/kvm/kvm-all.c, target/riscv/kvm/kvm-cpu.c). */
export interface AccelConfig {
  readonly type: "kvm";
  /**
   * kernel-irqchip=on|off|split (default on). "split" is refused on arm64
   * (QEMU's kvm_arch_irqchip_create) and accepted on RISC-V since QEMU 10.0
   * (APLIC emulated by QEMU, IMSIC in KVM).
   */
  readonly kernelIrqchip: "on" | "off" | "split";
  /** riscv-aia=emul|hwaccel|auto (RISC-V only; default auto). */
  readonly riscvAia: "emul" | "hwaccel" | "auto";
  /** x-fail-entry=stop|pin-next (irqlab; default stop). */
  readonly failEntry: FailEntryPolicy;
  /**
   * x-gicv4=off|linux-6.16|linux-6.6|rfc-shared-vlpi (irqlab, arm64; default
   * off): the host has a GICv4.1 ITS and KVM forwards passed-through MSIs as
   * vLPIs (kvm-arm.vgic_v4_enable=1), with that kernel's vgic-v4 behaviour.
   */
  readonly gicv4?: Gicv4Mode;
}

/** What `x-gicv4` selects: no direct injection, or a host kernel's kvm_vgic_v4_set/unset_forwarding. */
export type Gicv4Mode = "off" | "linux-6.16" | "linux-6.6" | "rfc-shared-vlpi";

/** One `-device DRIVER[,prop=value...]`, unvalidated: the machine checks it against the driver. */
export interface DeviceConfig {
  readonly driver: string;
  /** id=..., if given. */
  readonly id?: string;
  /** Every other property, in command-line order, values as written. */
  readonly props: Readonly<Record<string, string>>;
}

/**
 * Where a serial port's output goes (`-serial`, or the default QEMU picks:
 * "mon:stdio" with -nographic, else "null" since irqlab has no display's
 * text console). "none" leaves that port without a backend.
 */
export type SerialBackend = "stdio" | "mon:stdio" | "null" | "none";

/** The host the machine runs on (`--host harts=N,guest-files=G,kernel=PROFILE`). */
export interface HostConfig {
  /** Host CPUs (harts / PEs). */
  readonly harts: number;
  /** RISC-V: guest interrupt files per hart (GEILEN). */
  readonly guestFiles: number;
  /** Linux behaviour profile of the host kernel (RISC-V FAIL_ENTRY reason: "linux-6.18" or "linux-6.19"). */
  readonly kernel: "linux-6.18" | "linux-6.19";
}

/** The whole configuration of one machine. */
export interface MachineConfig {
  readonly arch: MachineArch;
  /** `-M`; its type follows `arch`. */
  readonly machine: ArmVirtMachineConfig | RiscvVirtMachineConfig;
  readonly accel: AccelConfig;
  readonly smp: SmpConfig;
  /** `-m` in bytes (default: the machine class's default_ram_size). */
  readonly ramBytes: number;
  /**
   * `-cpu` model name: "host" or "max" (and "rv64" on riscv64), all the host
   * CPU under KVM. Default: the machine's default under KVM, "max" on arm
   * virt (since QEMU 10.1), "rv64" on riscv virt.
   */
  readonly cpu: string;
  /**
   * `-cpu host,pmu=on|off` (arm virt): QEMU's `pmu` CPU property, whether the
   * vCPUs have a vPMU (KVM_ARM_VCPU_PMU_V3, its PPI and INIT, the device
   * tree's /pmu node). Absent: on, except with x-vgic-init=first-run, whose
   * vgic KVM initialises only at the first KVM_RUN: KVM_ARM_VCPU_PMU_V3_INIT
   * needs it before (ENODEV), so those CPUs have none and `true` is refused.
   */
  readonly cpuPmu?: boolean;
  readonly devices: readonly DeviceConfig[];
  /**
   * The serial ports' backends, by index (serial_hd(i)); virt uses the
   * first. The command-line parser always sets it (empty with -nodefaults);
   * a configuration written by hand may leave it out: one port on stdio.
   */
  readonly serial?: readonly SerialBackend[];
  /** `-kernel`: "irqlab:NAME" or a path to an ES module exporting a guest image. */
  readonly kernel?: string;
  /** `-S`: do not start the vCPUs until told (prelaunch). */
  readonly startPaused: boolean;
  /** `-name`. */
  readonly name?: string;
  readonly host: HostConfig;
}
