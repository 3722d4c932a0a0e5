/**
 * The `smp-hello` image: the boot CPU brings every other CPU of /cpus up
 * (PSCI CPU_ON on arm64, SBI HSM hart_start on riscv64, as Linux's
 * psci_boot_secondary and sbi_cpu_start do), each secondary prints one line,
 * and the boot CPU waits until all are online, says so and powers off.
 * arm64 with four CPUs prints:
 *
 *     Machine model: linux,dummy-virt
 *     irqlab smp-hello on aarch64: 4 CPUs, 128 MiB RAM
 *     smp: Bringing up secondary CPUs ...
 *     CPU1 (MPIDR 0x0000000001) online
 *     CPU2 (MPIDR 0x0000000002) online
 *     CPU3 (MPIDR 0x0000000003) online
 *     smp: all 4 CPUs online
 *     reboot: Power down
 *
 * (riscv64: "CPU1 (hart 1) online"; the order of the CPU lines is whatever
 * order the CPUs took the lock in.)
 *
 * What the CPUs share lives in guest RAM, in a block the boot allocator
 * hands out ({@link SmpArea}): a bakery spinlock that serialises console
 * output, the online counter the boot CPU polls, and one boot record per CPU
 * (its logical number, its MPIDR or hart id, its online flag). A secondary
 * gets its record's address as the CPU_ON context (x0) / hart_start opaque
 * (a1), as Linux passes secondary_data / the per-CPU sbi_hart_boot_data. The
 * parsed platform (console, CPU list) is kernel data the image keeps in
 * JavaScript, as a kernel keeps it in its .data.
 *
 * A CPU that fails to start is reported as Linux reports it ("CPU2: failed
 * to boot: ..."); one that does not come online within 5 s of virtual time
 * (Linux's wait in __cpu_up) as "CPU2: failed to come online".
 */

import { op, type Nanoseconds } from "@irqlab/sim";
import { allocateBootMemory } from "../boot/boot-memory.js";
import { boot, type BootedGuest } from "../boot/boot.js";
import { hex } from "../boot/dt-read.js";
import { halt, panic } from "../boot/panic.js";
import type { CpuInfo } from "../boot/platform-info.js";
import { putLine } from "../console/console.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { cpuOn, firmwareError, powerOff } from "../power/power.js";
import { BakeryLock } from "../sync/bakery-lock.js";
import { cpuCount, printBanner, type ImageOptions } from "./image-common.js";

/** How long the boot CPU waits for the secondaries (Linux __cpu_up: 5000 ms). */
export const SECONDARY_TIMEOUT_NS: Nanoseconds = 5_000_000_000;
/** The pause between two polls of the online counter. */
export const ONLINE_POLL_NS: Nanoseconds = 10_000;

const RECORD_BYTES = 16;

/**
 * The shared block in guest RAM: the lock at `base`, then the online counter
 * (a 32-bit word, 8-byte aligned), then `cpus` boot records of 16 bytes
 * (logical number, hwid low, hwid high, online flag; 32-bit words).
 */
export class SmpArea {
  readonly base: number;
  readonly cpus: number;
  readonly lock: BakeryLock;
  /** Address of the online counter. */
  readonly counter: number;
  readonly #records: number;

  constructor(base: number, cpus: number) {
    this.base = base;
    this.cpus = cpus;
    this.lock = new BakeryLock(base, cpus);
    this.counter = base + Math.ceil(BakeryLock.bytes(cpus) / 8) * 8;
    this.#records = this.counter + 8;
  }

  /** Bytes the block takes for `cpus` CPUs. */
  static bytes(cpus: number): number {
    return Math.ceil(BakeryLock.bytes(cpus) / 8) * 8 + 8 + RECORD_BYTES * cpus;
  }

  /** The secondary entry address handed to CPU_ON / hart_start: the block's base, checked by the secondary. */
  get entry(): number {
    return this.base;
  }

  /** Address of the boot record of logical CPU `logical`. */
  record(logical: number): number {
    return this.#records + RECORD_BYTES * logical;
  }

  /** The logical CPU whose record starts at `addr`, or undefined. */
  recordIndex(addr: number): number | undefined {
    const off = addr - this.#records;
    const i = off / RECORD_BYTES;
    return Number.isInteger(i) && i >= 0 && i < this.cpus ? i : undefined;
  }

