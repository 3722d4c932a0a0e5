// A missing or malformed device tree is a guest panic with a clear message,
// printed where a console is known, followed by a power-off — never a
// JavaScript exception out of the guest's generator.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { helloImage, panicEndLine, panicLine } from "../src/index.js";
import { lines, runGuest, type RunOptions } from "./guest-executor.js";
import { panicOf } from "./helpers.js";
import { armVirtTree, patched, riscvVirtTree } from "./trees.js";

const PL011 = { kind: "pl011", base: 0x0900_0000 } as const;
const NS16550 = { kind: "ns16550a", base: 0x1000_0000 } as const;

function armHello(blob: Uint8Array, extra: Partial<RunOptions> = {}): ReturnType<typeof runGuest> {
  return runGuest({ arch: "aarch64", image: helloImage(), blob, cpus: [0, 1, 2, 3], uart: PL011, ...extra });
}

function riscvHello(blob: Uint8Array, extra: Partial<RunOptions> = {}): ReturnType<typeof runGuest> {
  return runGuest({ arch: "riscv64", image: helloImage(), blob, cpus: [0, 1, 2, 3], uart: NS16550, ...extra });
}

/** The two panic lines of `message`. */
const panicked = (message: string): string[] => [panicLine(message), panicEndLine(message)];

describe("arm64: a panic before the console is known prints nothing and powers off over HVC", () => {
  test("no /chosen stdout-path", () => {
    const blob = armVirtTree({ stdoutPath: null });
    expect(panicOf(blob, "aarch64")).toBe("no console: /chosen has no stdout-path");
    const r = armHello(blob);
    expect([r.uart, r.sbiConsole, r.calls, r.power, r.faults]).toEqual(["", "", ["hvc 0x84000008"], { kind: "psci-system-off", cpu: 0 }, []]);
  });

  test("no /chosen node", () => {
    expect(panicOf(armVirtTree({ chosen: false }), "aarch64")).toBe("no console: the device tree has no /chosen node");
  });

  test("bad magic", () => {
    const r = armHello(patched(armVirtTree(), 0, [0x12, 0x34, 0x56, 0x78]));
    expect(r.uart).toBe("");
    expect(r.power?.kind).toBe("psci-system-off");
    // The whole blob is not read: the header check comes first.
    expect(r.ops).toBeLessThan(10);
  });

  test("a blob that is not 8-byte aligned is refused before any load", () => {
    const r = armHello(armVirtTree(), { bootRegs: [0x4000_0004, 0, 0, 0] });
    expect([r.uart, r.calls, r.ops]).toEqual(["", ["hvc 0x84000008"], 2]); // mask, HVC
  });

  test("no boot registers at all: the CPU halts (it cannot even tell its architecture)", () => {
    const r = armHello(armVirtTree(), { bootRegs: [] });
    expect([r.stop, r.uart, r.calls]).toEqual(["idle", "", []]);
  });

  test("a console with a malformed reg", () => {
    const blob = armVirtTree({ uartReg: [0, 0x0900_0000, 0] });
    expect(panicOf(blob, "aarch64")).toBe("reg of /pl011@9000000 is 3 cells, not a whole number of <2 address + 2 size> entries");
    expect(armHello(blob).power?.kind).toBe("psci-system-off");
  });
});

describe("arm64: a panic after the console is known is printed on it", () => {
  const cases: [string, Uint8Array, string][] = [
    ["no memory node", armVirtTree({ memory: false }), 'no memory: the device tree has no available node with device_type = "memory"'],
    ["no GICv3", armVirtTree({ gic: false }), 'no interrupt controller: the device tree has no available "arm,gic-v3" node'],
    ["riscv CPUs in an arm64 boot", armVirtTree({ cpuCompatible: "riscv" }), "the device tree describes riscv64 CPUs, but this guest booted with the aarch64 boot protocol"],
  ];
  test.each(cases)("%s", (_, blob, message) => {
    expect(panicOf(blob, "aarch64")).toBe(message);
    const r = armHello(blob);
    expect(lines(r.uart)).toEqual(panicked(message));
    expect(r.calls).toEqual(["hvc 0x84000008"]);
  });

  test("the boot CPU's MPIDR is not in /cpus", () => {
    const message = "boot CPU (MPIDR 0x7) is not in /cpus";
    expect(panicOf(armVirtTree(), "aarch64", 7)).toBe(message);
    const r = armHello(armVirtTree(), { cpus: [7, 0, 1, 2] });
    expect(lines(r.uart)).toEqual(panicked(message));
  });

  test("stdout-path naming no node: nothing to print on, HVC power-off", () => {
    expect(panicOf(armVirtTree({ stdoutPath: "/serial@1" }), "aarch64")).toBe('/chosen stdout-path "/serial@1" names no node');
  });

  test("stdout-path naming a node that is not a UART", () => {
    expect(panicOf(armVirtTree({ stdoutPath: "/apb-pclk" }), "aarch64")).toBe(
      '/chosen stdout-path names /apb-pclk, which has no console driver here (compatible "fixed-clock")',
    );
  });

  test("stdout-path options after ':' are ignored", () => {
    expect(lines(armHello(armVirtTree({ stdoutPath: "/pl011@9000000:115200n8" })).uart)).toContain("Hello from irqlab");
  });

  test("an invalid PSCI method: the panic is printed, then SYSTEM_OFF over HVC (KVM's conduit)", () => {
    const message = '/psci: invalid "method" property "svc" (expected "hvc" or "smc")';
    expect(panicOf(armVirtTree({ psciMethod: "svc" }), "aarch64")).toBe(message);
    const r = armHello(armVirtTree({ psciMethod: "svc" }));
    expect(lines(r.uart)).toEqual(panicked(message));
    expect(r.calls).toEqual(["hvc 0x84000008"]);
  });
});

