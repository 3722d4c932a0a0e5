/**
 * The device tree QEMU's arm `virt` board gives a KVM guest, built from an
 * {@link ArmVirtLayout} with the same calls in the same order as
 * qemu/qemu hw/arm/virt.c (create_fdt, fdt_add_timer_nodes,
 * fdt_add_cpu_nodes, fdt_add_gic_node, fdt_add_its_gic_node,
 * fdt_add_pmu_nodes, create_uart, create_pcie, create_pcie_irq_map),
 * hw/core/sysbus-fdt.c platform_bus_add_all_fdt_nodes and hw/arm/boot.c
 * arm_load_dtb (the memory node, /chosen, fdt_add_psci_node), so that node
 * names, unit addresses, properties, phandle numbers and the order libfdt
 * leaves them in are QEMU's (see ./qemu-fdt.ts).
 *
 * Under KVM without virtualization=on or secure=on QEMU writes no secure or
 * EL2 parts (no /secure-chosen, no secure UART/RAM/flash, no GIC maintenance
 * interrupt, no EL2 virtual timer PPI). Devices irqlab does not model are left
 * out: {@link ARM_VIRT_UNMODELLED_NODES}.
 */

import { ConfigError } from "@irqlab/sim";
import type { ArmVirtLayout } from "./arm-virt-layout.js";
import {
  ARM_VIRT_APB_PCLK_HZ,
  FDT_PCI_RANGE_IOPORT,
  FDT_PCI_RANGE_MMIO,
  FDT_PCI_RANGE_MMIO_64BIT,
  GIC_FDT_IRQ_FLAGS_LEVEL_HI,
  GIC_FDT_IRQ_TYPE_PPI,
  GIC_FDT_IRQ_TYPE_SPI,
  PCI_NUM_PINS,
  QEMU_PSCI_0_2_FN64_CPU_ON,
  QEMU_PSCI_0_2_FN64_CPU_SUSPEND,
  QEMU_PSCI_0_2_FN64_MIGRATE,
  QEMU_PSCI_0_2_FN_CPU_OFF,
  intidToPpi,
} from "./arm-virt-memmap.js";
import { QemuFdt, cellBytes } from "./qemu-fdt.js";
import { addVirtCpuHotplugNode } from "../devices/cpu-hotplug-virt.js";
import type { VirtFdtOptions } from "./virt-fdt-options.js";

/**
 * Nodes QEMU's arm virt tree has under KVM (with `-nodefaults`) that irqlab
 * leaves out because it does not model the device, by node name as QEMU
 * writes it (`@…` = the unit address follows). A comparison with QEMU's tree
 * uses this list to say why a node is missing.
 */
export const ARM_VIRT_UNMODELLED_NODES: readonly { readonly node: string; readonly why: string }[] = [
  { node: "/flash@0", why: "pflash banks (virt_flash_fdt): no firmware is loaded, the guest image is given directly" },
  { node: "/pl031@9010000", why: "PL031 RTC (create_rtc): not modelled" },
  { node: "/pl061@9030000", why: "PL061 GPIO (create_gpio_devices): not modelled; QMP system_powerdown is handled by the machine" },
  { node: "/gpio-keys", why: "the power button wired to the PL061 (create_gpio_keys)" },
  { node: "/virtio_mmio@…", why: "the 32 virtio-mmio transports at 0x0a000000 (create_virtio_devices): devices are PCI only" },
  { node: "/fw-cfg@9020000", why: "fw_cfg (create_fw_cfg): no firmware interface" },
];

/**
 * Properties QEMU writes that irqlab leaves out on purpose, with the reason.
 */
export const ARM_VIRT_OMITTED_PROPERTIES: readonly { readonly property: string; readonly why: string }[] = [
  {
    property: "/cpus/cpu@N/next-level-cache",
    why:
      "upstream since f669de7001 (2026-04, the 11.1 development cycle) writes next-level-cache = <0> on every CPU node when no " +
      "smp-cache topology is given (and KVM's -cpu host reads no CLIDR, so there are no cache nodes); 0 is not a " +
      "valid phandle and Linux ignores it",
  },
  { property: "/chosen/kaslr-seed, /chosen/rng-seed", why: "random; written only when VirtFdtOptions.randomBytes is given" },
];

const GIC_PATH = "/intc"; // what hw/arm/virt.c hands platform_bus_add_all_fdt_nodes()

/**
 * The flattened device tree QEMU builds for `layout` under KVM. With
 * `cpuHotplug` (x-cpu-hotplug=precreate|naive) it also describes irqlab's
 * CPU hotplug interface (devices/cpu-hotplug-virt.ts), after the platform bus.
 */
