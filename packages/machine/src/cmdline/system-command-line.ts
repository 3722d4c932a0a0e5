/**
 * parseSystemCommandLine(): a qemu-system-aarch64 / qemu-system-riscv64
 * command line, parsed and resolved as QEMU 11.1.0's system/vl.c
 * qemu_init() does it, into irqlab's {@link MachineConfig}, in QEMU's
 * order, so that the first error is the one QEMU reports:
 *
 *  1. lookup of every option; the option loop (option-loop.ts);
 *  2. -cpu help and -device help (qemu_process_help_options);
 *  3. -m into the machine options (parse_memory_options);
 *  4. the machine type (select_machine), the display's OpenGL check;
 *  5. legacy machine options: "_" to "-", accel=, kernel-irqchip=,
 *     kvm-shadow-mem=, memory-backend= (qemu_apply_legacy_machine_options);
 *  6. machine properties, in QDict order (qemu_apply_machine_options);
 *  7. the accelerator (configure_accelerators);
 *  8. the serial ports (qemu_create_late_backends);
 *  9. the CPU model (parse_cpu_option), the memory backend;
 * 10. board init: CPU type, the machine's own checks (machvirt_init);
 * 11. the devices (qemu_create_cli_devices).
 *
 * Then what irqlab cannot model is refused with messages that say so.
 */

import type { AccelConfig, HostConfig, MachineArch, MachineConfig } from "../config/machine-config.js";
import { QapiError, QemuReporter, type QemuDiagnostic } from "./qemu-error.js";
import { isHelpOption } from "./cutils.js";
import { keyvalMerge } from "./keyval.js";
import { KeyvalVisitor } from "./keyval-visitor.js";
import type { QDict } from "./qdict.js";
import {
  classPropertiesHelp, genericMachineProperties, INSTANCE_PROPERTIES, setMachineProperties,
  type MachineClass, type MachineProperty, type MachineState,
} from "./machine-class.js";
import { ARM_VIRT_CLASS, ARM_VIRT_QEMU_VERSIONS, QEMU_VERSION, armVirtBoardInit, type ArmVirtState } from "./arm-virt-class.js";
import { RISCV_VIRT_CLASS, riscvVirtBoardInit, type RiscvVirtState } from "./riscv-virt-class.js";
import { checkMemoryModelled, memoryOptionsDict } from "./memory-config.js";
import { configureAccelerators, type MachineAccelSugar } from "./accel-config.js";
import { checkCpuModelled, cpuHelpText, parseCpuOption } from "./cpu-model.js";
import { createDevices, deviceHelp, type KnownDevice } from "./device-options.js";
import { DISPLAY_HELP, resolveSerials } from "./console-options.js";
import { resolveHost, type RunOptions } from "./run-options.js";
import { optionTableWith, type CommandLineExtension } from "./option-table.js";
import { checkOptions, newLoopState, runOptionLoop, type LoopState } from "./option-loop.js";
import { accelListText, helpText, machineListText, versionText } from "./help-text.js";

/** The outcome of a command line that QEMU accepts. */
export type SystemCommandLine =
  /** Run this machine. */
  | { readonly kind: "run"; readonly config: MachineConfig; readonly run: RunOptions; readonly diagnostics: readonly QemuDiagnostic[] }
  /** -help / -version: print `text` on stdout, exit 0. */
  | { readonly kind: "help" | "version"; readonly text: string; readonly diagnostics: readonly QemuDiagnostic[] }
  /**
   * A list (-machine help, -cpu help, -device help, -accel help, -smp help,
   * -display help, a QemuOpts option's help): print `text` on stdout and the
   * diagnostics on stderr, exit with `exitCode` (QemuOpts help exits 1).
   */
  | { readonly kind: "list"; readonly text: string; readonly exitCode: 0 | 1; readonly diagnostics: readonly QemuDiagnostic[] };

/** Options of {@link parseSystemCommandLine}. */
export interface ParseOptions {
  /** The device drivers the machine models: `-device help` lists them and other drivers are refused. Unchecked when absent. */
  readonly devices?: readonly KnownDevice[];
  /** Options added by other parts of irqlab (a monitor's -qmp, for example). */
  readonly extensions?: readonly CommandLineExtension[];
}

