/**
 * IPI multiplexing over the IMSIC's one IPI identity, as Linux's
 * kernel/irq/ipi-mux.c does it for riscv (ipi_mux_create(IMSIC_NR_IPI,
 * imsic_ipi_send)): each CPU has a pending word per virtual IPI in shared
 * memory; ipi_mux_send() sets the target's word and, if the target has that
 * IPI enabled, writes identity 1 into the target's interrupt file;
 * ipi_mux_process(), run by the IMSIC flow handler for identity 1, clears
 * and handles every pending, enabled virtual IPI of its CPU in number order.
 *
 * Linux keeps the pending bits of a CPU in one atomic word and uses
 * atomic_fetch_or / atomic_fetch_andnot. The guest-operation protocol has no
 * atomic read-modify-write, so each (CPU, IPI) pair has a word of its own
 * that only senders set and only its CPU clears — the same outcome without
 * a lost update.
 */

import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";
import { IMSIC_NR_IPI, type ImsicDriver } from "./imsic-driver.js";
import { storeWords } from "../store-words.js";

/** A virtual IPI's handler, run on the receiving CPU in interrupt context. */
export type IpiHandler = (cpu: number, ipi: number) => GuestCode;

/** The multiplexer: pending words in guest RAM, handlers and enables as kernel data. */
export class IpiMux {
  readonly base: number;
  readonly cpus: number;
  readonly imsic: ImsicDriver;
  readonly #handlers: (IpiHandler | undefined)[] = new Array<IpiHandler | undefined>(IMSIC_NR_IPI).fill(undefined);
  /** Virtual IPIs handled, per CPU. */
  readonly handled: number[];

  constructor(base: number, cpus: number, imsic: ImsicDriver) {
    this.base = base;
    this.cpus = cpus;
    this.imsic = imsic;
    this.handled = new Array<number>(cpus).fill(0);
    imsic.ipiHandler = (cpu) => this.process(cpu);
  }

  /** Bytes of RAM for `cpus` CPUs. */
  static bytes(cpus: number): number {
    return 4 * IMSIC_NR_IPI * cpus;
  }

  /** Zeroes every pending word. */
  *init(): GuestCode {
    yield* storeWords(this.base, Math.ceil(IpiMux.bytes(this.cpus) / 4), 0);
  }

  /** request_percpu_irq() of virtual IPI `ipi` (0..7): enabled on every CPU. */
  register(ipi: number, handler: IpiHandler): void {
    if (!(ipi >= 0 && ipi < IMSIC_NR_IPI)) throw new RangeError(`virtual IPI ${ipi} is not within 0..${IMSIC_NR_IPI - 1}`);
    this.#handlers[ipi] = handler;
  }

  /** ipi_mux_send(): virtual IPI `ipi` to `target`. */
  *send(target: number, ipi: number): GuestCode {
    yield op.write(this.#word(target, ipi), 4, 1);
    if (this.#handlers[ipi] !== undefined) yield* this.imsic.sendIpi(target);
  }

  /** ipi_mux_process() on `cpu`. */
  *process(cpu: number): GuestCode {
    for (let ipi = 0; ipi < IMSIC_NR_IPI; ipi++) {
      const h = this.#handlers[ipi];
      if (h === undefined) continue;
      const w = this.#word(cpu, ipi);
      if ((yield op.read(w, 4)).value === 0) continue;
      yield op.write(w, 4, 0);
      this.handled[cpu] = (this.handled[cpu] ?? 0) + 1;
      yield* h(cpu, ipi);
    }
  }

  #word(cpu: number, ipi: number): number {
    return this.base + 4 * (cpu * IMSIC_NR_IPI + ipi);
  }
}
