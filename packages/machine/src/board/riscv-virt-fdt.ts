/**
 * The device tree QEMU's riscv `virt` board gives a KVM guest, built from a
 * {@link RiscvVirtLayout} with the same calls in the same order as
 * qemu/qemu hw/riscv/virt.c (create_fdt, finalize_fdt, create_fdt_sockets,
 * create_fdt_imsic / create_fdt_one_imsic, create_fdt_socket_aplic /
 * create_fdt_one_aplic, create_fdt_socket_plic, create_fdt_pcie,
 * create_pcie_irq_map, create_fdt_uart, create_fdt_pmu), hw/riscv/fdt-common.c
 * (create_board_device_tree, fdt_create_cpu_socket_subnode,
 * create_fdt_socket_cpus, create_fdt_socket_memory, create_fdt_plic,
 * riscv_pmu_generate_fdt_node), target/riscv/cpu.c riscv_isa_write_fdt and
 * hw/core/sysbus-fdt.c platform_bus_add_all_fdt_nodes, so that node names,
 * properties, phandle numbers (a counter from 1) and libfdt's order are
 * QEMU's (see ./qemu-fdt.ts).
 *
 * Under KVM QEMU writes no M-level IMSIC or APLIC node and no CLINT/ACLINT
 * (the `kvm_enabled()` / `tcg_enabled()` branches), but still allocates the
 * M-level phandles, so the numbers match QEMU's. Devices irqlab does not
 * model are left out: {@link RISCV_VIRT_UNMODELLED_NODES}.
 */

import { ConfigError } from "@irqlab/sim";
import type { RiscvVirtAplicDomain, RiscvVirtLayout } from "./riscv-virt-layout.js";
import { QemuFdt, cellBytes } from "./qemu-fdt.js";
import { RISCV_IRQ_S_EXT, RISCV_VIRT_UART0_CLOCK_HZ } from "./riscv-virt-memmap.js";
import type { VirtFdtOptions } from "./virt-fdt-options.js";

/**
 * Nodes QEMU's riscv virt tree has under KVM that irqlab leaves out because it
 * does not model the device (`@…` = the unit address follows). A comparison
 * with QEMU's tree uses this list to say why a node is missing.
 */
export const RISCV_VIRT_UNMODELLED_NODES: readonly { readonly node: string; readonly why: string }[] = [
  { node: "/flash@20000000", why: "pflash banks (create_fdt_flash): the guest image is given directly" },
  { node: "/fw-cfg@10100000", why: "fw_cfg (create_fdt_fw_cfg): no firmware interface" },
  { node: "/soc/virtio_mmio@…", why: "the 8 virtio-mmio transports (create_fdt_virtio): devices are PCI only" },
  { node: "/soc/test@100000", why: "the SiFive test device (create_fdt_reset): shutdown is SBI SRST" },
  { node: "/reboot", why: "syscon-reboot on the SiFive test device (create_fdt_reset)" },
  { node: "/poweroff", why: "syscon-poweroff on the SiFive test device (create_fdt_reset)" },
  { node: "/soc/rtc@101000", why: "the Goldfish RTC (create_fdt_rtc): not modelled" },
];

const SOC = "/soc";

