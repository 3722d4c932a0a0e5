/**
 * Machine classes and their properties, the way QEMU sets them from the
 * merged -machine/-smp/-m/-kernel options (system/vl.c
 * qemu_apply_machine_options → qom object_set_properties_from_keyval): each
 * key of the machine dictionary, in QDict order, names a property of the
 * machine object, whose setter visits its value with the keyval visitor.
 * An unknown key is "Property 'virt-11.1-machine.foo' not found"
 * (qom/object.c object_property_find_err).
 *
 * This file holds what every machine has (hw/core/machine.c
 * machine_class_init): kernel, dumpdtb, smp, memory and the rest. irqlab
 * sorts them three ways: modelled (stored in the state), accepted without
 * effect on the model (graphics, mem-merge, ...: the value is still
 * checked), and not modelled (refused with an irqlab message naming the
 * property, whatever the value).
 */

import type { MachineArch, SmpConfig } from "../config/machine-config.js";
import { QapiError } from "./qemu-error.js";
import type { KeyvalVisitor } from "./keyval-visitor.js";
import { setMachineMemory, type MemoryState } from "./memory-config.js";
import type { QDict } from "./qdict.js";
import { DEFAULT_SMP, machineParseSmpConfig, visitSmpConfiguration, type SmpMachineClass } from "./smp-config.js";

/** The machine object's state while its properties are set (MachineState's generic part). */
export interface MachineState extends MemoryState {
  smp: SmpConfig;
  kernel: string | undefined;
  dumpdtb: string | undefined;
  graphics: boolean;
}

/** What a property setter may consult of its machine class. */
export interface MachineClassInfo extends SmpMachineClass {
  /** The QOM type name ("virt-11.1-machine"), as "Property '%s.%s' not found" prints it. */
  readonly typeName: string;
  /** mc->default_ram_size. */
  readonly defaultRamSize: bigint;
}

/** A property as help lists it: name, QOM type, description, default. */
export interface PropertyInfo {
  readonly name: string;
  /** The QOM property type, as `-machine virt,help` prints it ("bool", "string", "OnOffAuto"). */
  readonly type: string;
  readonly description?: string;
  /** Default shown by help, as QEMU shows it (" (default: ...)"). */
  readonly defaultValue?: string;
}

/** One machine property: what help shows, and its setter. */
export interface MachineProperty<S> extends PropertyInfo {
  /** Visits the property's value (named `name` in the visitor) into `state`. */
  readonly set: (v: KeyvalVisitor, state: S, mc: MachineClassInfo) => void;
}

/** A machine class irqlab offers (one of QEMU's MachineClass). */
export interface MachineClass<S extends MachineState> extends MachineClassInfo {
  readonly arch: MachineArch;
  /** mc->alias ("virt" for the latest versioned arm type). */
  readonly alias: string | undefined;
  /** mc->desc, as -machine help prints it. */
  readonly desc: string;
  /** The class's own properties; the generic ones are {@link genericMachineProperties}. */
  readonly props: readonly MachineProperty<S>[];
  /** machine_initfn + the class's instance_init: the defaults. */
  newState(): S;
}

/** The defaults machine_initfn sets: no -smp is one CPU; RAM from the class. */
export function newMachineState(mc: MachineClassInfo): MachineState {
  return {
    smp: DEFAULT_SMP,
    ramSize: mc.defaultRamSize,
    maxramSize: mc.defaultRamSize,
    ramSlots: 0n,
    kernel: undefined,
    dumpdtb: undefined,
    graphics: true,
  };
}

/** A bool property; `apply` may refuse values irqlab does not model. */
export function boolProp<S>(name: string, description: string, apply: (s: S, b: boolean, name: string) => void = () => undefined, defaultValue?: string): MachineProperty<S> {
  return {
    name, type: "bool", description, ...(defaultValue === undefined ? {} : { defaultValue }),
    set: (v, s) => {
      apply(s, v.bool(name), name);
    },
  };
}

/** A string property. */
export function strProp<S>(name: string, description: string, apply: (s: S, value: string) => void): MachineProperty<S> {
  return {
    name, type: "string", description,
    set: (v, s) => {
      apply(s, v.str(name));
    },
  };
}

/** An OnOffAuto property (QAPI enum). */
export function onOffAutoProp<S>(name: string, description: string, apply: (s: S, value: "on" | "off" | "auto") => void): MachineProperty<S> {
  return {
    name, type: "OnOffAuto", description,
    set: (v, s) => {
      apply(s, v.enumeration(name, ["on", "off", "auto"] as const));
    },
  };
}

/** A property QEMU has and irqlab does not model: refused whatever its value. */
export function notModelled<S>(name: string, type: string, description: string, why?: string): MachineProperty<S> {
  return {
    name, type, description,
    set: () => {
      throw new QapiError(`irqlab does not model the machine property '${name}'`, why === undefined ? undefined : `${why}\n`);
    },
  };
}

/** Refuses a value other than the one irqlab models, naming it ("irqlab models only secure=off"). */
export function onlyValue(name: string, modelled: string): QapiError {
  return new QapiError(`irqlab models only ${name}=${modelled}`);
}

