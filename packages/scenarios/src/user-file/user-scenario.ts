/**
 * A user scenario file as a {@link Scenario}: every remedy (or the file as
 * written, remedy "as-written") runs the file's machines on one shared
 * host, launches each at its time, plays the timeline (QMP commands and
 * device events) at its instants, runs to `run-for`, and reports the
 * measures the file asks for, one column per machine and measure.
 */

import { guestImages } from "@irqlab/guest";
import { Machine, MachineHost, plugVfioPlatformDevice, type DeviceConfig, type DeviceContext, type MachineConfig, type VfioPlatformPlug } from "@irqlab/machine";
import type { RemedyRow, Scenario, ScenarioColumn, ScenarioRemedy, ScenarioRunOptions, ScenarioValue } from "../scenario.js";
import { guestInForm } from "../framework/guest-form.js";
import { runBounded } from "../framework/run-bounds.js";
import { ScenarioError } from "../framework/scenario-error.js";
import { TimelineQmpClient, type QmpReply } from "./qmp-timeline.js";
import { argList, durationNs, parseMachineArgs } from "./user-file-load.js";
import { MEASURES, type UserHost, type UserMeasure, type UserScenarioFile } from "./user-file-schema.js";

const MEASURE_TEXT: Readonly<Record<UserMeasure, { title: string; description: string }>> = {
  "run-state": { title: "run state", description: "QEMU's RunState at the end (running, paused, internal-error, shutdown, ...)." },
  console: { title: "console", description: "The last line the guest wrote to its console." },
  errors: { title: "error", description: "The first internal error QEMU reported (kvm_cpu_exec's un-handled exit), or none." },
  repins: { title: "re-pins", description: "Re-pins made by -accel kvm,x-fail-entry=pin-next." },
  "fail-entries": { title: "fail entries", description: "KVM_EXIT_FAIL_ENTRY exits of the machine's vCPUs for want of a VS-file (RISC-V)." },
  vsfiles: { title: "VS-files", description: "Guest interrupt files the machine's vCPUs hold at the end (RISC-V)." },
  device: { title: "devices", description: "Each vfio-platform device: injection path and host interrupts signalled." },
  qmp: { title: "last QMP reply", description: "The reply to the machine's last timeline QMP command (a session on the machine's QMP monitor)." },
  "qmp-events": { title: "QMP events", description: "The QMP events the machine's session received, in order." },
};

const AS_WRITTEN: ScenarioRemedy = { name: "as-written", title: "the file as written", description: "The machines and host exactly as the file gives them." };

/** The scenario of a validated file. */
export function userScenario(f: UserScenarioFile): Scenario {
  const measures: readonly UserMeasure[] = f.measures ?? ["run-state", "console", "errors"];
  const remedies: ScenarioRemedy[] = (f.remedies ?? []).map((r) => ({ name: r.name, title: r.title ?? r.name, description: r.description ?? "" }));
  if (remedies.length === 0) remedies.push(AS_WRITTEN);
  const columns: ScenarioColumn[] = f.machines.flatMap((m) =>
    measures.map((k) => ({ key: `${m.name}.${k}`, title: `${m.name} ${MEASURE_TEXT[k].title}`, description: MEASURE_TEXT[k].description })),
  );
  const explain = [
    f.description ?? f.title ?? f.name,
    "",
    "Machines:",
    ...f.machines.map((m) => `  ${m.name} (at ${String(m["launch-at"] ?? 0)}): irqlab system-${m.arch} ${argList(m.args).join(" ")}`),
    ...(f.timeline === undefined ? [] : ["Timeline:", ...f.timeline.map((e) => `  ${String(e.at)} ${e.machine}: ${e.qmp !== undefined ? `qmp ${JSON.stringify(e.qmp)}` : `device ${e.device!.id} ${e.device!.action}`}`)]),
    `Runs for ${String(f["run-for"])} of virtual time. Measures: ${measures.join(", ")} (of ${MEASURES.join(", ")}).`,
  ].join("\n");
  return {
    name: f.name,
    title: f.title ?? f.name,
    explain,
    remedies,
    columns,
    run: (remedy, o) => runUserRemedy(f, measures, remedy, o),
  };
}

function hostOf(f: UserScenarioFile, over: UserHost | undefined, trace: boolean): MachineHost {
  const h = { ...(f.host ?? {}), ...(over ?? {}) };
  const arch = f.machines[0]!.arch;
  return new MachineHost({
    arch,
    trace,
    ...(h.harts === undefined ? {} : { harts: h.harts }),
    ...(h["guest-files"] === undefined ? {} : { guestFiles: h["guest-files"] }),
    ...(h.kernel === undefined ? {} : { kernel: h.kernel }),
    ...(h["vgic-init"] === undefined ? {} : { vgicInitMode: h["vgic-init"] }),
    ...(h["kernel-migrate"] === undefined ? {} : { kernelMigrate: h["kernel-migrate"] }),
  });
}

interface Launched {
  readonly machine: Machine;
  readonly devices: Map<string, VfioPlatformPlug>;
  readonly console: string[];
  qmp: TimelineQmpClient | undefined;
  lastQmp: QmpReply | undefined;
}

