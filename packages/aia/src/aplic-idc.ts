/**
 * APLIC direct delivery: the interrupt delivery control (IDC) structures of a
 * domain, one per hart index, and the external interrupt line each drives.
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/AdvPLIC.adoc §4.8 "Interrupt
 * delivery directly by the APLIC": §4.8.1 `idelivery` (WARL 0/1), `iforce`
 * (WARL 0/1; cleared by a `claimi` read that returns 0), `ithreshold` (WLRL,
 * IPRIOLEN bits; a nonzero P masks priority numbers ≥ P), `topi` (read-only:
 * identity 25:16, priority 7:0), `claimi` (reads as `topi`, claims the
 * reported source); §4.8.2 the hart's line = IE ∧ idelivery ∧ (iforce ∨ topi ≠ 0).
 * Cross-check: QEMU hw/intc/riscv_aplic.c (riscv_aplic_idc_topi,
 * riscv_aplic_idc_claimi, riscv_aplic_idc_update).
 */

import { APLIC_IDC_CLAIMI, APLIC_IDC_IDELIVERY, APLIC_IDC_IFORCE, APLIC_IDC_ITHRESHOLD, APLIC_IDC_TOPI, APLIC_TOPI_ID_SHIFT } from "./aplic-constants.js";

/** The domain side an IDC array needs. */
export interface AplicIdcHost {
  /** domaincfg.IE. */
  readonly interruptEnable: boolean;
  /** Highest-priority pending∧enabled source targeting `hart` with priority below `threshold` (if nonzero): (id << 16) | prio, or 0. */
  topi(hart: number, threshold: number): number;
  /** The claim side effect on `source` (clears pending unless the source is level-sensitive). */
  claim(source: number): void;
}

/** The external-interrupt output of one hart index of a direct-mode domain. */
export type IdcLine = (hartIndex: number, asserted: boolean) => void;

/** Snapshot of an IDC array. */
export interface AplicIdcState {
  readonly idelivery: readonly number[];
  readonly iforce: readonly number[];
  readonly ithreshold: readonly number[];
}

/** Result of an IDC register read that is not a defined register. */
export const IDC_RESERVED = -1;

/** The IDC structures of one domain. */
export class AplicIdcs {
  readonly #idelivery: Uint8Array;
  readonly #iforce: Uint8Array;
  readonly #ithreshold: Uint8Array;
  readonly #line: Uint8Array;
  readonly #iprioMask: number;

  constructor(
    readonly count: number,
    iprioLen: number,
    readonly host: AplicIdcHost,
    public onLine: IdcLine | undefined,
  ) {
    this.#idelivery = new Uint8Array(count);
    this.#iforce = new Uint8Array(count);
    this.#ithreshold = new Uint8Array(count);
    this.#line = new Uint8Array(count);
    this.#iprioMask = (1 << iprioLen) - 1;
  }

  /** `ithreshold` of hart `h`. */
  ithreshold(h: number): number {
    return this.#ithreshold[h] ?? 0;
  }

  /** Current level of hart `h`'s line. */
  lineAsserted(h: number): boolean {
    return this.#line[h] === 1;
  }

  /** `topi` of hart `h`. */
  topi(h: number): number {
    return this.host.topi(h, this.#ithreshold[h]!);
  }

  /** Reads register `reg` of hart `h`'s IDC, or {@link IDC_RESERVED} for an undefined offset. */
  read(h: number, reg: number): number {
    switch (reg) {
      case APLIC_IDC_IDELIVERY:
        return this.#idelivery[h]!;
      case APLIC_IDC_IFORCE:
        return this.#iforce[h]!;
      case APLIC_IDC_ITHRESHOLD:
        return this.#ithreshold[h]!;
      case APLIC_IDC_TOPI:
        return this.topi(h);
      case APLIC_IDC_CLAIMI: {
        const v = this.topi(h);
        if (v === 0) this.#iforce[h] = 0;
        else this.host.claim(v >>> APLIC_TOPI_ID_SHIFT);
        this.update(h);
        return v;
      }
      default:
        return IDC_RESERVED;
    }
  }

  /** Writes register `reg`; returns false for `topi`, `claimi` and undefined offsets (ignored). */
  write(h: number, reg: number, value: number): boolean {
    switch (reg) {
      case APLIC_IDC_IDELIVERY:
        this.#idelivery[h] = value & 1;
        break;
      case APLIC_IDC_IFORCE:
        this.#iforce[h] = value & 1;
        break;
      case APLIC_IDC_ITHRESHOLD:
        this.#ithreshold[h] = value & this.#iprioMask;
        break;
      default:
        return false;
    }
    this.update(h);
    return true;
  }

  /** Re-evaluates hart `h`'s line (§4.8.2) and reports a change. */
  update(h: number): void {
    if (h < 0 || h >= this.count) return;
    const on = this.host.interruptEnable && this.#idelivery[h] === 1 && (this.#iforce[h] === 1 || this.topi(h) !== 0) ? 1 : 0;
    if (on !== this.#line[h]) {
      this.#line[h] = on;
      this.onLine?.(h, on === 1);
    }
  }

  /** Re-evaluates every line. */
  updateAll(): void {
    for (let h = 0; h < this.count; h++) this.update(h);
  }

  /** Plain copy of the registers. */
  state(): AplicIdcState {
    return { idelivery: Array.from(this.#idelivery), iforce: Array.from(this.#iforce), ithreshold: Array.from(this.#ithreshold) };
  }

  /** Loads registers from {@link state}; lines follow. */
  restore(s: AplicIdcState): void {
    for (let h = 0; h < this.count; h++) {
      this.#idelivery[h] = (s.idelivery[h] ?? 0) & 1;
      this.#iforce[h] = (s.iforce[h] ?? 0) & 1;
      this.#ithreshold[h] = (s.ithreshold[h] ?? 0) & this.#iprioMask;
    }
    this.updateAll();
  }
}
