// The images on the test executor: what they print, which firmware calls they
// make, how smp-hello's CPUs share guest memory.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  HELLO_LINE,
  PANIC_TEST_MESSAGE,
  SmpArea,
  helloImage,
  onlineLine,
  panicEndLine,
  panicLine,
  panicTestImage,
  smpHelloImage,
  type GuestArch,
  type GuestImage,
} from "../src/index.js";
import { lines, runGuest, type RunOptions, type RunResult } from "./guest-executor.js";
import { armVirtTree, riscvVirtTree } from "./trees.js";

const PL011 = { kind: "pl011", base: 0x0900_0000 } as const;
const NS16550 = { kind: "ns16550a", base: 0x1000_0000 } as const;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function run(arch: GuestArch, image: GuestImage, n: number, extra: Partial<RunOptions> = {}): RunResult {
  const blob = arch === "aarch64" ? armVirtTree({ cpus: n }) : riscvVirtTree({ harts: n });
  return runGuest({ arch, image, blob, cpus: range(n), uart: arch === "aarch64" ? PL011 : NS16550, ...extra });
}

describe("hello", () => {
  test("arm64: banner, greeting, PSCI SYSTEM_OFF over HVC; the UART sees \\r\\n line ends", () => {
    const r = run("aarch64", helloImage(), 4);
    expect(r.uart).toBe(
      "Machine model: linux,dummy-virt\r\nirqlab hello on aarch64: 4 CPUs, 128 MiB RAM\r\nHello from irqlab\r\nreboot: Power down\r\n",
    );
    expect([r.calls, r.power, r.faults, r.stop]).toEqual([["hvc 0x84000008"], { kind: "psci-system-off", cpu: 0 }, [], "power"]);
  });

  test("riscv64: the same on the NS16550A, SBI SRST shutdown with no reason", () => {
    const r = run("riscv64", helloImage(), 2);
    expect(lines(r.uart)).toEqual(["Machine model: riscv-virtio,qemu", "irqlab hello on riscv64: 2 CPUs, 128 MiB RAM", HELLO_LINE, "reboot: Power down"]);
    expect([r.calls, r.power, r.faults, r.sbiConsole]).toEqual([["sbi 0x53525354/0 0x0 0x0"], { kind: "sbi-srst", cpu: 0, type: 0, reason: 0 }, [], ""]);
  });

  test("the RAM size comes from the memory node", () => {
    const blob = armVirtTree({ cpus: 1, ramSize: 1024 * 1024 * 1024 });
    const r = runGuest({ arch: "aarch64", image: helloImage(), blob, uart: PL011, ram: { base: 0x4000_0000, size: 1024 * 1024 * 1024 } });
    expect(lines(r.uart)[1]).toBe("irqlab hello on aarch64: 1 CPU, 1 GiB RAM");
  });

  test("PSCI method smc: SYSTEM_OFF goes out as SMC", () => {
    const r = runGuest({ arch: "aarch64", image: helloImage(), blob: armVirtTree({ psciMethod: "smc" }), uart: PL011 });
    expect(r.calls).toEqual(["smc 0x84000008"]);
  });

  test("PSCI 0.1 has no SYSTEM_OFF: the guest halts after saying so", () => {
    const r = runGuest({ arch: "aarch64", image: helloImage(), blob: armVirtTree({ psci01: true }), uart: PL011 });
    expect([r.stop, r.calls, lines(r.uart).at(-1)]).toEqual(["idle", [], "reboot: Power down"]);
  });

  test("NS16550A with reg-shift 2 and reg-io-width 4: LSR at +0x14, 4-byte accesses", () => {
    const blob = riscvVirtTree({ harts: 1, uartRegShift: 2, uartRegIoWidth: 4 });
    const r = runGuest({ arch: "riscv64", image: helloImage(), blob, uart: { ...NS16550, regShift: 2 } });
    expect(lines(r.uart)).toContain(HELLO_LINE);
    expect(r.faults).toEqual([]);
  });

  test("a pinned architecture ignores the register heuristics", () => {
    const blob = riscvVirtTree({ harts: 1 });
    // a1 = 0 would read as arm64's x1; pinned to riscv64 it is the hart id / blob pair regardless.
    const r = runGuest({ arch: "riscv64", image: helloImage({ arch: "riscv64" }), blob, uart: NS16550, fdtAddress: 0x8000_0000, bootRegs: [0, 0x8000_0000] });
    expect(lines(r.uart)).toContain(HELLO_LINE);
  });
});

