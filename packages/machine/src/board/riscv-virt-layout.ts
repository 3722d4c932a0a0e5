/**
 * The board layout of QEMU's riscv `virt` machine under KVM, computed from a
 * MachineConfig as qemu/qemu hw/riscv/virt.c virt_machine_init() and
 * hw/riscv/aia.c riscv_create_aia() compute it, with the in-kernel AIA
 * configuration target/riscv/kvm/kvm-cpu.c kvm_riscv_aia_create() gives KVM.
 *
 * Under KVM QEMU creates no M-level interrupt controller: no M-level IMSIC
 * files, no M-level APLIC (riscv_create_aia's `!kvm_enabled()` branches), no
 * CLINT/ACLINT (`tcg_enabled()` only). With aia=aplic-imsic and the in-kernel
 * irqchip (not split) the kernel emulates the one APLIC and all IMSICs;
 * with kernel-irqchip=split the S-level APLIC stays in QEMU
 * (riscv_use_emulated_aplic()); with aia=aplic the APLIC is QEMU's, in direct
 * mode; with aia=none the PLIC is QEMU's with one S-mode context per hart
 * (riscv_plic_hart_config_string()).
 *
 * Sockets are NUMA nodes, not `-smp sockets=`: without `-numa` the board has
 * one socket holding every hart (hw/riscv/numa.c riscv_socket_count()). The
 * config has no `-numa`; {@link RiscvVirtLayoutOptions.numaNodes} stands in for
 * `-numa node,cpus=…,mem=…` with contiguous hart ranges.
 */

import { ConfigError } from "@irqlab/sim";
import type { MachineConfig, RiscvVirtMachineConfig } from "../config/machine-config.js";
import type { MemMapEntry } from "./arm-virt-memmap.js";
import {
  IMSIC_MMIO_GROUP_MIN_SHIFT,
  RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ,
  RISCV_VIRT64_HIGH_PCIE_MMIO_SIZE,
  RISCV_VIRT_APLIC_S,
  RISCV_VIRT_CPUS_MAX,
  RISCV_VIRT_DRAM_BASE,
  RISCV_VIRT_IMSIC_GROUP_MAX_SIZE,
  RISCV_VIRT_IMSIC_S,
  RISCV_VIRT_IRQCHIP_MAX_GUESTS,
  RISCV_VIRT_IRQCHIP_NUM_MSIS,
  RISCV_VIRT_IRQCHIP_NUM_PRIO_BITS,
  RISCV_VIRT_IRQCHIP_NUM_SOURCES,
  RISCV_VIRT_PCIE_ECAM,
  RISCV_VIRT_PCIE_IRQ,
  RISCV_VIRT_PCIE_MMIO,
  RISCV_VIRT_PCIE_PIO,
  RISCV_VIRT_PLATFORM_BUS,
  RISCV_VIRT_PLATFORM_BUS_IRQ,
  RISCV_VIRT_PLATFORM_BUS_NUM_IRQS,
  RISCV_VIRT_PLIC,
  RISCV_VIRT_SOCKETS_MAX,
  RISCV_VIRT_UART0,
  RISCV_VIRT_UART0_IRQ,
  imsicHartSize,
  imsicNumBits,
} from "./riscv-virt-memmap.js";

/** What the host CPU shows the guest in its CPU nodes (-cpu host under KVM: the host's). */
export interface RiscvHartDescription {
  /** `riscv,isa`: "rv64" + single-letter extensions + "_"-joined multi-letter ones, in QEMU's order. */
  readonly isa: string;
  /** `mmu-type` ("riscv,sv48", …), or undefined when the hart has no satp modes. */
  readonly mmuType: string | undefined;
  /** `riscv,cbom-block-size` when Zicbom is present. */
  readonly cbomBlockSize?: number;
  /** `riscv,cboz-block-size` when Zicboz is present. */
  readonly cbozBlockSize?: number;
  /** `riscv,cbop-block-size` when Zicbop is present. */
  readonly cbopBlockSize?: number;
}

/**
 * The hart irqlab's KVM host shows by default: RV64GC with the counters, Sstc
 * and Ssaia (the guest-visible half of AIA), Sv48. A host property; override it
 * to describe another host.
 */
export const DEFAULT_KVM_RISCV_HART: RiscvHartDescription = {
  isa: "rv64imafdc_zicntr_zicsr_zifencei_zihpm_ssaia_sstc",
  mmuType: "riscv,sv48",
};

