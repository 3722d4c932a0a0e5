/**
 * PlatformInfo: what a guest learns about its machine from the device tree,
 * collected the way Linux finds it at boot (drivers/of/fdt.c for memory,
 * arch/arm64/kernel/smp.c and arch/riscv/kernel/cpu.c for CPUs, the GICv3,
 * APLIC, IMSIC, PCIe host, serial and PSCI drivers for their nodes; bindings
 * under Documentation/devicetree/bindings/).
 *
 * Addresses are guest-physical CPU addresses (translated through every parent
 * bus's `ranges`), as numbers: a value that does not fit in 2^53 is refused
 * while parsing rather than rounded. Paths name the nodes so that a later
 * driver can look at anything this summary leaves out.
 */

import type { GuestArch } from "../guest-image.js";

/** A range of guest-physical addresses. */
export interface Region {
  readonly base: number;
  readonly size: number;
}

/**
 * One interrupt of a device: the controller it goes to (found through
 * `interrupt-parent`, or named in `interrupts-extended`) and the specifier
 * cells, as many as the controller's `#interrupt-cells`.
 */
export interface InterruptSpec {
  /** Path of the interrupt controller node. */
  readonly controller: string;
  /** The specifier: GICv3 <type number flags>, APLIC <source flags>, cpu-intc <cause>. */
  readonly cells: readonly number[];
}

/** A CPU of /cpus. */
export interface CpuInfo {
  /**
   * The logical CPU number Linux gives it: the boot CPU is 0, the others
   * follow in device-tree order (arm64 smp_init_cpus, riscv setup_smp).
   */
  readonly logical: number;
  /** Path of the cpu node. */
  readonly path: string;
  /** `reg`: the MPIDR_EL1 affinity (arm64) or the hart id (riscv64). */
  readonly hwid: number;
  /** `enable-method` ("psci" on QEMU's arm64 virt with more than one CPU); absent on riscv64. */
  readonly enableMethod: string | undefined;
  /** `riscv,isa` (riscv64), e.g. "rv64imafdch_zicsr_..._ssaia". */
  readonly isa: string | undefined;
  /** The phandle of the hart's `riscv,cpu-intc` child (riscv64), the target of `interrupts-extended`. */
  readonly intcPhandle: number | undefined;
}

/** The console named by /chosen `stdout-path`. */
export type UartInfo = Pl011Info | Ns16550Info;

/** An Arm PrimeCell PL011 (`arm,pl011`). */
export interface Pl011Info {
  readonly kind: "pl011";
  readonly path: string;
  /** The register block (`reg`). */
  readonly region: Region;
  /** Its interrupts; empty when the tree gives none that resolve (the console polls, as earlycon does). */
  readonly interrupts: readonly InterruptSpec[];
}

/** An NS16550A-compatible UART (`ns16550a`, `ns16550`, `ns16450`, `ns8250`). */
export interface Ns16550Info {
  readonly kind: "ns16550a";
  readonly path: string;
  /** The register block (`reg`, plus `reg-offset`). */
  readonly region: Region;
  /** `reg-shift`: registers are 1 << regShift bytes apart (default 0). */
  readonly regShift: number;
  /** `reg-io-width`: the access size of a register, 1 (default), 2 or 4 bytes. */
  readonly regIoWidth: 1 | 2 | 4;
  /** `clock-frequency`, if given. */
  readonly clockFrequency: number | undefined;
  /** Its interrupts; empty when the tree gives none that resolve. */
  readonly interrupts: readonly InterruptSpec[];
}

/** PSCI as /psci describes it (Documentation/devicetree/bindings/arm/psci.yaml). */
export interface PsciInfo {
  readonly path: string;
  /** "1.0" for arm,psci-1.0, "0.2" for arm,psci-0.2, "0.1" for the original arm,psci. */
  readonly version: "0.1" | "0.2" | "1.0";
  /** The conduit: `method` = "hvc" or "smc". */
  readonly method: "hvc" | "smc";
  /**
   * Function ids. PSCI 0.2 and later use the standard ids (DEN0022 §5.1, the
   * SMC64 CPU_ON as Linux arm64 does); PSCI 0.1 takes CPU_ON and CPU_OFF from
   * the node's `cpu_on` / `cpu_off` and has no SYSTEM_OFF or SYSTEM_RESET.
   */
  readonly cpuOn: number | undefined;
  readonly cpuOff: number | undefined;
  readonly systemOff: number | undefined;
  readonly systemReset: number | undefined;
}

