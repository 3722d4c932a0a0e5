/**
 * The `gicv3-ipi` and `gicv3-active` images: kvm-unit-tests arm/gic.c's
 * `ipi` and `active` tests (unittests.cfg [gicv3-ipi], [gicv3-active]),
 * written on irqlab's GICv3 driver.
 *
 * gicv3-ipi (`-smp 2` or more): every CPU enables SGI 1 and unmasks
 * interrupts; CPU 1 (IPI_SENDER) waits until all are ready, then
 *
 * - self: sends SGI 1 to itself,
 * - target-list: sends it to every CPU of the other parity (CPUs 0, 2, …),
 *   one ICC_SGI1R_EL1 write per cluster,
 * - broadcast: sends it to all others with ICC_SGI1R_EL1.IRM = 1,
 *
 * and after each waits for the interrupts as wait_for_interrupts() does
 * (polls every 100 ms for up to 5 s, then 100 ms more for stray ones) and
 * reports check_acked(): each CPU in the mask acknowledged exactly one
 * interrupt, INTID 1, and no other CPU any. The others idle in WFI. Output:
 *
 *     PASS: gicv3: ipi: self: Interrupts received
 *     PASS: gicv3: ipi: target-list: Interrupts received
 *     PASS: gicv3: ipi: broadcast: Interrupts received
 *     SUMMARY: 3 tests
 *
 *     EXIT: STATUS=1
 *
 * gicv3-active (CPU 0 alone): the handler clears the SGI's active state
 * through GICR_ICACTIVER0 instead of writing EOIR (ipi_clear_active_handler);
 * "PASS: gicv3: active: self: Interrupts received", "SUMMARY: 1 tests".
 *
 * What the CPUs share lives in guest RAM: per CPU the ready flag, the
 * acknowledge count and the last INTID (acked[], irq_number[]).
 */

import { GICR_ICACTIVER0, ICC_IAR1_EL1 } from "@irqlab/gic";
import { op } from "@irqlab/sim";
import { panic } from "../boot/panic.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { cpuId, mdelay } from "../arm/arm-timer.js";
import { gicIrqVector, gicSendSgi, gicSendSgiBroadcast } from "../arm/gicv3-cpu.js";
import { GIC_SPECIAL_FIRST } from "../arm/gicv3-driver.js";
import { gicBoot, secondaryStart, startSecondary, wfiForever, type GicSystem } from "./gic-test-base.js";
import { unitTestExit, UnitTestReport } from "./unit-test-report.js";

/** arm/gic.c IPI_SENDER and IPI_IRQ. */
export const IPI_SENDER = 1;
export const IPI_IRQ = 1;

/** The shared words of one CPU: ready, acked, irq_number. */
const WORDS = 3;

interface GicTestState {
  readonly g: GicSystem;
  readonly report: UnitTestReport;
}

function ready(s: GicTestState, cpu: number): number {
  return s.g.data + 4 * (WORDS * cpu);
}
function acked(s: GicTestState, cpu: number): number {
  return ready(s, cpu) + 4;
}
function irqNumber(s: GicTestState, cpu: number): number {
  return ready(s, cpu) + 8;
}

function cpus(s: GicTestState): number {
  return s.g.sys.platform.cpus.length;
}

/** The handler of SGI 1 (irq_handler's bookkeeping): irq_number[cpu] and ++acked[cpu]. */
function* recordIrq(s: GicTestState, irqnr: number, cpu: number): GuestCode {
  yield op.write(irqNumber(s, cpu), 4, irqnr);
  const n = (yield op.read(acked(s, cpu), 4)).value;
  yield op.write(acked(s, cpu), 4, n + 1);
}

/** stats_reset(). */
function* statsReset(s: GicTestState): GuestCode {
  for (let c = 0; c < cpus(s); c++) {
    yield op.write(acked(s, c), 4, 0);
    yield op.write(irqNumber(s, c), 4, 0xffff_ffff);
  }
}

/** wait_for_interrupts(mask). */
function* waitForInterrupts(s: GicTestState, mask: ReadonlySet<number>): GuestCode {
  for (let i = 0; i < 50; i++) {
    yield* mdelay(100, s.g.hz);
    let pass = 0;
    for (let c = 0; c < cpus(s); c++) {
      const a = (yield op.read(acked(s, c), 4)).value;
      if (mask.has(c) ? a >= 1 : a === 0) pass++;
    }
    if (pass === cpus(s)) {
      if (i > 0) yield* s.report.info(`interrupts took more than ${i * 100} ms`);
      yield* mdelay(100, s.g.hz);
      return;
    }
  }
  yield* s.report.info("interrupts timed-out (5s)");
}

/** check_acked(mask, sender, irqnum) for GICv3 (no sender in IAR). */
function* checkAcked(s: GicTestState, mask: ReadonlySet<number>, irqnum: number): GuestCode<boolean> {
  let missing = 0;
  let extra = 0;
  let unexpected = 0;
  let pass = true;
  for (let c = 0; c < cpus(s); c++) {
    const a = (yield op.read(acked(s, c), 4)).value;
    if (mask.has(c)) {
      if (a === 0) missing++;
      else if (a > 1) extra++;
    } else if (a !== 0) unexpected++;
    if (a === 0) continue;
    const n = (yield op.read(irqNumber(s, c), 4)).value | 0;
    if (n !== irqnum) {
      yield* s.report.info(`cpu${c} received wrong irq ${n}`);
      pass = false;
    }
  }
  if (missing || extra || unexpected) {
    yield* s.report.info(`ACKS: missing=${missing} extra=${extra} unexpected=${unexpected}`);
    pass = false;
  }
  return pass;
}