const NO_MACHINE_HINT = "Use -machine help to list supported machines\n";

/** A machine class and its board init (mc->init's checks). */
interface MachineBinding<S extends MachineState> {
  readonly cls: MachineClass<S>;
  readonly boardInit: (s: S, accel: AccelConfig) => MachineConfig["machine"];
}

const ARM_VIRT: MachineBinding<ArmVirtState> = { cls: ARM_VIRT_CLASS, boardInit: armVirtBoardInit };
const RISCV_VIRT: MachineBinding<RiscvVirtState> = { cls: RISCV_VIRT_CLASS, boardInit: (s) => riscvVirtBoardInit(s) };

/** vl.c select_machine(): "type" must name a machine class (and leaves the options). */
function selectMachine(arch: MachineArch, dict: QDict): void {
  const type = dict.getStr("type");
  if (type === undefined) throw new QapiError("No machine specified, and there is no default", NO_MACHINE_HINT);
  dict.delete("type");
  if (arch === "aarch64") {
    if (type === ARM_VIRT_CLASS.name || type === ARM_VIRT_CLASS.alias) return;
    if (ARM_VIRT_QEMU_VERSIONS.some((v) => type === `virt-${v}`)) {
      throw new QapiError(
        `irqlab models only the latest virt machine type of QEMU ${QEMU_VERSION}, virt-11.1, not ${type}`,
        "Use -machine virt.\n",
      );
    }
  } else if (type === RISCV_VIRT_CLASS.name) {
    return;
  }
  throw new QapiError(`unsupported machine type: "${type}"`, NO_MACHINE_HINT);
}

/** vl.c machine_help_func(): the properties of the named machine, or the list of machines. */
function machineHelpText(arch: MachineArch, dict: QDict): string {
  const type = dict.getStr("type");
  const mc = arch === "aarch64" ? ARM_VIRT_CLASS : RISCV_VIRT_CLASS;
  if (type !== undefined && (type === mc.name || type === mc.alias)) {
    const props = [...genericMachineProperties(arch), ...mc.props].filter((p) => !INSTANCE_PROPERTIES.has(p.name));
    return classPropertiesHelp(mc.typeName, props);
  }
  return machineListText(arch);
}

/** vl.c qemu_apply_legacy_machine_options(): what -machine says that is not a machine property. */
function applyLegacyMachineOptions(dict: QDict): MachineAccelSugar & { readonly memoryBackend: string | undefined } {
  // keyval_dashify(): non-recursively, "_" becomes "-" in keys.
  for (const key of dict.keys()) {
    if (!key.includes("_")) continue;
    const newKey = key.replaceAll("_", "-");
    if (dict.has(newKey)) throw new QapiError(`Conflict between '${key}' and '${newKey}'`);
    dict.put(newKey, dict.get(key)!);
    dict.delete(key);
  }
  const take = (key: string): string | undefined => {
    const v = dict.getStr(key);
    if (v !== undefined) dict.delete(key);
    return v;
  };
  const accelerators = take("accel");
  take("igd-passthru");
  const kvmGlobals: (readonly [string, string])[] = [];
  const shadow = take("kvm-shadow-mem");
  if (shadow !== undefined) kvmGlobals.push(["kvm-shadow-mem", shadow]);
  const irqchip = take("kernel-irqchip");
  if (irqchip !== undefined) kvmGlobals.push(["kernel-irqchip", irqchip]);
  return { accelerators, kvmGlobals, memoryBackend: take("memory-backend") };
}

/**
 * Parses a QEMU system-emulator command line (without the program name)
 * for `arch`. Returns what to do; throws {@link QemuOptionError} with
 * QEMU's messages when QEMU would exit with an error.
 */
