/**
 * The board layout of QEMU's arm `virt` machine under KVM, computed from a
 * MachineConfig as hw/arm/virt.c computes it: virt_kvm_type() →
 * virt_set_memmap() / virt_set_high_memmap() for the floating high regions and
 * the IPA size, virt_redist_capacity() / virt_gicv3_redist_region_count() and
 * machvirt_init()'s CPU limit for the redistributor regions,
 * virt_cpu_mp_affinity() for the MPIDRs, finalize_msi_controller() for the ITS,
 * and the fixed parts from ./arm-virt-memmap.ts.
 *
 * Only what irqlab's config can express is computed: gic-version=3, no
 * secure/virtualization/mte/iommu/NUMA, no maxmem or memory slots (so no
 * device-memory region), compact-highmem on (the default since virt-7.2), no
 * CXL. The IPA size is exact: the caller gives the host's
 * KVM_CAP_ARM_VM_IPA_SIZE (default 40, the legacy fixed IPA).
 */

import { ConfigError } from "@irqlab/sim";
import type { ArmVirtMachineConfig, MachineConfig } from "../config/machine-config.js";
import {
  ARCH_TIMER_NS_EL1_IRQ,
  ARCH_TIMER_NS_EL2_IRQ,
  ARCH_TIMER_S_EL1_IRQ,
  ARCH_TIMER_VIRT_IRQ,
  ARM_VIRT_CXL_HOST_SIZE,
  ARM_VIRT_GIC_DIST,
  ARM_VIRT_GIC_ITS,
  ARM_VIRT_GIC_REDIST,
  ARM_VIRT_HIGH_GIC_REDIST2_SIZE,
  ARM_VIRT_HIGH_IO_FLOOR,
  ARM_VIRT_HIGH_PCIE_ECAM_SIZE,
  ARM_VIRT_HIGH_PCIE_MMIO_SIZE,
  ARM_VIRT_IRQ_PCIE,
  ARM_VIRT_IRQ_PLATFORM_BUS,
  ARM_VIRT_IRQ_UART0,
  ARM_VIRT_MAX_CPUS,
  ARM_VIRT_MEM,
  ARM_VIRT_NUM_IRQS,
  ARM_VIRT_PCIE_ECAM,
  ARM_VIRT_PCIE_MMIO,
  ARM_VIRT_PCIE_PIO,
  ARM_VIRT_PLATFORM_BUS,
  ARM_VIRT_PLATFORM_BUS_NUM_IRQS,
  ARM_VIRT_UART0,
  GICV3_REDIST_SIZE,
  GICV3_TARGETLIST_BITS,
  PCIE_MMCFG_SIZE_MIN,
  PCI_NUM_PINS,
  VIRTUAL_PMU_IRQ,
  type MemMapEntry,
} from "./arm-virt-memmap.js";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** Host facts the layout depends on (what QEMU asks KVM for). */
export interface ArmVirtLayoutOptions {
  /** The host's maximum IPA size, KVM_CAP_ARM_VM_IPA_SIZE (default 40: the legacy fixed IPA). */
  readonly maxIpaBits?: number;
  /** The PSCI version KVM reports in KVM_REG_ARM_PSCI_VERSION (default 1.1, irqlab's KVM). */
  readonly psciVersion?: { readonly major: number; readonly minor: number };
  /** Whether the vCPUs get a PMU (KVM_ARM_VCPU_PMU_V3; QEMU's `pmu` CPU property, default on). */
  readonly pmu?: boolean;
  /**
   * How many redistributors to lay out. QEMU sizes the GIC for smp.cpus (the
   * default); the vCPU-hotplug RFC ("precreate") sizes it for maxcpus.
   */
  readonly redistributors?: number;
}

/** One possible CPU (QEMU's possible_cpus entry, virt_possible_cpu_arch_ids()). */
export interface ArmVirtCpu {
  /** cpu_index. */
  readonly index: number;
  /** MPIDR_EL1 affinity (arch_id): Aff1 = index / 16, Aff0 = index % 16. */
  readonly mpidr: number;
  /** Present at boot (index < smp.cpus); the others are empty slots. */
  readonly present: boolean;
  /** Topology ids for /cpus/cpu-map (hw/arm/virt.c fdt_add_cpu_nodes). */
  readonly socket: number;
  readonly cluster: number;
  readonly core: number;
  readonly thread: number;
}

