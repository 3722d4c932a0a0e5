/**
 * The IMSIC driver, as Linux's drivers/irqchip/irq-riscv-imsic-{state,early,
 * platform}.c run on a guest's S-level IMSIC (RISC-V AIA 1.0, IMSIC.adoc):
 *
 * - Set-up (imsic_setup_state): the S-level `riscv,imsics` node; the base
 *   address is the first region with the guest, hart and group index bits
 *   masked off; the interrupt file of parent interrupt i (the i-th hart of
 *   `interrupts-extended`) is at i × 2^guest-index-bits pages into the
 *   regions, walked region by region, each rounded up to that stride.
 * - Per CPU (imsic_starting_cpu): enable the IPI identity, write back the
 *   enables of every identity (imsic_local_sync_all(true)), then
 *   eithreshold = 0 and eidelivery = 1 (imsic_local_delivery), and enable
 *   the parent interrupt (sie.SEIE).
 * - Identities (imsic_vector_alloc / irq_matrix): 0 is never implemented and
 *   1 is the IPI (IMSIC_IPI_ID); every other identity of every online CPU is
 *   allocatable. An allocation takes the online CPU with the most free
 *   identities, then its lowest free identity.
 * - Enable / disable (imsic_vector_unmask / _mask): the enable is kernel
 *   data, marked dirty for the owning CPU; the owner writes its `eie` bit
 *   (imsic_local_sync) — at once when it is the caller, else on its next
 *   IMSIC interrupt or start (Linux also arms a timer on the caller; here the
 *   next interrupt or {@link ImsicDriver.localSyncAll} does it).
 * - The flow handler (imsic_handle_irq): sync, then claim with
 *   `csrrw stopei, x0` until it reads 0; identity 1 runs the IPI handler
 *   (ipi_mux_process), any other is looked up as (CPU, identity) and its
 *   Linux interrupt number dispatched through the {@link IrqTable}.
 * - MSIs and IPIs: a 32-bit write of the identity to the target file's
 *   `seteipnum_le` (imsic_ipi_send: writel_relaxed(IMSIC_IPI_ID, msi_va)).
 *
 * The driver object is kernel data shared by every CPU; methods that touch a
 * hart's CSRs must run on that hart, which passes its logical number.
 */

import { IMSIC_MMIO_PAGE_SHIFT, IMSIC_SETEIPNUM_LE, ISELECT_EIDELIVERY, ISELECT_EITHRESHOLD, TOPEI_ID_SHIFT, CSR_STOPEI } from "@irqlab/aia";
import { op } from "@irqlab/sim";
import type { ImsicInfo, PlatformInfo } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import type { IrqTable } from "../irq/irq-table.js";
import { CSR_SIE, IE_SEIE } from "./hart-csr.js";
import { imsicCsrWrite, imsicEixUpdate } from "./imsic-csr.js";

/** The identity Linux reserves for IPIs (IMSIC_IPI_ID). */
export const IMSIC_IPI_ID = 1;
/** Virtual IPIs multiplexed on it (IMSIC_NR_IPI). */
export const IMSIC_NR_IPI = 8;
/** eidelivery values of imsic_local_delivery(). */
export const IMSIC_ENABLE_EIDELIVERY = 1;
export const IMSIC_DISABLE_EIDELIVERY = 0;
/** eithreshold values of imsic_local_delivery(): 0 lets every identity through, 1 none. */
export const IMSIC_ENABLE_EITHRESHOLD = 0;
export const IMSIC_DISABLE_EITHRESHOLD = 1;

const PAGE = 1 << IMSIC_MMIO_PAGE_SHIFT;

/** One allocated identity of one CPU (struct imsic_vector). */
export interface ImsicVector {
  readonly cpu: number;
  readonly localId: number;
  /** The Linux interrupt number handlers are registered under. */
  readonly irq: number;
  /** Whether the identity should be enabled (vec->enable). */
  enable: boolean;
}

/** The result of {@link ImsicDriver.setup}. */
export type ImsicSetup = { readonly ok: true; readonly driver: ImsicDriver } | { readonly ok: false; readonly message: string };

/** The S-level IMSIC driver. */
export class ImsicDriver {
  readonly info: ImsicInfo;
  /** global->base_addr. */
  readonly baseAddr: number;
  /** global->nr_ids. */
  readonly nrIds: number;
  /** Number of CPUs of the platform. */
  readonly cpus: number;
  /** What runs for identity 1 (ipi_mux_process); set by the IPI layer. */
  ipiHandler: ((cpu: number) => GuestCode) | undefined;
  /** Identities claimed that had no vector ("vector not found for local ID"). */
  spurious = 0;
  /** Claims of the IPI identity, per CPU. */
  readonly ipiClaims: number[];
  /** The table vectors are dispatched through, by interrupt number. */
  readonly table: IrqTable;
  readonly #msiPa: (number | undefined)[];
  readonly #vectors: (ImsicVector | undefined)[][];
  readonly #dirty: Uint8Array[];
  readonly #online: boolean[];
  #nextIrq = 1;