function runUserRemedy(f: UserScenarioFile, measures: readonly UserMeasure[], remedy: string, o: ScenarioRunOptions): RemedyRow {
  const rem = f.remedies?.find((r) => r.name === remedy);
  if (rem === undefined && !(f.remedies === undefined && remedy === AS_WRITTEN.name)) throw new ScenarioError("unknown-remedy", `scenario '${f.name}' has no remedy '${remedy}'`);
  const host = hostOf(f, rem?.host, o.trace === true);
  const notes: string[] = [];
  const launched = new Map<string, Launched>();
  const order = [...f.machines].sort((a, b) => durationNs(a["launch-at"] ?? 0) - durationNs(b["launch-at"] ?? 0));
  const events = [...(f.timeline ?? [])].map((e, i) => ({ e, i, at: durationNs(e.at) })).sort((a, b) => a.at - b.at || a.i - b.i);
  const steps = [
    ...order.map((m) => ({ at: durationNs(m["launch-at"] ?? 0), run: () => { launch(m); } })),
    ...events.map(({ e, at }) => ({ at, run: () => { play(e); } })),
  ].sort((a, b) => a.at - b.at);

  const launch = (m: UserScenarioFile["machines"][number]): void => {
    const args = argList(rem?.args?.[m.name] ?? m.args);
    const config = parseMachineArgs(m.arch, args) as MachineConfig;
    const devices = new Map<string, VfioPlatformPlug>();
    const consoleLines: string[] = [];
    const plug = (ctx: DeviceContext, d: DeviceConfig): void => {
      const p = plugVfioPlatformDevice(ctx, d);
      devices.set(d.id ?? p.config.name, p);
    };
    const kernel = config.kernel === undefined ? undefined : guestInForm(guestImages[config.kernel.slice("irqlab:".length)]!.create(), o.loopForm);
    const machine = Machine.create({
      host,
      config: { ...config, name: config.name ?? m.name },
      ...(kernel === undefined ? {} : { kernel }),
      console: (line) => consoleLines.push(line),
      drivers: new Map([["vfio-platform", plug]]),
    });
    launched.set(m.name, { machine, devices, console: consoleLines, qmp: undefined, lastQmp: undefined });
  };
  const play = (e: NonNullable<UserScenarioFile["timeline"]>[number]): void => {
    const l = launched.get(e.machine);
    if (l === undefined) {
      notes.push(`${String(e.at)}: ${e.machine} is not launched yet; event skipped`);
      return;
    }
    if (e.qmp !== undefined) {
      l.qmp ??= new TimelineQmpClient(l.machine);
      l.lastQmp = l.qmp.execute(e.qmp.execute, e.qmp.arguments ?? {});
      notes.push(`${String(e.at)} ${e.machine} <- ${JSON.stringify(e.qmp)} -> ${JSON.stringify(l.lastQmp)}`);
      return;
    }
    const d = l.devices.get(e.device!.id)!;
    if (e.device!.action === "pulse") d.hostPulse();
    else d.hostLine(e.device!.action === "line-high");
  };

  const limit = durationNs(f["run-for"]);
  for (const s of steps) {
    host.run(s.at);
    s.run();
  }
  const end = runBounded(host, { untilNs: limit, progress: () => host.queue.now, stallSlices: 0 });
  for (const l of launched.values()) l.machine.flushConsole();

  const values: Record<string, ScenarioValue> = {};
  for (const m of f.machines) {
    const l = launched.get(m.name);
    for (const k of measures) values[`${m.name}.${k}`] = l === undefined ? null : measure(k, l, host);
  }
  const states = f.machines.map((m) => `${m.name} ${launched.get(m.name)?.machine.runState ?? "not launched"}`).join(", ");
  const verdict = `${states}; ${end.end === "idle" ? `nothing left to happen at ${(end.at / 1000).toFixed(0)} us` : `ran to ${(end.at / 1000).toFixed(0)} us`}`;
  return { remedy, values, verdict, notes, ...(o.trace === true ? { tracer: host.tracer } : {}) };
}

function measure(k: UserMeasure, l: Launched, host: MachineHost): ScenarioValue {
  const m = l.machine;
  switch (k) {
    case "run-state":
      return m.runState;
    case "console":
      return [...l.console].reverse().find((x) => x.trim() !== "")?.trim() ?? "";
    case "errors":
      return m.errors[0] ?? "none";
    case "repins":
      return m.repins;
    case "fail-entries":
      return host.aia === undefined ? null : host.aia.failures.filter((x) => x.vmIndex === m.vm.index).length;
    case "vsfiles":
      return host.aia === undefined ? null : m.cpus.filter((c) => (host.aia!.ownerFor(m.vm.index, c.vcpu.vcpuId)?.vsFileCpu ?? -1) >= 0).length;
    case "device":
      return [...l.devices].map(([id, d]) => `${id}: ${d.status().injection}, ${d.status().host.signalled} signalled`).join("; ") || "none";
    case "qmp":
      return l.lastQmp === undefined ? null : JSON.stringify(l.lastQmp);
    case "qmp-events":
      return l.qmp === undefined ? null : l.qmp.events.join(" ");
  }
}
