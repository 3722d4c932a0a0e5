/**
 * Reading a user scenario file: YAML or JSON text (the `yaml` package reads
 * both; `.json` files are read as JSON), validated against the valibot
 * schema (user-file-schema.ts), then checked as a whole: unique machine
 * names, events and remedies naming machines that exist, device events
 * naming a `-device ...,id=` of their machine, every command line accepted
 * by the irqlab-system-ARCH parser and its `-kernel irqlab:NAME` known.
 * Every failure is a ScenarioError whose message starts with the file and
 * the path of the bad field ("machines[1].args: ...").
 */

import { lookupGuestImage } from "@irqlab/guest";
import { QemuOptionError, parseSystemCommandLine, type MachineArch, type MachineConfig } from "@irqlab/machine";
import * as v from "valibot";
import { parseDocument } from "yaml";
import { ScenarioError } from "../framework/scenario-error.js";
import { UserScenarioSchema, type UserScenarioFile } from "./user-file-schema.js";

/** Longest run a scenario file may ask for (virtual time). */
export const USER_RUN_LIMIT_NS = 10_000_000_000;

const UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1_000, ms: 1_000_000, s: 1_000_000_000 };

/** A duration of the file in nanoseconds. */
export function durationNs(d: number | string): number {
  if (typeof d === "number") return d;
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s)$/.exec(d)!;
  return Math.round(Number(m[1]) * UNIT_NS[m[2]!]!);
}

/** Command-line arguments as a list (a string is split at white space). */
export function argList(a: string | readonly string[]): string[] {
  return typeof a === "string" ? a.trim().split(/\s+/) : [...a];
}

function pathText(path: readonly (string | number)[]): string {
  let s = "";
  for (const k of path) s += typeof k === "number" ? `[${k}]` : s === "" ? k : `.${k}`;
  return s === "" ? "(top level)" : s;
}

function bad(file: string, path: readonly (string | number)[], why: string): never {
  throw new ScenarioError("bad-file", `${file}: ${pathText(path)}: ${why}`);
}

/** Parses a command line for the file's checks; the message of a refusal is QEMU's. */
export function parseMachineArgs(arch: MachineArch, args: readonly string[]): MachineConfig | string {
  try {
    const p = parseSystemCommandLine(arch, args);
    if (p.kind !== "run") return `the command line asks for ${p.kind}, not a machine to run`;
    return p.config;
  } catch (e) {
    if (e instanceof QemuOptionError) return e.format(`irqlab-system-${arch}`).trim().replace(/\n/g, " ");
    throw e;
  }
}

/** Validates a parsed document (a JS value) as a scenario file; `file` names it in messages. */
export function validateUserScenario(data: unknown, file: string): UserScenarioFile {
  const r = v.safeParse(UserScenarioSchema, data);
  if (!r.success) {
    const issue = r.issues[0];
    const path = (issue.path ?? []).map((p) => p.key as string | number);
    const what = issue.kind === "schema" && issue.type === "strict_object" && issue.input !== undefined ? `unknown field '${String(path[path.length - 1])}'` : issue.message;
    bad(file, path, what);
  }
  const f = r.output;
  const names = new Set<string>();
  f.machines.forEach((m, i) => {
    if (m.arch !== f.machines[0]!.arch) bad(file, ["machines", i, "arch"], `all machines share one host, whose architecture is ${f.machines[0]!.arch} (machines[0].arch)`);
    if (names.has(m.name)) bad(file, ["machines", i, "name"], `machine '${m.name}' is listed twice`);
    names.add(m.name);
    checkArgs(file, ["machines", i, "args"], m.arch, argList(m.args));
  });
  const runFor = durationNs(f["run-for"]);
  if (runFor <= 0 || runFor > USER_RUN_LIMIT_NS) bad(file, ["run-for"], "must be more than 0 and at most 10s");
  (f.timeline ?? []).forEach((e, i) => {
    const m = f.machines.find((x) => x.name === e.machine);
    if (m === undefined) bad(file, ["timeline", i, "machine"], `no machine '${e.machine}' (machines: ${[...names].join(", ")})`);
    if (durationNs(e.at) > runFor) bad(file, ["timeline", i, "at"], `is after the end of the run (run-for ${String(f["run-for"])})`);
    if (e.device !== undefined) {
      const cfg = parseMachineArgs(m.arch, argList(m.args)) as MachineConfig;
      if (!cfg.devices.some((d) => d.id === e.device!.id && d.driver === "vfio-platform")) {
        bad(file, ["timeline", i, "device", "id"], `machine '${m.name}' has no -device vfio-platform,...,id=${e.device.id}`);
      }
    }
  });
  (f.remedies ?? []).forEach((rem, i) => {
    if (f.remedies!.findIndex((x) => x.name === rem.name) !== i) bad(file, ["remedies", i, "name"], `remedy '${rem.name}' is listed twice`);
    for (const [name, args] of Object.entries(rem.args ?? {})) {
      const m = f.machines.find((x) => x.name === name);
      if (m === undefined) bad(file, ["remedies", i, "args", name], `no machine '${name}'`);
      checkArgs(file, ["remedies", i, "args", name], m.arch, argList(args));
    }
  });
  return f;
}

function checkArgs(file: string, path: (string | number)[], arch: MachineArch, args: string[]): void {
  const cfg = parseMachineArgs(arch, args);
  if (typeof cfg === "string") bad(file, path, cfg);
  if (cfg.kernel !== undefined) {
    const found = cfg.kernel.startsWith("irqlab:") ? lookupGuestImage(cfg.kernel, arch) : { ok: false as const, message: `-kernel ${cfg.kernel}: a scenario file names guest images as irqlab:NAME` };
    if (!found.ok) bad(file, path, found.message);
  }
}

/** Parses YAML or JSON text and validates it. */
export function parseUserScenario(text: string, file: string): UserScenarioFile {
  let data: unknown;
  if (file.endsWith(".json")) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new ScenarioError("bad-file", `${file}: not valid JSON: ${(e as Error).message}`);
    }
  } else {
    const doc = parseDocument(text);
    const err = doc.errors[0];
    if (err !== undefined) {
      const at = err.linePos?.[0];
      const why = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      throw new ScenarioError("bad-file", `${file}:${at === undefined ? " " : `${at.line}:${at.col}: `}not valid YAML: ${why}`);
    }
    data = doc.toJS();
  }
  return validateUserScenario(data, file);
}