  private constructor(info: ImsicInfo, baseAddr: number, cpus: number, msiPa: (number | undefined)[], table: IrqTable) {
    this.info = info;
    this.baseAddr = baseAddr;
    this.nrIds = info.numIds;
    this.cpus = cpus;
    this.table = table;
    this.#msiPa = msiPa;
    this.#vectors = Array.from({ length: cpus }, () => new Array<ImsicVector | undefined>(info.numIds + 1).fill(undefined));
    this.#dirty = Array.from({ length: cpus }, () => new Uint8Array(info.numIds + 1));
    this.#online = new Array<boolean>(cpus).fill(false);
    this.ipiClaims = new Array<number>(cpus).fill(0);
  }

  /**
   * imsic_setup_state() for the platform's S-level IMSIC; handlers are
   * dispatched through `table`. Fails (with Linux's message) when there is
   * no such IMSIC or no hart of it is a CPU of /cpus.
   */
  static setup(platform: Pick<PlatformInfo, "imsics" | "cpus">, table: IrqTable): ImsicSetup {
    const info = platform.imsics.find((i) => i.level === "supervisor");
    if (info === undefined) return { ok: false, message: "riscv-imsic: no supervisor-level IMSIC in the device tree" };
    const name = nodeName(info.path);
    const regs = info.regions;
    if (regs.length === 0) return { ok: false, message: `riscv-imsic: ${name}: first MMIO resource not found` };
    const mask = (addr: number): number => {
      const low = 2 ** (info.guestIndexBits + info.hartIndexBits + IMSIC_MMIO_PAGE_SHIFT);
      let a = addr - (addr % low);
      const groupField = (2 ** info.groupIndexBits - 1) * 2 ** info.groupIndexShift;
      if (groupField > 0) a -= Math.floor(a / 2 ** info.groupIndexShift) % 2 ** info.groupIndexBits * 2 ** info.groupIndexShift;
      return a;
    };
    const baseAddr = mask(regs[0]!.base);
    for (const [i, r] of regs.entries()) {
      if (mask(r.base) !== baseAddr) return { ok: false, message: `riscv-imsic: ${name}: address mismatch for regset ${i}` };
    }
    const msiPa = new Array<number | undefined>(platform.cpus.length).fill(undefined);
    const stride = 2 ** info.guestIndexBits * PAGE;
    let handlers = 0;
    info.harts.forEach((hartid, i) => {
      const cpu = platform.cpus.find((c) => c.hwid === hartid);
      if (cpu === undefined) return; // "invalid cpuid for parent irq"
      let reloff = i * stride;
      for (const r of regs) {
        if (reloff < r.size) {
          msiPa[cpu.logical] = r.base + reloff;
          handlers++;
          return;
        }
        reloff -= Math.ceil(r.size / stride) * stride;
      }
    });
    if (handlers === 0) return { ok: false, message: `riscv-imsic: ${name}: No CPU handlers found` };
    return { ok: true, driver: new ImsicDriver(info, baseAddr, platform.cpus.length, msiPa, table) };
  }

  /** What Linux prints when the IMSIC comes up (imsic_ipi_domain_init, imsic_irqdomain_init). */
  probeLines(): string[] {
    const n = `riscv-imsic: ${nodeName(this.info.path)}:`;
    const i = this.info;
    return [
      `${n} providing IPIs using interrupt ${IMSIC_IPI_ID}`,
      `${n}  hart-index-bits: ${i.hartIndexBits},  guest-index-bits: ${i.guestIndexBits}`,
      `${n} group-index-bits: ${i.groupIndexBits}, group-index-shift: ${i.groupIndexShift}`,
      `${n} per-CPU IDs ${i.numIds} at base address 0x${this.baseAddr.toString(16).padStart(16, "0")}`,
      `${n} total ${this.cpus * (i.numIds - 1)} interrupts available`,
    ];
  }

  /** The guest-physical address of `cpu`'s interrupt file (local->msi_pa), if it has one. */
  msiAddress(cpu: number): number | undefined {
    return this.#msiPa[cpu];
  }

  /** Whether `cpu` ran {@link startingCpu}. */
  isOnline(cpu: number): boolean {
    return this.#online[cpu] === true;
  }

  /** The vector of identity `localId` on `cpu` (imsic_vector_from_local_id), if allocated. */
  vector(cpu: number, localId: number): ImsicVector | undefined {
    return this.#vectors[cpu]?.[localId];
  }