/** The flattened device tree QEMU builds for `layout` under KVM. */
export function buildRiscvVirtFdt(layout: RiscvVirtLayout, options: VirtFdtOptions = {}): Uint8Array {
  const fdt = new QemuFdt();
  let phandle = 1; // finalize_fdt(): "uint32_t phandle = 1"
  const next = (): number => phandle++;
  const pciNode = `${SOC}/pci@${hex(layout.pcie.ecam.base)}`;

  // create_fdt() → create_board_device_tree()
  fdt.setpropString("/", "model", "riscv-virtio,qemu");
  fdt.setpropString("/", "compatible", "riscv-virtio");
  fdt.setpropCell("/", "#size-cells", 2);
  fdt.setpropCell("/", "#address-cells", 2);
  fdt.addSubnode(SOC);
  fdt.setpropEmpty(SOC, "ranges");
  fdt.setpropString(SOC, "compatible", "simple-bus");
  fdt.setpropCell(SOC, "#size-cells", 2);
  fdt.setpropCell(SOC, "#address-cells", 2);
  fdt.addSubnode(pciNode); // "needed for PCIE hotplugs that might happen before finalize_fdt()"
  fdt.addSubnode("/chosen");
  if (options.randomBytes) fdt.setprop("/chosen", "rng-seed", options.randomBytes(32).slice(0, 32));
  fdt.addSubnode("/aliases");
  addPmu(fdt);

  // finalize_fdt() → create_fdt_sockets()
  fdt.addSubnode("/cpus");
  fdt.setpropCell("/cpus", "timebase-frequency", layout.timebaseFrequency);
  fdt.setpropCell("/cpus", "#size-cells", 0);
  fdt.setpropCell("/cpus", "#address-cells", 1);
  fdt.addSubnode("/cpus/cpu-map");
  const intc: number[] = []; // by hart id
  for (const s of [...layout.sockets].reverse()) {
    const cluster = `/cpus/cpu-map/cluster${s.id}`;
    fdt.addSubnode(cluster);
    for (let i = s.numHarts - 1; i >= 0; i--) {
      const hartId = s.firstHart + i;
      const cpuPhandle = next();
      const cpu = `/cpus/cpu@${hartId}`;
      fdt.addSubnode(cpu);
      addHartProperties(fdt, cpu, layout);
      fdt.setpropString(cpu, "compatible", "riscv");
      fdt.setpropString(cpu, "status", "okay");
      fdt.setpropCell(cpu, "reg", hartId);
      fdt.setpropString(cpu, "device_type", "cpu");
      if (layout.numa) fdt.setpropCell(cpu, "numa-node-id", s.id);
      fdt.setpropCell(cpu, "phandle", cpuPhandle);
      intc[hartId] = next();
      const ic = `${cpu}/interrupt-controller`;
      fdt.addSubnode(ic);
      fdt.setpropCell(ic, "phandle", intc[hartId]);
      fdt.setpropString(ic, "compatible", "riscv,cpu-intc");
      fdt.setpropEmpty(ic, "interrupt-controller");
      fdt.setpropCell(ic, "#interrupt-cells", 1);
      const core = `${cluster}/core${i}`;
      fdt.addSubnode(core);
      fdt.setpropCell(core, "cpu", cpuPhandle);
    }
    const mem = `/memory@${hex(s.mem.base)}`;
    fdt.addSubnode(mem);
    fdt.setpropSizedCells(mem, "reg", [
      [2, s.mem.base],
      [2, s.mem.size],
    ]);
    fdt.setpropString(mem, "device_type", "memory");
    if (layout.numa) fdt.setpropCell(mem, "numa-node-id", s.id);
    // No CLINT/ACLINT node: QEMU writes them only under TCG.
  }

  let msiS = 1; // msi_pcie_phandle starts at 1 in finalize_fdt()
  if (layout.imsic) {
    next(); // msi_m_phandle: allocated, but the M-level IMSIC node is TCG-only
    msiS = next();
    addImsic(fdt, layout, intc, msiS);
  }

  // Interrupt controllers of the wired sources, from the last socket to the first.
  const xplic: number[] = [];
  const controllers: readonly RiscvVirtAplicDomain[] = layout.aplic?.domains ?? layout.plic?.domains ?? [];
  for (const d of [...controllers].reverse()) {
    const name = `${SOC}/interrupt-controller@${hex(d.base)}`;
    if (layout.aplic) {
      next(); // aplic_m_phandle: the M-level APLIC node is TCG-only
      xplic[d.socket] = next();
      addAplic(fdt, layout, d, name, intc, msiS, xplic[d.socket]!);
    } else {
      xplic[d.socket] = next();
      addPlic(fdt, layout, d, name, intc, xplic[d.socket]!);
    }
    if (d.socket === 0) addPlatformBus(fdt, layout, name);
  }
  const irqMmio = xplic[layout.irqchipSocket.mmio] ?? 1;
  const irqPcie = xplic[layout.irqchipSocket.pcie] ?? 1;

  // create_fdt_virtio(): unmodelled. create_fdt_pcie():
  addPcie(fdt, layout, pciNode, irqPcie, msiS);
  next(); // create_fdt_reset(): test_phandle for the unmodelled SiFive test device
  addUart(fdt, layout, irqMmio);
  // create_fdt_rtc(): unmodelled.

  // riscv_load_kernel(): initrd, then bootargs.
  if (options.initrd) {
    fdt.setpropU64("/chosen", "linux,initrd-start", options.initrd.start);
    fdt.setpropU64("/chosen", "linux,initrd-end", options.initrd.end);
  }
  if (options.bootargs) fdt.setpropString("/chosen", "bootargs", options.bootargs);
  return fdt.toBlob();
}

/** create_fdt_pmu() + riscv_pmu_generate_fdt_node(): the OpenSBI event map; no counters under KVM (pmu_avail_ctrs = 0). */
function addPmu(fdt: QemuFdt): void {
  const cmask = 0;
  fdt.addSubnode("/pmu");
  fdt.setpropString("/pmu", "compatible", "riscv,pmu");
  fdt.setpropCells(
    "/pmu",
    "riscv,event-to-mhpmcounters",
    ...[1, 1, cmask | 1], // SBI_PMU_HW_CPU_CYCLES
    ...[2, 2, cmask | 4], // SBI_PMU_HW_INSTRUCTIONS
    ...[0x1_0019, 0x1_0019, cmask], // DTLB read miss
    ...[0x1_001b, 0x1_001b, cmask], // DTLB write miss
    ...[0x1_0021, 0x1_0021, cmask], // ITLB read miss
  );
}

