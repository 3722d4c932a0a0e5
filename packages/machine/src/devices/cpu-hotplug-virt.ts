/**
 * The CPU hotplug interface of irqlab's arm `virt` board with
 * x-cpu-hotplug=precreate|naive: QEMU's ACPI GED event selector at
 * VIRT_ACPI_GED (0x09080000) with its interrupt on SPI 9 (hw/arm/virt.c
 * create_acpi_ged, a15irqmap[VIRT_ACPI_GED]), the ACPI CPU hotplug block at
 * {@link IRQLAB_VIRT_CPUHP} (the arm vCPU hotplug RFCs' VIRT_CPUHP_ACPI,
 * GED sysbus MMIO region 3), and the device-tree node that tells a guest
 * without ACPI where they are.
 *
 * The tree keeps QEMU's /cpus (only the CPUs present at boot, as
 * fdt_add_cpu_nodes writes them in the hotplug series too): a guest learns
 * a hotplugged CPU's MPIDR from the block (CPHP_GET_CPU_ID_CMD), the way
 * QEMU's _MAT/CPU scan gives it to an ACPI guest.
 */

import type { MmioBus, Tracer } from "@irqlab/sim";
import { ARM_VIRT_ACPI_GED, ARM_VIRT_IRQ_ACPI_GED, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI, GIC_FDT_IRQ_TYPE_SPI } from "../board/arm-virt-memmap.js";
import type { QemuFdt } from "../board/qemu-fdt.js";
import { AcpiCpuHotplug, type AcpiOstInfo } from "./cpu-hotplug.js";
import { AcpiGedEventSelector } from "./cpu-hotplug-ged.js";
import { ACPI_CPU_HOTPLUG_REG_LEN, ACPI_GED_CPU_HOTPLUG_EVT, ACPI_GED_EVT_SEL_LEN, IRQLAB_CPU_HOTPLUG_COMPATIBLE, IRQLAB_VIRT_CPUHP } from "./cpu-hotplug-regs.js";
import type { IrqLine } from "./interrupt.js";

/** What the machine hands the board's hotplug interface. */
export interface VirtCpuHotplugOptions {
  readonly bus: MmioBus;
  readonly tracer: Tracer;
  /** The machine's name, prefix of the device names. */
  readonly name: string;
  /** MPIDR affinity of every possible CPU, by slot. */
  readonly archIds: readonly number[];
  /** The GED's interrupt output (SPI 9 through KVM_IRQ_LINE). */
  readonly irq: IrqLine;
  /** The guest ejected the CPU of `slot`: the machine unplugs it. */
  readonly eject: (slot: number) => void;
  /** ACPI_DEVICE_OST. */
  readonly ost: (info: AcpiOstInfo) => void;
  /** The device id of the CPU in `slot`, if it has one. */
  readonly deviceId: (slot: number) => string | undefined;
}

/** The GED event selector and the CPU hotplug block of one machine. */
export interface VirtCpuHotplug {
  readonly ged: AcpiGedEventSelector;
  readonly cpus: AcpiCpuHotplug;
}

/** Creates both register blocks and maps them on the machine's MMIO bus. */
export function createVirtCpuHotplug(o: VirtCpuHotplugOptions): VirtCpuHotplug {
  const ged = new AcpiGedEventSelector({ tracer: o.tracer, name: `${o.name}/acpi-ged`, irq: o.irq });
  const cpus = new AcpiCpuHotplug({
    tracer: o.tracer,
    name: `${o.name}/acpi-cpu-hotplug`,
    archIds: o.archIds,
    sendEvent: () => {
      ged.sendEvent(ACPI_GED_CPU_HOTPLUG_EVT);
    },
    eject: o.eject,
    ost: o.ost,
    deviceId: o.deviceId,
  });
  o.bus.map(ARM_VIRT_ACPI_GED.base, ACPI_GED_EVT_SEL_LEN, ged, "acpi-ged");
  o.bus.map(IRQLAB_VIRT_CPUHP.base, ACPI_CPU_HOTPLUG_REG_LEN, cpus, "acpi-cpu-hotplug");
  return { ged, cpus };
}

/**
 * The device-tree node: `compatible` = "irqlab,cpu-hotplug", `reg` = the CPU
 * hotplug block then the GED event selector, `interrupts` = SPI 9, rising
 * edge (the GED's _CRS: AML_EDGE, AML_ACTIVE_HIGH). Its parent is the root,
 * whose interrupt-parent is the GIC.
 */
export function addVirtCpuHotplugNode(fdt: QemuFdt): void {
  const node = `/cpu-hotplug@${IRQLAB_VIRT_CPUHP.base.toString(16)}`;
  fdt.addSubnode(node);
  fdt.setpropString(node, "compatible", IRQLAB_CPU_HOTPLUG_COMPATIBLE);
  fdt.setpropSizedCells(node, "reg", [
    [2, IRQLAB_VIRT_CPUHP.base],
    [2, ACPI_CPU_HOTPLUG_REG_LEN],
    [2, ARM_VIRT_ACPI_GED.base],
    [2, ACPI_GED_EVT_SEL_LEN],
  ]);
  fdt.setpropStringArray(node, "reg-names", ["cpuhp", "ged"]);
  fdt.setpropCells(node, "interrupts", GIC_FDT_IRQ_TYPE_SPI, ARM_VIRT_IRQ_ACPI_GED, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI);
}
