/**
 * The `micro-bench` image: kvm-unit-tests arm/micro-bench.c (unittests.cfg
 * [micro-bench]: `-smp 2`, accel = kvm), on irqlab's GICv3 driver.
 *
 * CPU 1 brings its GIC up, unmasks interrupts and spins; its handler sets
 * `irq_received` in guest RAM. CPU 0 prints the counter frequency and the
 * table header, then times each test the way loop_test() does: CNTVCT_EL0
 * before and after `times` calls of the test body (65536), converted with
 * ticks_to_ns_time() (picoseconds per tick rounded up), printed as
 * "%-30s%15lu.%-15lu%15lu.%-15lu" (name, total ns, avg ns; the average's
 * fraction is the total's fraction divided by the count, as the source has
 * it). The tests, in the source's order:
 *
 * - hyp_call: HVC with w0 = 0x4b000000 (an SMCCC id KVM answers
 *   NOT_SUPPORTED; the guest runs at EL1, so exec_select picks HVC);
 * - mmio_read_user: a 32-bit read of a register QEMU emulates in userspace.
 *   The source reads a virtio-mmio transport's DeviceID at 0x0a000008;
 *   irqlab's virt board has no virtio-mmio transports, so the image reads the
 *   console PL011's read-only UARTPeriphID0 (base + 0xfe0), found through the
 *   device tree (the source's FIXME2), an exit to the VMM just the same;
 *   `mmioAddr` picks another address, as the source's `mmio-addr=` argument;
 * - mmio_read_vgic: GICD_IIDR, handled by the in-kernel vgic;
 * - eoi: ICC_EOIR1_EL1 = 1023 (spurious: ignored);
 * - ipi: SGI 1 to CPU 1 (after ipi_prep clears GICD_CTLR.nASSGIreq when the
 *   distributor has nASSGIcap), then poll `irq_received`;
 * - ipi_hw: the same with nASSGIreq set; "ipi_hw test skipped" without
 *   GICD_TYPER2.nASSGIcap, as ipi_hw_prep returns false then;
 * - lpi (lpi_prep): with an ITS in the tree, LPIs enabled on every
 *   redistributor, DeviceID 2 with 8 EventID bits (MICRO_BENCH_LPI), collection 1 on CPU 1,
 *   LPI 8199 given LPI_PROP_DEFAULT, MAPD, MAPC, INVALL, MAPTI of event 20
 *   to LPI 8199 (through Linux's driver, each command followed by its SYNC);
 *   each iteration (lpi_exec) an INT of event 2/20 sent as kvm-unit-tests'
 *   ITS library sends it (its_send_single_command: the command, an 8-byte
 *   GITS_CWRITER store, GITS_CREADR read until it has moved past; no SYNC,
 *   no check for room), then the poll of `irq_received`; "lpi test skipped"
 *   without an ITS;
 * - timer_10ms (timer_prep): the virtual timer's PPI — taken from the device
 *   tree's /timer node, its third `interrupts` entry, as kvm-unit-tests'
 *   timer_save_state() and Linux's arch_timer_of_init() take it — handled
 *   on CPU 0, interrupts unmasked there, the PPI enabled in CPU 0's
 *   GICR_ISENABLER0, CNTV_CTL_EL0 = IMASK | ENABLE; each iteration
 *   (timer_exec) clears `irq_received`, reads CNTVCT_EL0, sets CNTV_CVAL_EL0
 *   10 ms (CNTFRQ / 100 ticks) ahead, CNTV_CTL_EL0 = ENABLE, and spins on
 *   `irq_received` until the handler, which masks the timer (IMASK |
 *   ENABLE), sets it; timer_post then takes the 10 ms of every iteration
 *   off the total, leaving the latency from expiry to the handler: the
 *   running vCPU's exit on the host timer interrupt, the PPI's injection
 *   and the handler. The spin is one `op.spin` (a computation the
 *   interrupt ends, bounded by the source's 1 << 28 turns of a poll and
 *   cpu_relax()) followed by the poll that sees the flag, not ~900 000
 *   polls per iteration. "timer_10ms test skipped" when the tree has no
 *   timer node.
 *
 * Every interrupt on either CPU goes to the source's gic_irq_handler
 * (micro-bench-irq.ts): acknowledge, irq_ready = false, irq_received =
 * true, EOI, the timer masked if it was the timer's PPI, irq_ready = true.
 *
 * With fewer than 2 CPUs it prints "At least two cpus required, skipping
 * tests..." and exits with 1. Otherwise main returns 0: "EXIT: STATUS=1",
 * then PSCI SYSTEM_OFF.
 */

