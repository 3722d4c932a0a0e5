import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkChromeTrace, type ChromeTrace } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { runCli } from "./cli.js";
import { parseDuration } from "./parse.js";
import { runSimDemo } from "./sim-demo/run-sim-demo.js";
import { VERSION } from "./version.js";

async function cli(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const tmp = () => mkdtempSync(join(tmpdir(), "irqlab-cli-"));

describe("irqlab command line", () => {
  test("--help and --version exit 0", async () => {
    const h = await cli("--help");
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/Usage: irqlab/);
    expect(h.out).toMatch(/sim \[options\]/);
    const v = await cli("--version");
    expect(v).toMatchObject({ code: 0, out: `${VERSION}\n` });
  });

  test("the version matches package.json", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });

  test("an unknown option exits 2 with one line naming it", async () => {
    const r = await cli("--bogus");
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/unknown option '--bogus'/);
  });

  test("a bad value exits 2 naming the option and the value", async () => {
    const r = await cli("sim", "--duration", "12parsecs");
    expect(r.code).toBe(2);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/--duration <time>.*'12parsecs'/);
    expect((await cli("sim", "--seed", "-4")).code).toBe(2);
  });

  test("an unknown command is named, with the commands and the nearest one; exit 2", async () => {
    const r = await cli("scenaro", "list");
    expect(r.code).toBe(2);
    expect(r.err).toBe("error: unknown command 'scenaro' (commands: sim, demo, scenario, system-aarch64, system-riscv64)\n(Did you mean scenario?)\n");
    const far = await cli("bogus");
    expect(far.code).toBe(2);
    expect(far.err).toBe("error: unknown command 'bogus' (commands: sim, demo, scenario, system-aarch64, system-riscv64)\n");
  });

  test("an unwritable trace path is refused before anything runs: one line, exit 2", async () => {
    const bad = join(tmp(), "missing-dir", "t.json");
    for (const argv of [["sim", "--trace", bad], ["demo", "--arch", "arm64", "--trace", bad], ["scenario", "run", "003", "--trace", bad]]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.out, argv.join(" ")).toBe("");
      expect(r.err.trim().split("\n"), argv.join(" ")).toHaveLength(1);
      expect(r.err, argv.join(" ")).toMatch(/cannot write the trace file '.*missing-dir.*': No such file or directory/);
    }
  });

  test("a sim run that would raise more device interrupts than the limit is refused before it runs", async () => {
    const r = await cli("sim", "--duration", "10s", "--period", "1ns", "--no-trace");
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toBe("irqlab: --duration 10s at --period 1ns is 10000000000 device interrupts; a run may raise at most 10000000 (lengthen --period or shorten --duration)\n");
  });

  test("the default command runs the sim demo and writes a Chrome trace", async () => {
    const file = join(tmp(), "t.json");
    const r = await cli("--trace", file, "--duration", "200us");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/simulated 200.0 us: \d+ events, 20 expirations/);
    const trace = JSON.parse(readFileSync(file, "utf8")) as ChromeTrace;
    expect(trace.otherData).toMatchObject({ irqlab: VERSION, command: `irqlab --trace ${file} --duration 200us`, argv: ["irqlab", "--trace", file, "--duration", "200us"] });
    // Every input of the run, defaults included, so that the file says how to reproduce itself.
    expect(trace.otherData).toMatchObject({ seed: 1, duration: 200_000, period: 10_000, latency: 800 });
    expect(trace.traceEvents.some((e) => e.ph === "X")).toBe(true);
    expect(checkChromeTrace(trace)).toEqual([]);
  });

  test("the same seed gives a byte-identical trace; another seed does not", async () => {
    const dir = tmp();
    const run = async (seed: string, name: string) => {
      expect((await cli("sim", "--seed", seed, "--trace", join(dir, name))).code).toBe(0);
      // The file names the command line that made it, which differs here only by the file's own name.
      return readFileSync(join(dir, name), "utf8").replace(/"(argv|command)":(\[[^\]]*\]|"[^"]*")/g, "");
    };
    expect(await run("7", "a.json")).toBe(await run("7", "b.json"));
    expect(await run("8", "c.json")).not.toBe(await run("7", "d.json"));
  });
});