  /** Zeroes the block and writes every CPU's record. */
  *init(cpus: readonly CpuInfo[]): GuestCode {
    yield* this.lock.init();
    yield op.write(this.counter, 4, 0);
    for (const cpu of cpus) {
      const r = this.record(cpu.logical);
      yield op.write(r, 4, cpu.logical);
      yield op.write(r + 4, 4, cpu.hwid % 2 ** 32);
      yield op.write(r + 8, 4, Math.floor(cpu.hwid / 2 ** 32));
      yield op.write(r + 12, 4, 0);
    }
  }
}

/** The line a secondary prints when it is online. */
export function onlineLine(arch: BootedGuest["arch"], logical: number, hwid: number): string {
  const id = arch === "aarch64" ? `MPIDR 0x${hwid.toString(16).padStart(10, "0")}` : `hart ${hwid}`;
  return `CPU${logical} (${id}) online`;
}

interface SmpState {
  readonly sys: BootedGuest;
  readonly area: SmpArea;
}

/** Creates the `smp-hello` image. */
export function smpHelloImage(options: ImageOptions = {}): GuestImage {
  // The kernel's globals, set by the boot CPU before it starts any other.
  let state: SmpState | undefined;

  function* say(s: SmpState, logical: number, line: string): GuestCode {
    yield* s.area.lock.lock(logical);
    yield* putLine(s.sys.console, line);
    yield* s.area.lock.unlock(logical);
  }

  return {
    main: function* (bootRegs) {
      state = undefined;
      const sys = yield* boot(bootRegs, options);
      const cpus = sys.platform.cpus;
      yield* printBanner(sys, "smp-hello");
      const bytes = SmpArea.bytes(cpus.length);
      const base = allocateBootMemory(sys.platform, bytes);
      if (base === undefined) return yield* panic(sys, `smp-hello: no free RAM for ${bytes} bytes of boot data`);
      const area = new SmpArea(base, cpus.length);
      yield* area.init(cpus);
      const s: SmpState = { sys, area };
      state = s;
      yield* say(s, 0, "smp: Bringing up secondary CPUs ...");
      const started: CpuInfo[] = [];
      for (const cpu of cpus.slice(1)) {
        const rc = yield* cpuOn(sys, cpu, area.entry, area.record(cpu.logical));
        if (rc === 0) started.push(cpu);
        else yield* say(s, 0, `CPU${cpu.logical}: failed to boot: ${firmwareError(sys.arch, rc)}`);
      }
      const poll = op.compute(ONLINE_POLL_NS);
      for (let waited = 0; waited < SECONDARY_TIMEOUT_NS; waited += ONLINE_POLL_NS) {
        if ((yield op.read(area.counter, 4)).value >= started.length) break;
        yield poll;
      }
      // The summary counts the flags the boot CPU saw, so it agrees with the lines above it.
      let online = 1;
      for (const cpu of started) {
        if ((yield op.read(area.record(cpu.logical) + 12, 4)).value !== 0) online++;
        else yield* say(s, 0, `CPU${cpu.logical}: failed to come online`);
      }
      const n = cpus.length;
      yield* say(s, 0, online === n ? `smp: all ${cpuCount(n)} online` : `smp: only ${online} of ${cpuCount(n)} online`);
      return yield* powerOff(sys);
    },

    secondary: function* (entry, context) {
      const s = state;
      // Started before the boot CPU set anything up: there is nothing to print with.
      if (s === undefined) return yield* halt();
      const { sys, area } = s;
      const index = area.recordIndex(context);
      if (entry !== area.entry || index === undefined || index === 0) {
        return yield* panic(sys, `smp-hello: a CPU started at ${hex(entry)} with context ${hex(context)}, which this image did not ask for`);
      }
      const logical = (yield op.read(context, 4)).value;
      const lo = (yield op.read(context + 4, 4)).value;
      const hi = (yield op.read(context + 8, 4)).value;
      if (logical !== index) return yield* panic(sys, `smp-hello: boot record at ${hex(context)} is corrupt`);
      yield* area.lock.lock(logical);
      yield* putLine(sys.console, onlineLine(sys.arch, logical, hi * 2 ** 32 + lo));
      // The flag first: once the counter says "all", every flag is set.
      yield op.write(context + 12, 4, 1);
      const count = (yield op.read(area.counter, 4)).value;
      yield op.write(area.counter, 4, count + 1);
      yield* area.lock.unlock(logical);
      // Idle: nothing here takes interrupts yet, so the CPU waits with them masked until power-off.
      return yield* halt();
    },
  };
}
