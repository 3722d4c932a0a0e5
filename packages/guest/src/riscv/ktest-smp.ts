/**
 * Secondary CPUs the way kvm-unit-tests runs them on riscv (lib/on-cpus.c,
 * lib/riscv/smp.c): a secondary is started lazily, the first time work is
 * sent to it (smp_boot_secondary_nofail: hart_get_status until it is not
 * STOP_PENDING, hart_start if it is STOPPED, wait until it is online), and
 * then idles in do_idle(): it marks itself idle, spins until the idle flag
 * is cleared, runs the function it was given, and idles again.
 * on_cpu_async(cpu, func, data) waits until `cpu` is idle, stores the
 * function and its argument, and clears the flag.
 *
 * What CPUs share lives in guest RAM, one 16-byte record per CPU (online,
 * idle, function number, argument as 32-bit words), so every flag a CPU
 * polls is a load; the functions themselves are the image's generators,
 * numbered by registration. Only CPU 0 sends work here (the tests this
 * serves do), so on_cpu_async needs no lock.
 *
 * An idle secondary spins as kvm-unit-tests' do its (smp_wait_for_event is
 * cpu_relax on riscv), but each turn of the idle loop is
 * {@link IDLE_POLL_NS} of compute: the hart stays busy, as there, while the
 * simulation runs a fiftieth of the loop turns; work handed over is noticed
 * within that time.
 *
 * A secondary's hart_start opaque (a1) is the address of its record; it
 * stores its logical number in `sscratch` (hart-csr.ts) before it does
 * anything else.
 */

import { op } from "@irqlab/sim";
import type { CpuInfo } from "../boot/platform-info.js";
import { cpuRelax } from "../cpu.js";
import type { GuestCode } from "../guest-image.js";
import { sbiHartStart } from "../power/sbi.js";
import { setThisCpu } from "./hart-csr.js";
import { SBI_EXT_HSM_STOP_PENDING, SBI_EXT_HSM_STOPPED, sbiHartGetStatus } from "./sbi-ipi-time.js";
import { storeWords } from "../store-words.js";

/** A function run on a CPU: (logical CPU, argument). */
export type OnCpuFunc = (cpu: number, data: number) => GuestCode;

/** Virtual time of one turn of an idle secondary's polling loop. */
export const IDLE_POLL_NS = 500;
const IDLE_POLL = op.compute(IDLE_POLL_NS);

const REC = 16;
const ONLINE = 0;
const IDLE = 4;
const FUNC = 8;
const DATA = 12;

/** The shared block and the lazily started secondaries. */
export class KtestSmp {
  readonly base: number;
  readonly cpus: readonly CpuInfo[];
  /** The secondary entry address handed to hart_start. */
  readonly entry: number;
  readonly #funcs: OnCpuFunc[] = [];

  constructor(base: number, cpus: readonly CpuInfo[]) {
    this.base = base;
    this.cpus = cpus;
    this.entry = base;
  }

  /** Bytes the block takes for `n` CPUs. */
  static bytes(n: number): number {
    return REC * n;
  }

  /** The address of `cpu`'s record. */
  record(cpu: number): number {
    return this.base + REC * cpu;
  }

  /** The CPU whose record is at `addr`, if any. */
  recordIndex(addr: number): number | undefined {
    const i = (addr - this.base) / REC;
    return Number.isInteger(i) && i >= 0 && i < this.cpus.length ? i : undefined;
  }

  /** Numbers a function for {@link onCpuAsync}. */
  register(f: OnCpuFunc): number {
    this.#funcs.push(f);
    return this.#funcs.length;
  }

  /** Zeroes every record; the boot CPU is online and busy. */
  *init(): GuestCode {
    for (let c = 0; c < this.cpus.length; c++) {
      const r = this.record(c);
      yield* storeWords(r, Math.ceil(REC / 4), 0);
    }
    yield op.write(this.record(0) + ONLINE, 4, 1);
  }

  /** cpu_online(cpu). */
  *online(cpu: number): GuestCode<boolean> {
    return (yield op.read(this.record(cpu) + ONLINE, 4)).value !== 0;
  }

  /** cpu_idle(cpu). */
  *idle(cpu: number): GuestCode<boolean> {
    return (yield op.read(this.record(cpu) + IDLE, 4)).value !== 0;
  }

  /**
   * smp_boot_secondary_nofail(cpu): starts `cpu` if it is stopped and waits
   * until it is online. Returns the hart_start error (0 when it runs).
   */
  *bootSecondary(cpu: number): GuestCode<number> {
    const hartid = this.cpus[cpu]!.hwid;
    let status;
    do {
      status = yield* sbiHartGetStatus(hartid);
      if (status.error !== 0) return status.error;
    } while (status.value === SBI_EXT_HSM_STOP_PENDING);
    if (status.value === SBI_EXT_HSM_STOPPED) {
      const rc = yield* sbiHartStart(hartid, this.entry, this.record(cpu));
      if (rc !== 0) return rc;
    }
    while (!(yield* this.online(cpu))) yield cpuRelax();
    return 0;
  }

  /** on_cpu_async(cpu, func, data), from CPU 0. Returns the boot error, 0 once the work is handed over. */
  *onCpuAsync(cpu: number, func: number, data: number): GuestCode<number> {
    const rc = yield* this.bootSecondary(cpu);
    if (rc !== 0) return rc;
    while (!(yield* this.idle(cpu))) yield cpuRelax();
    const r = this.record(cpu);
    yield op.write(r + FUNC, 4, func);
    yield op.write(r + DATA, 4, data);
    yield op.write(r + IDLE, 4, 0);
    return 0;
  }

  /**
   * The secondary entry: secondary_cinit() (sscratch, online) and do_idle().
   * Returns false (without running) when `entry`/`context` are not this
   * block's, which the image reports.
   */
  *secondaryMain(entry: number, context: number): GuestCode<boolean> {
    const cpu = this.recordIndex(context);
    if (entry !== this.entry || cpu === undefined || cpu === 0) return false;
    yield* setThisCpu(cpu);
    yield op.write(context + ONLINE, 4, 1);
    for (;;) {
      yield op.write(context + IDLE, 4, 1);
      while ((yield op.read(context + IDLE, 4)).value !== 0) yield IDLE_POLL;
      const func = (yield op.read(context + FUNC, 4)).value;
      const data = (yield op.read(context + DATA, 4)).value;
      const f = this.#funcs[func - 1];
      if (f !== undefined) yield* f(cpu, data);
    }
  }
}