export function buildArmVirtFdt(layout: ArmVirtLayout, options: VirtFdtOptions = {}, cpuHotplug = false): Uint8Array {
  const fdt = new QemuFdt(0x8000);

  // create_fdt()
  fdt.setpropString("/", "compatible", "linux,dummy-virt");
  fdt.setpropCell("/", "#address-cells", 2);
  fdt.setpropCell("/", "#size-cells", 2);
  fdt.setpropString("/", "model", "linux,dummy-virt");
  fdt.setpropEmpty("/", "dma-coherent"); // "For QEMU, all DMA is coherent"
  fdt.addSubnode("/chosen");
  if (options.randomBytes) {
    // create_randomness(): one 40-byte draw into { uint64_t kaslr; uint8_t rng[32]; }; the u64 is
    // read in host order (little-endian) and written big-endian, so its 8 bytes come out reversed.
    const seed = options.randomBytes(40);
    fdt.setprop("/chosen", "kaslr-seed", seed.slice(0, 8).reverse());
    fdt.setprop("/chosen", "rng-seed", seed.slice(8, 40));
  }
  fdt.addSubnode("/aliases");
  const clock = fdt.allocPhandle();
  fdt.addSubnode("/apb-pclk");
  fdt.setpropString("/apb-pclk", "compatible", "fixed-clock");
  fdt.setpropCell("/apb-pclk", "#clock-cells", 0);
  fdt.setpropCell("/apb-pclk", "clock-frequency", ARM_VIRT_APB_PCLK_HZ);
  fdt.setpropString("/apb-pclk", "clock-output-names", "clk24mhz");
  fdt.setpropCell("/apb-pclk", "phandle", clock);

  addTimer(fdt, layout);
  addCpus(fdt, layout);
  const gic = addGic(fdt, layout);
  const msi = addIts(fdt, layout);
  if (layout.pmuIntid !== undefined) {
    // fdt_add_pmu_nodes()
    fdt.addSubnode("/pmu");
    fdt.setpropString("/pmu", "compatible", "arm,armv8-pmuv3");
    fdt.setpropCells("/pmu", "interrupts", GIC_FDT_IRQ_TYPE_PPI, intidToPpi(layout.pmuIntid), GIC_FDT_IRQ_FLAGS_LEVEL_HI);
  }
  addUart(fdt, layout, clock);
  addPcie(fdt, layout, gic, msi);
  addPlatformBus(fdt, layout);
  if (cpuHotplug) addVirtCpuHotplugNode(fdt);
  addBootNodes(fdt, layout, options);
  return fdt.toBlob();
}

/** fdt_add_timer_nodes(): four PPIs, level-high; no CPU mask with GICv3; no EL2 virtual timer without EL2. */
function addTimer(fdt: QemuFdt, layout: ArmVirtLayout): void {
  const f = GIC_FDT_IRQ_FLAGS_LEVEL_HI;
  const t = layout.timer;
  fdt.addSubnode("/timer");
  fdt.setpropStringArray("/timer", "compatible", ["arm,armv8-timer", "arm,armv7-timer"]);
  fdt.setpropEmpty("/timer", "always-on");
  fdt.setpropCells(
    "/timer",
    "interrupts",
    ...[t.secureEl1, t.nonSecureEl1, t.virtual, t.hypervisor].flatMap((intid) => [GIC_FDT_IRQ_TYPE_PPI, intidToPpi(intid), f]),
  );
}

/** fdt_add_cpu_nodes(): CPU nodes from the last to the first, then /cpus/cpu-map from the -smp topology. */
function addCpus(fdt: QemuFdt, layout: ArmVirtLayout): void {
  const present = layout.cpus.filter((c) => c.present);
  // #address-cells 2 only if some MPIDR has Aff3, which virt's affinities never do.
  const addrCells = present.some((c) => c.mpidr >= 2 ** 32) ? 2 : 1;
  fdt.addSubnode("/cpus");
  fdt.setpropCell("/cpus", "#address-cells", addrCells);
  fdt.setpropCell("/cpus", "#size-cells", 0);
  const phandles: number[] = [];
  for (let i = present.length - 1; i >= 0; i--) {
    const cpu = present[i]!;
    const node = `/cpus/cpu@${i}`;
    fdt.addSubnode(node);
    fdt.setpropString(node, "device_type", "cpu");
    fdt.setpropString(node, "compatible", layout.cpuCompatible);
    if (present.length > 1) fdt.setpropString(node, "enable-method", "psci");
    if (addrCells === 2) fdt.setpropU64(node, "reg", cpu.mpidr);
    else fdt.setpropCell(node, "reg", cpu.mpidr);
    const ph = fdt.allocPhandle();
    fdt.setpropCell(node, "phandle", ph);
    phandles[i] = ph;
    // next-level-cache is left out: ARM_VIRT_OMITTED_PROPERTIES.
  }
  const threads = layout.topology.threads > 1;
  fdt.addSubnode("/cpus/cpu-map");
  for (let i = present.length - 1; i >= 0; i--) {
    const c = present[i]!;
    const path = `/cpus/cpu-map/socket${c.socket}/cluster${c.cluster}/core${c.core}${threads ? `/thread${c.thread}` : ""}`;
    fdt.addPath(path);
    fdt.setpropCell(path, "cpu", phandles[i]!);
  }
}

