/**
 * The two passes of system/vl.c qemu_init() over argv:
 *
 * 1. lookup_opt() on every option, so that an unknown option ("-foo:
 *    invalid option") or a missing argument ("-smp: requires an argument")
 *    anywhere is reported first;
 * 2. the option loop: each option at its location ("-smp 4,foo=1"), parsed
 *    into the state the later phases read: -machine/-smp into the machine
 *    dictionary (keyval), -m/-accel/-device/-name into QemuOpts lists,
 *    -display, -serial and friends into flags. Some options end the run
 *    here: -help, -version, and the help of -machine, -smp, -accel,
 *    -display and of a QemuOpts list (which exits with status 1).
 */

import type { MachineArch } from "../config/machine-config.js";
import { QapiError, type QemuReporter } from "./qemu-error.js";
import { isHelpOption } from "./cutils.js";
import { keyvalMerge, keyvalParse, keyvalParseInto } from "./keyval.js";
import { QDict } from "./qdict.js";
import { QemuOptsList, qemuOptsParseNoisily } from "./qemu-opts.js";
import { MEMORY_OPTS } from "./memory-config.js";
import { ACCEL_OPTS } from "./accel-config.js";
import { DEVICE_OPTS, parseJsonDevice, type JsonDevice } from "./device-options.js";
import { HOST_OPTS, parseDuration, parseSeed } from "./run-options.js";
import { parseDisplay, type DisplayState, type SerialArg } from "./console-options.js";
import { IMPLEMENTED_OPTIONS, type CommandLineExtension, type OptionDef } from "./option-table.js";
import { SMP_MEMBERS } from "./smp-config.js";

/** system/vl.c qemu_name_opts. */
const NAME_OPTS = {
  name: "name",
  impliedOptName: "guest",
  mergeLists: true,
  desc: [
    { name: "guest", type: "str", help: "Sets the name of the guest.\nThis name will be displayed in the SDL window caption.\nThe name will also be used for the VNC server" },
    { name: "process", type: "str", help: "Sets the name of the QEMU process, as shown in top etc" },
    { name: "debug-threads", type: "bool", help: "When enabled, name the individual threads; defaults off.\nNOTE: The thread names are for debugging and not a\nstable API." },
  ],
} as const;

/** system/vl.c qemu_smp_opts, for "-smp help" (qemu_opts_print_help). */
const SMP_OPTS = { name: "smp-opts", impliedOptName: "cpus", mergeLists: true, desc: SMP_MEMBERS.map((name) => ({ name, type: "num" as const })) };

/** What the option loop leaves for the later phases. */
export interface LoopState {
  readonly machineDict: QDict;
  readonly memory: QemuOptsList;
  readonly accel: QemuOptsList;
  readonly device: QemuOptsList;
  readonly name: QemuOptsList;
  readonly host: QemuOptsList;
  readonly jsonDevices: JsonDevice[];
  cpuOption: string | undefined;
  startPaused: boolean;
  hasDefaults: boolean;
  nographic: boolean;
  readonly display: DisplayState;
  readonly serials: SerialArg[];
  defaultSerial: boolean;
  defaultMonitor: boolean;
  stdioTaken: boolean;
  seed: number;
  trace: string | undefined;
  untilNs: number | undefined;
}

/** How the loop ended early: a text for stdout and the exit status. */
export interface EarlyExit {
  readonly kind: "help" | "version" | "list";
  readonly exitCode: 0 | 1;
  /** Machine help needs the machine dictionary; the caller renders it. */
  readonly machineHelp?: true;
  readonly text: string;
}

export function newLoopState(): LoopState {
  return {
    machineDict: new QDict(),
    memory: new QemuOptsList(MEMORY_OPTS),
    accel: new QemuOptsList(ACCEL_OPTS),
    device: new QemuOptsList(DEVICE_OPTS),
    name: new QemuOptsList(NAME_OPTS),
    host: new QemuOptsList(HOST_OPTS),
    jsonDevices: [],
    cpuOption: undefined,
    startPaused: false,
    hasDefaults: true,
    nographic: false,
    display: { type: "default", gl: "off" },
    serials: [],
    defaultSerial: true,
    defaultMonitor: true,
    stdioTaken: false,
    seed: 0,
    trace: undefined,
    untilNs: undefined,
  };
}

/** vl.c lookup_opt(): "--foo" is "-foo". */
function optionName(arg: string): string {
  return arg[1] === "-" ? arg.slice(2) : arg.slice(1);
}

/** The first pass: every option must exist and have its argument. */
export function checkOptions(argv: readonly string[], table: ReadonlyMap<string, OptionDef>, reporter: QemuReporter): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) continue;
    reporter.location = arg;
    const def = table.get(optionName(arg));
    if (def === undefined) reporter.fatal("invalid option");
    if (def.hasArg) {
      if (i + 1 >= argv.length) reporter.fatal("requires an argument");
      i++;
    }
  }
  reporter.location = undefined;
}