/** One `-numa node,cpus=…,mem=…`: the next `cpus` harts and `memBytes` of RAM. */
export interface RiscvNumaNode {
  readonly cpus: number;
  readonly memBytes: number;
}

/** Host facts and board options the layout depends on. */
export interface RiscvVirtLayoutOptions {
  /** The host timebase (kvm_riscv_get_timebase_frequency()); default 10 MHz as irqlab's KVM. */
  readonly timebaseFrequency?: number;
  /** The guest-visible hart; default {@link DEFAULT_KVM_RISCV_HART}. */
  readonly hart?: RiscvHartDescription;
  /** `-numa` nodes, in order; default: none (one socket). */
  readonly numaNodes?: readonly RiscvNumaNode[];
}

/** One socket (NUMA node): its harts and RAM. */
export interface RiscvVirtSocket {
  readonly id: number;
  /** First hart id (riscv_socket_first_hartid()); hart ids are contiguous. */
  readonly firstHart: number;
  readonly numHarts: number;
  readonly mem: MemMapEntry;
}

/** The S-level IMSICs: every hart's supervisor file followed by its guest files. */
export interface RiscvVirtImsicLayout {
  /** VIRT_IMSIC_S base; group g starts at base + g × 16 MiB. */
  readonly base: number;
  /** aia-guests: VS-level guest files per hart. */
  readonly guests: number;
  /** imsic_num_bits(aia-guests + 1): `riscv,guest-index-bits`, KVM's guest_bits. */
  readonly guestBits: number;
  /** imsic_num_bits(max harts per socket): `riscv,hart-index-bits`, KVM's hart_bits. */
  readonly hartBits: number;
  /** imsic_num_bits(sockets): `riscv,group-index-bits`. */
  readonly groupBits: number;
  /** IMSIC_MMIO_GROUP_MIN_SHIFT: `riscv,group-index-shift`. */
  readonly groupShift: number;
  /** Bytes between consecutive harts' S files: IMSIC_HART_SIZE(guestBits). */
  readonly hartStride: number;
  /** `riscv,num-ids`: 255. */
  readonly numIds: number;
  /** The `reg` entries: one per socket, its harts' files back to back. */
  readonly groups: readonly MemMapEntry[];
  /** The S file of each hart, by hart id; guest file g is at address + g × 4 KiB. */
  readonly files: readonly { readonly hartId: number; readonly socket: number; readonly address: number }[];
}

/** One S-level APLIC domain (one per socket; one in all with the in-kernel AIA). */
export interface RiscvVirtAplicDomain {
  readonly socket: number;
  readonly base: number;
  readonly size: number;
  readonly firstHart: number;
  readonly numHarts: number;
  /**
   * For a QEMU-emulated APLIC in MSI mode under KVM (kernel-irqchip=split or off):
   * where it sends MSIs, riscv_aplic_set_kvm_msicfgaddr() — the socket's IMSIC
   * group base with no LHXS/LHXW/HHXS/HHXW fields, so QEMU addresses hart h's
   * S file at base + h × 4 KiB whatever aia-guests is. Undefined otherwise.
   */
  readonly kvmMsiCfgAddr?: number;
}

/** The S-level APLIC(s). */
export interface RiscvVirtAplicLayout {
  /** "msi" with aia=aplic-imsic (msi-parent = the S-level IMSIC), "direct" with aia=aplic. */
  readonly delivery: "msi" | "direct";
  /** QEMU emulates it (aia=aplic, kernel-irqchip=split or off); false: KVM's AIA device does. */
  readonly emulated: boolean;
  readonly domains: readonly RiscvVirtAplicDomain[];
  readonly numSources: number;
  readonly numPrioBits: number;
}

/** The PLIC(s) of aia=none: QEMU's, one per socket, one S-mode context per hart under KVM. */
export interface RiscvVirtPlicLayout {
  readonly domains: readonly RiscvVirtAplicDomain[];
  readonly contextsPerHart: 1;
  /** `riscv,ndev`: sources 1..95. */
  readonly ndev: number;
  readonly numPrioBits: number;
}

