/**
 * An APLIC domain in direct delivery mode, as Linux's
 * drivers/irqchip/irq-riscv-aplic-direct.c drives it (RISC-V AIA 1.0,
 * AdvPLIC.adoc §4.8): one interrupt delivery control (IDC) per hart of
 * `interrupts-extended`, IDC i at 0x4000 + 32·i serving that entry's hart.
 *
 * - aplic_direct_setup: the common set-up, every IDC's delivery on
 *   (idelivery = 1, ithreshold = 0: APLIC_ENABLE_IDELIVERY /
 *   APLIC_ENABLE_ITHRESHOLD), `domaincfg` with IE and DM = 0; then
 *   "%d interrupts directly connected to %d CPUs".
 * - aplic_direct_starting_cpu: the hart's external interrupt (sie.SEIE).
 * - a source's affinity (aplic_direct_irq_set_affinity): `target` = the
 *   IDC's hart index with APLIC_DEFAULT_PRIORITY.
 * - the flow handler (aplic_idc_handle_irq): read `claimi` until it reads 0;
 *   each non-zero value names the source in bits 25:16, dispatched through
 *   the {@link IrqTable} under the source number.
 */

import {
  APLIC_IDC_BASE,
  APLIC_IDC_CLAIMI,
  APLIC_IDC_IDELIVERY,
  APLIC_IDC_ITHRESHOLD,
  APLIC_IDC_SIZE,
  APLIC_TARGET_HART_SHIFT,
  APLIC_TOPI_ID_SHIFT,
} from "@irqlab/aia";
import { op } from "@irqlab/sim";
import type { AplicInfo, PlatformInfo } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import type { IrqTable } from "../irq/irq-table.js";
import { APLIC_DEFAULT_PRIORITY, AplicRegs } from "./aplic-driver.js";
import { CSR_SIE, IE_SEIE } from "./hart-csr.js";

/** idelivery value that turns an IDC on. */
export const APLIC_ENABLE_IDELIVERY = 1;
export const APLIC_DISABLE_IDELIVERY = 0;
/** ithreshold values: 0 lets every priority through, 1 masks all. */
export const APLIC_ENABLE_ITHRESHOLD = 0;
export const APLIC_DISABLE_ITHRESHOLD = 1;
/** The `topi`/`claimi` identity field (bits 25:16) after shifting. */
const TOPI_ID_MASK = 0x3ff;

/** The direct-mode driver of one APLIC domain. */
export class AplicDirectDriver {
  readonly regs: AplicRegs;
  /** IDC index of each logical CPU (undefined: the CPU has no IDC in this domain). */
  readonly #idcOfCpu: (number | undefined)[];
  readonly #table: IrqTable;
  /** Claims of a source that had no handler. */
  unhandled = 0;

  constructor(info: AplicInfo, platform: Pick<PlatformInfo, "cpus">, table: IrqTable) {
    this.regs = new AplicRegs(info);
    this.#table = table;
    this.#idcOfCpu = platform.cpus.map((c) => {
      const i = info.harts.indexOf(c.hwid);
      return i < 0 ? undefined : i;
    });
  }

  /** The direct-mode domain the device tree describes at supervisor level, if any. */
  static find(platform: Pick<PlatformInfo, "aplics">): AplicInfo | undefined {
    return platform.aplics.find((a) => a.delivery === "direct" && a.level !== "machine");
  }

  /** Number of IDCs (priv->nr_idcs). */
  get nrIdcs(): number {
    return this.regs.info.harts.length;
  }

  /** The IDC index serving `cpu`, if any. */
  idcOf(cpu: number): number | undefined {
    return this.#idcOfCpu[cpu];
  }

  /**
   * aplic_direct_setup(): sources reset, each IDC on, IE set. Returns the
   * lines Linux prints (a domaincfg warning, then the summary).
   */
  *setup(): GuestCode<string[]> {
    const lines: string[] = [];
    yield* this.regs.initHwIrqs();
    for (let i = 0; i < this.nrIdcs; i++) yield* this.#idcSetDelivery(i, true);
    const warn = yield* this.regs.initHwGlobal(false);
    if (warn !== undefined) lines.push(warn);
    lines.push(`riscv-aplic ${this.regs.name}: ${this.regs.nrIrqs} interrupts directly connected to ${this.nrIdcs} CPUs`);
    return lines;
  }

  /** aplic_direct_starting_cpu() on `cpu`: its external interrupt enabled. */
  *startingCpu(_cpu: number): GuestCode {
    yield op.csrSet(CSR_SIE, IE_SEIE);
  }

  /**
   * Maps source `hwirq` with trigger `type` to `cpu` and enables it: the
   * type, the target (hart index, default priority), setienum. Returns 0 or
   * -22 (EINVAL: bad source or type, or a CPU without an IDC).
   */
  *enableIrq(hwirq: number, type: number, cpu: number): GuestCode<number> {
    const idc = this.idcOf(cpu);
    if (idc === undefined || !this.regs.valid(hwirq)) return -22;
    const rc = yield* this.regs.setType(hwirq, type);
    if (rc !== 0) return rc;
    yield* this.regs.writeTarget(hwirq, ((idc << APLIC_TARGET_HART_SHIFT) | APLIC_DEFAULT_PRIORITY) >>> 0);
    yield* this.regs.unmask(hwirq);
    return 0;
  }

  /** Disables source `hwirq` (clrienum). */
  *disableIrq(hwirq: number): GuestCode {
    yield* this.regs.mask(hwirq);
  }

  /**
   * aplic_idc_handle_irq() on `cpu`: claim through its IDC's `claimi` until
   * 0, dispatching each source. Returns the number of sources claimed.
   */
  *handleIrq(cpu: number): GuestCode<number> {
    const idc = this.idcOf(cpu);
    if (idc === undefined) return 0;
    const claimi = this.#idcBase(idc) + APLIC_IDC_CLAIMI;
    let claimed = 0;
    for (;;) {
      const v = (yield op.read(claimi, 4)).value >>> 0;
      if (v === 0) return claimed;
      claimed++;
      const hwirq = (v >>> APLIC_TOPI_ID_SHIFT) & TOPI_ID_MASK;
      if (!(yield* this.#table.dispatch(hwirq, cpu))) this.unhandled++;
    }
  }

  /** aplic_idc_set_delivery(). */
  *#idcSetDelivery(idc: number, on: boolean): GuestCode {
    const b = this.#idcBase(idc);
    yield op.write(b + APLIC_IDC_IDELIVERY, 4, on ? APLIC_ENABLE_IDELIVERY : APLIC_DISABLE_IDELIVERY);
    yield op.write(b + APLIC_IDC_ITHRESHOLD, 4, on ? APLIC_ENABLE_ITHRESHOLD : APLIC_DISABLE_ITHRESHOLD);
  }

  #idcBase(idc: number): number {
    return this.regs.base + APLIC_IDC_BASE + idc * APLIC_IDC_SIZE;
  }
}