/** fdt_add_gic_node() for GICv3; returns the GIC's phandle. */
function addGic(fdt: QemuFdt, layout: ArmVirtLayout): number {
  const gic = fdt.allocPhandle();
  fdt.setpropCell("/", "interrupt-parent", gic);
  const node = `/intc@${hex(layout.gic.dist.base)}`;
  fdt.addSubnode(node);
  fdt.setpropCell(node, "#interrupt-cells", 3);
  fdt.setpropEmpty(node, "interrupt-controller");
  fdt.setpropCell(node, "#address-cells", 2);
  fdt.setpropCell(node, "#size-cells", 2);
  fdt.setpropEmpty(node, "ranges");
  fdt.setpropString(node, "compatible", "arm,gic-v3");
  fdt.setpropCell(node, "#redistributor-regions", layout.gic.redistRegions.length);
  fdt.setpropSizedCells(node, "reg", [
    [2, layout.gic.dist.base],
    [2, layout.gic.dist.size],
    ...layout.gic.redistRegions.flatMap((r) => [[2, r.base] as const, [2, r.size] as const]),
  ]);
  fdt.setpropCell(node, "phandle", gic);
  return gic;
}

/** fdt_add_its_gic_node() (its=on); returns the MSI phandle, or 0 (vms->msi_phandle unset). */
function addIts(fdt: QemuFdt, layout: ArmVirtLayout): number {
  const its = layout.gic.its;
  if (!its) return 0;
  const msi = fdt.allocPhandle();
  const node = `${GIC_PATH}/its@${hex(its.base)}`;
  fdt.addSubnode(node);
  fdt.setpropString(node, "compatible", "arm,gic-v3-its");
  fdt.setpropEmpty(node, "msi-controller");
  fdt.setpropCell(node, "#msi-cells", 1);
  fdt.setpropSizedCells(node, "reg", [
    [2, its.base],
    [2, its.size],
  ]);
  fdt.setpropCell(node, "phandle", msi);
  return msi;
}

/** create_uart() for UART0: the PL011, /chosen/stdout-path and /aliases/serial0. */
function addUart(fdt: QemuFdt, layout: ArmVirtLayout, clock: number): void {
  const { region, spi } = layout.uart;
  const node = `/pl011@${hex(region.base)}`;
  fdt.addSubnode(node);
  fdt.setpropStringArray(node, "compatible", ["arm,pl011", "arm,primecell"]);
  fdt.setpropSizedCells(node, "reg", [
    [2, region.base],
    [2, region.size],
  ]);
  fdt.setpropCells(node, "interrupts", GIC_FDT_IRQ_TYPE_SPI, spi, GIC_FDT_IRQ_FLAGS_LEVEL_HI);
  fdt.setpropCells(node, "clocks", clock, clock);
  fdt.setpropStringArray(node, "clock-names", ["uartclk", "apb_pclk"]);
  fdt.setpropString("/chosen", "stdout-path", node);
  fdt.setpropString("/aliases", "serial0", node);
}