/**
 * The architected timer (`arm,armv8-timer`): its PPIs as INTIDs, in the
 * order of the node's `interrupts` (boot/dt-timer.ts).
 */
export interface ArchTimerInfo {
  readonly path: string;
  /** Secure EL1 physical timer. */
  readonly securePhysical: number;
  /** Non-secure EL1 physical timer (CNTP_*). */
  readonly physical: number;
  /** EL1 virtual timer (CNTV_*): the one a KVM guest uses. */
  readonly virtual: number;
  /** The virtual timer's specifier flags (4 = level, active high). */
  readonly virtualFlags: number;
  /** EL2 physical timer. */
  readonly hypPhysical: number;
  /** EL2 virtual timer, when listed. */
  readonly hypVirtual: number | undefined;
  /** `always-on`: the timer keeps counting in every power state. */
  readonly alwaysOn: boolean;
}

/** A GICv3 ITS, a child of the GICv3 node (`arm,gic-v3-its`). */
export interface ItsInfo {
  readonly path: string;
  readonly phandle: number | undefined;
  /** GITS_* frames (ITS_base: control frame and translation frame, 128 KiB). */
  readonly region: Region;
  /** `#msi-cells` (1: the DeviceID). */
  readonly msiCells: number;
}

/** The GICv3 (`arm,gic-v3`; Documentation/devicetree/bindings/interrupt-controller/arm,gic-v3.yaml). */
export interface Gicv3Info {
  readonly path: string;
  readonly phandle: number | undefined;
  /** `#interrupt-cells` (3: type, number, flags). */
  readonly interruptCells: number;
  /** GICD: `reg` entry 0. */
  readonly distributor: Region;
  /** GICR regions: `reg` entries 1..`#redistributor-regions` (default 1). */
  readonly redistributorRegions: readonly Region[];
  /** `redistributor-stride`, if given (otherwise each redistributor's GICR_TYPER.Last ends a region). */
  readonly redistributorStride: number | undefined;
  /** The `reg` entries after the redistributors: GICC, GICH, GICV when present. */
  readonly otherRegions: readonly Region[];
  /** Available ITS children with `msi-controller`. */
  readonly its: readonly ItsInfo[];
}

/**
 * The privilege level an AIA node serves: "supervisor" when it signals
 * IRQ_S_EXT (9) — the one a Linux/KVM guest drives — "machine" for IRQ_M_EXT
 * (11; QEMU writes those only under TCG).
 */
export type AiaLevel = "supervisor" | "machine";

/**
 * An IMSIC node (`riscv,imsics` / `qemu,imsics`;
 * Documentation/devicetree/bindings/interrupt-controller/riscv,imsics.yaml),
 * with the defaults Linux's imsic_parse_fwnode() applies.
 */
export interface ImsicInfo {
  readonly path: string;
  readonly phandle: number | undefined;
  readonly compatible: readonly string[];
  readonly level: AiaLevel;
  /** One region per group (`reg`). */
  readonly regions: readonly Region[];
  /** Hart ids in `interrupts-extended` order: the per-hart interrupt file index. */
  readonly harts: readonly number[];
  /** `riscv,num-ids`: the highest interrupt identity. */
  readonly numIds: number;
  /** `riscv,num-guest-ids` (defaults to numIds). */
  readonly numGuestIds: number;
  /** `riscv,guest-index-bits` (default 0). */
  readonly guestIndexBits: number;
  /** `riscv,hart-index-bits` (default: enough bits for the harts). */
  readonly hartIndexBits: number;
  /** `riscv,group-index-bits` (default 0). */
  readonly groupIndexBits: number;
  /** `riscv,group-index-shift` (default 24, 2 × IMSIC_MMIO_PAGE_SHIFT). */
  readonly groupIndexShift: number;
  /** `riscv,ipi-id`, if given. */
  readonly ipiId: number | undefined;
}