/** What kvm_riscv_aia_create() sets on the KVM_DEV_TYPE_RISCV_AIA device. */
export interface RiscvKvmAiaConfig {
  /** KVM_DEV_RISCV_AIA_CONFIG_MODE asked for (`-accel kvm,riscv-aia=`). */
  readonly mode: "emul" | "hwaccel" | "auto";
  /** KVM_DEV_RISCV_AIA_CONFIG_SRCS and ADDR_APLIC; undefined with kernel-irqchip=split (QEMU keeps the APLIC). */
  readonly aplic: { readonly nrSources: number; readonly base: number } | undefined;
  /** KVM_DEV_RISCV_AIA_CONFIG_IDS. */
  readonly nrIds: number;
  /** CONFIG_GROUP_BITS and CONFIG_GROUP_SHIFT, set only with more than one socket. */
  readonly group: { readonly bits: number; readonly shift: number } | undefined;
  /** CONFIG_GUEST_BITS: fls(aia-guests). */
  readonly guestBits: number;
  /** CONFIG_HART_BITS: fls(max harts per socket − 1). */
  readonly hartBits: number;
  /** KVM_DEV_RISCV_AIA_ADDR_IMSIC(hart) for every hart, indexed by hart id. */
  readonly imsicAddrs: readonly number[];
  /** GSI routes QEMU adds, GSI i → pin i for i = 0..nrSources (97 with 96 sources). */
  readonly gsiPinRoutes: number;
}

/** What the board puts where, under KVM, for one configuration. */
export interface RiscvVirtLayout {
  readonly arch: "riscv64";
  readonly aia: "none" | "aplic" | "aplic-imsic";
  /** RAM at 0x80000000, `-m` bytes. */
  readonly ram: MemMapEntry;
  readonly sockets: readonly RiscvVirtSocket[];
  /** NUMA present: CPU, memory and interrupt-controller nodes carry numa-node-id. */
  readonly numa: boolean;
  /** Hart ids of the harts created (0..smp.cpus−1). */
  readonly hartIds: readonly number[];
  readonly hart: RiscvHartDescription;
  /** /cpus/timebase-frequency. */
  readonly timebaseFrequency: number;
  readonly imsic: RiscvVirtImsicLayout | undefined;
  readonly aplic: RiscvVirtAplicLayout | undefined;
  readonly plic: RiscvVirtPlicLayout | undefined;
  /** The KVM AIA device (aia=aplic-imsic with an in-kernel irqchip), or undefined. */
  readonly kvmAia: RiscvKvmAiaConfig | undefined;
  /** First GSI free for MSI routes (after the pin routes), or undefined without the KVM AIA device. */
  readonly msiGsiBase: number | undefined;
  /** Which socket's irqchip the UART/RTC, virtio and PCIe INTx lines go to (socket 0, 1, 2 when present). */
  readonly irqchipSocket: { readonly mmio: number; readonly virtio: number; readonly pcie: number };
  readonly uart: { readonly region: MemMapEntry; readonly irq: number };
  readonly pcie: {
    readonly ecam: MemMapEntry;
    readonly buses: number;
    readonly mmio: MemMapEntry;
    /** 16 GiB at ROUND_UP(top of RAM, 16 GiB). */
    readonly mmioHigh: MemMapEntry;
    readonly pio: MemMapEntry;
    /** Wired sources of INTA..INTD (32..35). */
    readonly intxIrqs: readonly number[];
  };
  readonly platformBus: { readonly region: MemMapEntry; readonly firstIrq: number; readonly numIrqs: number };
}

function riscvMachine(config: MachineConfig): RiscvVirtMachineConfig {
  if (config.arch !== "riscv64" || !("aia" in config.machine)) {
    throw new ConfigError(`riscv virt layout: config is for ${config.arch}, not riscv64`);
  }
  return config.machine;
}

/**
 * The board layout hw/riscv/virt.c computes for `config` under KVM.
 * @throws ConfigError with QEMU's message for a bad aia-guests, socket or NUMA setting.
 */
