import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseFdt } from "@irqlab/fdt";
import { HELLO_LINE, PANIC_TEST_MESSAGE, onlineLine } from "@irqlab/guest";
import { checkChromeTrace, type ChromeTrace } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { untilCacheable } from "../test/code-cache-settle.js";
import { dtbFileToDts, requireDtc } from "../test/dtc.js";
import type { GuestImageRegistry } from "./system/guest-kernel.js";
import { runSystem, type SystemIo } from "./system/run-system.js";
import { invokedName } from "./system-main.js";
import { VERSION } from "./version.js";

type Arch = "aarch64" | "riscv64";
const ARCHS: readonly Arch[] = ["aarch64", "riscv64"];

/** The -M each architecture needs (irqlab's riscv virt models the in-kernel AIA only). */
const MACHINE: Readonly<Record<Arch, string>> = { aarch64: "virt", riscv64: "virt,aia=aplic-imsic" };

/** Runs the command in-process. `out` is the console as a terminal shows it (a guest's "\r\n" as "\n"). */
async function sys(arch: Arch, argv: readonly string[], io: Partial<SystemIo> = {}) {
  let out = "";
  let err = "";
  const code = await runSystem(arch, argv, { out: (s) => (out += s), err: (s) => (err += s), ...io });
  return { code, out: out.replaceAll("\r\n", "\n"), err };
}

const tmp = () => mkdtempSync(join(tmpdir(), "irqlab-system-"));

/**
 * Guest modules for `-kernel PATH`, in plain JavaScript as a user would write
 * them: the operations are the objects @irqlab/sim's `op` builds.
 */
const MODULES = {
  /** aarch64: print on the PL011 at 0x09000000, then PSCI SYSTEM_OFF. Default export: the image object. */
  "hello-arm.mjs": `
export default {
  *main(regs) {
    for (const c of "module guest, dtb at 0x" + regs[0].toString(16) + "\\n") {
      yield { kind: "mmio-write", addr: 0x09000000, size: 1, value: c.charCodeAt(0), hi: 0 };
    }
    yield { kind: "hvc", imm: 0, args: [0x84000008] };
  },
};
`,
  /** A guest that computes forever. Named export 'image': a function returning the image. */
  "spin.mjs": `
export function image() {
  return {
    *main() {
      for (;;) yield { kind: "compute", ns: 10000 };
    },
  };
}
`,
  /** riscv64: an SBI call to a vendor extension, which KVM forwards to userspace and QEMU does not handle. */
  "vendor-sbi.mjs": `
export const image = {
  *main() {
    yield { kind: "sbi", ext: 0x09000000, fid: 0, args: [] };
  },
};
`,
  /** Not a guest image. */
  "not-an-image.mjs": `export default 42;\n`,
} as const;

