/**
 * A guest repeating a load of a PL011 register that QEMU answers without a
 * side effect (UARTFR) while a byte arrives on the line: untraced, KVM_RUN
 * answers the repeated loads for the machine's vCPU thread (RunOptions.quietLoads)
 * between events, so the byte's arrival — a handler that changes what the
 * load reads — must still be seen by the first load after it. Compared with
 * the loop of yields the repeat stands for (loopFormImage): the value the
 * guest ends with, the console, the virtual time, the counters and each vCPU
 * thread's KVM_RUN calls and exits.
 */
import { Machine, Pl011, parseSystemCommandLine } from "@irqlab/machine";
import { op } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { boot, loopFormImage, powerOff, putLine, type GuestImage } from "../src/index.js";

/** PL011 UARTFR and its RX FIFO empty flag (hw/char/pl011.c PL011_FLAG_RXFE). */
const UARTFR = 0x018;
const PL011_FLAG_RXFE = 0x10;
const LOADS = 2000;

interface Outcome {
  readonly out: string;
  /** When the "start" line, printed just before the repeat, reached the console. */
  readonly startedAt: number;
  readonly now: number;
  readonly counters: unknown;
  readonly threads: readonly (readonly [runs: number, exits: number])[];
}

/** Boots, repeats the UARTFR load, prints the last value it read, powers off; a byte arrives at `byteAt`. */
function run(byteAt: number, loop: boolean, trace: boolean): Outcome {
  const image: GuestImage = {
    main: function* (regs) {
      const sys = yield* boot(regs);
      const uart = sys.platform.console;
      if (uart === undefined) throw new Error("no console UART in the device tree");
      yield* putLine(sys.console, "start");
      const fr = (yield op.repeat(LOADS, op.read(uart.region.base + UARTFR, 4))).value;
      yield* putLine(sys.console, `fr=0x${fr.toString(16)}`);
      return yield* powerOff(sys);
    },
  };
  const cl = parseSystemCommandLine("aarch64", ["-M", "virt", "-accel", "kvm", "-nographic"]);
  if (cl.kind !== "run") throw new Error(cl.kind);
  let out = "";
  let startedAt = -1;
  const console = (s: string): void => {
    out += s;
    if (startedAt < 0 && out.includes("start")) startedAt = m.queue.now;
  };
  const m: Machine = Machine.create({ config: cl.config, kernel: loop ? loopFormImage(image) : image, console, trace });
  // The console UART on the machine's bus (hw/arm/virt.c create_uart).
  const uart = m.bus.regions().find((r) => r.device instanceof Pl011)?.device;
  if (!(uart instanceof Pl011)) throw new Error("no PL011 on the machine's bus");
  m.queue.schedule(byteAt, () => void uart.receive([0x41]), undefined);
  expect(m.run(60_000_000_000)).toBe("shutdown");
  m.flushConsole();
  return { out, startedAt, now: m.queue.now, counters: m.tracer.counters.toJSON(), threads: m.cpus.map((c) => [c.thread.runs, c.thread.exits] as const) };
}

describe("a repeated UARTFR load answered inside KVM_RUN sees a byte that arrives mid-repeat", () => {
  test("before the repeat, during it (three times), after it: the same run as the loop of yields", () => {
    const start = run(1, false, false).startedAt;
    // Each load is an exit to QEMU of 1683 ns (the cost model's exitToUserspace): the repeat takes about 3.4 ms.
    const cases: [at: number, rxfe: number][] = [
      [1, 0],
      [start + 100_000, 0],
      [start + 1_000_007, 0],
      [start + 3_000_000, 0],
      [start + 10_000_000, PL011_FLAG_RXFE],
    ];
    for (const [at, rxfe] of cases) {
      for (const trace of [false, true]) {
        const fast = run(at, false, trace);
        expect(fast).toEqual(run(at, true, trace));
        const fr = Number.parseInt(/fr=0x([0-9a-f]+)/.exec(fast.out)?.[1] ?? "", 16);
        expect(fr & PL011_FLAG_RXFE).toBe(rxfe);
      }
    }
  });
});