export function riscvVirtLayout(config: MachineConfig, options: RiscvVirtLayoutOptions = {}): RiscvVirtLayout {
  const m = riscvMachine(config);
  const { smp } = config;
  if (!Number.isInteger(m.aiaGuests) || m.aiaGuests < 0 || m.aiaGuests > RISCV_VIRT_IRQCHIP_MAX_GUESTS) {
    throw new ConfigError(`Invalid number of AIA IMSIC guests\nValid values be between 0 and ${RISCV_VIRT_IRQCHIP_MAX_GUESTS}.`);
  }
  if (smp.maxcpus > RISCV_VIRT_CPUS_MAX) {
    throw new ConfigError(`Invalid SMP CPUs ${smp.maxcpus}. The max CPUs supported by machine 'virt' is ${RISCV_VIRT_CPUS_MAX}`);
  }
  const sockets = layoutSockets(config, options.numaNodes ?? []);
  const ram: MemMapEntry = { base: RISCV_VIRT_DRAM_BASE, size: config.ramBytes };
  const hartIds = Array.from({ length: smp.cpus }, (_, i) => i);
  const maxHarts = Math.max(...sockets.map((s) => s.numHarts));

  const irqchipInKernel = config.accel.kernelIrqchip !== "off";
  const msiMode = m.aia === "aplic-imsic";
  // riscv_is_kvm_aia_aplic_imsic() / riscv_use_emulated_aplic().
  const kvmAiaDevice = msiMode && irqchipInKernel;
  const emulatedAplic = !kvmAiaDevice || config.accel.kernelIrqchip === "split";

  let imsic: RiscvVirtImsicLayout | undefined;
  if (msiMode) {
    const guestBits = imsicNumBits(m.aiaGuests + 1);
    const hartStride = imsicHartSize(guestBits);
    imsic = {
      base: RISCV_VIRT_IMSIC_S.base,
      guests: m.aiaGuests,
      guestBits,
      hartBits: imsicNumBits(maxHarts),
      groupBits: imsicNumBits(sockets.length),
      groupShift: IMSIC_MMIO_GROUP_MIN_SHIFT,
      hartStride,
      numIds: RISCV_VIRT_IRQCHIP_NUM_MSIS,
      groups: sockets.map((s) => ({ base: RISCV_VIRT_IMSIC_S.base + s.id * RISCV_VIRT_IMSIC_GROUP_MAX_SIZE, size: hartStride * s.numHarts })),
      files: sockets.flatMap((s) =>
        Array.from({ length: s.numHarts }, (_, i) => ({
          hartId: s.firstHart + i,
          socket: s.id,
          address: RISCV_VIRT_IMSIC_S.base + s.id * RISCV_VIRT_IMSIC_GROUP_MAX_SIZE + i * hartStride,
        })),
      ),
    };
  }

  const domain = (s: RiscvVirtSocket, base: MemMapEntry): RiscvVirtAplicDomain => ({
    socket: s.id,
    base: base.base + s.id * base.size,
    size: base.size,
    firstHart: s.firstHart,
    numHarts: s.numHarts,
  });
  // "With KVM AIA aplic-imsic, using an irqchip without split mode, we'll use only one APLIC instance."
  // riscv_create_aia(): under KVM an MSI-mode APLIC that QEMU emulates sends to its socket's IMSIC group.
  const withMsiCfg = (d: RiscvVirtAplicDomain): RiscvVirtAplicDomain =>
    msiMode ? { ...d, kvmMsiCfgAddr: RISCV_VIRT_IMSIC_S.base + d.socket * RISCV_VIRT_IMSIC_GROUP_MAX_SIZE } : d;
  const aplicDomains = emulatedAplic
    ? sockets.map((s) => withMsiCfg(domain(s, RISCV_VIRT_APLIC_S)))
    : [{ socket: 0, base: RISCV_VIRT_APLIC_S.base, size: RISCV_VIRT_APLIC_S.size, firstHart: 0, numHarts: smp.cpus }];
  const aplic: RiscvVirtAplicLayout | undefined =
    m.aia === "none"
      ? undefined
      : {
          delivery: msiMode ? "msi" : "direct",
          emulated: emulatedAplic,
          domains: aplicDomains,
          numSources: RISCV_VIRT_IRQCHIP_NUM_SOURCES,
          numPrioBits: RISCV_VIRT_IRQCHIP_NUM_PRIO_BITS,
        };
  const plic: RiscvVirtPlicLayout | undefined =
    m.aia === "none"
      ? {
          domains: sockets.map((s) => domain(s, RISCV_VIRT_PLIC)),
          contextsPerHart: 1,
          ndev: RISCV_VIRT_IRQCHIP_NUM_SOURCES - 1,
          numPrioBits: RISCV_VIRT_IRQCHIP_NUM_PRIO_BITS,
        }
      : undefined;

  let kvmAia: RiscvKvmAiaConfig | undefined;
  if (kvmAiaDevice && imsic) {
    const files = imsic.files;
    kvmAia = {
      mode: config.accel.riscvAia,
      aplic: emulatedAplic ? undefined : { nrSources: RISCV_VIRT_IRQCHIP_NUM_SOURCES, base: RISCV_VIRT_APLIC_S.base },
      nrIds: RISCV_VIRT_IRQCHIP_NUM_MSIS,
      group: sockets.length > 1 ? { bits: fls(sockets.length - 1), shift: IMSIC_MMIO_GROUP_MIN_SHIFT } : undefined,
      guestBits: fls(m.aiaGuests),
      hartBits: maxHarts > 1 ? fls(maxHarts - 1) : 0,
      imsicAddrs: hartIds.map((h) => files[h]!.address),
      gsiPinRoutes: RISCV_VIRT_IRQCHIP_NUM_SOURCES + 1,
    };
  }

  // virt_machine_init(): mmio on socket 0, virtio on socket 1, PCIe on socket 2, if they exist;
  // the single in-kernel APLIC takes everything.
  const n = emulatedAplic ? sockets.length : 1;
  const high = RISCV_VIRT64_HIGH_PCIE_MMIO_SIZE;
  return {
    arch: "riscv64",
    aia: m.aia,
    ram,
    sockets,
    numa: (options.numaNodes ?? []).length > 0,
    hartIds,
    hart: options.hart ?? DEFAULT_KVM_RISCV_HART,
    timebaseFrequency: options.timebaseFrequency ?? RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ,
    imsic,
    aplic,
    plic,
    kvmAia,
    msiGsiBase: kvmAia ? kvmAia.gsiPinRoutes : undefined,
    irqchipSocket: { mmio: 0, virtio: Math.min(1, n - 1), pcie: Math.min(2, n - 1) },
    uart: { region: RISCV_VIRT_UART0, irq: RISCV_VIRT_UART0_IRQ },
    pcie: {
      ecam: RISCV_VIRT_PCIE_ECAM,
      buses: RISCV_VIRT_PCIE_ECAM.size / 2 ** 20,
      mmio: RISCV_VIRT_PCIE_MMIO,
      mmioHigh: { base: Math.ceil((ram.base + ram.size) / high) * high, size: high },
      pio: RISCV_VIRT_PCIE_PIO,
      intxIrqs: [0, 1, 2, 3].map((i) => RISCV_VIRT_PCIE_IRQ + i),
    },
    platformBus: { region: RISCV_VIRT_PLATFORM_BUS, firstIrq: RISCV_VIRT_PLATFORM_BUS_IRQ, numIrqs: RISCV_VIRT_PLATFORM_BUS_NUM_IRQS },
  };
}

