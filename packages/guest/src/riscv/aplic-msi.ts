/**
 * An APLIC domain in MSI delivery mode, as Linux's
 * drivers/irqchip/irq-riscv-aplic-msi.c drives it (RISC-V AIA 1.0,
 * AdvPLIC.adoc §4.9): each source becomes an MSI into an IMSIC identity.
 *
 * - aplic_msi_setup: the MSI address layout from the IMSIC's global config:
 *   LHXS = guest index bits, LHXW = hart index bits, HHXW = group index
 *   bits, HHXS = group index shift − 24, base PPN = base address >> 12 with
 *   those fields cleared; the common set-up with IE and DM; then
 *   "%d interrupts forwarded to MSI base %pa".
 * - a source's MSI (aplic_msi_write_msg): an IMSIC vector is allocated, and
 *   its address (the target hart's interrupt file) is turned back into a
 *   hart index (group index << LHXW | hart index) and guest index, written
 *   with the identity as EIID into `target`.
 * - level sources (aplic_msi_irq_retrigger_level, AdvPLIC.adoc §4.9.2):
 *   after `sourcecfg` is written and after each handled interrupt (irq_eoi)
 *   the source number goes to `setipnum_le`, so a still-asserted input
 *   sends its MSI again.
 * - unmask: the IMSIC identity first, then `setienum`; mask the reverse.
 *
 * Handlers are registered in the {@link IrqTable} under the source number;
 * the IMSIC flow handler reaches them through the vector's interrupt number.
 */

import { APLIC_TARGET_GUEST_SHIFT, APLIC_TARGET_HART_SHIFT } from "@irqlab/aia";
import type { AplicInfo } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import { IrqTable, type IrqHandler } from "../irq/irq-table.js";
import { AplicRegs, isLevelType } from "./aplic-driver.js";
import type { ImsicDriver, ImsicVector } from "./imsic-driver.js";

/** struct aplic_msicfg. */
export interface AplicMsiCfg {
  readonly lhxs: number;
  readonly lhxw: number;
  readonly hhxw: number;
  readonly hhxs: number;
  readonly basePpn: number;
}

/** The result of {@link AplicMsiDriver.create}. */
export type AplicMsiSetup = { readonly ok: true; readonly driver: AplicMsiDriver } | { readonly ok: false; readonly message: string };

/** The MSI-mode driver of one APLIC domain. */
export class AplicMsiDriver {
  readonly regs: AplicRegs;
  readonly imsic: ImsicDriver;
  readonly msicfg: AplicMsiCfg;
  readonly #sources: IrqTable;
  readonly #vectors: (ImsicVector | undefined)[];
  /** Interrupts taken for a source nobody registered. */
  unhandled = 0;

  private constructor(info: AplicInfo, imsic: ImsicDriver, msicfg: AplicMsiCfg) {
    this.regs = new AplicRegs(info);
    this.imsic = imsic;
    this.msicfg = msicfg;
    this.#sources = new IrqTable();
    this.#vectors = new Array<ImsicVector | undefined>(info.numSources + 1).fill(undefined);
  }

  /** The MSI-mode domain the device tree describes at supervisor level, if any. */
  static find(platform: { readonly aplics: readonly AplicInfo[] }): AplicInfo | undefined {
    return platform.aplics.find((a) => a.delivery === "msi" && a.level !== "machine");
  }

  /** The msicfg checks of aplic_msi_setup(), with Linux's messages. */
  static create(info: AplicInfo, imsic: ImsicDriver): AplicMsiSetup {
    const g = imsic.info;
    const fail = (m: string): AplicMsiSetup => ({ ok: false, message: `riscv-aplic ${info.path}: ${m}` });
    if (g.guestIndexBits > 7) return fail("IMSIC guest index bits big for APLIC LHXS");
    if (g.hartIndexBits > 15) return fail("IMSIC hart index bits big for APLIC LHXW");
    if (g.groupIndexBits > 7) return fail("IMSIC group index bits big for APLIC HHXW");
    if (g.groupIndexShift < 24) return fail("IMSIC group index shift should be >= 24");
    const hhxs = g.groupIndexShift - 24;
    if (hhxs > 31) return fail("IMSIC group index shift big for APLIC HHXS");
    const lhxs = g.guestIndexBits;
    const lhxw = g.hartIndexBits;
    const hhxw = g.groupIndexBits;
    let ppn = Math.floor(imsic.baseAddr / 4096);
    ppn = clearField(ppn, 0, lhxs);
    ppn = clearField(ppn, lhxs, lhxw);
    ppn = clearField(ppn, hhxs + 12, hhxw);
    return { ok: true, driver: new AplicMsiDriver(info, imsic, { lhxs, lhxw, hhxw, hhxs, basePpn: ppn }) };
  }