  /**
   * imsic_vector_alloc(): an identity on one of `cpus` (default: any), on
   * the online CPU with the most free identities, its lowest free one.
   * Undefined when none is free (-ENOSPC).
   */
  allocVector(cpus?: readonly number[]): ImsicVector | undefined {
    let best = -1;
    let bestFree = 0;
    for (let c = 0; c < this.cpus; c++) {
      if (!this.#online[c] || (cpus !== undefined && !cpus.includes(c))) continue;
      const free = this.#freeCount(c);
      if (free > bestFree) {
        best = c;
        bestFree = free;
      }
    }
    if (best < 0) return undefined;
    const vecs = this.#vectors[best]!;
    for (let id = IMSIC_IPI_ID + 1; id <= this.nrIds; id++) {
      if (vecs[id] === undefined) {
        const v: ImsicVector = { cpu: best, localId: id, irq: this.#nextIrq++, enable: false };
        vecs[id] = v;
        return v;
      }
    }
    return undefined;
  }

  /** imsic_vector_free(). The identity should be disabled first. */
  freeVector(vec: ImsicVector): void {
    const vecs = this.#vectors[vec.cpu];
    if (vecs?.[vec.localId] === vec) vecs[vec.localId] = undefined;
  }

  /** imsic_vector_unmask(), called on CPU `current`. */
  *unmask(vec: ImsicVector, current: number): GuestCode {
    yield* this.#setEnable(vec, true, current);
  }

  /** imsic_vector_mask(), called on CPU `current`. */
  *mask(vec: ImsicVector, current: number): GuestCode {
    yield* this.#setEnable(vec, false, current);
  }

  /** imsic_starting_cpu() on `cpu`: online, IPI enabled, enables synced, delivery on, sie.SEIE. */
  *startingCpu(cpu: number): GuestCode {
    this.#online[cpu] = true;
    yield op.csrSet(CSR_SIE, IE_SEIE);
    yield* imsicEixUpdate(IMSIC_IPI_ID, false, true);
    yield* this.localSyncAll(cpu, true);
    yield* imsicCsrWrite(ISELECT_EITHRESHOLD, IMSIC_ENABLE_EITHRESHOLD);
    yield* imsicCsrWrite(ISELECT_EIDELIVERY, IMSIC_ENABLE_EIDELIVERY);
  }

  /** imsic_dying_cpu() on `cpu`: IPI disabled, offline (the file stays on, as Linux leaves it). */
  *dyingCpu(cpu: number): GuestCode {
    yield* imsicEixUpdate(IMSIC_IPI_ID, false, false);
    this.#online[cpu] = false;
  }

  /** imsic_local_sync_all(forceAll) on `cpu`: writes the eie bit of every dirty (or every) identity. */
  *localSyncAll(cpu: number, forceAll: boolean): GuestCode {
    const dirty = this.#dirty[cpu]!;
    if (forceAll) dirty.fill(1);
    const vecs = this.#vectors[cpu]!;
    for (let id = 0; id <= this.nrIds; id++) {
      if (dirty[id] === 0) continue;
      dirty[id] = 0;
      if (id === 0 || id === IMSIC_IPI_ID) continue;
      yield* imsicEixUpdate(id, false, vecs[id]?.enable === true);
    }
  }

  /**
   * imsic_handle_irq() on `cpu`, from its external-interrupt vector: sync,
   * then claim and dispatch until `stopei` reads 0. Returns the number of
   * identities claimed.
   */
  *handleIrq(cpu: number): GuestCode<number> {
    yield* this.localSyncAll(cpu, false);
    let claimed = 0;
    for (;;) {
      const topei = (yield op.csrWrite(CSR_STOPEI, 0)).value;
      const id = topei >>> TOPEI_ID_SHIFT;
      if (id === 0) return claimed;
      claimed++;
      if (id === IMSIC_IPI_ID) {
        this.ipiClaims[cpu] = (this.ipiClaims[cpu] ?? 0) + 1;
        if (this.ipiHandler !== undefined) yield* this.ipiHandler(cpu);
        continue;
      }
      const vec = this.vector(cpu, id);
      if (vec === undefined) {
        this.spurious++;
        continue;
      }
      // dispatch() written out: one generator fewer per claimed interrupt.
      const handler = this.table.take(vec.irq);
      if (typeof handler === "function") yield* handler(vec.irq, cpu);
      else if (handler !== undefined) yield handler;
    }
  }

  /** imsic_ipi_send(): identity 1 into `target`'s file. */
  *sendIpi(target: number): GuestCode {
    yield* this.sendMsi(target, IMSIC_IPI_ID);
  }

  /** An MSI: `id` written to `target`'s seteipnum_le. Nothing is written for a CPU without a file. */
  *sendMsi(target: number, id: number): GuestCode {
    const pa = this.#msiPa[target];
    if (pa !== undefined) yield op.write(pa + IMSIC_SETEIPNUM_LE, 4, id);
  }

  #freeCount(cpu: number): number {
    let n = 0;
    const vecs = this.#vectors[cpu]!;
    for (let id = IMSIC_IPI_ID + 1; id <= this.nrIds; id++) if (vecs[id] === undefined) n++;
    return n;
  }

  *#setEnable(vec: ImsicVector, on: boolean, current: number): GuestCode {
    if (this.#vectors[vec.cpu]?.[vec.localId] !== vec) return;
    vec.enable = on;
    this.#dirty[vec.cpu]![vec.localId] = 1;
    if (vec.cpu === current && this.#online[current] === true) yield* this.localSyncAll(current, false);
  }
}

/** The node name of a path, as %pfwP prints it ("interrupt-controller@28000000"). */
export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
