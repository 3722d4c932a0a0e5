/**
 * Accelerator selection as system/vl.c configure_accelerators() does it,
 * in a build that has KVM and no TCG (irqlab models KVM only, like a QEMU
 * configured with --disable-tcg):
 *
 * - without -accel, the list is "-machine accel=a:b" (or -enable-kvm's
 *   "kvm"), else the build's default, which for a KVM-only build is "kvm";
 * - -accel and -machine accel= together are refused;
 * - accelerators are tried in order; one this build lacks ("tcg") prints
 *   "invalid accelerator tcg" and the next is tried; when one works after a
 *   failure QEMU says "falling back to KVM";
 * - the kvm-accel properties are set from -machine's sugar
 *   (kernel-irqchip=, kvm-shadow-mem=: "can't apply global ...") and then
 *   from the -accel options, through the string input visitor
 *   (object_property_parse);
 * - kvm_init() warns when more vCPUs are asked for than KVM recommends
 *   (KVM_CAP_NR_VCPUS: the host's online CPUs) and refuses more than
 *   KVM_CAP_MAX_VCPUS; kvm_arch_irqchip_create() refuses
 *   kernel-irqchip=split on ARM (RISC-V accepts it since QEMU 10.0).
 */

import type { AccelConfig, FailEntryPolicy, Gicv4Mode, MachineArch, SmpConfig } from "../config/machine-config.js";
import { QapiError, type QemuReporter } from "./qemu-error.js";
import { EINVAL, qapiBoolParse, qemuStrtoi64, qemuStrtosz, qemuStrtou64 } from "./cutils.js";
import { qemuOptsParseNoisily, type QemuOptsList, type QemuOptsListDef } from "./qemu-opts.js";

/** system/vl.c qemu_accel_opts: implied "accel", any option accepted. */
export const ACCEL_OPTS: QemuOptsListDef = { name: "accel", impliedOptName: "accel", mergeLists: false, desc: [] };

/** The accelerators this build has (accel_find). */
export const ACCELERATORS = ["kvm"] as const;

/** KVM_CAP_MAX_VCPUS: kvm_arm_default_max_vcpus() for vgic-v3 (512), RISC-V KVM_MAX_VCPUS (1024). */
const KVM_MAX_VCPUS: Record<MachineArch, number> = { aarch64: 512, riscv64: 1024 };

/** What -machine contributed to accelerator setup (qemu_apply_legacy_machine_options). */
export interface MachineAccelSugar {
  /** "-machine accel=..." or -enable-kvm. */
  readonly accelerators: string | undefined;
  /** Global properties for kvm-accel from -machine kernel-irqchip=/kvm-shadow-mem=, in registration order. */
  readonly kvmGlobals: readonly (readonly [string, string])[];
}

interface KvmAccelState {
  kernelIrqchip: AccelConfig["kernelIrqchip"];
  riscvAia: AccelConfig["riscvAia"];
  failEntry: FailEntryPolicy;
  gicv4: Gicv4Mode;
}

/** The values of irqlab's x-gicv4 (kvm_vgic_v4_set_forwarding as each kernel has it). */
const GICV4_MODES: readonly Gicv4Mode[] = ["off", "linux-6.16", "linux-6.6", "rfc-shared-vlpi"];

/** A string-visitor enum parse (qapi-visit-core.c input_type_enum). */
function enumValue<T extends string>(name: string, value: string, values: readonly T[]): T {
  const v = values.find((x) => x === value);
  if (v === undefined) throw new QapiError(`Parameter '${name}' does not accept value '${value}'`);
  return v;
}

/** object_property_parse(kvm-accel, name, value): the kvm-accel properties of QEMU 11.1 and irqlab's x-fail-entry. */
function setKvmProperty(arch: MachineArch, s: KvmAccelState, name: string, value: string): void {
  switch (name) {
    case "kernel-irqchip":
      s.kernelIrqchip = enumValue(name, value, ["on", "off", "split"] as const);
      return;
    case "kvm-shadow-mem":
      if (qemuStrtoi64(value, 0).ret !== 0) throw new QapiError(`Parameter '${name}' expects int64`);
      return;
    case "dirty-ring-size": {
      const r = qemuStrtou64(value, 0);
      if (r.ret !== 0) throw new QapiError(`Parameter '${name}' expects uint64`);
      if (r.value > 0xffffffffn) throw new QapiError(`Parameter '${name}' expects uint32_t`);
      if ((r.value & (r.value - 1n)) !== 0n) throw new QapiError("dirty-ring-size must be a power of two.");
      return;
    }
    case "device":
    case "rapl-helper-socket":
      return;
    case "rapl":
      if (qapiBoolParse(value) === undefined) throw new QapiError(`Parameter '${name}' expects 'on' or 'off'`);
      return;
    case "x-fail-entry":
      if (value !== "stop" && value !== "pin-next") {
        throw new QapiError("Invalid x-fail-entry value", "Valid values are stop and pin-next.\n");
      }
      s.failEntry = value;
      return;
  }
  if (arch === "aarch64" && name === "eager-split-size") {
    // kvm_arch_set_eager_split_size(), via parse_option_size().
    const r = qemuStrtosz(value);
    if (r.ret === -EINVAL) {
      throw new QapiError(
        `Parameter '${name}' expects a non-negative number below 2^64`,
        "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n",
      );
    }
    if (r.ret !== 0) throw new QapiError(`Value '${value}' is out of range for parameter '${name}'`);
    if (r.value !== 0n && (r.value & (r.value - 1n)) !== 0n) throw new QapiError("early-split-size must be a power of two");
    return;
  }
  if (arch === "aarch64" && name === "x-gicv4") {
    const mode = GICV4_MODES.find((m) => m === value);
    if (mode === undefined) throw new QapiError("Invalid x-gicv4 value", "Valid values are off, linux-6.16, linux-6.6 and rfc-shared-vlpi.\n");
    s.gicv4 = mode;
    return;
  }
  if (arch === "riscv64" && name === "riscv-aia") {
    // target/riscv/kvm/kvm-cpu.c riscv_set_kvm_aia().
    if (value !== "emul" && value !== "hwaccel" && value !== "auto") {
      throw new QapiError("Invalid KVM AIA mode", "Valid values are emul, hwaccel, and auto.\n");
    }
    s.riscvAia = value;
    return;
  }
  throw new QapiError(`Property 'kvm-accel.${name}' not found`);
}