  /** aplic_msi_setup()'s register part. Returns the lines Linux prints. */
  *setup(): GuestCode<string[]> {
    const lines: string[] = [];
    yield* this.regs.initHwIrqs();
    const warn = yield* this.regs.initHwGlobal(true);
    if (warn !== undefined) lines.push(warn);
    const pa = this.msicfg.basePpn * 4096;
    lines.push(`riscv-aplic ${this.regs.name}: ${this.regs.nrIrqs} interrupts forwarded to MSI base 0x${pa.toString(16).padStart(16, "0")}`);
    return lines;
  }

  /** The `target` value for an MSI to address `addr` with data `eiid` (aplic_msi_write_msg). */
  targetFor(addr: number, eiid: number): number {
    const mc = this.msicfg;
    const tppn = Math.floor(addr / 4096);
    const group = field(tppn, mc.hhxs + 12, mc.hhxw);
    const hart = field(tppn, mc.lhxs, mc.lhxw) + group * 2 ** mc.lhxw;
    const guest = field(tppn, 0, mc.lhxs);
    return ((hart << APLIC_TARGET_HART_SHIFT) | (guest << APLIC_TARGET_GUEST_SHIFT) | eiid) >>> 0;
  }

  /**
   * request_irq() for source `hwirq` with trigger `type`, on one of `cpus`
   * (default: any online CPU): an IMSIC vector, the type, the target, then
   * unmask. Returns the vector, or an errno (-22 EINVAL, -28 ENOSPC).
   */
  *requestIrq(hwirq: number, type: number, handler: IrqHandler, cpus?: readonly number[], current = 0): GuestCode<ImsicVector | number> {
    if (!this.regs.valid(hwirq) || this.#vectors[hwirq] !== undefined) return -22;
    const vec = this.imsic.allocVector(cpus);
    if (vec === undefined) return -28;
    const rc = yield* this.regs.setType(hwirq, type);
    if (rc !== 0) {
      this.imsic.freeVector(vec);
      return rc;
    }
    if (isLevelType(type)) yield* this.regs.setPendingNum(hwirq);
    this.#vectors[hwirq] = vec;
    this.#sources.register(hwirq, handler);
    this.imsic.table.register(vec.irq, (_irq, cpu) => this.#flow(hwirq, cpu));
    const addr = this.imsic.msiAddress(vec.cpu)!;
    yield* this.regs.writeTarget(hwirq, this.targetFor(addr, vec.localId));
    yield* this.imsic.unmask(vec, current);
    yield* this.regs.unmask(hwirq);
    return vec;
  }

  /** The IMSIC vector of source `hwirq`, if requested. */
  vectorOf(hwirq: number): ImsicVector | undefined {
    return this.#vectors[hwirq];
  }

  /** handle_fasteoi_irq for a source: its handler, then irq_eoi (the level re-trigger). */
  *#flow(hwirq: number, cpu: number): GuestCode {
    if (!(yield* this.#sources.dispatch(hwirq, cpu))) this.unhandled++;
    if (isLevelType(this.regs.types[hwirq] ?? 0)) yield* this.regs.setPendingNum(hwirq);
  }
}

/** Bits [shift, shift+width) of a non-negative number. */
function field(v: number, shift: number, width: number): number {
  return Math.floor(v / 2 ** shift) % 2 ** width;
}

/** `v` with bits [shift, shift+width) cleared. */
function clearField(v: number, shift: number, width: number): number {
  return v - field(v, shift, width) * 2 ** shift;
}