/** check_spurious(). */
function* checkSpurious(s: GicTestState): GuestCode {
  for (let c = 0; c < cpus(s); c++) {
    const n = s.g.gic.spurious[c] ?? 0;
    if (n > 0) yield* s.report.info(`WARN: cpu${c} got ${n} spurious interrupts`);
  }
}

/** ipi_test_self(). */
function* ipiTestSelf(s: GicTestState, self: number): GuestCode {
  s.report.push("self");
  yield* statsReset(s);
  const mask = new Set([self]);
  yield* gicSendSgi(s.g.gic, IPI_IRQ, [self]);
  yield* waitForInterrupts(s, mask);
  yield* s.report.report(yield* checkAcked(s, mask, IPI_IRQ), "Interrupts received");
  s.report.pop();
}

/** ipi_test_smp(): target-list, then broadcast. */
function* ipiTestSmp(s: GicTestState, self: number): GuestCode {
  s.report.push("target-list");
  yield* statsReset(s);
  const list = new Set<number>();
  for (let c = 0; c < cpus(s); c++) if (c % 2 !== self % 2) list.add(c);
  yield* gicSendSgi(s.g.gic, IPI_IRQ, [...list]);
  yield* waitForInterrupts(s, list);
  yield* s.report.report(yield* checkAcked(s, list, IPI_IRQ), "Interrupts received");
  s.report.pop();

  s.report.push("broadcast");
  yield* statsReset(s);
  const others = new Set<number>();
  for (let c = 0; c < cpus(s); c++) if (c !== self) others.add(c);
  yield* gicSendSgiBroadcast(IPI_IRQ);
  yield* waitForInterrupts(s, others);
  yield* s.report.report(yield* checkAcked(s, others, IPI_IRQ), "Interrupts received");
  s.report.pop();
}

/** setup_irq(): SGI 1 enabled on this CPU's redistributor, interrupts unmasked. */
function* setupIrq(s: GicTestState, cpu: number): GuestCode {
  yield* s.g.gic.enableIrq(IPI_IRQ, cpu);
  yield op.unmask();
}

/** ipi_test() on `cpu`: the sender's sequence on CPU 1, irq_recv() elsewhere. */
function* ipiTest(s: GicTestState, cpu: number): GuestCode<never> {
  yield* setupIrq(s, cpu);
  yield op.write(ready(s, cpu), 4, 1);
  if (cpu !== IPI_SENDER) return yield* wfiForever();
  // wait_on_ready().
  for (let c = 0; c < cpus(s); c++) {
    while ((yield op.read(ready(s, c), 4)).value === 0) yield op.compute(10);
  }
  yield* ipiTestSelf(s, cpu);
  yield* ipiTestSmp(s, cpu);
  yield* checkSpurious(s);
  return yield* unitTestExit(s.g.sys, yield* s.report.summary(), cpu);
}

/** Creates the `gicv3-ipi` image. */
export function gicv3IpiImage(): GuestImage {
  let state: GicTestState | undefined;
  return {
    main: function* (bootRegs) {
      state = undefined;
      const g = yield* gicBoot(bootRegs, "gicv3-ipi", 4 * WORDS * 512);
      const report = new UnitTestReport(g.sys);
      const s: GicTestState = { g, report };
      g.gic.irqs.register(IPI_IRQ, (irqnr, cpu) => recordIrq(s, irqnr, cpu));
      report.push("gicv3");
      report.push("ipi");
      if (cpus(s) < 2) return yield* report.abort("At least 2 cpus required");
      state = s;
      for (let c = 1; c < cpus(s); c++) {
        const err = yield* startSecondary(g, c);
        if (err !== undefined) return yield* panic(g.sys, err);
      }
      return yield* ipiTest(s, 0);
    },
    vector: gicIrqVector(() => state?.g.gic),
    secondary: function* (entry, context) {
      const s = state;
      const cpu = yield* secondaryStart(s?.g, entry, context);
      yield* ipiTest(s!, cpu);
    },
  };
}

/** Creates the `gicv3-active` image. */
export function gicv3ActiveImage(): GuestImage {
  let state: GicTestState | undefined;
  const iar = op.mrs(ICC_IAR1_EL1);
  return {
    main: function* (bootRegs) {
      state = undefined;
      const g = yield* gicBoot(bootRegs, "gicv3-active", 4 * WORDS * 512);
      const report = new UnitTestReport(g.sys);
      const s: GicTestState = { g, report };
      state = s;
      report.push("gicv3");
      // run_active_clear_test().
      report.push("active");
      yield* setupIrq(s, 0);
      yield* ipiTestSelf(s, 0);
      yield* checkSpurious(s);
      report.pop();
      return yield* unitTestExit(g.sys, yield* report.summary(), 0);
    },
    // ipi_clear_active_handler(): no EOI; the active state is cleared through the redistributor.
    vector: function* () {
      const s = state;
      if (s === undefined) return;
      const irqnr = (yield iar).value & 0xff_ffff;
      const cpu = yield* cpuId();
      if (irqnr >= GIC_SPECIAL_FIRST) {
        s.g.gic.spurious[cpu] = (s.g.gic.spurious[cpu] ?? 0) + 1;
        return;
      }
      const rd = s.g.gic.redistributor(cpu);
      if (rd !== undefined) yield op.write(rd.sgiBase + GICR_ICACTIVER0, 4, 1 << IPI_IRQ);
      yield* recordIrq(s, irqnr, cpu);
    },
  };
}