const NO_LINUX = "irqlab boots guest images (-kernel irqlab:NAME or a module path), not Linux kernels.";
const NO_ACPI = "irqlab machines describe themselves with a device tree only.";

/** hw/core/machine.c machine_class_init (and machine_initfn's conditional ones): the generic properties. */
export function genericMachineProperties(arch: MachineArch): MachineProperty<MachineState>[] {
  const props: MachineProperty<MachineState>[] = [
    strProp("kernel", "Linux kernel image file", (s, value) => {
      s.kernel = value;
    }),
    notModelled("shim", "string", "shim.efi file", NO_LINUX),
    notModelled("initrd", "string", "Linux initial ramdisk file", NO_LINUX),
    notModelled("append", "string", "Linux kernel command line", NO_LINUX),
    notModelled("dtb", "string", "Linux kernel device tree file", "irqlab builds the device tree from the machine configuration."),
    strProp("dumpdtb", "Dump current dtb to a file and quit", (s, value) => {
      s.dumpdtb = value;
    }),
    notModelled("boot", "BootConfiguration", "Boot configuration"),
    {
      name: "smp", type: "SMPConfiguration", description: "CPU topology",
      set: (v, s, mc) => {
        s.smp = machineParseSmpConfig(mc, visitSmpConfiguration(v, "smp"));
      },
    },
    notModelled("smp-cache", "SmpCachePropertiesWrapper", "Cache properties list for SMP machine"),
    notModelled("phandle-start", "int", "The first phandle ID we may generate dynamically"),
    notModelled("dt-compatible", "string", 'Overrides the "compatible" property of the dt root node'),
    boolProp("dump-guest-core", "Include guest memory in a core dump"),
    boolProp("x-change-vmfd-on-reset", "Set on/off to enable/disable generating new accelerator guest handle on guest reset. Default: off (used only for testing/debugging)."),
    boolProp("mem-merge", "Enable/disable memory merge support"),
    boolProp("aux-ram-share", "Use anonymous shared memory for auxiliary guest RAMs"),
    boolProp("usb", "Set on/off to enable/disable usb"),
    boolProp<MachineState>("graphics", "Set on/off to enable/disable graphics emulation", (s, b) => {
      s.graphics = b;
    }),
    notModelled("firmware", "string", "Firmware image", NO_LINUX),
    boolProp("suppress-vmdesc", "Set on to disable self-describing migration"),
    notModelled("confidential-guest-support", "link<confidential-guest-support>", "Set confidential guest scheme to support"),
    notModelled("memory-encryption", "string", "Set memory encryption object to use"),
    notModelled("memory-backend", "link<memory-backend>", "Set RAM backendValid value is ID of hostmem based backend"),
    notModelled("audiodev", "string", "Audiodev to use for default machine devices"),
    {
      name: "memory", type: "MemorySizeConfiguration", description: "Memory size configuration",
      set: (v, s, mc) => {
        setMachineMemory(v, "memory", mc.defaultRamSize, s);
      },
    },
    // Instance properties (machine_initfn): settable, but not listed by -machine TYPE,help.
    notModelled("hmat", "bool", "Set on/off to enable/disable ACPI Heterogeneous Memory Attribute Table (HMAT)", NO_ACPI),
    boolProp("spcr", "Set on/off to enable/disable ACPI Serial Port Console Redirection Table (spcr)"),
  ];
  if (arch === "aarch64") {
    // mc->nvdimm_supported on arm virt.
    props.push(
      notModelled("nvdimm", "bool", "Set on/off to enable/disable NVDIMM instantiation"),
      notModelled("nvdimm-persistence", "string", "Set NVDIMM persistenceValid values are cpu, mem-ctrl"),
    );
  }
  return props;
}

/**
 * qom object_set_properties_from_qdict(): sets every key of `dict`, in QDict
 * order, as a property of the machine, then checks nothing was left over.
 */
export function setMachineProperties<S extends MachineState>(mc: MachineClass<S>, props: readonly MachineProperty<S>[], dict: QDict, v: KeyvalVisitor, state: S): void {
  v.startStruct(undefined);
  for (const key of dict.keys()) {
    const prop = props.find((p) => p.name === key);
    if (prop === undefined) throw new QapiError(`Property '${mc.typeName}.${key}' not found`);
    prop.set(v, state, mc);
  }
  v.checkStruct();
  v.endStruct();
}

/** The generic properties machine_initfn adds to the instance, which class help does not list. */
export const INSTANCE_PROPERTIES: ReadonlySet<string> = new Set(["hmat", "spcr", "nvdimm", "nvdimm-persistence"]);

/** qom type_print_class_properties(): "TYPE options:" and the sorted property lines. */
export function classPropertiesHelp(typeName: string, props: readonly PropertyInfo[]): string {
  const lines = props.map((p) => {
    let s = `  ${p.name}=<${p.type}>`;
    if (p.description !== undefined || p.defaultValue !== undefined) s = `${s.padEnd(24)} - `;
    if (p.description !== undefined) s += p.description;
    if (p.defaultValue !== undefined) s += ` (default: ${p.defaultValue})`;
    return s;
  });
  lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (lines.length === 0) return `There are no options for ${typeName}.\n`;
  return `${typeName} options:\n${lines.map((l) => `${l}\n`).join("")}`;
}
