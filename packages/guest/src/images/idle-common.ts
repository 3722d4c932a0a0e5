/**
 * What the `idle` image does the same way on both architectures: the idle
 * loop, the per-CPU counts in guest RAM, the line sent by interrupt-driven
 * transmission and its summary, and the IPIs that wake the idle CPUs.
 *
 * The idle loop is Linux's default_idle_call → arch_cpu_idle
 * (kernel/sched/idle.c; arch/arm64/kernel/idle.c cpu_do_idle,
 * arch/riscv/kernel/process.c): interrupts off, check for work, WFI,
 * interrupts on. WFI wakes on a pending interrupt even while interrupts are
 * masked; unmasking then takes it. Each return from WFI is counted.
 *
 * Each CPU has a record of three 32-bit words in guest RAM: online,
 * wakeups from WFI, wake IPIs handled. Only its own CPU increments its
 * counters, so plain loads and stores are enough.
 */

import { op } from "@irqlab/sim";
import { putLine, type Console } from "../console/console.js";
import type { GuestCode } from "../guest-image.js";
import { waitForWord } from "./image-common.js";
import { storeWords } from "../store-words.js";

/** The line sent by interrupt-driven transmission. */
export const IDLE_TX_LINE = "idle: this line was sent by interrupt-driven transmission\r\n";
/**
 * The IPI that wakes an idle CPU: IPI_RESCHEDULE, number 0 on arm64
 * (arch/arm64/kernel/smp.c enum ipi_msg_type, SGI 0) and riscv
 * (arch/riscv/kernel/smp.c enum ipi_message_type, virtual IPI 0 of the
 * IMSIC's ipi-mux); smp_send_reschedule() is how Linux kicks an idle CPU.
 */
export const IPI_RESCHEDULE = 0;

const REC = 12;

/** The per-CPU records (online, wakeups, IPIs) in guest RAM. */
export class IdleRecords {
  constructor(
    readonly base: number,
    readonly cpus: number,
  ) {}

  /** Bytes the records of `cpus` CPUs take. */
  static bytes(cpus: number): number {
    return REC * cpus;
  }

  /** The record of `cpu`; its address is also the online word. */
  record(cpu: number): number {
    return this.base + REC * cpu;
  }

  /** The logical CPU whose record is at `addr`, or undefined. */
  cpuOf(addr: number): number | undefined {
    const cpu = (addr - this.base) / REC;
    return Number.isInteger(cpu) && cpu >= 0 && cpu < this.cpus ? cpu : undefined;
  }

  wakeups(cpu: number): number {
    return this.record(cpu) + 4;
  }

  ipis(cpu: number): number {
    return this.record(cpu) + 8;
  }

  /** Zeroes every record. */
  *init(): GuestCode {
    yield* storeWords(this.base, Math.ceil(IdleRecords.bytes(this.cpus) / 4), 0);
  }

  /** Marks `cpu` online (run on that CPU). */
  *setOnline(cpu: number): GuestCode {
    yield op.write(this.record(cpu), 4, 1);
  }

  /** Counts one wake IPI on `cpu` (run on that CPU, in its interrupt handler). */
  *countIpi(cpu: number): GuestCode {
    yield* bump(this.ipis(cpu));
  }

  /** The current value of the word at `addr`. */
  *read(addr: number): GuestCode<number> {
    return (yield op.read(addr, 4)).value;
  }
}

function* bump(addr: number): GuestCode {
  yield op.write(addr, 4, (yield op.read(addr, 4)).value + 1);
}

/**
 * The idle loop until `done()`: interrupts off, check for work, WFI,
 * `woken()` (still masked), interrupts on, which takes what woke the CPU.
 */
export function* idleUntil(done: () => GuestCode<boolean>, woken?: () => GuestCode): GuestCode {
  for (;;) {
    yield op.mask();
    if (yield* done()) {
      yield op.unmask();
      return;
    }
    yield op.wfi();
    if (woken !== undefined) yield* woken();
    yield op.unmask();
  }
}

/** The idle loop of `cpu` until `done()`, each return from WFI counted in its record. */
export function* idleLoop(rec: IdleRecords, cpu: number, done: () => GuestCode<boolean>): GuestCode {
  yield* idleUntil(done, () => bump(rec.wakeups(cpu)));
}

/** A secondary CPU's idle loop: it never has work of its own, only interrupts. */
export function* idleForever(rec: IdleRecords, cpu: number): GuestCode {
  yield* idleLoop(rec, cpu, function* () {
    yield* [];
    return false;
  });
}

/** What interrupt-driven transmission counted. */
export interface TxProgress {
  readonly bytes: Uint8Array;
  /** Bytes written to the UART. */
  sent: number;
  /** Calls of the UART's interrupt handler. */
  irqs: number;
}

/** A fresh {@link TxProgress} for {@link IDLE_TX_LINE}. */
export function idleTxLine(): TxProgress {
  return { bytes: new TextEncoder().encode(IDLE_TX_LINE), sent: 0, irqs: 0 };
}

/**
 * The boot CPU sends a line by interrupts: `start` begins transmission
 * (the driver's start_tx), then CPU0 idles until `done()` says the driver
 * has stopped, and the counts are printed (after the driver's own `detail`
 * lines, if any).
 */
export function* transmitByInterrupts(
  con: Console,
  rec: IdleRecords,
  tx: TxProgress,
  start: () => GuestCode,
  done: () => GuestCode<boolean>,
  detail: () => readonly string[] = () => [],
): GuestCode {
  const before = yield* rec.read(rec.wakeups(0));
  yield* start();
  yield* idleLoop(rec, 0, done);
  const wakeups = (yield* rec.read(rec.wakeups(0))) - before;
  for (const l of detail()) yield* putLine(con, l);
  yield* putLine(con, `idle: ${tx.sent} bytes from ${plural(tx.irqs, "UART interrupt")}, ${plural(wakeups, "wakeup")} of CPU0 from WFI`);
}

/**
 * Wakes every idle CPU but the boot CPU once with `send` (the IPI), waiting
 * for each to count it, then prints what each counted.
 */
export function* wakeIdleCpus(con: Console, rec: IdleRecords, send: (cpu: number) => GuestCode): GuestCode {
  for (let c = 1; c < rec.cpus; c++) {
    yield* send(c);
    yield* waitForWord(rec.ipis(c));
  }
  for (let c = 1; c < rec.cpus; c++) {
    const ipis = yield* rec.read(rec.ipis(c));
    const wakeups = yield* rec.read(rec.wakeups(c));
    yield* putLine(con, `CPU${c}: ${plural(ipis, "IPI")}, ${plural(wakeups, "wakeup")} from WFI`);
  }
}

/** "1 IPI", "3 IPIs". */
function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