/** create_pcie() and create_pcie_irq_map(): the generic ECAM host bridge. */
function addPcie(fdt: QemuFdt, layout: ArmVirtLayout, gic: number, msi: number): void {
  const p = layout.pcie;
  const node = `/pcie@${hex(p.mmio.base)}`;
  fdt.addSubnode(node);
  fdt.setpropString(node, "compatible", "pci-host-ecam-generic");
  fdt.setpropString(node, "device_type", "pci");
  fdt.setpropCell(node, "#address-cells", 3);
  fdt.setpropCell(node, "#size-cells", 2);
  fdt.setpropCell(node, "linux,pci-domain", 0);
  fdt.setpropCells(node, "bus-range", 0, p.buses - 1);
  fdt.setpropEmpty(node, "dma-coherent");
  if (msi) fdt.setpropCells(node, "msi-map", 0, msi, 0, 0x1_0000);
  fdt.setpropSizedCells(node, "reg", [
    [2, p.ecam.base],
    [2, p.ecam.size],
  ]);
  const ranges: (readonly [1 | 2, number])[] = [
    [1, FDT_PCI_RANGE_IOPORT], [2, 0], [2, p.pio.base], [2, p.pio.size],
    [1, FDT_PCI_RANGE_MMIO], [2, p.mmio.base], [2, p.mmio.base], [2, p.mmio.size],
  ];
  if (p.mmioHigh) ranges.push([1, FDT_PCI_RANGE_MMIO_64BIT], [2, p.mmioHigh.base], [2, p.mmioHigh.base], [2, p.mmioHigh.size]);
  fdt.setpropSizedCells(node, "ranges", ranges);
  fdt.setpropCell(node, "#interrupt-cells", 1);
  // The standard swizzle for slots 0..3 (the mask wraps the rest): pin P of slot S → INTx (P + S) % 4.
  const map: number[] = [];
  for (let slot = 0; slot < 4; slot++) {
    for (let pin = 0; pin < PCI_NUM_PINS; pin++) {
      const spi = p.intxSpis[(pin + slot) % PCI_NUM_PINS]!;
      map.push((slot * 8) << 8, 0, 0, pin + 1, gic, 0, 0, GIC_FDT_IRQ_TYPE_SPI, spi, GIC_FDT_IRQ_FLAGS_LEVEL_HI);
    }
  }
  fdt.setprop(node, "interrupt-map", cellBytes(map));
  // QEMU writes cpu_to_be16(PCI_DEVFN(3, 0)) as a cell: 0x1800 on a little-endian host, the slot bits.
  fdt.setpropCells(node, "interrupt-map-mask", 0x1800, 0, 0, 7);
}

/** platform_bus_add_all_fdt_nodes() with no dynamic sysbus devices: the empty bus node. */
function addPlatformBus(fdt: QemuFdt, layout: ArmVirtLayout): void {
  const { base, size } = layout.platformBus.region;
  const node = `/platform-bus@${hex(base)}`;
  fdt.addSubnode(node);
  fdt.setpropStringArray(node, "compatible", ["qemu,platform", "simple-bus"]);
  fdt.setpropCells(node, "#size-cells", 1);
  fdt.setpropCells(node, "#address-cells", 1);
  fdt.setpropCells(node, "ranges", 0, Math.floor(base / 2 ** 32), base % 2 ** 32, size);
  fdt.setpropPhandle(node, "interrupt-parent", GIC_PATH);
}

/** arm_load_dtb(): the memory node, what the boot adds to /chosen, then fdt_add_psci_node(). */
function addBootNodes(fdt: QemuFdt, layout: ArmVirtLayout, options: VirtFdtOptions): void {
  const mem = `/memory@${hex(layout.ram.base)}`;
  fdt.addSubnode(mem);
  fdt.setpropString(mem, "device_type", "memory");
  fdt.setpropSizedCells(mem, "reg", [
    [2, layout.ram.base],
    [2, layout.ram.size],
  ]);
  if (options.bootargs) fdt.setpropString("/chosen", "bootargs", options.bootargs);
  if (options.initrd) {
    fdt.setpropSizedCells("/chosen", "linux,initrd-start", [[2, options.initrd.start]]);
    fdt.setpropSizedCells("/chosen", "linux,initrd-end", [[2, options.initrd.end]]);
  }
  const { major, minor } = layout.psci.version;
  fdt.addSubnode("/psci");
  if (major >= 1) fdt.setpropStringArray("/psci", "compatible", ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]);
  else if (minor >= 2) fdt.setpropStringArray("/psci", "compatible", ["arm,psci-0.2", "arm,psci"]);
  else throw new ConfigError(`PSCI ${major}.${minor}: irqlab writes PSCI 0.2 function IDs only (KVM offers 0.2 or later)`);
  fdt.setpropString("/psci", "method", layout.psci.method);
  fdt.setpropCell("/psci", "cpu_suspend", QEMU_PSCI_0_2_FN64_CPU_SUSPEND);
  fdt.setpropCell("/psci", "cpu_off", QEMU_PSCI_0_2_FN_CPU_OFF);
  fdt.setpropCell("/psci", "cpu_on", QEMU_PSCI_0_2_FN64_CPU_ON);
  fdt.setpropCell("/psci", "migrate", QEMU_PSCI_0_2_FN64_MIGRATE);
}

function hex(v: number): string {
  return v.toString(16);
}