/** One GICv3 redistributor region as QEMU gives it to KVM (KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION). */
export interface ArmVirtRedistRegion {
  /** Region index (the low 12 bits of the attribute value). */
  readonly index: number;
  readonly base: number;
  /** Size of the whole region in the memory map and the device tree. */
  readonly size: number;
  /** Redistributors in use in this region ("redist-region-count"; bits 63:52 of the attribute). */
  readonly count: number;
  /** Redistributors that fit (virt_redist_capacity()). */
  readonly capacity: number;
}

/** The GICv3 and its ITS as the board places them. */
export interface ArmVirtGicLayout {
  readonly version: 3;
  readonly dist: MemMapEntry;
  /** Regions in use: the low one, and VIRT_HIGH_GIC_REDIST2 when more CPUs than 123 need it. */
  readonly redistRegions: readonly ArmVirtRedistRegion[];
  /** num-irq: NUM_IRQS + 32 internal = 288, what QEMU writes to KVM_DEV_ARM_VGIC_GRP_NR_IRQS. */
  readonly nrIrqs: number;
  /** The ITS frame (its=on), or undefined (its=off: no MSI controller at all with GICv3). */
  readonly its: MemMapEntry | undefined;
  /** The CPU limit of this redistributor space (virt_max_cpus in machvirt_init()). */
  readonly maxCpus: number;
}

/** The floating high regions (extended_memmap) after virt_set_high_memmap(). */
export interface ArmVirtHighRegion extends MemMapEntry {
  /** Enabled: asked for and fits the IPA space. */
  readonly enabled: boolean;
}

/** What the board puts where, under KVM, for one configuration. */
export interface ArmVirtLayout {
  readonly arch: "aarch64";
  /** RAM at 1 GiB, `-m` bytes. */
  readonly ram: MemMapEntry;
  /**
   * The IPA size the memory map needs (virt_kvm_type()'s requested_pa_size, at
   * least 32): QEMU passes it as the KVM_CREATE_VM type, or 0 when the host's
   * IPA size is the fixed legacy 40 bits.
   */
  readonly ipaBits: number;
  /** The highest guest-physical address of the map (vms->highest_gpa). */
  readonly highestGpa: number;
  readonly gic: ArmVirtGicLayout;
  /** First GSI free for MSI routes: SPI pins own GSIs 0..NUM_IRQS−1 (hw/intc/arm_gicv3_kvm.c). */
  readonly msiGsiBase: number;
  readonly highRegions: {
    readonly gicRedist2: ArmVirtHighRegion;
    readonly pcieEcam: ArmVirtHighRegion;
    readonly pcieMmio: ArmVirtHighRegion;
  };
  /** The PL011 UART0 and its SPI. */
  readonly uart: { readonly region: MemMapEntry; readonly spi: number };
  readonly pcie: {
    /** ECAM in use: the 256 MiB high one when highmem-ecam is on and fits, else the 16 MiB low one. */
    readonly ecam: MemMapEntry;
    readonly ecamHigh: boolean;
    /** Buses the ECAM covers (bus-range 0..buses−1). */
    readonly buses: number;
    readonly mmio: MemMapEntry;
    /** The 64-bit window, when highmem-mmio is on and fits. */
    readonly mmioHigh: MemMapEntry | undefined;
    readonly pio: MemMapEntry;
    /** SPIs of INTA..INTD (3..6). */
    readonly intxSpis: readonly number[];
  };
  readonly platformBus: { readonly region: MemMapEntry; readonly firstSpi: number; readonly numIrqs: number };
  /** PSCI through HVC: KVM handles it (psci_conduit QEMU_PSCI_CONDUIT_HVC without virtualization=on). */
  readonly psci: { readonly method: "hvc"; readonly version: { readonly major: number; readonly minor: number } };
  /** Architected timer PPIs, as INTIDs; level-triggered (GIC_FDT_IRQ_FLAGS_LEVEL_HI) since virt-2.9. */
  readonly timer: {
    readonly secureEl1: number;
    readonly nonSecureEl1: number;
    readonly virtual: number;
    readonly hypervisor: number;
  };
  /** The PMU overflow PPI as an INTID (23), or undefined without a PMU. */
  readonly pmuIntid: number | undefined;
  /** The -smp levels arm virt describes in /cpus/cpu-map (it supports clusters; no dies/modules/books/drawers). */
  readonly topology: { readonly sockets: number; readonly clusters: number; readonly cores: number; readonly threads: number };
  /** Every possible CPU (maxcpus), present ones first. */
  readonly cpus: readonly ArmVirtCpu[];
  /** The `compatible` of the CPU nodes: "arm,armv8" for -cpu host/max under KVM. */
  readonly cpuCompatible: string;
}

