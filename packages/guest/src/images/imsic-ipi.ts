/**
 * The `imsic-ipi` image: IPIs between harts as Linux sends them on an AIA
 * machine — MSIs of identity 1 (IMSIC_IPI_ID) written into the target's
 * S-level interrupt file, multiplexed into virtual IPIs (ipi-mux.ts), taken
 * by the IMSIC flow handler's `csrrw stopei` claim loop.
 *
 * The boot CPU sets up the IMSIC driver from the device tree and prints what
 * Linux prints for it, starts every other hart (SBI HSM hart_start); each
 * runs imsic_starting_cpu and idles as Linux does (interrupts off, WFI,
 * interrupts on). The boot CPU then pings each CPU {@link PING_ROUNDS} times,
 * spinning with interrupts on until the target has counted the ping (as
 * csd_lock_wait spins), timing each round trip with `rdtime`; the target
 * answers with a pong IPI. Then it pings all of them at once and prints the
 * counts (riscv-aia=hwaccel, -smp 4):
 *
 *     riscv-imsic: interrupt-controller@28000000: providing IPIs using interrupt 1
 *     ...
 *     imsic-ipi: 4 CPUs online, IMSIC files at 0x28000000..0x28003000
 *     CPU0 -> CPU1: 8 pings, 8 answered, round trip min 4.6 us, avg 4.7 us, max 4.9 us
 *     ...
 *     broadcast to 3 CPUs: 3 answered, 25 pongs taken by CPU0
 *     CPU1: 9 pings handled, 9 IPI identities claimed
 *     ...
 *     reboot: Power down
 *
 * (The times are the machine's; `rdtime` counts at /cpus/timebase-frequency.)
 * Pongs that arrive together coalesce into one (a virtual IPI is a pending
 * flag, as in ipi-mux.c), hence fewer pongs than answers. A CPU that does not
 * come online within 1 s, or an answer that does not come within 10 ms, is
 * reported and the image goes on.
 */

import { op } from "@irqlab/sim";
import { allocateBootMemory } from "../boot/boot-memory.js";
import { boot, type BootedGuest } from "../boot/boot.js";
import { hex } from "../boot/dt-read.js";
import { halt, panic } from "../boot/panic.js";
import { putLine } from "../console/console.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { IrqTable } from "../irq/irq-table.js";
import { powerOff } from "../power/power.js";
import { sbiHartStart } from "../power/sbi.js";
import { rdtime, setThisCpu, thisCpu } from "../riscv/hart-csr.js";
import { ImsicDriver } from "../riscv/imsic-driver.js";
import { IpiMux } from "../riscv/ipi-mux.js";
import { printBanner, type ImageOptions } from "./image-common.js";
import { idleUntil } from "./idle-common.js";
import { storeWords } from "../store-words.js";

/** Round trips per CPU. */
export const PING_ROUNDS = 8;
/** Virtual IPI numbers of the ping and its answer. */
export const IPI_PING = 0;
export const IPI_PONG = 1;
/** How long the boot CPU waits for a secondary to come online, and for a pong. */
const ONLINE_TIMEOUT_NS = 1_000_000_000;
const PONG_TIMEOUT_US = 10_000;
/** The pause between two polls of the boot CPU's wait. */
const POLL_NS = 100;

const REC = 8; // per CPU: online flag, pings handled
const PONGS = 0; // the pong counter, before the records

interface State {
  readonly sys: BootedGuest;
  readonly imsic: ImsicDriver;
  readonly mux: IpiMux;
  readonly base: number;
  readonly entry: number;
}