describe("irqlab demo", () => {
  test("runs both architectures end to end and writes one trace per architecture", async () => {
    const base = join(tmp(), "d.json");
    const r = await cli("demo", "--trace", base);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/arm64 VM, 1 vCPU, vgic-v3/);
    expect(r.out).toMatch(/5 interrupts taken, 5 irqfd injections/);
    expect(r.out).toMatch(/riscv64 VM, in-kernel AIA mode auto/);
    expect(r.out).toMatch(/irqfd GSI 5 -> MSI route/);
    expect(r.out).toMatch(/claimed 3\/3/);
    for (const arch of ["arm64", "riscv64"]) {
      const t = JSON.parse(readFileSync(base.replace(/\.json$/, `-${arch}.json`), "utf8")) as ChromeTrace;
      expect(t.otherData).toMatchObject({ arch, aia: "auto", seed: 1, irqlab: VERSION, argv: ["irqlab", "demo", "--trace", base] });
      expect(checkChromeTrace(t)).toEqual([]);
    }
  });

  test("--arch picks one architecture; a bad choice exits 2 naming it", async () => {
    const r = await cli("demo", "--arch", "riscv64", "--no-trace", "--aia", "emul");
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/arm64 VM/);
    expect(r.out).toMatch(/SW-file/);
    const bad = await cli("demo", "--arch", "x86");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/'x86' is invalid/);
  });
});

describe("irqlab system-aarch64 / system-riscv64", () => {
  test("run the QEMU-style commands with their arguments untouched by commander", async () => {
    const r = await cli("system-aarch64", "-M", "virt", "-nographic", "-kernel", "irqlab:hello", "--until", "10ms");
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toMatch(/Hello from irqlab\r?\n/);
    // -h is QEMU's help, not commander's; errors carry the invoked name; the status is QEMU's.
    const h = await cli("system-riscv64", "-h");
    expect(h.code).toBe(0);
    expect(h.out).toContain("usage: irqlab-system-riscv64 [options]");
    expect(await cli("system-riscv64", "-M", "virt", "--bogus")).toEqual({ code: 1, out: "", err: "irqlab system-riscv64: --bogus: invalid option\n" });
    // "--" reaches the parser as QEMU would see it.
    expect((await cli("system-aarch64", "--")).err).toBe("irqlab system-aarch64: --: invalid option\n");
  });

  test("are listed by irqlab --help", async () => {
    const h = await cli("--help");
    expect(h.out).toMatch(/system-aarch64 \[qemu-options\.\.\.\] +irqlab-system-aarch64: qemu-system-aarch64's/);
    expect(h.out).toMatch(/system-riscv64 \[qemu-options\.\.\.\] +irqlab-system-riscv64: qemu-system-riscv64's/);
  });
});

describe("parsers and the demo", () => {
  test("durations", () => {
    expect(parseDuration("1.5ms")).toBe(1_500_000);
    expect(parseDuration("20us")).toBe(20_000);
    expect(parseDuration("750")).toBe(750);
    expect(() => parseDuration("0")).toThrow(/positive/);
    expect(() => parseDuration("ms")).toThrow(/duration such as/);
  });

  test("every expiration is handled once the line is acknowledged", () => {
    // Period 10 us, latency mean 800 ns: each interrupt is acknowledged long
    // before the next expiration, so handled = expirations (less one still in flight).
    const r = runSimDemo({ seed: 3, duration: 1_000_000, period: 10_000, meanLatency: 800, trace: false });
    expect(r.expirations).toBe(100);
    expect(r.expirations - r.handled).toBeLessThanOrEqual(1);
    expect(r.mmioReads).toBe(r.handled);
    expect(r.tracer.guestErrors).toBe(0);
    expect(r.latency.p99).toBeGreaterThanOrEqual(r.latency.p50);
  });
});
