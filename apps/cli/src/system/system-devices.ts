/**
 * The `-device` drivers the commands offer: what `-device help` lists and
 * what the parser accepts (ParseOptions.devices), and the plugs the machine
 * calls for drivers beyond its built-in PCI ones (MachineOptions.drivers).
 *
 * These are the machine's PCI drivers (vfio-pci and x-irqlab-msix-test,
 * PCI_DEVICE_DRIVERS), which the machine plugs itself, and the drivers it
 * exports as plugs ({@link PLUGGED_DRIVERS}: vfio-platform, on the platform
 * bus).
 */

import {
  PCI_DEVICE_DRIVERS,
  VFIO_PLATFORM_DEVICE_INFO,
  plugVfioPlatformDevice,
  type DeviceDriverInfo,
  type DevicePlug,
  type PropertyInfo,
} from "@irqlab/machine";

/** PCI devices' addr= (QEMU's "addr" property of every PCI device). */
const PCI_ADDR: PropertyInfo = { name: "addr", type: "int32", description: "Slot and optional function number, example: 06.0 or 06", defaultValue: "-1" };

/** The properties MachinePci.plug() reads, for `-device DRIVER,help`. */
const PCI_PROPS: Readonly<Record<string, readonly PropertyInfo[]>> = {
  "vfio-pci": [
    PCI_ADDR,
    { name: "host", type: "str", description: "Host PCI address [domain:]<bus:dev.fn> of assigned device" },
    { name: "sysfsdev", type: "str", description: "Host sysfs path of assigned device" },
    { name: "x-irqlab-dynamic-msix", type: "bool", description: "(irqlab) the host allows dynamic MSI-X allocation (no VFIO_IRQ_INFO_NORESIZE)", defaultValue: "false" },
  ],
  "x-irqlab-msix-test": [PCI_ADDR, { name: "vectors", type: "uint32", description: "number of MSI-X vectors, 1..2048", defaultValue: "8" }],
};

/** Drivers the machine exports as plugs, with their `-device help` entry. */
const PLUGGED_DRIVERS: readonly { readonly info: DeviceDriverInfo; readonly plug: DevicePlug }[] = [
  {
    info: VFIO_PLATFORM_DEVICE_INFO,
    plug: (ctx, device) => {
      plugVfioPlatformDevice(ctx, device);
    },
  },
];

/** What `-device help` shows and the parser accepts. */
export function knownDevices(): DeviceDriverInfo[] {
  const pci = Object.entries(PCI_DEVICE_DRIVERS).map(
    ([name, desc]): DeviceDriverInfo => ({ name, bus: "PCI", desc, categories: ["Misc"], props: PCI_PROPS[name] ?? [PCI_ADDR] }),
  );
  return [...pci, ...PLUGGED_DRIVERS.map((d) => d.info)];
}

/** The plugs to pass to Machine.create for drivers that are not built in. */
export function devicePlugs(): Map<string, DevicePlug> {
  return new Map(PLUGGED_DRIVERS.map((d) => [d.info.name, d.plug] as const));
}
