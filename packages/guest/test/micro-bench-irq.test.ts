/**
 * micro-bench's vector is kvm-unit-tests arm/micro-bench.c gic_irq_handler():
 * the acknowledge, irq_ready = false, irq_received = true, the EOI of what
 * the acknowledge read, the virtual timer masked (IMASK | ENABLE) after the
 * EOI of a timer PPI only, irq_ready = true, then the return.
 */
import { ICC_EOIR1_EL1, ICC_IAR1_EL1 } from "@irqlab/gic";
import { returnsAfterOp, type GuestOp, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { CNTV_CTL_EL0 } from "../src/arm/arm-timer.js";
import { microBenchIrqVector, type MicroBenchIrqTargets } from "../src/images/micro-bench-irq.js";

const TARGETS: MicroBenchIrqTargets = { irqReady: 0x4010_0000, irqReceived: 0x4010_0004, vtimer: 27, hvtimer: 28 };

/** The result an op hands back: `value` for the acknowledge. */
function result(value: number): GuestResult {
  return { value, hi: 0, error: 0 } as GuestResult;
}

/** The ops one interrupt's run yields, the acknowledge answered with `irqstat`, a sequence's ops spelt out. */
function run(vector: GuestProgram, irqstat: number): string[] {
  const ops: string[] = [];
  const show = (o: GuestOp): void => {
    if (o.kind === "seq") for (const inner of o.ops) show(inner);
    else if (o.kind === "mmio-write") ops.push(`store 0x${o.addr.toString(16)} = ${o.value}`);
    else if (o.kind === "sysreg-write") ops.push(`msr 0x${o.reg.toString(16)} = 0x${o.value.toString(16)}`);
    else if (o.kind === "sysreg-read") ops.push(`mrs 0x${o.reg.toString(16)}`);
    else ops.push(o.kind);
  };
  let it = vector.next(undefined as unknown as GuestResult);
  let first = true;
  while (it.done !== true) {
    show(it.value);
    it = vector.next(result(first ? irqstat : 0));
    first = false;
  }
  return ops;
}

const iar = `mrs 0x${ICC_IAR1_EL1.toString(16)}`;
const eoir = (intid: number) => `msr 0x${ICC_EOIR1_EL1.toString(16)} = 0x${intid.toString(16)}`;
const ready = (v: number) => `store 0x40100000 = ${v}`;
const received = "store 0x40100004 = 1";

describe("micro-bench's gic_irq_handler", () => {
  test.each([1, 8199, 1023])("INTID %i: acknowledge, the two flags, the EOI of what IAR read, irq_ready", (intid) => {
    const vector = microBenchIrqVector(() => TARGETS);
    expect(run(vector(0), intid)).toEqual([iar, ready(0), received, eoir(intid), ready(1)]);
  });

  test.each([27, 28])("the timer's PPI %i: the timer masked after the EOI, before irq_ready", (ppi) => {
    // CNTV_CTL_EL0 = ARCH_TIMER_CTL_IMASK (1 << 1) | ARCH_TIMER_CTL_ENABLE (1 << 0): kvm-unit-tests lib/arm/asm/timer.h.
    const vector = microBenchIrqVector(() => TARGETS);
    expect(run(vector(0), ppi)).toEqual([iar, ready(0), received, eoir(ppi), `msr 0x${CNTV_CTL_EL0.toString(16)} = 0x3`, ready(1)]);
  });

  test("it says it returns after its last op only, and a returned run's record serves the next interrupt", () => {
    const vector = microBenchIrqVector(() => TARGETS);
    const p = vector(0);
    expect(returnsAfterOp(p)).toBe(false);
    p.next(undefined as unknown as GuestResult);
    expect(returnsAfterOp(p)).toBe(false);
    p.next(result(1));
    expect(returnsAfterOp(p)).toBe(true);
    // An interrupt while this run is under way gets a record of its own. (Compared by hand: expect()
    // iterates iterators to describe a difference, which would run them.)
    const nested = vector(0);
    expect(nested === p).toBe(false);
    expect(p.next(result(0)).done).toBe(true);
    expect(run(nested, 1)).toEqual([iar, ready(0), received, eoir(1), ready(1)]);
    expect(vector(0) === nested).toBe(true);
  });

  test("a run ended from outside stays done and is not reused", () => {
    const vector = microBenchIrqVector(() => TARGETS);
    const p = vector(0);
    p.next(undefined as unknown as GuestResult);
    p.return(undefined);
    expect(p.next(result(1)).done).toBe(true);
    expect(vector(0) === p).toBe(false);
  });

  test("before the test has set up, an interrupt does nothing", () => {
    const vector = microBenchIrqVector(() => undefined);
    expect(run(vector(0), 1)).toEqual([]);
  });
});
