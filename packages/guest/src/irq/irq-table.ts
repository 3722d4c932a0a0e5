/**
 * The kernel's table of interrupt handlers, by hardware interrupt number
 * (the INTID a GICv3 CPU interface acknowledges, the identity an IMSIC file
 * claims, the source an APLIC IDC claims): what Linux's irq domains resolve
 * to before calling a handler. An interrupt controller driver's flow handler
 * (gic_handle_irq, imsic_handle_irq, aplic_idc_handle_irq) looks the number
 * up here and runs the handler in the interrupt vector, with interrupts
 * masked.
 *
 * The table is kernel data shared by every CPU of the guest; the handler
 * gets the logical number of the CPU it runs on.
 */

import type { GuestOp } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";

/** A handler for one hardware interrupt; runs in the vector, interrupts masked. */
export type IrqHandler = (hwirq: number, cpu: number) => GuestCode;

/**
 * What runs for a hardware interrupt: a handler, or the one operation a
 * handler's body comes down to (straight-line stores as one op.seq), run
 * with no program made around it for each interrupt.
 */
export type IrqAction = IrqHandler | GuestOp;

/**
 * Numbers below this are looked up in an array made that long (every INTID
 * but an LPI's, every IMSIC identity), the others in a map: an array indexed
 * by an LPI (8192 and up) would be kept as a dictionary, as slow as the map,
 * while a map lookup costs several times an array's at every interrupt.
 */
const LINEAR_HWIRQS = 2048;

/** Handlers by hardware interrupt number, and counts of interrupts nobody handles. */
export class IrqTable {
  readonly #linear = new Array<IrqAction | undefined>(LINEAR_HWIRQS);
  readonly #sparse = new Map<number, IrqAction>();
  /** Interrupts taken that had no handler (Linux's "spurious" / ack_bad_irq count). */
  unhandled = 0;

  /** request_irq(): `handler` runs for `hwirq`. A second request replaces the first. */
  register(hwirq: number, handler: IrqAction): void {
    if (isLinear(hwirq)) this.#linear[hwirq] = handler;
    else this.#sparse.set(hwirq, handler);
  }

  /** free_irq(). */
  unregister(hwirq: number): void {
    if (isLinear(hwirq)) this.#linear[hwirq] = undefined;
    else this.#sparse.delete(hwirq);
  }

  /** The handler of `hwirq`, if any. */
  handler(hwirq: number): IrqAction | undefined {
    return isLinear(hwirq) ? this.#linear[hwirq] : this.#sparse.get(hwirq);
  }

  /**
   * The handler to run for a taken `hwirq`, or undefined — counted as
   * unhandled — when there is none: {@link dispatch} without a generator of
   * its own around the handler, for a flow handler on the interrupt path.
   */
  take(hwirq: number): IrqAction | undefined {
    const h = this.handler(hwirq);
    if (h === undefined) this.unhandled++;
    return h;
  }

  /** Runs the handler of `hwirq` on `cpu`; counts it as unhandled when there is none. */
  *dispatch(hwirq: number, cpu: number): GuestCode<boolean> {
    const h = this.take(hwirq);
    if (h === undefined) return false;
    if (typeof h === "function") yield* h(hwirq, cpu);
    else yield h;
    return true;
  }
}

/** Whether `hwirq` is kept in the table's array: a whole number below LINEAR_HWIRQS (anything else a map key, as before). */
function isLinear(hwirq: number): boolean {
  return hwirq >= 0 && hwirq < LINEAR_HWIRQS && (hwirq | 0) === hwirq;
}