/** Creates the `imsic-ipi` image. */
export function imsicIpiImage(options: ImageOptions = {}): GuestImage {
  let state: State | undefined;
  const rec = (s: State, cpu: number): number => s.base + 8 + REC * cpu;

  return {
    main: function* (bootRegs) {
      state = undefined;
      const sys = yield* boot(bootRegs, { arch: "riscv64", ...options });
      yield* setThisCpu(0);
      yield* printBanner(sys, "imsic-ipi");
      const cpus = sys.platform.cpus;
      const setup = ImsicDriver.setup(sys.platform, new IrqTable());
      if (!setup.ok) return yield* panic(sys, setup.message);
      const imsic = setup.driver;
      for (const l of imsic.probeLines()) yield* putLine(sys.console, l);
      const bytes = 8 + REC * cpus.length + IpiMux.bytes(cpus.length);
      const base = allocateBootMemory(sys.platform, bytes);
      if (base === undefined) return yield* panic(sys, `imsic-ipi: no free RAM for ${bytes} bytes`);
      yield* storeWords(base, Math.ceil((8 + REC * cpus.length) / 4), 0);
      const mux = new IpiMux(base + 8 + REC * cpus.length, cpus.length, imsic);
      yield* mux.init();
      const s: State = { sys, imsic, mux, base, entry: base };
      mux.register(IPI_PING, function* (cpu) {
        const r = rec(s, cpu) + 4;
        yield op.write(r, 4, (yield op.read(r, 4)).value + 1);
        yield* mux.send(0, IPI_PONG);
      });
      mux.register(IPI_PONG, function* () {
        yield op.write(base + PONGS, 4, (yield op.read(base + PONGS, 4)).value + 1);
      });
      state = s;
      yield* imsic.startingCpu(0);
      yield op.write(rec(s, 0), 4, 1);
      for (const cpu of cpus.slice(1)) {
        const rc = yield* sbiHartStart(cpu.hwid, s.entry, rec(s, cpu.logical));
        if (rc !== 0) yield* putLine(sys.console, `CPU${cpu.logical}: failed to boot: ${rc}`);
      }
      const hz = sys.platform.timebaseFrequency ?? 10_000_000;
      const online: number[] = [];
      for (const cpu of cpus) {
        for (let waited = 0; waited < ONLINE_TIMEOUT_NS && (yield op.read(rec(s, cpu.logical), 4)).value === 0; waited += 1_000) yield op.compute(1_000);
        if ((yield op.read(rec(s, cpu.logical), 4)).value !== 0) online.push(cpu.logical);
        else yield* putLine(sys.console, `CPU${cpu.logical}: failed to come online`);
      }
      const first = imsic.msiAddress(0) ?? 0;
      const last = imsic.msiAddress(cpus.length - 1) ?? 0;
      yield* putLine(sys.console, `imsic-ipi: ${online.length} CPUs online, IMSIC files at ${hex(first)}..${hex(last)}`);
      yield op.unmask();
      const timeoutTicks = (PONG_TIMEOUT_US * hz) / 1e6;
      const others = online.filter((c) => c !== 0);
      /** Spins (interrupts on, as csd_lock_wait does) until every CPU of `targets` answered; the ticks it took, or -1. */
      function* waitAnswers(targets: readonly number[], before: readonly number[], t0: number): GuestCode<number> {
        for (;;) {
          let all = true;
          for (const [i, t] of targets.entries()) if ((yield op.read(rec(s, t) + 4, 4)).value === before[i]) all = false;
          const now = yield* rdtime();
          if (all) return now - t0;
          if (now - t0 > timeoutTicks) return -1;
          yield op.compute(POLL_NS);
        }
      }
      for (const t of others) {
        const rtts: number[] = [];
        for (let r = 0; r < PING_ROUNDS; r++) {
          const before = (yield op.read(rec(s, t) + 4, 4)).value;
          const t0 = yield* rdtime();
          yield* mux.send(t, IPI_PING);
          const took = yield* waitAnswers([t], [before], t0);
          if (took >= 0) rtts.push(took);
        }
        const us = (ticks: number): string => ((ticks * 1e6) / hz).toFixed(1);
        const avg = rtts.length === 0 ? 0 : rtts.reduce((a, b) => a + b, 0) / rtts.length;
        yield* putLine(
          sys.console,
          rtts.length === 0
            ? `CPU0 -> CPU${t}: ${PING_ROUNDS} pings, 0 answered`
            : `CPU0 -> CPU${t}: ${PING_ROUNDS} pings, ${rtts.length} answered, round trip min ${us(Math.min(...rtts))} us, avg ${us(avg)} us, max ${us(Math.max(...rtts))} us`,
        );
      }
      const before: number[] = [];
      for (const t of others) before.push((yield op.read(rec(s, t) + 4, 4)).value);
      const t0 = yield* rdtime();
      for (const t of others) yield* mux.send(t, IPI_PING);
      yield* waitAnswers(others, before, t0);
      let answered = 0;
      for (const [i, t] of others.entries()) if ((yield op.read(rec(s, t) + 4, 4)).value !== before[i]) answered++;
      yield* putLine(sys.console, `broadcast to ${others.length} CPUs: ${answered} answered, ${(yield op.read(base + PONGS, 4)).value} pongs taken by CPU0`);
      yield op.mask();
      for (const c of others) {
        const pings = (yield op.read(rec(s, c) + 4, 4)).value;
        yield* putLine(sys.console, `CPU${c}: ${pings} pings handled, ${imsic.ipiClaims[c] ?? 0} IPI identities claimed`);
      }
      return yield* powerOff(sys);
    },

    secondary: function* (entry, context) {
      const s = state;
      if (s === undefined) return yield* halt();
      const cpu = (context - rec(s, 0)) / REC;
      if (entry !== s.entry || !Number.isInteger(cpu) || cpu <= 0 || cpu >= s.sys.platform.cpus.length) {
        return yield* panic(s.sys, `imsic-ipi: a hart started at ${hex(entry)} with ${hex(context)}, which this image did not ask for`);
      }
      yield* setThisCpu(cpu);
      yield* s.imsic.startingCpu(cpu);
      yield op.write(context, 4, 1);
      yield* idleUntil(function* () {
        yield* [];
        return false;
      });
    },

    vector: function* (cause) {
      const s = state;
      if (s === undefined) return;
      const cpu = yield* thisCpu();
      if (cause === 9) yield* s.imsic.handleIrq(cpu);
    },
  };
}
