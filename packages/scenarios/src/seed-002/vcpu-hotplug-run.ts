/**
 * One run of seed 002 (Arm vCPU hotplug) for one remedy: an arm64 `virt`
 * machine with `-smp cpus=2,maxcpus=4` and -M virt,x-cpu-hotplug=MODE boots
 * the `hotplug` guest image; a management client then hot-plugs CPU 2
 * (device_add), lets the guest bring it up, and hot-unplugs it (device_del;
 * the guest takes it offline with PSCI CPU_OFF and ejects it). Measured:
 * the vCPUs KVM created during machine init and how many of them before
 * the vgic's CTRL_INIT, the redistributors the vgic has and whether each
 * one's GICR_TYPER is the same before the plug, after it and after the
 * unplug, how the plug ended (the errno of the vCPU's KVM_CREATE_VCPU, if
 * it failed), what the guest printed about the CPU (online, IPI taken),
 * the ACPI_DEVICE_OST and DEVICE_DELETED events, and the virtual time each
 * step took.
 */

import { hotplugImage } from "@irqlab/guest";
import { GICR_FRAME_SIZE, GICR_PIDR2, GICR_TYPER, GICR_TYPER_LAST } from "@irqlab/gic";
import { Machine, parseSystemCommandLine, type MachineEvent } from "@irqlab/machine";
import type { Tracer } from "@irqlab/sim";
import { guestInForm } from "../framework/guest-form.js";
import { hotplugDriver, type HotplugDriver } from "./vcpu-hotplug-driver.js";

/** The CPU slot the run plugs and unplugs. */
export const HOTPLUG_SLOT = 2;
/** Its device id. */
export const HOTPLUG_ID = `cpu${HOTPLUG_SLOT}`;
/** Base of the low redistributor region of the arm virt memory map (VIRT_GIC_REDIST). */
const GICR_BASE = 0x080a_0000;
/** Virtual time the guest gets to boot, and to react to each hotplug request. */
export const BOOT_NS = 5_000_000;
export const REACT_NS = 10_000_000;

/** A CPU slot's state: a vCPU thread runs it, its vCPU exists in KVM without a thread (parked), or it has no vCPU. */
export type SlotState = "plugged" | "parked" | "absent";

/** The remedies' -M virt,x-cpu-hotplug= value. */
export type HotplugMode = "precreate" | "naive";

/** What one run measured. */
export interface VcpuHotplugResult {
  readonly commandLine: string;
  /** KVM_CREATE_VCPU calls during machine init, and how many came before KVM_DEV_ARM_VGIC_CTRL_INIT. */
  readonly vcpusAtInit: number;
  readonly vcpusBeforeVgicInit: number;
  /** Redistributor frames the vgic exposes (walked to GICR_TYPER.Last). */
  readonly redistributors: number;
  /** GICR_TYPER (hi:lo, hex) of each frame at boot, after the plug, after the unplug. */
  readonly typers: readonly (readonly string[])[];
  /** The CPU slots (possible CPUs): cpu_index, KVM vCPU id, MPIDR affinity. */
  readonly slots: readonly { readonly index: number; readonly vcpuId: number; readonly archId: number }[];
  /** Each slot's state at boot, after the plug, after the unplug (see {@link slotStates}). */
  readonly slotStates: readonly (readonly SlotState[])[];
  /** The plug's KVM_CREATE_VCPU: "unparked" (no call: the vCPU was pre-created), "created", or its errno ("EBUSY"). */
  readonly plugCreate: string;
  /** The management client's reply to device_add / device_del: "ok" or the error's desc. */
  readonly addReply: string;
  readonly delReply: string | undefined;
  /** The guest's console. */
  readonly console: readonly string[];
  /** Machine events with their virtual time. */
  readonly events: readonly { readonly at: number; readonly e: MachineEvent }[];
  /** Virtual times of device_add and device_del. */
  readonly addAt: number;
  readonly delAt: number | undefined;
  /** vCPUs plugged at the end. */
  readonly cpusAtEnd: readonly number[];
  /** How hotplug was driven, and the exchange. */
  readonly via: HotplugDriver["via"];
  readonly transcript: readonly string[];
  readonly guestErrors: number;
  readonly tracer: Tracer;
}

/** The qemu-system-aarch64 command line (the guest image is passed as `-kernel irqlab:hotplug`). */
export function vcpuHotplugCommandLine(mode: HotplugMode): string[] {
  return ["-M", `virt,x-cpu-hotplug=${mode}`, "-accel", "kvm", "-cpu", "host", "-smp", "cpus=2,maxcpus=4", "-m", "128M", "-nographic", "-kernel", "irqlab:hotplug"];
}