describe("riscv64: every panic reaches a console (the SBI one when no UART is known)", () => {
  test("no stdout-path is not a panic: hello prints on the SBI debug console", () => {
    const r = riscvHello(riscvVirtTree({ stdoutPath: null }));
    expect(r.uart).toBe("");
    expect(lines(r.sbiConsole)).toEqual(["Machine model: riscv-virtio,qemu", "irqlab hello on riscv64: 4 CPUs, 128 MiB RAM", "Hello from irqlab", "reboot: Power down"]);
    expect([...r.sbiConsoleKinds]).toEqual(["dbcn"]);
    expect(r.power).toEqual({ kind: "sbi-srst", cpu: 0, type: 0, reason: 0 });
  });

  test("without DBCN the legacy console_putchar is used", () => {
    const r = riscvHello(riscvVirtTree({ stdoutPath: null }), { dbcn: false });
    expect([...r.sbiConsoleKinds]).toEqual(["legacy"]);
    expect(lines(r.sbiConsole)).toContain("Hello from irqlab");
  });

  test("bad magic: printed on the SBI console, then SRST shutdown with reason system failure", () => {
    const blob = patched(riscvVirtTree(), 0, [0x12, 0x34, 0x56, 0x78]);
    const r = riscvHello(blob);
    const message = `invalid device tree blob at physical address ${"0x" + r.fdtAddress.toString(16)}: bad magic 0x12345678 (expected 0xd00dfeed)`;
    expect(lines(r.sbiConsole)).toEqual(panicked(message));
    expect(r.power).toEqual({ kind: "sbi-srst", cpu: 0, type: 0, reason: 1 });
  });

  test("a truncated blob: the parser's fault, not an exception", () => {
    const blob = riscvVirtTree();
    const r = riscvHello(blob, { copyBytes: Math.floor(blob.length / 2) });
    const out = lines(r.sbiConsole);
    expect(out[0]).toMatch(/^Kernel panic - not syncing: invalid device tree blob at physical address 0x87e00000: fdt: /);
    expect(out).toHaveLength(2);
    expect(r.power).toMatchObject({ kind: "sbi-srst", reason: 1 });
  });

  test("a totalsize beyond 2 MiB", () => {
    const r = riscvHello(patched(riscvVirtTree(), 4, [0x00, 0x40, 0x00, 0x00]));
    expect(lines(r.sbiConsole)[0]).toBe(
      "Kernel panic - not syncing: invalid device tree blob at physical address 0x87e00000: totalsize 0x400000 is not between the header size and 2 MiB",
    );
  });

  test("stdout-path naming no node: printed on the SBI console", () => {
    const r = riscvHello(riscvVirtTree({ stdoutPath: "serial0" }));
    expect(lines(r.sbiConsole)).toEqual(panicked('/chosen stdout-path "serial0" names no node'));
  });

  test("a malformed IMSIC is printed on the UART", () => {
    const message = "/soc/interrupt-controller@28000000: riscv,num-ids is 64; it must be 63..2047 with the low 6 bits set";
    expect(panicOf(riscvVirtTree({ imsicNumIds: 64 }), "riscv64")).toBe(message);
    expect(lines(riscvHello(riscvVirtTree({ imsicNumIds: 64 })).uart)).toEqual(panicked(message));
  });

  test("the boot hart of a0 is not in /cpus", () => {
    const r = riscvHello(riscvVirtTree({ harts: 2 }), { cpus: [5, 0] });
    expect(lines(r.uart)).toEqual(panicked("boot hart 5 is not in /cpus"));
  });

  test("an arm64 tree booted with the riscv64 protocol: the panic goes to the tree's PL011", () => {
    const r = runGuest({ arch: "riscv64", image: helloImage(), blob: armVirtTree(), ram: { base: 0x4000_0000, size: 128 * 1024 * 1024 }, uart: PL011 });
    expect(lines(r.uart)).toEqual(panicked("the device tree describes aarch64 CPUs, but this guest booted with the riscv64 boot protocol"));
    expect(r.power).toMatchObject({ kind: "sbi-srst", reason: 1 });
  });
});

// A damaged reg may put the console where no device is: then the guest polls
// nothing, as a real one would, and the run ends on its budget with the
// stray accesses recorded as faults.
test("damaged blobs never throw out of the guest: every run ends powered off, halted, or polling a missing device (property)", () => {
  const arm = armVirtTree();
  const riscv = riscvVirtTree();
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (isArm, damage) => {
        const blob = (isArm ? arm : riscv).slice();
        for (const [at, byte] of damage) blob[at % blob.length] = byte;
        const r = isArm ? armHello(blob, { maxOps: 400_000 }) : riscvHello(blob, { maxOps: 400_000 });
        if (r.stop === "budget") expect(r.faults.length).toBeGreaterThan(0);
        else expect(["power", "idle"]).toContain(r.stop);
      },
    ),
    { seed: 0x1e5, numRuns: 300 },
  );
}, 60_000);