/** The hart-specific part of create_fdt_socket_cpu_internal(): mmu-type, riscv_isa_write_fdt(), cache block sizes. */
function addHartProperties(fdt: QemuFdt, cpu: string, layout: RiscvVirtLayout): void {
  const h = layout.hart;
  if (h.mmuType !== undefined) fdt.setpropString(cpu, "mmu-type", h.mmuType);
  const m = /^rv(32|64)([a-z]*)((?:_[a-z0-9]+)*)$/.exec(h.isa);
  if (!m) throw new ConfigError(`riscv,isa "${h.isa}" is not rv32/rv64 + letters + _extensions`);
  fdt.setpropString(cpu, "riscv,isa", h.isa);
  fdt.setpropString(cpu, "riscv,isa-base", `rv${m[1]!}i`);
  const multi = m[3]!.split("_").filter((e) => e !== "");
  fdt.setpropStringArray(cpu, "riscv,isa-extensions", [...m[2]!.split(""), ...multi]);
  if (h.cbomBlockSize !== undefined) fdt.setpropCell(cpu, "riscv,cbom-block-size", h.cbomBlockSize);
  if (h.cbozBlockSize !== undefined) fdt.setpropCell(cpu, "riscv,cboz-block-size", h.cbozBlockSize);
  if (h.cbopBlockSize !== undefined) fdt.setpropCell(cpu, "riscv,cbop-block-size", h.cbopBlockSize);
}

/** create_fdt_one_imsic() for the S level: every hart's supervisor file, with the guest files behind it. */
function addImsic(fdt: QemuFdt, layout: RiscvVirtLayout, intc: readonly number[], msiS: number): void {
  const im = layout.imsic!;
  const node = `${SOC}/interrupt-controller@${hex(im.base)}`;
  fdt.addSubnode(node);
  fdt.setpropStringArray(node, "compatible", ["qemu,imsics", "riscv,imsics"]);
  fdt.setpropCell(node, "#interrupt-cells", 0);
  fdt.setpropEmpty(node, "interrupt-controller");
  fdt.setpropEmpty(node, "msi-controller");
  fdt.setpropCells(node, "interrupts-extended", ...layout.hartIds.flatMap((h) => [intc[h]!, RISCV_IRQ_S_EXT]));
  // QEMU writes each group as four 32-bit cells: 0, address, 0, size.
  fdt.setpropCells(node, "reg", ...im.groups.flatMap((g) => [0, g.base, 0, g.size]));
  fdt.setpropCell(node, "riscv,num-ids", im.numIds);
  if (im.guestBits) fdt.setpropCell(node, "riscv,guest-index-bits", im.guestBits);
  if (layout.sockets.length > 1) {
    fdt.setpropCell(node, "riscv,hart-index-bits", im.hartBits);
    fdt.setpropCell(node, "riscv,group-index-bits", im.groupBits);
    fdt.setpropCell(node, "riscv,group-index-shift", im.groupShift);
  }
  fdt.setpropCell(node, "phandle", msiS);
}

/** create_fdt_one_aplic() for the S level (no child domain, so no riscv,children / riscv,delegation). */
function addAplic(
  fdt: QemuFdt,
  layout: RiscvVirtLayout,
  d: RiscvVirtAplicDomain,
  node: string,
  intc: readonly number[],
  msiS: number,
  ph: number,
): void {
  fdt.addSubnode(node);
  fdt.setpropStringArray(node, "compatible", ["qemu,aplic", "riscv,aplic"]);
  fdt.setpropCell(node, "#address-cells", 0);
  fdt.setpropCell(node, "#interrupt-cells", 2);
  fdt.setpropEmpty(node, "interrupt-controller");
  if (layout.aplic!.delivery === "direct") fdt.setpropCells(node, "interrupts-extended", ...hartCells(d, intc));
  else fdt.setpropCell(node, "msi-parent", msiS);
  fdt.setpropSizedCells(node, "reg", [
    [2, d.base],
    [2, d.size],
  ]);
  fdt.setpropCell(node, "riscv,num-sources", layout.aplic!.numSources);
  if (layout.numa) fdt.setpropCell(node, "numa-node-id", d.socket);
  fdt.setpropCell(node, "phandle", ph);
}

