/**
 * micro-bench's interrupt vector: kvm-unit-tests arm/micro-bench.c
 * gic_irq_handler(), which the test installs as the EL1 IRQ handler on
 * both CPUs (install_irq_handler) in place of a GIC driver's dispatch:
 *
 * ```c
 * u32 irqstat = gic_read_iar();
 * irq_ready = false;
 * irq_received = true;
 * gic_write_eoir(irqstat);
 * if (irqstat == TIMER_VTIMER_IRQ || irqstat == TIMER_HVTIMER_IRQ) {
 *     write_sysreg((ARCH_TIMER_CTL_IMASK | ARCH_TIMER_CTL_ENABLE), cntv_ctl_el0);
 *     isb();
 * }
 * irq_ready = true;
 * ```
 *
 * Whatever the INTID (a spurious 1023 too, whose EOIR the GIC ignores),
 * the same stores and the EOI of what IAR returned, before the last store;
 * the timer masked after its EOI. Everything after the acknowledge is one
 * `op.seq`, made once per INTID, and the vector is a state machine whose
 * record is reused: taking an interrupt allocates nothing.
 */
import { ICC_EOIR1_EL1 } from "@irqlab/gic";
import { op, StateMachineProgram, type GuestOp, type GuestProgram, type GuestResult, type SeqOp } from "@irqlab/sim";
import { ARCH_TIMER_CTRL_ENABLE, ARCH_TIMER_CTRL_IT_MASK, writeCntvCtl } from "../arm/arm-timer.js";
import { noIrq, READ_IAR1 } from "../arm/gicv3-cpu.js";

/** What the handler writes, and the timer PPIs it masks the timer for. */
export interface MicroBenchIrqTargets {
  /** irq_ready, a 32-bit word in guest RAM. */
  readonly irqReady: number;
  /** irq_received, a 32-bit word in guest RAM. */
  readonly irqReceived: number;
  /** TIMER_VTIMER_IRQ: the virtual timer's PPI, if the tree has a timer node. */
  readonly vtimer: number | undefined;
  /** TIMER_HVTIMER_IRQ: the EL2 virtual timer's PPI, if the tree lists it. */
  readonly hvtimer: number | undefined;
}

// Where a MicroBenchIrqEntry resumes: the op it yielded last was ...
const AT_START = 0; // nothing yet
const AT_IAR = 1; // the ICC_IAR1_EL1 read
const AT_TAIL = 2; // the handler's rest, from irq_ready = false to irq_ready = true
const RETURNED = 3; // returned: idle until the next interrupt
const ENDED = 4; // ended by return() or throw(): done for good, never reused (whoever ended it may still hold it)

/** The handler's ops after the acknowledge, one sequence per INTID acknowledged, made at its first. */
class HandlerTails {
  readonly #byIntid = new Map<number, SeqOp>();

  constructor(readonly targets: MicroBenchIrqTargets) {}

  /** The stores, the EOI of `irqstat` and, for a timer PPI, the timer masked. */
  tail(irqstat: number): SeqOp {
    let seq = this.#byIntid.get(irqstat);
    if (seq === undefined) {
      const t = this.targets;
      const ops: GuestOp[] = [op.write(t.irqReady, 4, 0), op.write(t.irqReceived, 4, 1), op.msr(ICC_EOIR1_EL1, irqstat)];
      if (irqstat === t.vtimer || irqstat === t.hvtimer) ops.push(writeCntvCtl(ARCH_TIMER_CTRL_IT_MASK | ARCH_TIMER_CTRL_ENABLE));
      ops.push(op.write(t.irqReady, 4, 1));
      seq = op.seq(ops);
      this.#byIntid.set(irqstat, seq);
    }
    return seq;
  }
}

/** One run of gic_irq_handler(). */
class MicroBenchIrqEntry extends StateMachineProgram {
  #at = RETURNED;

  constructor(readonly tails: HandlerTails) {
    super(READ_IAR1);
  }

  /** Starts a run; false if this entry's last run has not returned. */
  start(): boolean {
    if (this.#at !== RETURNED) return false;
    this.#at = AT_START;
    return true;
  }

  next(r: GuestResult): IteratorResult<GuestOp, void> {
    switch (this.#at) {
      case AT_START:
        this.#at = AT_IAR;
        return this.yieldOp(READ_IAR1);
      case AT_IAR:
        this.#at = AT_TAIL;
        // u32 irqstat: the whole IAR value, written back to EOIR as read.
        return this.yieldOp(this.tails.tail(r.value >>> 0));
      case AT_TAIL:
        this.#at = RETURNED;
        return this.finish(undefined);
      default:
        return this.finish(undefined);
    }
  }

  /** After the handler's last store the vector returns (the exception return): it reads nothing more. */
  override get returnsAfterOp(): boolean {
    return this.#at === AT_TAIL;
  }

  protected ended(): void {
    this.#at = ENDED;
  }
}

/**
 * The vector: gic_irq_handler() on `targets()`, or nothing while that is
 * undefined (an interrupt before the test has set up). The handler runs
 * masked, so one entry serves every interrupt; another is made only if an
 * interrupt comes while it runs.
 */
export function microBenchIrqVector(targets: () => MicroBenchIrqTargets | undefined): (cause: number) => GuestProgram {
  let tails: HandlerTails | undefined;
  let entry: MicroBenchIrqEntry | undefined;
  return () => {
    const t = targets();
    if (t === undefined) return noIrq();
    if (tails?.targets !== t) {
      tails = new HandlerTails(t);
      entry = undefined;
    }
    if (entry?.start() !== true) {
      entry = new MicroBenchIrqEntry(tails);
      entry.start();
    }
    return entry;
  };
}
