// `irqlab scenario list | run | explain`: output, exit codes, --json against its schema, --trace, user files.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScenarioOutputJsonSchema } from "@irqlab/scenarios";
import * as v from "valibot";
import { describe, expect, test } from "vitest";
import { runCli } from "../cli.js";

async function cli(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const tmp = () => mkdtempSync(join(tmpdir(), "irqlab-scenario-"));
const EXAMPLE = join(import.meta.dirname, "..", "..", "..", "..", "packages", "scenarios", "examples", "two-vms-vsfile.yaml");

describe("irqlab scenario", () => {
  test("list names the seeds, their remedies and sizes", async () => {
    const r = await cli("scenario", "list");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^000 {2}vsfile-exhaustion +VS-file exhaustion/m);
    expect(r.out).toMatch(/remedies: none, qemu-pin-next-6.18, qemu-pin-next-6.19, kvm-migrate, mgmt-pinning, auto/);
    expect(r.out).toMatch(/^003 {2}irqfd-before-vgic-init/m);
    expect(r.out).toMatch(/sizes: harts=8 geilen=5 vms=8 vcpus=5 us=2000/);
  });

  test("explain by seed number and by name gives the same text, with columns and remedies", async () => {
    const a = await cli("scenario", "explain", "3");
    const b = await cli("scenario", "explain", "irqfd-before-vgic-init");
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out).toMatch(/irqlab system-aarch64 -M virt,x-vgic-init=first-run/);
    expect(a.out).toMatch(/eagain-retry: KVM_IRQFD refused with EAGAIN until init/);
    expect(a.out).toMatch(/edge lost: The device raised its interrupt and the guest never took it/);
  });

  test("run --compare prints one column per remedy and a verdict line per remedy", async () => {
    const r = await cli("scenario", "run", "003", "--compare");
    expect(r.code).toBe(0);
    const header = r.out.split("\n")[2]!;
    expect(header.trim().split(/\s+/)).toEqual(["lazy-init", "ctrl-init", "eagain-retry"]);
    expect(r.out).toMatch(/^edge lost +yes +no +yes$/m);
    expect(r.out).toMatch(/^lazy-init +the early edge interrupt is lost/m);
  });

  test("the explorer reports states explored per condition, then each remedy's wall time (JSON keeps it out)", async () => {
    const r = await cli("scenario", "run", "wakeup-explorer", "--compare", "--size", "depth=24");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^states +\d+ +\d+ +\d+$/m);
    expect(r.out).toMatch(/^wall time \(wakeup-explorer\): old \d+(\.\d\d?)? m?s, proposed \d+(\.\d\d?)? m?s, pending-state \d+(\.\d\d?)? m?s$/m);
    const j = await cli("scenario", "run", "wakeup-explorer", "--json", "--remedy", "old", "--size", "depth=12");
    expect(j.out).not.toMatch(/wall/);
    expect(j.err).toMatch(/^wall time \(wakeup-explorer\): old /m);
  });

  test("run --remedy R without --compare prints that remedy's values", async () => {
    const r = await cli("scenario", "run", "vsfile-exhaustion", "--remedy", "mgmt-pinning", "--size", "vms=3", "--size", "vcpus=3", "--size", "harts=2", "--size", "geilen=4", "--size", "us=1500");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/remedy mgmt-pinning/);
    expect(r.out).toMatch(/VMs stopped or refused +vm2 \(last\)/);
  });

  test("--loop-form runs the guests op by op and prints the same values", async () => {
    const args = ["scenario", "run", "003", "--json"];
    const fast = await cli(...args);
    const loop = await cli(...args, "--loop-form");
    expect(fast.code).toBe(0);
    expect(loop.code).toBe(0);
    expect(loop.out).toBe(fast.out);
    expect(fast.err).toMatch(/^wall time \(irqfd-before-vgic-init\): lazy-init /m);
    expect(loop.err).toMatch(/^wall time \(irqfd-before-vgic-init, guests in their loop form\): lazy-init /m);
    expect((await cli("scenario", "run", "--help")).out).toMatch(/--loop-form +boot the guests with each repeat/);
  });

  test("unknown scenario, remedy or size: one line, exit 2", async () => {
    for (const argv of [
      ["scenario", "run", "099"],
      ["scenario", "run", "003", "--remedy", "bogus"],
      ["scenario", "run", "000", "--size", "cores=2"],
      ["scenario", "explain", "nope"],
      ["scenario", "run"],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err.trim().split("\n"), argv.join(" ")).toHaveLength(1);
    }
    expect((await cli("scenario", "run", "003", "--remedy", "bogus")).err).toBe(
      "irqlab scenario: scenario 'irqfd-before-vgic-init' has no remedy 'bogus' (remedies: lazy-init, ctrl-init, eagain-retry)\n",
    );
    expect((await cli("scenario", "run", "003", "--seed", "x")).code).toBe(2);
  });

  test("--json validates against the documented schema; JSON and trace are byte-identical for the same seed; --trace writes one group per remedy", async () => {
    const dir = tmp();
    const a = await cli("scenario", "run", "003", "--json", "--trace", join(dir, "t.json"));
    const b = await cli("scenario", "run", "003", "--json", "--trace", join(dir, "t2.json"));
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    // Byte-identical but for the command line each file records (its own name in --trace).
    const withoutCommand = (f: string): string => readFileSync(join(dir, f), "utf8").replace(/"(argv|command)":(\[[^\]]*\]|"[^"]*")/g, "");
    expect(withoutCommand("t.json")).toBe(withoutCommand("t2.json"));
    const parsed = v.parse(ScenarioOutputJsonSchema, JSON.parse(a.out));
    expect(parsed.reports[0]!.rows.map((r) => r.remedy)).toEqual(["lazy-init", "ctrl-init", "eagain-retry"]);
    expect(a.err).toMatch(/trace: .*t\.json \(6 runs;/);
    const trace = JSON.parse(readFileSync(join(dir, "t.json"), "utf8")) as { traceEvents: { ph: string; name: string; args?: { name?: string } }[] };
    const groups = trace.traceEvents.filter((e) => e.ph === "M" && e.name === "process_name").map((e) => e.args!.name!.split(":")[0]);
    expect((trace as unknown as { otherData: Record<string, unknown> }).otherData).toMatchObject({
      argv: ["irqlab", "scenario", "run", "003", "--json", "--trace", join(dir, "t.json")],
      seed: 0,
      all: false,
      scenarios: [{ scenario: "irqfd-before-vgic-init", id: "003", seed: 0, remedies: ["lazy-init", "ctrl-init", "eagain-retry"] }],
    });
    expect(new Set(groups)).toEqual(new Set(["irqfd-before-vgic-init/lazy-init/edge", "irqfd-before-vgic-init/lazy-init/level", "irqfd-before-vgic-init/ctrl-init/edge", "irqfd-before-vgic-init/ctrl-init/level", "irqfd-before-vgic-init/eagain-retry/edge", "irqfd-before-vgic-init/eagain-retry/level"]));
  });

  test("a scenario file runs; a bad one is named with the path of its bad field, exit 2", async () => {
    const r = await cli("scenario", "run", EXAMPLE, "--compare");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/two-vms-vsfile/);
    const dir = tmp();
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "name: x\nmachines:\n  - name: a\n    arch: riscv64\n    args: -M virt -smp foo\nrun-for: 1ms\n");
    const bad = await cli("scenario", "run", file);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.yaml: machines\[0\]\.args: .*smp/);
  });
});
