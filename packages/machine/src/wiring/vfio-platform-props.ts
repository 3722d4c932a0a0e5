/**
 * The properties of `-device vfio-platform` (hw/vfio/platform.c
 * vfio_platform_dev_properties, QEMU 10: host, sysfsdev, x-no-mmap,
 * mmap-timeout-ms, x-irqfd; iommufd and fd with CONFIG_IOMMUFD) and
 * irqlab's properties of the simulated host device behind it, prefixed
 * `x-irqlab-`: the trigger of its interrupt line and whether the line is
 * already high when QEMU opens the device (seed 003).
 *
 * Values are parsed as QEMU's keyval input visitor parses device options,
 * with its messages: "Property 'vfio-platform.foo' not found",
 * "Parameter 'x-irqfd' expects 'on' or 'off'", "Parameter 'mmap-timeout-ms'
 * expects integer" / "expects uint32_t", "Parameter 'x-irqlab-trigger' does
 * not accept value 'x'"; then realize's check of the host name
 * (vfio_base_device_init: "vfio error: wrong host device name" without
 * host= or sysfsdev=, "vfio NAME: wrong host device name" for a name with a
 * '/'). The host device is simulated, so every name exists.
 */

import { ConfigError } from "@irqlab/sim";
import { qapiBoolParse, qemuStrtou64 } from "../cmdline/cutils.js";
import type { DeviceDriverInfo } from "../cmdline/device-options.js";
import type { PropertyInfo } from "../cmdline/machine-class.js";
import type { HostIrqTrigger } from "../devices/vfio-platform-host.js";
import { VFIO_PLATFORM_MMAP_TIMEOUT_MS } from "../devices/vfio-platform.js";

/** TYPE_VFIO_PLATFORM. */
export const TYPE_VFIO_PLATFORM = "vfio-platform";

/** A parsed `-device vfio-platform`. */
export interface VfioPlatformConfig {
  /** vbasedev->name: host=, or the last component of sysfsdev=. */
  readonly name: string;
  /** The host device's sysfs path (sysfsdev=, or /sys/bus/platform/devices/NAME). */
  readonly sysfsdev: string;
  /** x-no-mmap. */
  readonly noMmap: boolean;
  /** mmap-timeout-ms. */
  readonly mmapTimeoutMs: number;
  /** x-irqfd. */
  readonly irqfd: boolean;
  /** x-irqlab-trigger=edge|level (default level). */
  readonly trigger: HostIrqTrigger;
  /** x-irqlab-line=low|high (default low): the line is high before QEMU opens the device. */
  readonly lineHigh: boolean;
  /** Warnings QEMU prints while realizing the device. */
  readonly warnings: readonly string[];
}

const PROPS: readonly PropertyInfo[] = [
  { name: "host", type: "str", description: "Host device name of assigned device" },
  { name: "sysfsdev", type: "str", description: "Host sysfs path of assigned device" },
  { name: "x-no-mmap", type: "bool", description: "Disable MMAP for device. Allows to trace MMIO accesses (DEBUG)", defaultValue: "false" },
  {
    name: "mmap-timeout-ms",
    type: "uint32",
    description: "When EOI is not provided by KVM/QEMU, wait time (milliseconds) to re-enable device direct access after level interrupt (DEBUG)",
    defaultValue: String(VFIO_PLATFORM_MMAP_TIMEOUT_MS),
  },
  { name: "x-irqfd", type: "bool", description: "Allow disabling irqfd support (DEBUG)", defaultValue: "true" },
  { name: "iommufd", type: "link<iommufd>", description: "Set host IOMMUFD backend device" },
  { name: "fd", type: "str" },
  { name: "x-irqlab-trigger", type: "str", description: "(irqlab) The simulated host device's interrupt: edge or level", defaultValue: "level" },
  { name: "x-irqlab-line", type: "str", description: "(irqlab) The host line when QEMU opens the device: low or high", defaultValue: "low" },
];

/** `vfio-platform` as `-device help` lists it (category Misc, dynamic sysbus device). */
export const VFIO_PLATFORM_DEVICE_INFO: DeviceDriverInfo = {
  name: TYPE_VFIO_PLATFORM,
  bus: "System",
  desc: "VFIO-based platform device assignment",
  categories: ["Misc"],
  props: PROPS,
};

function bool(name: string, s: string): boolean {
  const b = qapiBoolParse(s);
  if (b === undefined) throw new ConfigError(`Parameter '${name}' expects 'on' or 'off'`);
  return b;
}

function uint32(name: string, s: string): number {
  const r = qemuStrtou64(s, 0);
  if (r.ret < 0) throw new ConfigError(`Parameter '${name}' expects integer`);
  if (r.value > 0xffff_ffffn) throw new ConfigError(`Parameter '${name}' expects uint32_t`);
  return Number(r.value);
}

function choice<T extends string>(name: string, s: string, values: readonly T[]): T {
  const found = values.find((v) => v === s);
  if (found === undefined) throw new ConfigError(`Parameter '${name}' does not accept value '${s}'`);
  return found;
}

/** g_path_get_basename(). */
function basename(path: string): string {
  if (path === "") return ".";
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return "/";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * Parses the properties of one `-device vfio-platform` (everything but
 * driver= and id=, as DeviceConfig.props holds them).
 * @throws ConfigError with QEMU's message for the first bad property, or
 * realize's for a missing or bad host name.
 */
export function parseVfioPlatformProps(props: Readonly<Record<string, string>>): VfioPlatformConfig {
  let host: string | undefined;
  let sysfsdev: string | undefined;
  let noMmap = false;
  let mmapTimeoutMs = VFIO_PLATFORM_MMAP_TIMEOUT_MS;
  let irqfd = true;
  let trigger: HostIrqTrigger = "level";
  let lineHigh = false;
  for (const [key, value] of Object.entries(props)) {
    switch (key) {
      case "host":
        host = value;
        break;
      case "sysfsdev":
        sysfsdev = value;
        break;
      case "x-no-mmap":
        noMmap = bool(key, value);
        break;
      case "mmap-timeout-ms":
        mmapTimeoutMs = uint32(key, value);
        break;
      case "x-irqfd":
        irqfd = bool(key, value);
        break;
      case "x-irqlab-trigger":
        trigger = choice(key, value, ["edge", "level"] as const);
        break;
      case "x-irqlab-line":
        lineHigh = choice(key, value, ["low", "high"] as const) === "high";
        break;
      case "iommufd":
      case "fd":
        throw new ConfigError(`irqlab does not model the ${TYPE_VFIO_PLATFORM} property '${key}' (iommufd backends)`);
      default:
        throw new ConfigError(`Property '${TYPE_VFIO_PLATFORM}.${key}' not found`);
    }
  }
  // vfio_base_device_init(): sysfsdev= takes precedence over host=.
  let name: string;
  if (sysfsdev !== undefined) name = basename(sysfsdev);
  else {
    if (host === undefined || host.includes("/")) throw new ConfigError(host === undefined ? "vfio error: wrong host device name" : `vfio ${host}: wrong host device name`);
    name = host;
    sysfsdev = `/sys/bus/platform/devices/${host}`;
  }
  return { name, sysfsdev, noMmap, mmapTimeoutMs, irqfd, trigger, lineHigh, warnings: [`-device ${TYPE_VFIO_PLATFORM} is deprecated`] };
}
