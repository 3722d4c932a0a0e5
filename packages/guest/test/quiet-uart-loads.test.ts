/**
 * A guest repeating a load of a console UART register that QEMU answers
 * without a side effect (PL011 UARTFR, NS16550A LSR) while a byte arrives on
 * the line: untraced, KVM_RUN answers the repeated loads for the machine's
 * vCPU thread (RunOptions.quietLoads) between events, so the byte's arrival
 * — a handler that changes what the load reads — must still be seen by the
 * first load after it. Compared with the loop of yields the repeat stands
 * for (loopFormImage): the value the guest ends with, the console, the
 * virtual time, the counters and each vCPU thread's KVM_RUN calls and exits.
 */
import { Machine, Ns16550a, Pl011, parseSystemCommandLine } from "@irqlab/machine";
import { op, type AccessSize } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { boot, loopFormImage, powerOff, putLine, type GuestImage } from "../src/index.js";

const LOADS = 2000;

interface Board {
  readonly arch: "aarch64" | "riscv64";
  readonly argv: readonly string[];
  /** The register loaded, its width, and the bit a received byte flips in it. */
  readonly offset: number;
  readonly size: AccessSize;
  readonly bit: number;
  /** The bit's value with the RX FIFO empty. */
  readonly empty: number;
  readonly isUart: (d: unknown) => d is { receive(bytes: ArrayLike<number>): number };
}

const BOARDS: readonly Board[] = [
  // hw/char/pl011.c: UARTFR (0x18), PL011_FLAG_RXFE (0x10) set while the RX FIFO is empty.
  { arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm"], offset: 0x18, size: 4, bit: 0x10, empty: 0x10, isUart: (d): d is Pl011 => d instanceof Pl011 },
  // hw/char/serial.c: LSR (5; reg-shift 0 on riscv virt), UART_LSR_DR (0x01) set while a byte waits.
  {
    arch: "riscv64",
    argv: ["-M", "virt,aia=aplic-imsic", "-accel", "kvm,riscv-aia=hwaccel"],
    offset: 5,
    size: 1,
    bit: 0x01,
    empty: 0,
    isUart: (d): d is Ns16550a => d instanceof Ns16550a,
  },
];

interface Outcome {
  readonly out: string;
  /** When the "start" line, printed just before the repeat, reached the console. */
  readonly startedAt: number;
  readonly now: number;
  readonly counters: unknown;
  readonly threads: readonly (readonly [runs: number, exits: number])[];
}

/** An outcome and how many times the vCPU threads called KVM_RUN (which answered loads do not need). */
interface Run {
  readonly outcome: Outcome;
  readonly runCalls: number;
}

/** Boots, repeats the load, prints the last value it read, powers off; a byte arrives at `byteAt`. */
function run(b: Board, byteAt: number, loop: boolean, trace: boolean): Run {
  const image: GuestImage = {
    main: function* (regs) {
      const sys = yield* boot(regs);
      const uart = sys.platform.console;
      if (uart === undefined) throw new Error("no console UART in the device tree");
      yield* putLine(sys.console, "start");
      const v = (yield op.repeat(LOADS, op.read(uart.region.base + b.offset, b.size))).value;
      yield* putLine(sys.console, `value=0x${v.toString(16)}`);
      return yield* powerOff(sys);
    },
  };
  const cl = parseSystemCommandLine(b.arch, [...b.argv, "-nographic"]);
  if (cl.kind !== "run") throw new Error(cl.kind);
  let out = "";
  let startedAt = -1;
  const console = (s: string): void => {
    out += s;
    if (startedAt < 0 && out.includes("start")) startedAt = m.queue.now;
  };
  const m: Machine = Machine.create({ config: cl.config, kernel: loop ? loopFormImage(image) : image, console, trace });
  // The console UART on the machine's bus (hw/arm/virt.c create_uart, hw/riscv/virt.c serial_mm_init).
  const uart = m.bus.regions().find((r) => b.isUart(r.device))?.device;
  if (!b.isUart(uart)) throw new Error("no console UART on the machine's bus");
  m.queue.schedule(byteAt, () => void uart.receive([0x41]), undefined);
  let runCalls = 0;
  for (const c of m.cpus) {
    const vcpu = c.vcpu;
    const kvmRun = vcpu.run.bind(vcpu);
    vcpu.run = (arg, options) => (runCalls++, kvmRun(arg, options));
  }
  expect(m.run(60_000_000_000)).toBe("shutdown");
  m.flushConsole();
  const threads = m.cpus.map((c) => [c.thread.runs, c.thread.exits] as const);
  return { outcome: { out, startedAt, now: m.queue.now, counters: m.tracer.counters.toJSON(), threads }, runCalls };
}

describe("a repeated console-register load answered inside KVM_RUN sees a byte that arrives mid-repeat", () => {
  test.each(BOARDS.map((b) => [b.arch, b] as const))("%s: before the repeat, during it (three times), after it: the same run as the loop of yields", (_arch, b) => {
    const start = run(b, 1, false, false).outcome.startedAt;
    // Each load is an exit to QEMU of 1683 ns (the cost model's exitToUserspace): the repeat takes about 3.4 ms.
    const cases: [at: number, arrived: boolean][] = [
      [1, true],
      [start + 100_000, true],
      [start + 1_000_007, true],
      [start + 3_000_000, true],
      [start + 10_000_000, false],
    ];
    for (const [at, arrived] of cases) {
      for (const trace of [false, true]) {
        const fast = run(b, at, false, trace);
        const reference = run(b, at, true, trace);
        expect(fast.outcome).toEqual(reference.outcome);
        // Untraced, most loads were answered inside KVM_RUN; traced, each returned.
        const [runs] = fast.outcome.threads[0]!;
        if (trace) expect(fast.runCalls).toBe(reference.runCalls);
        else expect(fast.runCalls).toBeLessThan(runs - LOADS / 2);
        const v = Number.parseInt(/value=0x([0-9a-f]+)/.exec(fast.outcome.out)?.[1] ?? "", 16);
        expect(v & b.bit).toBe(arrived ? b.bit ^ b.empty : b.empty);
      }
    }
  });
});