/** create_fdt_socket_plic() → create_fdt_plic(); under KVM only the S-mode context of each hart. */
function addPlic(fdt: QemuFdt, layout: RiscvVirtLayout, d: RiscvVirtAplicDomain, node: string, intc: readonly number[], ph: number): void {
  fdt.addSubnode(node);
  fdt.setpropCell(node, "#interrupt-cells", 1);
  fdt.setpropCell(node, "#address-cells", 0);
  fdt.setpropStringArray(node, "compatible", ["sifive,plic-1.0.0", "riscv,plic0"]);
  fdt.setpropEmpty(node, "interrupt-controller");
  fdt.setpropCells(node, "interrupts-extended", ...hartCells(d, intc));
  fdt.setpropSizedCells(node, "reg", [
    [2, d.base],
    [2, d.size],
  ]);
  fdt.setpropCell(node, "riscv,ndev", layout.plic!.ndev);
  if (layout.numa) fdt.setpropCell(node, "numa-node-id", d.socket);
  fdt.setpropCell(node, "phandle", ph);
}

function hartCells(d: RiscvVirtAplicDomain, intc: readonly number[]): number[] {
  return Array.from({ length: d.numHarts }, (_, i) => [intc[d.firstHart + i]!, RISCV_IRQ_S_EXT]).flat();
}

/** platform_bus_add_all_fdt_nodes() with no dynamic sysbus devices. */
function addPlatformBus(fdt: QemuFdt, layout: RiscvVirtLayout, irqchip: string): void {
  const { base, size } = layout.platformBus.region;
  const node = `/platform-bus@${hex(base)}`;
  fdt.addSubnode(node);
  fdt.setpropStringArray(node, "compatible", ["qemu,platform", "simple-bus"]);
  fdt.setpropCells(node, "#size-cells", 1);
  fdt.setpropCells(node, "#address-cells", 1);
  fdt.setpropCells(node, "ranges", 0, Math.floor(base / 2 ** 32), base % 2 ** 32, size);
  fdt.setpropPhandle(node, "interrupt-parent", irqchip);
}

/** create_fdt_pcie() + create_pcie_irq_map() on the node create_fdt() made early. */
function addPcie(fdt: QemuFdt, layout: RiscvVirtLayout, node: string, irqchip: number, msiS: number): void {
  const p = layout.pcie;
  fdt.setpropCell(node, "#address-cells", 3);
  fdt.setpropCell(node, "#interrupt-cells", 1);
  fdt.setpropCell(node, "#size-cells", 2);
  fdt.setpropString(node, "compatible", "pci-host-ecam-generic");
  fdt.setpropString(node, "device_type", "pci");
  fdt.setpropCell(node, "linux,pci-domain", 0);
  fdt.setpropCells(node, "bus-range", 0, p.buses - 1);
  fdt.setpropEmpty(node, "dma-coherent");
  if (layout.aia === "aplic-imsic") fdt.setpropCell(node, "msi-parent", msiS);
  fdt.setpropSizedCells(node, "reg", [
    [2, p.ecam.base],
    [2, p.ecam.size],
  ]);
  fdt.setpropSizedCells(node, "ranges", [
    [1, 0x0100_0000], [2, 0], [2, p.pio.base], [2, p.pio.size],
    [1, 0x0200_0000], [2, p.mmio.base], [2, p.mmio.base], [2, p.mmio.size],
    [1, 0x0300_0000], [2, p.mmioHigh.base], [2, p.mmioHigh.base], [2, p.mmioHigh.size],
  ]);
  // The swizzle of pci_swizzle_map_irq_fn(): pin P of slot S → INTx (P + S) % 4; APLIC cells add "level high" (4).
  const map: number[] = [];
  for (let slot = 0; slot < 4; slot++) {
    for (let pin = 0; pin < 4; pin++) {
      map.push((slot * 8) << 8, 0, 0, pin + 1, irqchip, p.intxIrqs[(pin + slot) % 4]!);
      if (layout.aia !== "none") map.push(4);
    }
  }
  fdt.setprop(node, "interrupt-map", cellBytes(map));
  fdt.setpropCells(node, "interrupt-map-mask", 0x1800, 0, 0, 7);
}

/** create_fdt_uart(): the ns16550a, /chosen/stdout-path and /aliases/serial0. */
function addUart(fdt: QemuFdt, layout: RiscvVirtLayout, irqchip: number): void {
  const { region, irq } = layout.uart;
  const node = `${SOC}/serial@${hex(region.base)}`;
  fdt.addSubnode(node);
  fdt.setpropString(node, "compatible", "ns16550a");
  fdt.setpropSizedCells(node, "reg", [
    [2, region.base],
    [2, region.size],
  ]);
  fdt.setpropCell(node, "clock-frequency", RISCV_VIRT_UART0_CLOCK_HZ);
  fdt.setpropCell(node, "interrupt-parent", irqchip);
  if (layout.aia === "none") fdt.setpropCell(node, "interrupts", irq);
  else fdt.setpropCells(node, "interrupts", irq, 4);
  fdt.setpropString("/chosen", "stdout-path", node);
  fdt.setpropString("/aliases", "serial0", node);
}

function hex(v: number): string {
  return v.toString(16);
}