/** The inputs configure_accelerators() reads. */
export interface AccelInputs {
  readonly arch: MachineArch;
  readonly list: QemuOptsList;
  readonly sugar: MachineAccelSugar;
  readonly smp: SmpConfig;
  /** KVM_CAP_NR_VCPUS: min(host online CPUs, KVM_CAP_MAX_VCPUS). */
  readonly hostCpus: number;
}

/** vl.c configure_accelerators() + kvm-all.c kvm_init(): the accelerator the machine runs with. */
export function configureAccelerators(inp: AccelInputs, reporter: QemuReporter): AccelConfig {
  let initFailed = false;
  const hint = "irqlab models KVM only, like a QEMU built without TCG: use -accel kvm.\n";
  if (inp.list.groups.length === 0) {
    reporter.location = undefined;
    for (const name of (inp.sugar.accelerators ?? "kvm").split(":")) {
      if (ACCELERATORS.some((a) => a === name)) {
        qemuOptsParseNoisily(inp.list, name, true, reporter);
      } else {
        initFailed = true;
        reporter.report(`invalid accelerator ${name}`, name === "tcg" ? hint : undefined);
      }
    }
  } else if (inp.sugar.accelerators !== undefined) {
    reporter.fatal('The -accel and "-machine accel=" options are incompatible');
  }

  for (const opts of inp.list.groups) {
    const config = reporter.at(opts.location, (): AccelConfig | undefined => {
      const acc = opts.get("accel") ?? "";
      if (!ACCELERATORS.some((a) => a === acc)) {
        reporter.report(`invalid accelerator ${acc}`, acc === "tcg" ? hint : undefined);
        initFailed = true;
        return undefined;
      }
      const s: KvmAccelState = { kernelIrqchip: "on", riscvAia: "auto", failEntry: "stop", gicv4: "off" };
      for (const [name, value] of inp.sugar.kvmGlobals) {
        try {
          setKvmProperty(inp.arch, s, name, value);
        } catch (e) {
          if (e instanceof QapiError) throw new QapiError(`can't apply global kvm-accel.${name}=${value}: ${e.message}`, e.hint);
          throw e;
        }
      }
      for (const opt of opts.opts) {
        if (opt.name !== "accel") setKvmProperty(inp.arch, s, opt.name, opt.str);
      }
      kvmInit(inp, s, reporter);
      return { type: "kvm", kernelIrqchip: s.kernelIrqchip, riscvAia: s.riscvAia, failEntry: s.failEntry, ...(s.gicv4 === "off" ? {} : { gicv4: s.gicv4 }) };
    });
    if (config !== undefined) {
      reporter.location = undefined;
      if (initFailed) reporter.report("falling back to KVM");
      return config;
    }
  }
  reporter.location = undefined;
  if (!initFailed) reporter.fatal("no accelerator found");
  return reporter.exit();
}

/** kvm_init(): the vCPU limits, then kvm_irqchip_create(). */
function kvmInit(inp: AccelInputs, s: KvmAccelState, reporter: QemuReporter): void {
  const hard = KVM_MAX_VCPUS[inp.arch];
  const soft = Math.min(inp.hostCpus, hard);
  for (const [name, num] of [["SMP", inp.smp.cpus], ["hotpluggable", inp.smp.maxcpus]] as const) {
    if (num > soft) {
      reporter.warn(`Number of ${name} cpus requested (${String(num)}) exceeds the recommended cpus supported by KVM (${String(soft)})`);
      if (num > hard) {
        reporter.fatal(`Number of ${name} cpus requested (${String(num)}) exceeds the maximum cpus supported by KVM (${String(hard)})`);
      }
    }
  }
  if (s.kernelIrqchip === "split" && inp.arch === "aarch64") {
    // target/arm/kvm.c kvm_arch_irqchip_create().
    reporter.fatal("-machine kernel_irqchip=split is not supported on ARM.");
  }
}