/** find_last_bit() + 1: the bits needed to hold v (0 for 0). */
function fls(v: number): number {
  return v === 0 ? 0 : Math.floor(Math.log2(v)) + 1;
}

/** hw/riscv/numa.c: sockets are NUMA nodes with contiguous harts, or one socket without -numa. */
function layoutSockets(config: MachineConfig, nodes: readonly RiscvNumaNode[]): RiscvVirtSocket[] {
  const { cpus } = config.smp;
  if (nodes.length === 0) {
    return [{ id: 0, firstHart: 0, numHarts: cpus, mem: { base: RISCV_VIRT_DRAM_BASE, size: config.ramBytes } }];
  }
  if (nodes.length > RISCV_VIRT_SOCKETS_MAX) {
    throw new ConfigError(`number of sockets/nodes should be less than ${RISCV_VIRT_SOCKETS_MAX}`);
  }
  const totalMem = nodes.reduce((s, n) => s + n.memBytes, 0);
  if (totalMem !== config.ramBytes) {
    throw new ConfigError(
      `total memory for NUMA nodes (0x${totalMem.toString(16)}) should equal RAM size (0x${config.ramBytes.toString(16)})`,
    );
  }
  const out: RiscvVirtSocket[] = [];
  let hart = 0;
  let mem = RISCV_VIRT_DRAM_BASE;
  nodes.forEach((n, id) => {
    if (!Number.isInteger(n.cpus) || n.cpus < 1) throw new ConfigError(`can't find hart count for socket${id}`);
    out.push({ id, firstHart: hart, numHarts: n.cpus, mem: { base: mem, size: n.memBytes } });
    hart += n.cpus;
    mem += n.memBytes;
  });
  if (hart !== cpus) throw new ConfigError(`NUMA nodes hold ${hart} harts, but -smp has ${cpus}`);
  return out;
}