/** An APLIC domain (`riscv,aplic` / `qemu,aplic`; .../riscv,aplic.yaml). */
export interface AplicInfo {
  readonly path: string;
  readonly phandle: number | undefined;
  readonly compatible: readonly string[];
  /** From its IMSIC's level (MSI mode) or the harts' interrupts (direct mode); undefined if neither tells. */
  readonly level: AiaLevel | undefined;
  readonly region: Region;
  /** `riscv,num-sources`. */
  readonly numSources: number;
  /** MSI delivery (`msi-parent`) or direct delivery (`interrupts-extended`). */
  readonly delivery: "msi" | "direct";
  /** Path of the `msi-parent` IMSIC (MSI mode). */
  readonly msiParent: string | undefined;
  /** Hart ids of `interrupts-extended` (direct mode): IDC index i delivers to harts[i]. */
  readonly harts: readonly number[];
  /** Paths of `riscv,children`. */
  readonly children: readonly string[];
  /** `riscv,delegation` (QEMU before 8.2: `riscv,delegate`): sources first..last go to child. */
  readonly delegation: readonly { readonly child: string; readonly first: number; readonly last: number }[];
}

/** One entry of a PCI host's `ranges`. */
export interface PciRange {
  /** The space code of phys.hi bits 25:24. */
  readonly space: "config" | "io" | "mem32" | "mem64";
  /** phys.hi bit 30. */
  readonly prefetchable: boolean;
  readonly pciAddress: number;
  readonly cpuAddress: number;
  readonly size: number;
}

/** One `msi-map` entry: requester IDs ridBase.. go to controller with IDs outBase.. (Documentation/devicetree/bindings/pci/pci-msi.txt). */
export interface MsiMapEntry {
  readonly ridBase: number;
  /** Path of the MSI controller (an ITS). */
  readonly controller: string;
  readonly outBase: number;
  readonly length: number;
}

/** A generic ECAM PCIe host (`pci-host-ecam-generic`; .../pci/host-generic-pci.yaml). */
export interface PcieHostInfo {
  readonly path: string;
  /** The ECAM window (`reg`). */
  readonly ecam: Region;
  /** `bus-range` (default 0..255). */
  readonly busRange: readonly [first: number, last: number];
  /** `linux,pci-domain`, if given. */
  readonly domain: number | undefined;
  readonly ranges: readonly PciRange[];
  /** `msi-map` (arm64 with an ITS). */
  readonly msiMap: readonly MsiMapEntry[];
  /** `msi-map-mask`, if given. */
  readonly msiMapMask: number | undefined;
  /** Path of the `msi-parent` controller (riscv64 with an IMSIC). */
  readonly msiParent: string | undefined;
  readonly dmaCoherent: boolean;
}

/** Everything the boot layer found. */
export interface PlatformInfo {
  readonly arch: GuestArch;
  /** Where the blob lies in RAM and its `totalsize`. */
  readonly fdt: Region;
  /** Root `model`, if any. */
  readonly model: string | undefined;
  /** Root `compatible`. */
  readonly compatible: readonly string[];
  /** RAM: the `reg` ranges of every available memory node, by address. */
  readonly memory: readonly Region[];
  /** The sum of `memory`. */
  readonly memorySize: number;
  /**
   * Memory the guest must not reuse: the blob itself, /memreserve/ entries,
   * /reserved-memory children and the initrd of /chosen.
   */
  readonly reserved: readonly Region[];
  /** Available CPUs in logical order: cpus[0] is the boot CPU. */
  readonly cpus: readonly CpuInfo[];
  /** /cpus `timebase-frequency` (riscv64). */
  readonly timebaseFrequency: number | undefined;
  /**
   * The UART of /chosen `stdout-path`. Undefined only on riscv64 without a
   * stdout-path: that guest writes to the SBI debug console instead.
   */
  readonly console: UartInfo | undefined;
  /** PSCI (arm64), if the tree describes it. */
  readonly psci: PsciInfo | undefined;
  /** The GICv3 (arm64; the boot layer panics without one). */
  readonly gic: Gicv3Info | undefined;
  /** The architected timer (arm64), if the tree describes it. */
  readonly timer: ArchTimerInfo | undefined;
  /** APLIC domains (riscv64), in tree order. */
  readonly aplics: readonly AplicInfo[];
  /** IMSICs (riscv64), in tree order. */
  readonly imsics: readonly ImsicInfo[];
  /** Generic ECAM PCIe hosts. */
  readonly pcie: readonly PcieHostInfo[];
}