/** The inputs of the second pass. */
export interface LoopInputs {
  readonly arch: MachineArch;
  readonly argv: readonly string[];
  readonly table: ReadonlyMap<string, OptionDef>;
  readonly extensions: readonly CommandLineExtension[];
  readonly helpText: () => string;
  readonly versionText: () => string;
  readonly accelListText: () => string;
  readonly displayHelpText: string;
}

/** The second pass; returns an early exit, or undefined when the run goes on. */
export function runOptionLoop(inp: LoopInputs, st: LoopState, reporter: QemuReporter): EarlyExit | undefined {
  const { argv } = inp;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) {
      reporter.location = arg;
      reporter.fatal("irqlab models no block devices: a disk image argument is not supported");
    }
    const def = inp.table.get(optionName(arg))!;
    const optarg = def.hasArg ? argv[++i]! : undefined;
    reporter.location = optarg === undefined ? arg : `${arg} ${optarg}`;
    if (!def.archs.includes(inp.arch)) reporter.fatal("Option not supported for this target");
    try {
      const exit = handleOption(inp, def.name, optarg ?? "", st, reporter);
      if (exit !== undefined) return exit;
    } catch (e) {
      reporter.fatalFrom(e);
    }
  }
  reporter.location = undefined;
  return undefined;
}

/** One option of the loop (vl.c's switch on popt->index). */
function handleOption(inp: LoopInputs, name: string, optarg: string, st: LoopState, reporter: QemuReporter): EarlyExit | undefined {
  const list = (text: string, exitCode: 0 | 1 = 0): EarlyExit => ({ kind: "list", exitCode, text });
  const opts = (l: QemuOptsList, permitAbbrev: boolean): EarlyExit | undefined => {
    const r = qemuOptsParseNoisily(l, optarg, permitAbbrev, reporter);
    return r === "help" ? list(l.helpText(), 1) : undefined;
  };
  const ext = inp.extensions.find((e) => e.name === name);
  if (ext !== undefined) {
    ext.parse(ext.hasArg ? optarg : undefined, {
      arch: inp.arch,
      location: reporter.location,
      disableDefaultMonitor: () => { st.defaultMonitor = false; },
      useStdio: () => { st.stdioTaken = true; },
      fail: (text, hint) => reporter.fatal(text, hint),
      warn: (text, hint) => { reporter.warn(text, hint); },
      report: (text, hint) => { reporter.report(text, hint); },
    });
    return undefined;
  }
  if (!IMPLEMENTED_OPTIONS.has(name)) reporter.fatal("Option not supported in this build");
  switch (name) {
    case "h":
    case "help":
      return { kind: "help", exitCode: 0, text: inp.helpText() };
    case "version":
      return { kind: "version", exitCode: 0, text: inp.versionText() };
    case "M":
    case "machine": {
      const help = keyvalParseInto(st.machineDict, optarg, "type", true);
      return help ? { kind: "list", exitCode: 0, machineHelp: true, text: "" } : undefined;
    }
    case "smp": {
      // machine_parse_property_opt(): keyval with implied "cpus", merged as machine property "smp".
      const { dict, help } = keyvalParse(optarg, "cpus", true);
      if (help) return list(new QemuOptsList(SMP_OPTS).helpText());
      const prop = new QDict();
      prop.put("smp", dict);
      keyvalMerge(st.machineDict, prop);
      return undefined;
    }
    case "m":
      return opts(st.memory, true);
    case "accel": {
      const r = qemuOptsParseNoisily(st.accel, optarg, true, reporter);
      if (r === "help") return list(st.accel.helpText(), 1);
      const acc = r.get("accel");
      if (acc === undefined || isHelpOption(acc)) return list(inp.accelListText());
      return undefined;
    }
    case "enable-kvm":
      st.machineDict.put("accel", "kvm");
      return undefined;
    case "cpu":
      st.cpuOption = optarg;
      return undefined;
    case "device":
      if (optarg.startsWith("{")) {
        st.jsonDevices.push({ props: parseJsonDevice(optarg), location: reporter.location });
        return undefined;
      }
      return opts(st.device, true);
    case "name":
      return opts(st.name, true);
    case "kernel":
      st.machineDict.put("kernel", optarg);
      return undefined;
    case "S":
      st.startPaused = true;
      return undefined;
    case "nodefaults":
      st.hasDefaults = false;
      return undefined;
    case "nographic":
      st.machineDict.put("graphics", "off");
      st.nographic = true;
      st.display.type = "none";
      return undefined;
    case "display":
      return parseDisplay(optarg, st.display) === "help" ? list(inp.displayHelpText) : undefined;
    case "serial":
      st.serials.push({ devname: optarg, location: reporter.location });
      st.defaultSerial = false;
      if (optarg.startsWith("mon:")) st.defaultMonitor = false;
      return undefined;
    case "no-user-config":
      return undefined;
    case "seed":
      st.seed = parseSeed(optarg);
      return undefined;
    case "trace":
      st.trace = optarg;
      return undefined;
    case "until":
      st.untilNs = parseDuration(optarg);
      return undefined;
    case "host":
      return opts(st.host, true);
    default:
      throw new QapiError("Option not supported in this build");
  }
}