/** A directory holding {@link MODULES}. */
function moduleDir(): string {
  const dir = tmp();
  for (const [name, text] of Object.entries(MODULES)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("irqlab-system-*: the guest images", () => {
  test.each(ARCHS)("%s: -nographic -kernel irqlab:hello prints the guest's console and exits 0 on its power-off", async (arch) => {
    const r = await sys(arch, ["-M", MACHINE[arch], "-nographic", "-kernel", "irqlab:hello"]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain(`irqlab hello on ${arch}: 1 CPU, 128 MiB RAM\n`);
    expect(r.out).toContain(`${HELLO_LINE}\n`);
  });

  test.each(ARCHS)("%s: smp-hello with -smp 4 brings every CPU online", async (arch) => {
    const r = await sys(arch, ["-M", MACHINE[arch], "-smp", "4", "-nographic", "-kernel", "irqlab:smp-hello"]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain(`irqlab smp-hello on ${arch}: 4 CPUs`);
    // On virt with 4 CPUs, the MPIDR (Aff0) and the hart id are the CPU index.
    for (const cpu of [1, 2, 3]) expect(r.out).toContain(onlineLine(arch, cpu, cpu));
  });

  test.each(ARCHS)("%s: without -nographic the console goes nowhere (QEMU's null backend) and nothing is printed", async (arch) => {
    const r = await sys(arch, ["-M", MACHINE[arch], "-kernel", "irqlab:hello"]);
    expect(r).toEqual({ code: 0, out: "", err: "" });
  });

  test("-serial stdio puts the console on stdout without -nographic; -nodefaults removes the serial port", async () => {
    const stdio = await sys("aarch64", ["-M", "virt", "-serial", "stdio", "-kernel", "irqlab:hello"]);
    expect(stdio.code).toBe(0);
    expect(stdio.out).toContain(HELLO_LINE);
    const none = await sys("riscv64", ["-M", MACHINE.riscv64, "-nographic", "-nodefaults", "-kernel", "irqlab:hello"]);
    expect(none).toEqual({ code: 0, out: "", err: "" });
  });

  test("a guest panic that powers off exits 0, as QEMU does with its default -action panic=shutdown", async () => {
    const r = await sys("riscv64", ["-M", MACHINE.riscv64, "-nographic", "-kernel", "irqlab:panic-test"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Kernel panic - not syncing: ${PANIC_TEST_MESSAGE}`);
  });
});

describe("-M virt,dumpdtb=FILE", () => {
  test.for(ARCHS)("%s: writes the device tree, which @irqlab/fdt and dtc read, and exits 0 without running the guest", async (arch, { skip }) => {
    const dtc = requireDtc((note) => skip(note));
    const dir = tmp();
    const r = await sys(arch, ["-M", `${MACHINE[arch]},dumpdtb=virt.dtb`, "-smp", "2", "-nographic", "-kernel", "irqlab:hello"], { cwd: dir });
    expect(r).toEqual({ code: 0, out: "", err: "" });
    const blob = new Uint8Array(readFileSync(join(dir, "virt.dtb")));
    const fdt = parseFdt(blob);
    expect(fdt.root.stringList("compatible")).toEqual([arch === "aarch64" ? "linux,dummy-virt" : "riscv-virtio"]);
    expect(fdt.root.child("cpus")?.children.filter((c) => c.baseName === "cpu")).toHaveLength(2);
    // dtc accepts the blob; it may warn, as it does about QEMU's own riscv virt tree (interrupt_provider).
    const dts = dtbFileToDts(dtc, join(dir, "virt.dtb"));
    expect(dts.status).toBe(0);
    expect(dts.stderr).not.toMatch(/ERROR/);
    expect(dts.dts).toMatch(/^\/dts-v1\/;/);
  });

  test("a file that cannot be written: QEMU's qmp_dumpdtb error, exit 1", async () => {
    const r = await sys("aarch64", ["-M", "virt,dumpdtb=/nonexistent-dir/virt.dtb"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "irqlab-system-aarch64: Error saving FDT to file /nonexistent-dir/virt.dtb: " +
        "Failed to create file “/nonexistent-dir/virt.dtb”: No such file or directory\n",
    );
  });
});

describe("QEMU's options and messages", () => {
  test("a refused command line prints QEMU's text with the command's name and exits 1", async () => {
    expect(await sys("aarch64", ["-M", "virt", "-bogus"])).toEqual({ code: 1, out: "", err: "irqlab-system-aarch64: -bogus: invalid option\n" });
    const r = await sys("riscv64", ["-M", MACHINE.riscv64, "-smp", "4,maxcpus=2"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^irqlab-system-riscv64: Invalid CPU topology: maxcpus must be equal to or greater than smp/);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect((await sys("aarch64", ["-M", "virt", "-kernel", "irqlab:hello"], { prog: "qemu-system-aarch64" })).code).toBe(0);
    expect((await sys("aarch64", ["-smp"], { prog: "qemu-system-aarch64" })).err).toBe("qemu-system-aarch64: -smp: requires an argument\n");
  });

  test("warnings and non-fatal errors go to stderr as QEMU prints them, and the machine runs", async () => {
    const r = await sys("aarch64", ["-M", "virt", "-accel", "tcg", "-accel", "kvm", "-nographic", "-kernel", "irqlab:hello"]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^irqlab-system-aarch64: -accel tcg: invalid accelerator tcg\n/);
    expect(r.out).toContain(HELLO_LINE);
  });

  test("-h, -version, -M help, -cpu help and -device help print on stdout and exit 0", async () => {
    const h = await sys("riscv64", ["-h"]);
    expect(h).toMatchObject({ code: 0, err: "" });
    expect(h.out).toContain("usage: irqlab-system-riscv64 [options]");
    expect(h.out).toContain("-summary        (irqlab) print a summary of the run on stderr when it ends\n");
    expect((await sys("aarch64", ["-version"])).out).toMatch(/^irqlab emulator version .* \(command line of QEMU emulator version 11\.1\.0\)\n/);
    expect((await sys("aarch64", ["-M", "help"])).out).toMatch(/^Supported machines are:\nvirt /);
    expect((await sys("aarch64", ["-cpu", "help"])).out).toContain("  max\n");
    const dev = await sys("aarch64", ["-device", "help"]);
    expect(dev.code).toBe(0);
    expect(dev.out).toMatch(/name "vfio-pci", bus PCI, desc "VFIO-based PCI device assignment/);
    expect(dev.out).toContain('name "x-irqlab-msix-test", bus PCI');
    expect(dev.out).toContain('name "vfio-platform", bus System, desc "VFIO-based platform device assignment"');
    expect((await sys("aarch64", ["-device", "vfio-pci,help"])).out).toMatch(/^vfio-pci options:\n {2}addr=<int32> .*\n {2}host=<str> /);
  });

  test("a vfio-platform device is plugged through the machine's plug", async () => {
    const r = await sys("aarch64", ["-M", "virt", "-device", "vfio-platform,host=fff51000.ethernet", "-nographic", "-kernel", "irqlab:hello"]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain(HELLO_LINE);
    const bad = await sys("aarch64", ["-M", "virt", "-device", "vfio-platform"]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^irqlab-system-aarch64: /);
  });

  test("a device the machine refuses: its message, exit 1", async () => {
    const r = await sys("aarch64", ["-M", "virt", "-device", "vfio-pci"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^irqlab-system-aarch64: No provided host device - Use -device vfio-pci,host=/);
  });
});

describe("-kernel", () => {
  test("a module that does not exist: QEMU's \"could not load kernel\", exit 1", async () => {
    const r = await sys("aarch64", ["-M", "virt", "-kernel", "./missing.mjs"], { cwd: tmp() });
    expect(r).toEqual({ code: 1, out: "", err: "irqlab-system-aarch64: could not load kernel './missing.mjs'\n" });
  });

  test("an ES module (path relative to the working directory) whose default export is the image", async () => {
    const dir = moduleDir();
    const r = await sys("aarch64", ["-M", "virt", "-nographic", "-kernel", "hello-arm.mjs"], { cwd: dir });
    expect(r).toEqual({ code: 0, out: "module guest, dtb at 0x40000000\n", err: "" });
  });

  test("a module that exports no guest image: the same QEMU line and a hint saying what to export", async () => {
    const dir = moduleDir();
    const r = await sys("aarch64", ["-M", "virt", "-kernel", join(dir, "not-an-image.mjs")]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`irqlab-system-aarch64: could not load kernel '${join(dir, "not-an-image.mjs")}'\n`);
    expect(r.err).toMatch(/default export or as 'image'/);
    const broken = join(dir, "broken.mjs");
    writeFileSync(broken, "export default {{;\n");
    const b = await sys("aarch64", ["-M", "virt", "-kernel", broken]);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/^irqlab-system-aarch64: could not load kernel '.*broken\.mjs'\nirqlab: importing it as an ES module failed: .+\n$/);
  });

  test("irqlab:NAME that the registry lacks lists the images", async () => {
    const r = await sys("aarch64", ["-M", "virt", "-kernel", "irqlab:nope"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^irqlab-system-aarch64: could not load kernel 'irqlab:nope'\nirqlab has no guest image 'nope'\. The images are:\n/);
    for (const name of ["hello", "smp-hello", "panic-test"]) expect(r.err).toContain(`  irqlab:${name} `);
  });

  test("an image for another architecture says which command runs it", async () => {
    const registry: GuestImageRegistry = {
      "arm-only": { description: "runs on arm64", arch: ["aarch64"], create: () => ({ main: function* () { /* nothing */ } }) },
    };
    const r = await sys("riscv64", ["-M", MACHINE.riscv64, "-kernel", "irqlab:arm-only"], { guestImages: registry });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      "irqlab-system-riscv64: could not load kernel 'irqlab:arm-only'\n" +
        "irqlab: the guest image 'arm-only' runs on aarch64, not riscv64; use irqlab-system-aarch64.\n",
    );
  });
});

describe("how a run ends", () => {
  test("--until ends a guest that never stops: exit 0 and one line saying the limit was reached", async () => {
    const dir = moduleDir();
    for (const arch of ARCHS) {
      const r = await sys(arch, ["-M", MACHINE[arch], "-nographic", "-kernel", join(dir, "spin.mjs"), "--until", "1ms"]);
      expect(r).toEqual({
        code: 0,
        out: "",
        err: `irqlab-system-${arch}: irqlab: virtual time limit reached: the run stopped at 1.00 ms of virtual time (-until)\n`,
      });
    }
  });

  test("without -kernel the CPUs have nothing to run: one note, then idle with no pending event, exit 0", async () => {
    const r = await sys("aarch64", ["-M", "virt", "-nographic"]);
    expect(r.code).toBe(0);
    const lines = r.err.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe("irqlab-system-aarch64: irqlab: no -kernel: the vCPUs have no guest to run and wait idle (try -kernel irqlab:hello)");
    expect(lines[1]).toMatch(/^irqlab-system-aarch64: irqlab: the guest is idle with no pending event at /);
  });

  test("an exit QEMU does not handle stops the VM with an internal error: the dump, exit 1", async () => {
    const dir = moduleDir();
    const r = await sys("riscv64", ["-M", MACHINE.riscv64, "-kernel", join(dir, "vendor-sbi.mjs"), "-summary"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/un-handled SBI EXIT, specific reasons is 150994944/);
    expect(r.err).toContain("irqlab-system-riscv64: irqlab: the VM stopped with an internal error; QEMU would stay paused in that state, irqlab exits\n");
    expect(r.err).toMatch(/ended +a vCPU stopped the VM \(internal error\) \(run state internal-error\)/);
  });

  test("-S with no monitor to start the machine is an error", async () => {
    const r = await sys("aarch64", ["-M", "virt", "-S", "-kernel", "irqlab:hello"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^irqlab-system-aarch64: irqlab: -S leaves the machine paused before it starts, and nothing could start it\n/);
  });

  test("-S with dumpdtb= still dumps (QEMU dumps before it would wait)", async () => {
    const dir = tmp();
    const r = await sys("aarch64", ["-M", "virt,dumpdtb=a.dtb", "-S"], { cwd: dir });
    expect(r).toEqual({ code: 0, out: "", err: "" });
    expect(readFileSync(join(dir, "a.dtb")).length).toBeGreaterThan(0);
  });

  test("-summary (an irqlab option, also --summary) prints how the run ended, virtual time and KVM_RUN exits by reason", async () => {
    const r = await sys("aarch64", ["-M", "virt", "-smp", "2", "--summary", "-kernel", "irqlab:hello"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^irqlab summary: vm0, aarch64 virt, 2 of 2 vCPUs, host of 4 CPUs\n/);
    expect(r.err).toMatch(/ {2}ended +the guest powered off \(run state shutdown\)\n/);
    expect(r.err).toMatch(/ {2}virtual time +[\d.]+ [mu]s \(\d+ ns\)\n/);
    expect(r.err).toMatch(/ {2}KVM_RUN exits +\d+: .*KVM_EXIT_MMIO \d+.*KVM_EXIT_SYSTEM_EVENT 1/);
    expect(r.err).toMatch(/ {2}console +\d+ bytes, discarded/);
  });
});

describe("--trace FILE", () => {
  test("a path that cannot be written ends the command before the machine runs: one line naming it, exit 1", async () => {
    const file = join(tmp(), "no-such-dir", "t.json");
    const r = await sys("aarch64", ["-M", "virt", "-nographic", "-kernel", "irqlab:hello", "--trace", file]);
    expect(r).toEqual({ code: 1, out: "", err: `irqlab-system-aarch64: cannot write the trace file '${file}': No such file or directory\n` });
    const dir = tmp();
    mkdirSync(join(dir, "d"));
    expect((await sys("aarch64", ["-M", "virt", "-trace", "d"], { cwd: dir })).err).toBe("irqlab-system-aarch64: cannot write the trace file 'd': Is a directory\n");
  });

  test("writes a Chrome trace of the run, saying which command line made it", async () => {
    const dir = tmp();
    const argv = ["-M", MACHINE.riscv64, "-smp", "2", "-nographic", "-kernel", "irqlab:smp-hello", "--trace", "run.json", "--seed", "7"];
    const r = await sys("riscv64", argv, { cwd: dir });
    expect(r.code).toBe(0);
    const trace = JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as {
      traceEvents: { ph: string }[];
      otherData: { command: string; argv: string[]; arch: string; seed: number; end: string; counters: Record<string, number> };
    };
    expect(trace.otherData).toMatchObject({
      command: `irqlab-system-riscv64 ${argv.join(" ")}`,
      argv: ["irqlab-system-riscv64", ...argv],
      arch: "riscv64",
      seed: 7,
      end: "shutdown",
    });
    expect(trace.otherData.counters["kvm.exit.KVM_EXIT_SYSTEM_EVENT"]).toBe(1);
    expect(trace.traceEvents.some((e) => e.ph === "X")).toBe(true);
    expect(checkChromeTrace(trace as unknown as ChromeTrace)).toEqual([]);
    // The host scheduler's view: each hart's track shows the vCPU threads it ran.
    const names = (trace as unknown as ChromeTrace).traceEvents.filter((e) => e.name === "thread_name").map((e) => String(e.args?.name));
    expect(names).toEqual(expect.arrayContaining(["vcpu0", "vcpu1", "cpu0"]));
  });

  test("the same command line gives the same trace, byte for byte", async () => {
    const dir = tmp();
    const run = async (name: string) => {
      expect((await sys("aarch64", ["-M", "virt", "-smp", "2", "-kernel", "irqlab:smp-hello", "--trace", name], { cwd: dir })).code).toBe(0);
      return readFileSync(join(dir, name), "utf8").replace(/"(argv|command)":(\[[^\]]*\]|"[^"]*")/g, "");
    };
    expect(await run("a.json")).toBe(await run("b.json"));
  });
});

describe("the bins", () => {
  test("speak with the invoked name, as QEMU does with argv[0]", () => {
    expect(invokedName("/usr/local/bin/irqlab-system-riscv64", "riscv64")).toBe("irqlab-system-riscv64");
    expect(invokedName("/repo/apps/cli/dist/irqlab-system-aarch64.cjs", "aarch64")).toBe("irqlab-system-aarch64");
    expect(invokedName("/repo/irqlab-system-aarch64.mjs", "aarch64")).toBe("irqlab-system-aarch64");
    expect(invokedName("/opt/qemu-system-aarch64", "aarch64")).toBe("qemu-system-aarch64");
    expect(invokedName(undefined, "riscv64")).toBe("irqlab-system-riscv64");
  });

  test("package.json's bins are tsup's entries", async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { bin: Record<string, string> };
    const { BINS } = await import("../tsup.config.js");
    expect(Object.keys(BINS).sort()).toEqual(Object.keys(pkg.bin).sort());
    for (const [name, file] of Object.entries(pkg.bin)) expect(file).toBe(`./dist/${name}.cjs`);
  });

  // The build npm test makes first: the npm packages bundled into the commands are not required
  // from node_modules, and their licences ship beside the bundles. (That whatever a bundle still
  // requires is a built-in or a dependency, the packed-package test checks: shipped-files.ts.)
  test("the built bundles carry the packages they name, with their notices", async () => {
    const { BUNDLED_PACKAGES, thirdPartyNotices } = await import("../tsup.config.js");
    const dist = join(import.meta.dirname, "..", "dist");
    for (const bundle of ["irqlab-main.cjs", "irqlab-system.cjs"]) {
      const required = [...readFileSync(join(dist, bundle), "utf8").matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!);
      for (const name of BUNDLED_PACKAGES) expect(required, `${bundle} requires ${name}`).not.toContain(name);
    }
    const notices = readFileSync(join(dist, "THIRD-PARTY-NOTICES.md"), "utf8");
    expect(notices).toBe(thirdPartyNotices());
    for (const name of BUNDLED_PACKAGES) expect(notices).toMatch(new RegExp(`^## ${name} \\S+ \\(MIT\\)\\n\\n[^#]*Copyright`, "m"));
  });

  // The build npm test makes first: each bin loads its bundle through the code cache, in a cache
  // directory of the test's own, and runs the same from the cache it wrote; a run that builds a
  // machine, which no run before it did, writes the system commands' cache again.
  test("the built bins run, and run again from the code cache they wrote", async () => {
    const dist = join(import.meta.dirname, "..", "dist");
    // The runs write the code cache only once the bundles the build just made have settled (code-cache.ts).
    await untilCacheable(["irqlab-main.cjs", "irqlab-system.cjs"].map((b) => join(dist, b)));
    const cache = mkdtempSync(join(tmpdir(), "irqlab-bins-"));
    const bin = (name: string, args: readonly string[]): string => {
      const r = spawnSync(process.execPath, [join(dist, `${name}.cjs`), ...args], { encoding: "utf8", env: { ...process.env, IRQLAB_CODE_CACHE: cache } });
      expect(r.status, `${name} ${args.join(" ")}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe("");
      return r.stdout;
    };
    // What a cache file begins with: its tag and the scopes of the runs whose bytecode it holds.
    const scopes = (bundle: string): string => {
      const file = readdirSync(cache).find((f) => f.startsWith(`${bundle}-`))!;
      const text = readFileSync(join(cache, file), "latin1");
      return text.slice(0, text.indexOf("\n"));
    };
    try {
      for (let round = 0; round < 2; round++) {
        expect(bin("irqlab", ["--version"])).toBe(`${VERSION}\n`);
        for (const arch of ARCHS) expect(bin(`irqlab-system-${arch}`, ["-version"])).toMatch(new RegExp(`^irqlab emulator version ${VERSION.replaceAll(".", "\\.")} `));
        // One cache per bundle: irqlab's, and the one both system commands share.
        expect(readdirSync(cache).sort().map((f) => f.replace(/(-[0-9a-f]+){4}-v[\d.]+-\w+\.v8cache$/, ""))).toEqual(["irqlab-main.cjs", "irqlab-system.cjs"]);
        expect(scopes("irqlab-system.cjs")).toBe("irqlab-code-cache command-line");
      }
      const hello = ["-M", "virt", "-nographic", "-kernel", "irqlab:hello"];
      for (let round = 0; round < 2; round++) {
        expect(bin("irqlab-system-aarch64", hello)).toContain("Hello");
        expect(scopes("irqlab-system.cjs")).toBe("irqlab-code-cache command-line machine");
      }
      expect(bin("irqlab", ["system-riscv64", "-M", "virt,aia=aplic-imsic", ...hello.slice(2)])).toContain("Hello");
      expect(scopes("irqlab-main.cjs")).toBe("irqlab-code-cache command-line system-riscv64+machine");
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 60_000);

  // The build npm test makes first. A reader that goes before the command writes (`| head` that has
  // read its lines): its writes fail with EPIPE, and it runs to the end without them, as QEMU does,
  // with its own exit status and nothing on stderr.
  test("a built bin whose stdout reader has gone runs on without its output", async () => {
    const dist = join(import.meta.dirname, "..", "dist");
    const child = spawn(process.execPath, [join(dist, "irqlab-system-aarch64.cjs"), "-M", "virt", "-nographic", "-kernel", "irqlab:hello"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, IRQLAB_CODE_CACHE: "off" },
    });
    // Closed long before the child has started Node, let alone written.
    child.stdout.destroy();
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
  }, 30_000);
});
