/**
 * -device as QEMU 11.1 takes it (system/vl.c, system/qdev-monitor.c):
 *
 * - the option loop parses "driver[,prop=value...]" into the "device"
 *   QemuOpts list (implied "driver", any property, "id=" checked and unique),
 *   or a JSON object when the argument starts with '{';
 * - after the loop, qemu_process_help_options() answers "-device help" (the
 *   drivers, by category) and "-device DRIVER,help" (its properties, or
 *   "Device 'X' not found"), then QEMU exits with status 0;
 * - at the very end (qemu_create_cli_devices) each device needs a driver
 *   ("Parameter 'driver' is missing") that names a device model ("'foo' is
 *   not a valid device model name"): the QemuOpts devices first, then the
 *   JSON ones.
 *
 * The machine knows which drivers it models; the parser checks names only
 * against the list the caller passes, and leaves properties to the machine.
 */

import type { DeviceConfig } from "../config/machine-config.js";
import { QapiError, type QemuReporter } from "./qemu-error.js";
import type { PropertyInfo } from "./machine-class.js";
import { classPropertiesHelp } from "./machine-class.js";
import { isHelpOption } from "./cutils.js";
import type { QemuOptsList, QemuOptsListDef } from "./qemu-opts.js";

/** system/qdev-monitor.c qemu_device_opts: implied "driver", any property ("sanity checking will happen later"). */
export const DEVICE_OPTS: QemuOptsListDef = { name: "device", impliedOptName: "driver", mergeLists: false, desc: [] };

/** DeviceCategory, as `-device help` titles them (qdev_print_devinfos). */
export type DeviceCategory =
  | "Controller/Bridge/Hub" | "USB" | "Storage" | "Network" | "Input" | "Display" | "Sound" | "Misc" | "CPU" | "Watchdog";

const CATEGORY_ORDER: readonly DeviceCategory[] = [
  "Controller/Bridge/Hub", "USB", "Storage", "Network", "Input", "Display", "Sound", "Misc", "CPU", "Watchdog",
];

/** A device driver the machine models, as `-device help` shows it. */
export interface DeviceDriverInfo {
  readonly name: string;
  /** The bus type it plugs into ("PCI", "System"...). */
  readonly bus?: string;
  readonly desc?: string;
  readonly categories?: readonly DeviceCategory[];
  /** Its properties, for `-device NAME,help`. */
  readonly props?: readonly PropertyInfo[];
}

/** A driver name, or its description. */
export type KnownDevice = string | DeviceDriverInfo;

/** One -device in JSON form (vl.c device_opts), with its location. */
export interface JsonDevice {
  readonly props: ReadonlyMap<string, string>;
  readonly location: string | undefined;
}

const info = (d: KnownDevice): DeviceDriverInfo => (typeof d === "string" ? { name: d } : d);

/** qobject_from_json() for -device: an object whose scalar members become property strings. */
export function parseJsonDevice(arg: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(arg);
  } catch (e) {
    throw new QapiError(`JSON parse error, ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new QapiError("irqlab: a JSON -device must be an object");
  }
  const props = new Map<string, string>();
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof v === "string") props.set(k, v);
    else if (typeof v === "number") props.set(k, String(v));
    else if (typeof v === "boolean") props.set(k, v ? "on" : "off");
    else throw new QapiError(`irqlab does not model the structured device property '${k}'`);
  }
  return props;
}

/** qdev_print_devinfos(false): the drivers by category, sorted by name. */
function deviceListText(known: readonly KnownDevice[]): string {
  // object_class_get_list_sorted(): strcasecmp on the type names.
  const sorted = known.map(info).sort((a, b) => {
    const x = a.name.toLowerCase();
    const y = b.name.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  let out = "";
  const section = (title: string, list: readonly DeviceDriverInfo[]): void => {
    if (list.length === 0) return;
    out += `${out === "" ? "" : "\n"}${title} devices:\n`;
    for (const d of list) {
      out += `name "${d.name}"${d.bus === undefined ? "" : `, bus ${d.bus}`}${d.desc === undefined ? "" : `, desc "${d.desc}"`}\n`;
    }
  };
  for (const cat of CATEGORY_ORDER) section(cat, sorted.filter((d) => d.categories?.includes(cat) === true));
  section("Uncategorized", sorted.filter((d) => (d.categories ?? []).length === 0));
  return out;
}

/**
 * qemu_process_help_options() for -device: the help text of the first
 * -device that asks for it (an error for an unknown driver is reported,
 * and QEMU still exits 0), or undefined.
 */
export function deviceHelp(list: QemuOptsList, known: readonly KnownDevice[], reporter: QemuReporter): string | undefined {
  for (const opts of list.groups) {
    const driver = opts.get("driver");
    if (driver !== undefined && isHelpOption(driver)) return deviceListText(known);
    if (driver === undefined || !opts.hasHelpOpt()) continue;
    const d = known.map(info).find((k) => k.name === driver);
    if (d === undefined) {
      reporter.location = opts.location;
      reporter.report(`Device '${driver}' not found`);
      reporter.location = undefined;
      return "";
    }
    return classPropertiesHelp(driver, d.props ?? []);
  }
  return undefined;
}

/** qdev_device_add_from_qdict()'s driver checks for one device's properties. */
function toDeviceConfig(props: ReadonlyMap<string, string>, id: string | undefined, known: readonly KnownDevice[] | undefined): DeviceConfig {
  const driver = props.get("driver");
  if (driver === undefined) throw new QapiError("Parameter 'driver' is missing");
  if (known !== undefined && !known.some((k) => info(k).name === driver)) {
    throw new QapiError(`'${driver}' is not a valid device model name`);
  }
  const rest: Record<string, string> = {};
  for (const [k, v] of props) {
    if (k !== "driver" && k !== "id") rest[k] = v;
  }
  const theId = id ?? props.get("id");
  return { driver, ...(theId === undefined ? {} : { id: theId }), props: rest };
}

/** qemu_create_cli_devices(): every -device, QemuOpts ones first, each reported at its own location. */
export function createDevices(list: QemuOptsList, json: readonly JsonDevice[], known: readonly KnownDevice[] | undefined, reporter: QemuReporter): DeviceConfig[] {
  const out: DeviceConfig[] = [];
  for (const opts of list.groups) {
    // qemu_opts_to_qdict(): every option, a later one replacing an earlier one of the same name.
    const props = new Map<string, string>();
    for (const o of opts.opts) props.set(o.name, o.str);
    out.push(reporter.at(opts.location, () => toDeviceConfig(props, opts.id, known)));
  }
  for (const d of json) out.push(reporter.at(d.location, () => toDeviceConfig(d.props, undefined, known)));
  return out;
}