describe("smp-hello", () => {
  const expected = (arch: GuestArch, n: number): string[] => [
    arch === "aarch64" ? "Machine model: linux,dummy-virt" : "Machine model: riscv-virtio,qemu",
    `irqlab smp-hello on ${arch}: ${n} CPU${n === 1 ? "" : "s"}, 128 MiB RAM`,
    "smp: Bringing up secondary CPUs ...",
    ...range(n)
      .slice(1)
      .map((i) => onlineLine(arch, i, i)),
    `smp: all ${n} CPU${n === 1 ? "" : "s"} online`,
    "reboot: Power down",
  ];

  /** The output with the CPU lines sorted: their order is the lock's. */
  const normalized = (r: RunResult): string[] => {
    const out = lines(r.uart);
    const cpuLines = out.filter((l) => l.startsWith("CPU")).sort((a, b) => Number(/^CPU(\d+)/.exec(a)![1]) - Number(/^CPU(\d+)/.exec(b)![1]));
    const first = out.findIndex((l) => l.startsWith("CPU"));
    return first < 0 ? out : [...out.slice(0, first), ...cpuLines, ...out.slice(first + cpuLines.length)];
  };

  test("arm64, 4 CPUs: the exact log, with the CPU lines in the order the lock was taken", () => {
    const r = run("aarch64", smpHelloImage(), 4);
    expect(lines(r.uart)).toEqual([
      "Machine model: linux,dummy-virt",
      "irqlab smp-hello on aarch64: 4 CPUs, 128 MiB RAM",
      "smp: Bringing up secondary CPUs ...",
      "CPU1 (MPIDR 0x0000000001) online",
      "CPU2 (MPIDR 0x0000000002) online",
      "CPU3 (MPIDR 0x0000000003) online",
      "smp: all 4 CPUs online",
      "reboot: Power down",
    ]);
    expect(r.faults).toEqual([]);
  });

  test("CPU_ON: SMC64 function id, each MPIDR, one entry, each CPU's boot record as context", () => {
    const r = run("aarch64", smpHelloImage(), 4);
    // The boot allocator's first free page after the blob at the start of RAM.
    const area = new SmpArea(0x4000_1000, 4);
    expect(r.calls).toEqual([
      ...[1, 2, 3].map((i) => `hvc 0xc4000003 0x${i} 0x${area.entry.toString(16)} 0x${area.record(i).toString(16)}`),
      "hvc 0x84000008",
    ]);
    // The records in guest RAM: logical number, hwid, online flag.
    for (const i of range(4)) {
      const rec = area.record(i);
      expect([r.ram.load(rec, 4), r.ram.load(rec + 4, 4), r.ram.load(rec + 12, 4)]).toEqual([i, i, i === 0 ? 0 : 1]);
    }
    expect(r.ram.load(area.counter, 4)).toBe(3);
  });

  test("riscv64: SBI HSM hart_start with the hart id, and hart lines", () => {
    const r = run("riscv64", smpHelloImage(), 4);
    expect(normalized(r)).toEqual(expected("riscv64", 4));
    expect(r.calls.filter((c) => c.startsWith("sbi 0x48534d/0")).map((c) => c.split(" ")[2])).toEqual(["0x1", "0x2", "0x3"]);
    expect(r.power).toEqual({ kind: "sbi-srst", cpu: 0, type: 0, reason: 0 });
  });

  test("one CPU: nothing to bring up", () => {
    const r = run("aarch64", smpHelloImage(), 1);
    expect(lines(r.uart)).toEqual(expected("aarch64", 1));
    expect(r.calls).toEqual(["hvc 0x84000008"]);
  });

  test.each([1, 2, 3, 7, 50])("every line stays whole whatever the interleaving (quantum %i)", (quantum) => {
    for (const arch of ["aarch64", "riscv64"] as const) {
      const r = run(arch, smpHelloImage(), 6, { quantum });
      expect(normalized(r)).toEqual(expected(arch, 6));
    }
  });

  test("every line stays whole under random interleavings of 8 CPUs (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 16, maxLength: 64 }), fc.boolean(), (choices, arm) => {
        const arch: GuestArch = arm ? "aarch64" : "riscv64";
        const r = run(arch, smpHelloImage(), 8, { quantumOf: (turn) => 1 + (choices[turn % choices.length]! % 40) });
        expect(normalized(r)).toEqual(expected(arch, 8));
      }),
      { seed: 7, numRuns: 100 },
    );
  }, 60_000);

  test("a CPU that fails to start is reported with the firmware's code", () => {
    const r = run("aarch64", smpHelloImage(), 4, { refuseStart: new Map([[2, -6]]) });
    const out = lines(r.uart);
    expect(out).toContain("CPU2: failed to boot: PSCI_RET_INTERNAL_FAILURE (-6)");
    expect(out.at(-2)).toBe("smp: only 3 of 4 CPUs online");
    const v = run("riscv64", smpHelloImage(), 4, { refuseStart: new Map([[3, -3]]) });
    expect(lines(v.uart)).toContain("CPU3: failed to boot: SBI_ERR_INVALID_PARAM (-3)");
  });

  test("a CPU that starts but never runs: the boot CPU gives up after 5 s", () => {
    const r = run("aarch64", smpHelloImage(), 4, { neverRun: new Set([3]) });
    const out = lines(r.uart);
    expect(out.slice(-3)).toEqual(["CPU3: failed to come online", "smp: only 3 of 4 CPUs online", "reboot: Power down"]);
    expect(r.computeNs[0]).toBeGreaterThanOrEqual(5_000_000_000);
  });

  test("arm64 without PSCI: the secondaries cannot be started", () => {
    const r = runGuest({ arch: "aarch64", image: smpHelloImage(), blob: armVirtTree({ cpus: 2, psciMethod: null }), cpus: [0, 1], uart: PL011 });
    expect(lines(r.uart)).toContain("CPU1: failed to boot: PSCI_RET_NOT_SUPPORTED (-1)");
    // Power-off still goes out over HVC, KVM's conduit, which the guest assumes when the tree gives none.
    expect(r.calls).toEqual(["hvc 0x84000008"]);
  });

  test("a secondary started with a context the image did not hand out panics", () => {
    const image = smpHelloImage();
    run("aarch64", image, 2);
    // The boot CPU's state lives on in the image; start a CPU by hand at a bad context.
    const gen = image.secondary!(0x4000_1000, 0x1234);
    const written: number[] = [];
    let hvc: number | undefined;
    let r = gen.next();
    for (let i = 0; i < 10_000 && r.done !== true && hvc === undefined; i++) {
      const o = r.value;
      const res = { value: 0, hi: 0, error: 0, regs: [] as number[] };
      if (o.kind === "mmio-write" && o.addr === 0x0900_0000) written.push(o.value);
      if (o.kind === "mmio-read" && o.addr === 0x0900_0018) res.value = 0x90;
      if (o.kind === "hvc") hvc = o.args[0];
      r = gen.next(res);
    }
    const message = "smp-hello: a CPU started at 0x40001000 with context 0x1234, which this image did not ask for";
    expect(lines(new TextDecoder().decode(new Uint8Array(written)))).toEqual([panicLine(message), panicEndLine(message)]);
    expect(hvc).toBe(0x8400_0008);
  });

  test("each image from the factory has its own state", () => {
    const a = smpHelloImage();
    const b = smpHelloImage();
    run("aarch64", a, 2);
    // b never booted: a secondary entering it has nothing to print with and halts.
    const gen = b.secondary!(0, 0);
    expect(gen.next().value).toEqual({ kind: "irq-mask" });
    expect(gen.next().value).toEqual({ kind: "wfi" });
  });
});

describe("panic-test", () => {
  test("arm64: banner, the two panic lines, SYSTEM_OFF", () => {
    const r = run("aarch64", panicTestImage(), 2);
    expect(lines(r.uart)).toEqual([
      "Machine model: linux,dummy-virt",
      "irqlab panic-test on aarch64: 2 CPUs, 128 MiB RAM",
      `Kernel panic - not syncing: ${PANIC_TEST_MESSAGE}`,
      `---[ end Kernel panic - not syncing: ${PANIC_TEST_MESSAGE} ]---`,
    ]);
    expect(r.power).toEqual({ kind: "psci-system-off", cpu: 0 });
  });

  test("riscv64: SRST shutdown with reset_reason system failure", () => {
    const r = run("riscv64", panicTestImage({ message: "oops" }), 2);
    expect(lines(r.uart).slice(-2)).toEqual(["Kernel panic - not syncing: oops", "---[ end Kernel panic - not syncing: oops ]---"]);
    expect(r.power).toEqual({ kind: "sbi-srst", cpu: 0, type: 0, reason: 1 });
  });
});
