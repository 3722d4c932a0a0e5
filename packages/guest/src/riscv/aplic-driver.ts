/**
 * What both APLIC delivery modes share, as Linux's
 * drivers/irqchip/irq-riscv-aplic-main.c does it (RISC-V AIA 1.0,
 * AdvPLIC.adoc §4.5):
 *
 * - aplic_setup_priv → aplic_init_hw_irqs: every source disabled (-1 to each
 *   `clrie` word), `sourcecfg` 0 (inactive) and `target` =
 *   APLIC_DEFAULT_PRIORITY (1) for each source, then `domaincfg` 0;
 * - aplic_init_hw_global: `domaincfg` |= IE, and DM in MSI mode, written and
 *   read back ("unable to write 0x%x in domaincfg" if it differs);
 * - aplic_irq_set_type: `sourcecfg` from the Linux trigger type (the second
 *   cell of an APLIC interrupt specifier): none → inactive, level low/high,
 *   edge falling/rising;
 * - aplic_irq_unmask / _mask: `setienum` / `clrienum`.
 *
 * The mode follows the device tree as aplic_probe() decides it: a node with
 * `msi-parent` is driven in MSI mode (aplic-msi.ts), otherwise directly
 * through its IDCs (aplic-direct.ts).
 */

import {
  APLIC_CLRIE_BASE,
  APLIC_CLRIENUM,
  APLIC_DOMAINCFG,
  APLIC_DOMAINCFG_DM,
  APLIC_DOMAINCFG_IE,
  APLIC_SETIENUM,
  APLIC_SETIPNUM_LE,
  APLIC_SM_EDGE_FALL,
  APLIC_SM_EDGE_RISE,
  APLIC_SM_INACTIVE,
  APLIC_SM_LEVEL_HIGH,
  APLIC_SM_LEVEL_LOW,
  APLIC_SOURCECFG_BASE,
  APLIC_TARGET_BASE,
} from "@irqlab/aia";
import { op } from "@irqlab/sim";
import type { AplicInfo } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import { nodeName } from "./imsic-driver.js";

/** The priority every source starts with (APLIC_DEFAULT_PRIORITY). */
export const APLIC_DEFAULT_PRIORITY = 1;
/** Linux trigger types (include/linux/irq.h), the flags cell of an APLIC specifier. */
export const IRQ_TYPE_NONE = 0;
export const IRQ_TYPE_EDGE_RISING = 1;
export const IRQ_TYPE_EDGE_FALLING = 2;
export const IRQ_TYPE_LEVEL_HIGH = 4;
export const IRQ_TYPE_LEVEL_LOW = 8;
/** IRQ_TYPE_SENSE_MASK. */
export const IRQ_TYPE_SENSE_MASK = 0xf;

/** The `sourcecfg` source mode of a trigger type (aplic_irq_set_type), or undefined (-EINVAL). */
export function sourceMode(type: number): number | undefined {
  switch (type) {
    case IRQ_TYPE_NONE:
      return APLIC_SM_INACTIVE;
    case IRQ_TYPE_LEVEL_LOW:
      return APLIC_SM_LEVEL_LOW;
    case IRQ_TYPE_LEVEL_HIGH:
      return APLIC_SM_LEVEL_HIGH;
    case IRQ_TYPE_EDGE_FALLING:
      return APLIC_SM_EDGE_FALL;
    case IRQ_TYPE_EDGE_RISING:
      return APLIC_SM_EDGE_RISE;
    default:
      return undefined;
  }
}

/** Whether a trigger type is level-sensitive. */
export function isLevelType(type: number): boolean {
  return type === IRQ_TYPE_LEVEL_HIGH || type === IRQ_TYPE_LEVEL_LOW;
}

/** One APLIC domain's registers, driven as aplic-main.c drives them (struct aplic_priv). */
export class AplicRegs {
  readonly info: AplicInfo;
  /** Base of the control region. */
  readonly base: number;
  /** priv->nr_irqs (`riscv,num-sources`). */
  readonly nrIrqs: number;
  /** The trigger type each source was last set to (irqd_get_trigger_type). */
  readonly types: Uint8Array;

  constructor(info: AplicInfo) {
    this.info = info;
    this.base = info.region.base;
    this.nrIrqs = info.numSources;
    this.types = new Uint8Array(info.numSources + 1);
  }

  /** The node name, for messages. */
  get name(): string {
    return nodeName(this.info.path);
  }

  /** aplic_init_hw_irqs(). */
  *initHwIrqs(): GuestCode {
    for (let i = 0; i <= this.nrIrqs; i += 32) yield op.write(this.base + APLIC_CLRIE_BASE + (i / 32) * 4, 4, 0xffff_ffff);
    for (let i = 1; i <= this.nrIrqs; i++) {
      yield op.write(this.base + APLIC_SOURCECFG_BASE + (i - 1) * 4, 4, 0);
      yield op.write(this.base + APLIC_TARGET_BASE + (i - 1) * 4, 4, APLIC_DEFAULT_PRIORITY);
    }
    yield op.write(this.base + APLIC_DOMAINCFG, 4, 0);
  }

  /**
   * aplic_init_hw_global(): IE (and DM in MSI mode) set in `domaincfg`.
   * Returns Linux's warning when the value does not read back, else undefined.
   */
  *initHwGlobal(msiMode: boolean): GuestCode<string | undefined> {
    let val = (yield op.read(this.base + APLIC_DOMAINCFG, 4)).value >>> 0;
    val = (val | APLIC_DOMAINCFG_IE | (msiMode ? APLIC_DOMAINCFG_DM : 0)) >>> 0;
    yield op.write(this.base + APLIC_DOMAINCFG, 4, val);
    const back = (yield op.read(this.base + APLIC_DOMAINCFG, 4)).value >>> 0;
    return back === val ? undefined : `riscv-aplic ${this.name}: unable to write 0x${val.toString(16)} in domaincfg`;
  }

  /** aplic_irq_set_type(): 0, or -22 (EINVAL) for an unknown type or a source out of range. */
  *setType(hwirq: number, type: number): GuestCode<number> {
    const sm = sourceMode(type);
    if (sm === undefined || !this.valid(hwirq)) return -22;
    yield op.write(this.base + APLIC_SOURCECFG_BASE + (hwirq - 1) * 4, 4, sm);
    this.types[hwirq] = type;
    return 0;
  }

  /** aplic_irq_unmask(): setienum. */
  *unmask(hwirq: number): GuestCode {
    yield op.write(this.base + APLIC_SETIENUM, 4, hwirq);
  }

  /** aplic_irq_mask(): clrienum. */
  *mask(hwirq: number): GuestCode {
    yield op.write(this.base + APLIC_CLRIENUM, 4, hwirq);
  }

  /** Writes `target[hwirq]`. */
  *writeTarget(hwirq: number, value: number): GuestCode {
    yield op.write(this.base + APLIC_TARGET_BASE + (hwirq - 1) * 4, 4, value);
  }

  /** setipnum_le = hwirq (aplic_msi_irq_retrigger_level's re-trigger). */
  *setPendingNum(hwirq: number): GuestCode {
    yield op.write(this.base + APLIC_SETIPNUM_LE, 4, hwirq);
  }

  /** Whether `hwirq` is a source of this domain (aplic_irqdomain_translate refuses 0). */
  valid(hwirq: number): boolean {
    return Number.isInteger(hwirq) && hwirq >= 1 && hwirq <= this.nrIrqs;
  }
}