/** QEMU's ROUND_UP() for safe integers. */
function roundUp(v: number, align: number): number {
  return Math.ceil(v / align) * align;
}

/** 64 − clz64(v): the bits needed to hold v. */
function bitLength(v: number): number {
  return v <= 0 ? 0 : Math.floor(Math.log2(v)) + 1;
}

/** The `compatible` QEMU writes for a -cpu model (target/arm/kvm.c: "arm,armv8" for the host CPU). */
function cpuCompatible(cpu: string): string {
  if (cpu === "host" || cpu === "max") return "arm,armv8";
  return `arm,${cpu}`;
}

function armMachine(config: MachineConfig): ArmVirtMachineConfig {
  if (config.arch !== "aarch64" || !("gicVersion" in config.machine)) {
    throw new ConfigError(`arm virt layout: config is for ${config.arch}, not aarch64`);
  }
  return config.machine;
}

/**
 * The board layout hw/arm/virt.c computes for `config` under KVM.
 * @throws ConfigError with QEMU's message when the CPUs or RAM do not fit.
 */
export function armVirtLayout(config: MachineConfig, options: ArmVirtLayoutOptions = {}): ArmVirtLayout {
  const m = armMachine(config);
  const { smp } = config;
  const maxIpa = options.maxIpaBits ?? 40;
  if (smp.maxcpus > ARM_VIRT_MAX_CPUS) {
    throw new ConfigError(`Invalid SMP CPUs ${smp.maxcpus}. The max CPUs supported by machine 'virt' is ${ARM_VIRT_MAX_CPUS}`);
  }

  // virt_set_memmap(): "!highmem is exactly the same as limiting the PA space to 32bit".
  const paBits = m.highmem ? maxIpa : 32;
  const paTop = 2 ** paBits;
  const ram: MemMapEntry = { base: ARM_VIRT_MEM.base, size: config.ramBytes };
  // No maxmem/slots: device memory is empty, the high IO base is the top of RAM rounded to 1 GiB.
  const memtop = roundUp(ram.base + ram.size, GiB);
  if (memtop > paTop) {
    throw new ConfigError(`Addressing limited to ${paBits} bits, but memory exceeds it by ${memtop - paTop} bytes`);
  }
  let base = Math.max(memtop, ARM_VIRT_HIGH_IO_FLOOR);
  let highestGpa = memtop - 1;

  // virt_set_high_memmap(), compact layout: a disabled region takes no space.
  const place = (size: number, wanted: boolean): ArmVirtHighRegion => {
    const regionBase = roundUp(base, size);
    const fits = regionBase + size <= paTop;
    const enabled = wanted && fits;
    if (enabled) {
      base = regionBase + size;
      highestGpa = base - 1;
    }
    return { base: regionBase, size, enabled };
  };
  const gicRedist2 = place(ARM_VIRT_HIGH_GIC_REDIST2_SIZE, m.highmemRedists);
  place(ARM_VIRT_CXL_HOST_SIZE, false); // VIRT_CXL_HOST: off without a pxb-cxl bridge (upstream only)
  const pcieEcam = place(ARM_VIRT_HIGH_PCIE_ECAM_SIZE, m.highmemEcam);
  const pcieMmio = place(ARM_VIRT_HIGH_PCIE_MMIO_SIZE, m.highmemMmio);
  // cxl_fmws_set_memmap() with no fixed windows: highest_gpa rounded up to 256 MiB (upstream only).
  highestGpa = roundUp(highestGpa + 1, 256 * MiB) - 1;

  // virt_kvm_type(): "KVM requires the IPA size to be at least 32 bits".
  const ipaBits = Math.max(32, bitLength(highestGpa));
  if (ipaBits > maxIpa) {
    throw new ConfigError(
      `-m and ,maxmem option values require an IPA range (${ipaBits} bits) larger than the one supported by the host (${maxIpa} bits)`,
    );
  }

  // machvirt_init(): the CPU limit is what the redistributor space holds.
  const lowCapacity = ARM_VIRT_GIC_REDIST.size / GICV3_REDIST_SIZE;
  const highCapacity = gicRedist2.size / GICV3_REDIST_SIZE;
  const maxCpus = lowCapacity + (gicRedist2.enabled ? highCapacity : 0);
  if (smp.maxcpus > maxCpus) {
    const hint = gicRedist2.enabled ? "" : "\nTry 'highmem-redists=on' for more CPUs";
    throw new ConfigError(
      `Number of SMP CPUs requested (${smp.maxcpus}) exceeds max CPUs supported by machine 'mach-virt' (${maxCpus})${hint}`,
    );
  }
  // create_gicv3(): redist0 holds MIN(cpus, capacity); REDIST2 the rest when highmem-redists allows it.
  const redists = options.redistributors ?? smp.cpus;
  const lowCount = Math.min(redists, lowCapacity);
  const redistRegions: ArmVirtRedistRegion[] = [
    { index: 0, base: ARM_VIRT_GIC_REDIST.base, size: ARM_VIRT_GIC_REDIST.size, count: lowCount, capacity: lowCapacity },
  ];
  if (redists > lowCapacity && gicRedist2.enabled) {
    redistRegions.push({
      index: 1,
      base: gicRedist2.base,
      size: gicRedist2.size,
      count: Math.min(redists - lowCount, highCapacity),
      capacity: highCapacity,
    });
  }

  const ecam = pcieEcam.enabled ? { base: pcieEcam.base, size: pcieEcam.size } : ARM_VIRT_PCIE_ECAM;
  const pmu = options.pmu ?? true;
  return {
    arch: "aarch64",
    ram,
    ipaBits,
    highestGpa,
    gic: {
      version: 3,
      dist: ARM_VIRT_GIC_DIST,
      redistRegions,
      nrIrqs: ARM_VIRT_NUM_IRQS + 32,
      its: m.its ? ARM_VIRT_GIC_ITS : undefined,
      maxCpus,
    },
    msiGsiBase: ARM_VIRT_NUM_IRQS,
    highRegions: { gicRedist2, pcieEcam, pcieMmio },
    uart: { region: ARM_VIRT_UART0, spi: ARM_VIRT_IRQ_UART0 },
    pcie: {
      ecam,
      ecamHigh: pcieEcam.enabled,
      buses: ecam.size / PCIE_MMCFG_SIZE_MIN,
      mmio: ARM_VIRT_PCIE_MMIO,
      mmioHigh: pcieMmio.enabled ? { base: pcieMmio.base, size: pcieMmio.size } : undefined,
      pio: ARM_VIRT_PCIE_PIO,
      intxSpis: Array.from({ length: PCI_NUM_PINS }, (_, i) => ARM_VIRT_IRQ_PCIE + i),
    },
    platformBus: { region: ARM_VIRT_PLATFORM_BUS, firstSpi: ARM_VIRT_IRQ_PLATFORM_BUS, numIrqs: ARM_VIRT_PLATFORM_BUS_NUM_IRQS },
    psci: { method: "hvc", version: options.psciVersion ?? { major: 1, minor: 1 } },
    timer: {
      secureEl1: ARCH_TIMER_S_EL1_IRQ,
      nonSecureEl1: ARCH_TIMER_NS_EL1_IRQ,
      virtual: ARCH_TIMER_VIRT_IRQ,
      hypervisor: ARCH_TIMER_NS_EL2_IRQ,
    },
    pmuIntid: pmu ? VIRTUAL_PMU_IRQ : undefined,
    topology: { sockets: smp.sockets, clusters: smp.clusters, cores: smp.cores, threads: smp.threads },
    cpus: Array.from({ length: smp.maxcpus }, (_, i) => armVirtCpu(config, i)),
    cpuCompatible: cpuCompatible(config.cpu),
  };
}

/** virt_cpu_mp_affinity() with GICv3's 16 CPUs per Aff0 (arm_build_mp_affinity()). */
export function armVirtMpidr(index: number): number {
  return Math.floor(index / GICV3_TARGETLIST_BITS) * 256 + (index % GICV3_TARGETLIST_BITS);
}

function armVirtCpu(config: MachineConfig, index: number): ArmVirtCpu {
  const { clusters, cores, threads } = config.smp;
  return {
    index,
    mpidr: armVirtMpidr(index),
    present: index < config.smp.cpus,
    socket: Math.floor(index / (clusters * cores * threads)),
    cluster: Math.floor(index / (cores * threads)) % clusters,
    core: Math.floor(index / threads) % cores,
    thread: index % threads,
  };
}