/**
 * Each slot's state, from the machine's vCPU threads and the KVM calls it
 * made: a KVM vCPU cannot be destroyed (QEMU parks its fd on unplug,
 * kvm_destroy_vcpu → kvm_park_vcpu), so a created vCPU without a thread is parked.
 */
function slotStates(m: Machine): SlotState[] {
  const created = new Set<number>();
  for (const l of m.calls.lines()) {
    const call = /^KVM_CREATE_VCPU id=(\d+)/.exec(l);
    if (call !== null && !/= -[A-Z]+$/.test(l)) created.add(Number(call[1]));
  }
  const plugged = new Set(m.cpus.map((c) => c.index));
  return m.slots.map((x) => (plugged.has(x.index) ? "plugged" : created.has(x.vcpuId) ? "parked" : "absent"));
}

/** GICR_TYPER of every redistributor frame, as a guest walking the region reads it. */
function readTypers(m: Machine): string[] {
  const bus = m.vm.kernelBus;
  const out: string[] = [];
  for (let at = GICR_BASE; out.length < 512; at += 2 * GICR_FRAME_SIZE) {
    const arch = (bus.read(at + GICR_PIDR2, 4) >>> 4) & 0xf;
    if (arch !== 3 && arch !== 4) break;
    const lo = bus.read(at + GICR_TYPER, 4);
    const hi = bus.read(at + GICR_TYPER + 4, 4);
    out.push(`${hi.toString(16)}:${lo.toString(16)}`);
    if ((lo & GICR_TYPER_LAST) !== 0) break;
  }
  return out;
}

/** Runs one machine. Deterministic. With `loopForm`, the guest runs in its loop form (ScenarioRunOptions.loopForm). */
export function runVcpuHotplug(mode: HotplugMode, trace: boolean, loopForm = false): VcpuHotplugResult {
  const argv = vcpuHotplugCommandLine(mode);
  const p = parseSystemCommandLine("aarch64", argv);
  if (p.kind !== "run") throw new Error(`scenario command line did not parse: ${argv.join(" ")}`);
  const console: string[] = [];
  const events: { at: number; e: MachineEvent }[] = [];
  const m = Machine.create({ config: p.config, kernel: guestInForm(hotplugImage(), loopForm), console: (t) => console.push(t.replace(/\r?\n$/, "")), trace });
  m.onEvent((e, at) => events.push({ at, e }));
  const calls = m.calls.lines();
  const creates = calls.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith("KVM_CREATE_VCPU"));
  const ctrlInit = calls.indexOf("KVM_SET_DEVICE_ATTR vgic-v3 GRP_CTRL CTRL_INIT");
  const vcpusBeforeVgicInit = creates.filter(([, i]) => ctrlInit < 0 || i < ctrlInit).length;

  const drv = hotplugDriver(m);
  m.run(BOOT_NS);
  const typers = [readTypers(m)];
  const states = [slotStates(m)];
  const before = m.calls.lines().length;
  const addAt = m.queue.now;
  const add = drv.add(HOTPLUG_SLOT, HOTPLUG_ID);
  const createLine = m.calls.lines().slice(before).find((l) => l.startsWith(`KVM_CREATE_VCPU id=${HOTPLUG_SLOT}`));
  const errno = createLine === undefined ? undefined : /= -([A-Z]+)$/.exec(createLine)?.[1];
  const plugCreate = createLine === undefined ? "unparked" : (errno ?? "created");
  m.run(REACT_NS);
  typers.push(readTypers(m));
  states.push(slotStates(m));
  let delAt: number | undefined;
  let del: string | undefined;
  if (add === "ok") {
    delAt = m.queue.now;
    del = drv.del(HOTPLUG_ID);
    m.run(REACT_NS);
  }
  typers.push(readTypers(m));
  states.push(slotStates(m));
  m.flushConsole();
  return {
    commandLine: `irqlab system-aarch64 ${argv.join(" ")}`,
    vcpusAtInit: creates.length,
    vcpusBeforeVgicInit,
    redistributors: typers[0]!.length,
    typers,
    slots: m.slots.map((x) => ({ index: x.index, vcpuId: x.vcpuId, archId: x.archId })),
    slotStates: states,
    plugCreate,
    addReply: add,
    delReply: del,
    console,
    events,
    addAt,
    delAt,
    cpusAtEnd: m.cpus.map((c) => c.index),
    via: drv.via,
    transcript: drv.transcript,
    guestErrors: m.tracer.guestErrors,
    tracer: m.tracer,
  };
}