import { GICD_CTLR, GICD_CTLR_ENABLE_SS_G1, GICD_CTLR_nASSGIreq, GICD_IIDR, GICD_TYPER2, GICD_TYPER2_nASSGIcap, GITS_CMD_INT, ICC_EOIR1_EL1, INTID_SPURIOUS } from "@irqlab/gic";
import { call, op, type GuestOp } from "@irqlab/sim";
import { panic } from "../boot/panic.js";
import { CPU_RELAX_NS } from "../cpu.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { ARCH_TIMER_CTRL_ENABLE, ARCH_TIMER_CTRL_IT_MASK, readCntvct, writeCntvCtl, writeCntvCval } from "../arm/arm-timer.js";
import { gicSgiWrites } from "../arm/gicv3-cpu.js";
import { buildEventCommand, newItsCommandBuffer } from "../arm/its-command-builders.js";
import { ItsDriver, type ItsDevice } from "../arm/its-driver.js";
import { LPI_PROP_DEFAULT } from "../arm/its-lpi-tables.js";
import { KernelPages } from "../arm/its-pages.js";
import { gicBoot, pollWord, pollWordOp, secondaryStart, spinForever, startSecondary, type GicSystem } from "./gic-test-base.js";
import { microBenchIrqVector, type MicroBenchIrqTargets } from "./micro-bench-irq.js";
import { RoundTripLoop, type RoundTripResult } from "./round-trip-loop.js";
import { unitTestExit, UnitTestReport } from "./unit-test-report.js";

/** The source's QEMU_MMIO_ADDR: virtio-mmio transport 0, DeviceID. */
export const QEMU_MMIO_ADDR = 0x0a00_0008;
/** PL011 UARTPeriphID0, the read-only register mmio_read_user reads here. */
export const UART_PERIPH_ID0 = 0xfe0;
/** The SMCCC function id hvc_exec passes in w0. */
export const HYP_CALL_FID = 0x4b00_0000;
/** The SGI ipi_exec sends. */
export const MICRO_BENCH_SGI = 1;
/**
 * lpi_prep's DeviceID, ITT entries, collection, LPI and event. The source
 * asks for "8" ITEs, but kvm-unit-tests' its_send_mapd encodes nr_ites − 1
 * as MAPD's Size field (lib/arm64/gic-v3-its-cmd.c), i.e. 8 EventID bits:
 * 256 events, which is what lets event 20 map. The driver here encodes
 * log2(ITEs) − 1 as Linux does, so it is asked for those 256.
 */
export const MICRO_BENCH_LPI = Object.freeze({ devId: 2, nrItes: 256, icid: 1, lpi: 8199, event: 20 });
/** The polls of gic_prep_common / ipi_exec before they give up (1 << 28). */
export const MICRO_BENCH_TRIES = 1 << 28;

/** One test of micro-bench.c's table. */
export interface MicroBenchTest {
  readonly name: string;
  /** The source's `times`. */
  readonly times: number;
}

/** The table of micro-bench.c, in order. */
export const MICRO_BENCH_TESTS: readonly MicroBenchTest[] = Object.freeze([
  { name: "hyp_call", times: 65536 },
  { name: "mmio_read_user", times: 65536 },
  { name: "mmio_read_vgic", times: 65536 },
  { name: "eoi", times: 65536 },
  { name: "ipi", times: 65536 },
  { name: "ipi_hw", times: 65536 },
  { name: "lpi", times: 65536 },
  { name: "timer_10ms", times: 256 },
]);

/** Options of {@link microBenchImage}. */
export interface MicroBenchOptions {
  /** Run only these tests (the source's `run` flags); default all. */
  readonly tests?: readonly string[];
  /** Iterations of every test instead of its `times` (for quick runs). */
  readonly times?: number;
  /** The address mmio_read_user reads (the source's `mmio-addr=`); default the console PL011's UARTPeriphID0. */
  readonly mmioAddr?: number;
  /**
   * Run the timed loop of a test whose body is one operation (hyp_call,
   * mmio_read_user, mmio_read_vgic, eoi) as one `op.repeat` rather than a
   * loop of yields (default true). The guest measures the same figures
   * either way; the repeat runs faster in the simulator.
   */
  readonly repeat?: boolean;
}

