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
import { HwirqMap } from "./hwirq-map.js";

/** A handler for one hardware interrupt; runs in the vector, interrupts masked. */
export type IrqHandler = (hwirq: number, cpu: number) => GuestCode;

/**
 * What runs for a hardware interrupt: a handler, or the one operation a
 * handler's body comes down to (straight-line stores as one op.seq), run
 * with no program made around it for each interrupt.
 */
export type IrqAction = IrqHandler | GuestOp;

/** Handlers by hardware interrupt number, and counts of interrupts nobody handles. */
export class IrqTable {
  readonly #handlers = new HwirqMap<IrqAction>();
  /** Interrupts taken that had no handler (Linux's "spurious" / ack_bad_irq count). */
  unhandled = 0;

  /** request_irq(): `handler` runs for `hwirq`. A second request replaces the first. */
  register(hwirq: number, handler: IrqAction): void {
    this.#handlers.set(hwirq, handler);
  }

  /** free_irq(). */
  unregister(hwirq: number): void {
    this.#handlers.delete(hwirq);
  }

  /** The handler of `hwirq`, if any. */
  handler(hwirq: number): IrqAction | undefined {
    return this.#handlers.get(hwirq);
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
