/**
 * -cpu as QEMU 11.1 handles it (hw/core/cpu-common.c parse_cpu_option,
 * cpu_common_parse_features; hw/core/machine.c is_cpu_type_supported),
 * for irqlab's KVM-only build:
 *
 * - "" is "-cpu option cannot be empty"; a model the binary lacks is
 *   "unable to find CPU model 'X'" (a KVM-only qemu-system-aarch64 has
 *   only cortex-a53, cortex-a57, host and max: the other Arm models live in
 *   target/arm/tcg/);
 * - features after the model must be key=value ("Expected key=value
 *   format, found X.");
 * - without -cpu the machine's default applies: arm virt picks "max" when
 *   TCG is not running (virt_get_default_cpu_type, since QEMU 10.1), riscv
 *   virt "rv64" (TYPE_RISCV_CPU_BASE). Under KVM, max and rv64 take the
 *   host's features, like host.
 *
 * irqlab runs the host CPU only: it accepts host and max (and rv64 on
 * riscv64); another model QEMU knows is refused with an irqlab message, as
 * are CPU properties but one: Arm's `pmu` (target/arm/cpu.c
 * arm_cpu_pmu_property), whether the vCPUs have a vPMU. QEMU registers each
 * property as a global one and applies them in order when it creates the CPUs
 * (object_apply_global_props, fatal then): the last `pmu=` wins, and a value
 * qapi_bool_parse does not know is "can't apply global host-arm-cpu.pmu=x:
 * Parameter 'pmu' expects 'on' or 'off'".
 */

import type { MachineArch } from "../config/machine-config.js";
import { qapiBoolParse } from "./cutils.js";
import { QapiError } from "./qemu-error.js";

/** The CPU models of a KVM-only QEMU 11.1 binary (target/arm/cpu64.c, cpu-max.c; target/riscv/cpu.c, kvm/kvm-cpu.c). */
export const QEMU_KVM_BUILD_CPUS: Readonly<Record<MachineArch, readonly string[]>> = {
  aarch64: ["cortex-a53", "cortex-a57", "host", "max"],
  riscv64: [
    "host", "lowrisc-ibex", "max", "max32", "mips-p8700", "rv32", "rv32e", "rv32i", "rv64", "rv64e", "rv64i",
    "rva22s64", "rva22u64", "rva23s64", "rva23u64", "shakti-c", "sifive-e31", "sifive-e34", "sifive-e51",
    "sifive-u34", "sifive-u54", "thead-c906", "thead-c908", "thead-c908v", "tt-ascalon", "veyron-v1",
    "xiangshan-kunminghu", "xiangshan-nanhu",
  ],
};

/** The models irqlab runs (all of them the host CPU under KVM). */
export const IRQLAB_CPUS: Readonly<Record<MachineArch, readonly string[]>> = {
  aarch64: ["host", "max"],
  riscv64: ["host", "max", "rv64"],
};

/** The CPU model without -cpu, under KVM. */
export const DEFAULT_CPU: Readonly<Record<MachineArch, string>> = { aarch64: "max", riscv64: "rv64" };

/** `-cpu help` (list_cpus): irqlab's models, in QEMU's format. */
export function cpuHelpText(arch: MachineArch): string {
  return `Available CPUs:\n${IRQLAB_CPUS[arch].map((m) => `  ${m}\n`).join("")}`;
}

/** A parsed -cpu: the model and its key=value properties. */
export interface CpuOption {
  readonly model: string;
  readonly props: readonly string[];
}

/** parse_cpu_option(): the model and its properties, or QEMU's error (fatal, no location). */
export function parseCpuOption(arch: MachineArch, option: string | undefined): CpuOption {
  if (option === undefined) return { model: DEFAULT_CPU[arch], props: [] };
  // g_strsplit(cpu_option, ",", 2): "" has no pieces at all.
  if (option === "") throw new QapiError("-cpu option cannot be empty");
  const comma = option.indexOf(",");
  const model = comma < 0 ? option : option.slice(0, comma);
  if (!QEMU_KVM_BUILD_CPUS[arch].includes(model)) throw new QapiError(`unable to find CPU model '${model}'`);
  // cpu_common_parse_features(): strtok(",") tokens, each key=value.
  const props = comma < 0 ? [] : option.slice(comma + 1).split(",").filter((t) => t !== "");
  const bad = props.find((t) => !t.includes("="));
  if (bad !== undefined) throw new QapiError(`Expected key=value format, found ${bad}.`);
  return { model, props };
}

/** What irqlab runs for a -cpu: the model, and Arm's `pmu` property where it was given. */
export interface CpuChoice {
  readonly model: string;
  /** `pmu=on|off` (aarch64): whether the vCPUs have a vPMU. */
  readonly pmu?: boolean;
}

/** At board init (where is_cpu_type_supported runs, and the CPUs take their global properties): what irqlab runs, or its refusal. */
export function checkCpuModelled(arch: MachineArch, cpu: CpuOption): CpuChoice {
  if (!IRQLAB_CPUS[arch].includes(cpu.model)) {
    throw new QapiError(
      `irqlab does not model the CPU model '${cpu.model}'`,
      `irqlab runs the host CPU: use ${IRQLAB_CPUS[arch].map((m) => `-cpu ${m}`).join(", ")}.\n`,
    );
  }
  const pmuProp = (p: string): boolean => arch === "aarch64" && p.startsWith("pmu=");
  const others = cpu.props.filter((p) => !pmuProp(p));
  if (others.length > 0) {
    const alone = arch === "aarch64" ? `Use -cpu ${cpu.model} alone, or with pmu=on or pmu=off.\n` : `Use -cpu ${cpu.model} alone.\n`;
    throw new QapiError(`irqlab does not model CPU properties ('${others.join(",")}')`, alone);
  }
  let pmu: boolean | undefined;
  for (const p of cpu.props) {
    const value = p.slice("pmu=".length);
    pmu = qapiBoolParse(value);
    if (pmu === undefined) throw new QapiError(`can't apply global ${cpu.model}-arm-cpu.pmu=${value}: Parameter 'pmu' expects 'on' or 'off'`);
  }
  return pmu === undefined ? { model: cpu.model } : { model: cpu.model, pmu };
}