/** ticks_to_ns_time(): [ns, tenths of a ns] for `ticks` at `hz`. */
export function ticksToNsTime(ticks: number, hz: number): [ns: number, frac: number] {
  const PS_PER_SEC = 1_000_000_000_000n;
  const f = BigInt(hz);
  const psPerTick = PS_PER_SEC / f + (PS_PER_SEC % f !== 0n ? 1n : 0n);
  const ps = BigInt(ticks) * psPerTick;
  return [Number(ps / 1000n), Number((ps % 1000n) / 100n)];
}

/** The table row loop_test() prints for `ticks` over `ntimes` iterations. */
export function microBenchRow(name: string, ticks: number, ntimes: number, hz: number): string {
  const [ns, frac] = ticksToNsTime(ticks, hz);
  const avg = Math.floor(ns / ntimes);
  const avgFrac = Math.floor(frac / ntimes);
  return `${name.padEnd(30)}${String(ns).padStart(15)}.${String(frac).padEnd(15)}${String(avg).padStart(15)}.${String(avgFrac).padEnd(15)}\n`;
}

/** The header main() prints: a blank line, the column names, 92 dashes. */
export const MICRO_BENCH_HEADER = `\n${"name".padEnd(30)}${"total ns".padStart(18)}${"".padStart(13)}${"avg ns".padStart(18)}${"".padStart(13)}\n${"-".repeat(92)}\n`;

/**
 * How a test's iterations ended (see {@link BenchExec.loop}): how many
 * passed (all of them, or up to the one whose interrupt never came), or the
 * line of another failed assert.
 */
type BenchResult = RoundTripResult;

/** One test's body and what timer_post-like hooks take off its total ticks. */
interface BenchExec {
  /**
   * loop_test()'s `for` loop over the body: `times` iterations in one
   * program (no generator made and resumed around each iteration).
   */
  readonly loop: (times: number) => GuestCode<BenchResult>;
  /** The body's only operation, when it is one (the loop can then be an `op.repeat`). */
  readonly op?: GuestOp;
  /** Ticks to subtract from the total after `n` iterations (the source's `post`). */
  readonly post?: (n: number) => number;
  /** What the failed assert names ("IPI", "PPI"). */
  readonly what?: string;
}

/** The test's state: its GIC, its report, and what gic_irq_handler writes (irq_ready, irq_received) and masks the timer for. */
interface BenchState extends MicroBenchIrqTargets {
  readonly g: GicSystem;
  readonly report: UnitTestReport;
}