export function parseSystemCommandLine(arch: MachineArch, argv: readonly string[], options: ParseOptions = {}): SystemCommandLine {
  const reporter = new QemuReporter();
  const extensions = options.extensions ?? [];
  const table = optionTableWith(extensions);
  checkOptions(argv, table, reporter);
  const st = newLoopState();
  const early = runOptionLoop(
    { arch, argv, table, extensions, helpText: () => helpText(arch, extensions), versionText, accelListText, displayHelpText: DISPLAY_HELP },
    st,
    reporter,
  );
  const diagnostics = reporter.diagnostics;
  if (early !== undefined) {
    const text = early.machineHelp === true ? machineHelpText(arch, st.machineDict) : early.text;
    if (early.kind === "list") return { kind: "list", text, exitCode: early.exitCode, diagnostics };
    return { kind: early.kind, text, diagnostics };
  }
  if (st.cpuOption !== undefined && isHelpOption(st.cpuOption)) return { kind: "list", text: cpuHelpText(arch), exitCode: 0, diagnostics };
  const devHelp = deviceHelp(st.device, options.devices ?? [], reporter);
  if (devHelp !== undefined) return { kind: "list", text: devHelp, exitCode: 0, diagnostics };

  const host = reporter.at(st.host.groups[0]?.location, () => resolveHost(st.host));
  const mem = memoryOptionsDict(st.memory);
  reporter.at(mem.location, () => {
    keyvalMerge(st.machineDict, mem.dict);
  });
  reporter.at(undefined, () => {
    selectMachine(arch, st.machineDict);
  });
  if (st.display.gl !== "off") reporter.fatal("OpenGL support was not enabled in this build of QEMU");
  const sugar = reporter.at(undefined, () => applyLegacyMachineOptions(st.machineDict));

  const common: Common = { arch, st, host, sugar, reporter, options };
  return arch === "aarch64" ? finish(ARM_VIRT, common) : finish(RISCV_VIRT, common);
}

/** What {@link finish} needs from the earlier phases. */
interface Common {
  readonly arch: MachineArch;
  readonly st: LoopState;
  readonly host: HostConfig;
  readonly sugar: MachineAccelSugar & { readonly memoryBackend: string | undefined };
  readonly reporter: QemuReporter;
  readonly options: ParseOptions;
}

/** Phases 6-11 for one machine class. */
function finish<S extends MachineState>(b: MachineBinding<S>, c: Common): SystemCommandLine {
  const { arch, st, reporter, sugar } = c;
  const state = b.cls.newState();
  const props: MachineProperty<S>[] = [...genericMachineProperties(arch), ...b.cls.props];
  reporter.at(undefined, () => {
    setMachineProperties(b.cls, props, st.machineDict, new KeyvalVisitor(st.machineDict), state);
  });
  const accel = configureAccelerators({ arch, list: st.accel, sugar, smp: state.smp, hostCpus: c.host.harts }, reporter);
  const serial = resolveSerials(st, reporter);
  const cpuOption = reporter.at(undefined, () => parseCpuOption(arch, st.cpuOption));
  if (sugar.memoryBackend !== undefined) reporter.fatal(`Memory backend '${sugar.memoryBackend}' not found`);

  // machine_run_board_init(): the CPU type, the machine's init checks; then irqlab's memory limits.
  const { cpu: cpuChoice, machine, ramBytes } = reporter.at(undefined, () => ({
    cpu: checkCpuModelled(arch, cpuOption),
    machine: b.boardInit(state, accel),
    ramBytes: checkMemoryModelled(state),
  }));
  const devices = createDevices(st.device, st.jsonDevices, c.options.devices, reporter);
  const guest = st.name.groups[0]?.get("guest");
  const config: MachineConfig = {
    arch, machine, accel, smp: state.smp, ramBytes, cpu: cpuChoice.model, devices, serial, host: c.host,
    ...(cpuChoice.pmu === undefined ? {} : { cpuPmu: cpuChoice.pmu }),
    ...(state.kernel === undefined ? {} : { kernel: state.kernel }),
    startPaused: st.startPaused,
    ...(guest === undefined ? {} : { name: guest }),
  };
  const run: RunOptions = {
    seed: st.seed,
    ...(st.untilNs === undefined ? {} : { untilNs: st.untilNs }),
    ...(st.trace === undefined ? {} : { trace: st.trace }),
  };
  return { kind: "run", config, run, diagnostics: reporter.diagnostics };
}