/** Creates the `micro-bench` image. */
export function microBenchImage(options: MicroBenchOptions = {}): GuestImage {
  let state: BenchState | undefined;

  /** gic_prep_common(): wait for CPU 1's irq_ready; false is the source's failed assert. */
  function* prepCommon(s: BenchState): GuestCode<boolean> {
    return yield* pollWord(s.irqReady, MICRO_BENCH_TRIES);
  }

  /** ipi_prep / ipi_hw_prep: nASSGIreq off (ipi) or on (ipi_hw) when the distributor can do without active state. */
  function* ipiPrep(s: BenchState, hw: boolean): GuestCode<boolean> {
    const d = s.g.gic.dist;
    let val = (yield op.read(d + GICD_CTLR, 4)).value;
    const cap = ((yield op.read(d + GICD_TYPER2, 4)).value & GICD_TYPER2_nASSGIcap) !== 0;
    if (cap) {
      val &= ~GICD_CTLR_ENABLE_SS_G1;
      val = hw ? val | GICD_CTLR_nASSGIreq : val & ~GICD_CTLR_nASSGIreq;
      yield op.write(d + GICD_CTLR, 4, val);
      yield* s.g.gic.distWaitForRwp();
      yield op.write(d + GICD_CTLR, 4, val | GICD_CTLR_ENABLE_SS_G1);
      yield* s.g.gic.distWaitForRwp();
    } else if (hw) return false;
    return yield* prepCommon(s);
  }

  /** lpi_prep(): the ITS set up as the source does, or undefined ("lpi test skipped"). */
  function* lpiPrep(s: BenchState): GuestCode<{ driver: ItsDriver; dev: ItsDevice } | undefined> {
    const g = s.g;
    const info = g.sys.platform.gic?.its[0];
    if (info === undefined) return undefined;
    const probed = yield* ItsDriver.probe(g.sys.platform.gic!, info, new KernelPages(g.sys.platform, [g.block]));
    if (!probed.ok) return undefined;
    const driver = probed.its;
    const L = MICRO_BENCH_LPI;
    // its_enable_defaults(): LPIs on every CPU's redistributor.
    for (const cpu of g.sys.platform.cpus) if ((yield* driver.enableLpis(cpu)) !== undefined) return undefined;
    const dev = yield* driver.createDevice(L.devId, L.nrItes);
    const col = driver.createCollection(L.icid, 1);
    if (dev === undefined || col === undefined || L.lpi >= driver.lpis.limit) return undefined;
    yield* driver.lpis.setConfig(L.lpi, LPI_PROP_DEFAULT);
    yield* driver.mapc(col, true);
    yield* driver.invall(col);
    yield* driver.mapti(dev, L.event, L.lpi, col);
    if (!(yield* prepCommon(s))) return undefined;
    return { driver, dev };
  }

  /**
   * timer_prep / timer_exec / timer_post: the virtual timer 10 ms ahead each
   * iteration, spun for; undefined ("skipped") without a timer node.
   */
  function* timerPrep(s: BenchState): GuestCode<BenchExec | undefined> {
    const g = s.g;
    const ppi = g.sys.platform.timer?.virtual;
    if (ppi === undefined) return undefined;
    const masked = writeCntvCtl(ARCH_TIMER_CTRL_IT_MASK | ARCH_TIMER_CTRL_ENABLE);
    // gic_irq_handler masks the timer once it has EOIed its PPI (micro-bench-irq.ts), so that its level drops.
    yield op.unmask();
    yield* g.gic.enableIrq(ppi, 0);
    yield masked;
    if (!(yield* prepCommon(s))) return undefined;
    const ticks = Math.floor(g.hz / 100);
    const clear: GuestOp = op.write(s.irqReceived, 4, 0);
    const received: GuestOp = op.read(s.irqReceived, 4);
    const enable = writeCntvCtl(ARCH_TIMER_CTRL_ENABLE);
    // while (!irq_received && tries--) cpu_relax(): each turn a 1 ns load and a cpu_relax().
    const spin: GuestOp = op.spin(MICRO_BENCH_TRIES * (CPU_RELAX_NS + 1));
    return {
      loop: function* (times) {
        for (let n = 0; n < times; n++) {
          yield clear;
          const before = yield* readCntvct();
          yield writeCntvCval(before + ticks);
          yield enable;
          if ((yield received).value !== 0) continue;
          yield spin;
          if ((yield received).value === 0) return n;
        }
        return times;
      },
      post: (n) => n * ticks,
      what: "PPI",
    };
  }

  /** A test whose body is one operation, its result unused (hvc_exec, mmio_read_*_exec, eoi_exec). */
  function oneOp(o: GuestOp): BenchExec {
    return {
      loop: function* (times) {
        for (let n = 0; n < times; n++) yield o;
        return times;
      },
      op: o,
    };
  }

  /** One test body, or undefined when its prep says "skipped". */
  function* prep(s: BenchState, name: string): GuestCode<BenchExec | undefined> {
    const g = s.g;
    switch (name) {
      case "hyp_call": {
        return oneOp(op.hvc([HYP_CALL_FID]));
      }
      case "mmio_read_user": {
        const uart = g.sys.platform.console;
        const addr = options.mmioAddr ?? (uart?.kind === "pl011" ? uart.region.base + UART_PERIPH_ID0 : QEMU_MMIO_ADDR);
        return oneOp(op.read(addr, 4));
      }
      case "mmio_read_vgic": {
        return oneOp(op.read(g.gic.dist + GICD_IIDR, 4));
      }
      case "eoi": {
        return oneOp(op.msr(ICC_EOIR1_EL1, INTID_SPURIOUS));
      }
      case "ipi":
      case "ipi_hw": {
        if (!(yield* ipiPrep(s, name === "ipi_hw"))) return undefined;
        // irq_received = 0, then the SGI: one op.seq.
        const send = op.seq([op.write(s.irqReceived, 4, 0), ...gicSgiWrites(g.gic, MICRO_BENCH_SGI, [1])]);
        const loop = new RoundTripLoop({ send, wait: pollWordOp(s.irqReceived, MICRO_BENCH_TRIES) });
        return { loop: (times) => loop.start(times) };
      }
      case "lpi": {
        const its = yield* lpiPrep(s);
        if (its === undefined) return undefined;
        const { driver, dev } = its;
        // its_send_int(dev2, 20) through kvm-unit-tests' ITS library: the INT alone, no SYNC.
        const int = newItsCommandBuffer();
        buildEventCommand(int, GITS_CMD_INT, dev.devId, MICRO_BENCH_LPI.event);
        const loop = new RoundTripLoop({
          clear: op.write(s.irqReceived, 4, 0),
          send: () => driver.queue.sendUnsynced(int),
          wait: pollWordOp(s.irqReceived, MICRO_BENCH_TRIES),
          // Its wait's assert_msg (lib/arm64/gic-v3-its-cmd.c) when CREADR never moves.
          sendFailed: () => `gic-v3-its-cmd.c: assert failed: false: ${driver.queue.errors.at(-1) ?? ""}\n`,
        });
        return { loop: (times) => loop.start(times), what: "LPI" };
      }
      case "timer_10ms":
        return yield* timerPrep(s);
      default:
        return undefined;
    }
  }

  return {
    main: function* (bootRegs) {
      state = undefined;
      // The boot and each test's prep run through call(), as the timed loops do: resumed at each of
      // their ops, this program grew hot in a process that boots many machines, and TurboFan's
      // compile of it ran beside the timed loops of later ones.
      const g = yield* call(gicBoot(bootRegs, "micro-bench", 8));
      const report = new UnitTestReport(g.sys);
      const timer = g.sys.platform.timer;
      const s: BenchState = { g, report, irqReady: g.data, irqReceived: g.data + 4, vtimer: timer?.virtual, hvtimer: timer?.hypVirtual };
      if (g.sys.platform.cpus.length < 2) {
        yield* report.print("At least two cpus required, skipping tests...\n");
        return yield* unitTestExit(g.sys, 1, 0);
      }
      state = s;
      const err = yield* startSecondary(g, 1);
      if (err !== undefined) return yield* panic(g.sys, err);
      yield* report.print(`Timer Frequency ${g.hz} Hz (Output in microseconds)\n`);
      yield* report.print(MICRO_BENCH_HEADER);
      for (const t of MICRO_BENCH_TESTS) {
        if (options.tests !== undefined && !options.tests.includes(t.name)) continue;
        const prepared = yield* call(prep(s, t.name));
        if (prepared === undefined) {
          yield* report.print(`${t.name} test skipped\n`);
          continue;
        }
        const bench = prepared;
        const times = options.times ?? t.times;
        const start = yield* readCntvct();
        if (bench.op !== undefined && (options.repeat ?? true) && times > 0) {
          // The same executions as the loop, without resuming this program between them.
          yield op.repeat(times, bench.op);
        } else {
          // Run by the vCPU directly: this program is not resumed at each of the loop's ops.
          const done = yield* call(bench.loop(times));
          if (done !== times) {
            yield* report.print(typeof done === "string" ? done : `micro-bench.c: assert failed: irq_received: failed to receive ${bench.what ?? "IPI"} in time, but received ${done} successfully\n`);
            return yield* unitTestExit(g.sys, 63, 0);
          }
        }
        const end = yield* readCntvct();
        yield* report.print(microBenchRow(t.name, end - start - (bench.post?.(times) ?? 0), times, g.hz));
      }
      return yield* unitTestExit(g.sys, 0, 0);
    },
    vector: microBenchIrqVector(() => state),
    secondary: function* (entry, context) {
      const s = state;
      yield* secondaryStart(s?.g, entry, context);
      // gic_secondary_entry(): SGIs on, interrupts unmasked, irq_ready, spin.
      yield* s!.g.gic.enableIrq(MICRO_BENCH_SGI, context);
      yield op.unmask();
      yield op.write(s!.irqReady, 4, 1);
      yield* call(spinForever());
    },
  };
}
