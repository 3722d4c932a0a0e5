/**
 * KVM RISC-V's per-host-CPU allocator of guest external interrupt lines, one
 * per IMSIC guest interrupt file (VS-file): `struct aia_hgei_control` with its
 * free bitmap and owners, `kvm_riscv_aia_alloc_hgei()` and
 * `kvm_riscv_aia_free_hgei()` in Linux arch/riscv/kvm/aia.c.
 *
 * - Lines are numbered 1..nr_hgei (line 0 means "no guest file": hstatus.VGEIN = 0).
 * - Allocation takes the lowest free line on the given CPU (`__ffs` of the
 *   free bitmap) and records the owner; with none free it fails with -ENOENT.
 * - Every CPU has the same nr_hgei (Linux assumes so: aia.c aia_hgei_init fills
 *   every CPU's free bitmap from the one kvm_riscv_aia_nr_hgei).
 * - GEILEN is at most 63 on RV64 (hgeie/hgeip bits 1..63), 31 on RV32.
 *
 * The allocator knows nothing of schedulers, which is the seed 000 problem;
 * it does keep a bitmap of CPUs with a free line so that a VS-file-aware
 * policy (the kernel-side remedy proposed in that thread) can find one fast.
 */

import { Bitmap, ConfigError } from "@irqlab/sim";

/** Linux's -ENOENT, returned by kvm_riscv_aia_alloc_hgei when no line is free. */
export const HGEI_NONE_FREE = -2;

/**
 * @internal Slots per CPU in a table indexed by `cpu * HGEI_SLOTS + line`:
 * hgeie and hgeip are 64-bit, lines 1..63 (slot 0 unused).
 */
export const HGEI_SLOTS = 64;

/** Allocation state of the guest interrupt files of every host CPU. */
export class HgeiAllocator {
  /** Lines per CPU (nr_hgei). */
  readonly nrHgei: number;
  /** Number of host CPUs. */
  readonly cpus: number;
  readonly #freeLo: Int32Array; // free lines 1..31 (bit i = line i; bit 0 unused)
  readonly #freeHi: Int32Array; // free lines 32..63 (bit i = line 32 + i)
  readonly #freeCount: Int32Array;
  readonly #owner: Int32Array; // cpu * HGEI_SLOTS + line -> owner id, -1 free
  readonly #cpusWithFree: Bitmap;
  #totalFree: number;

  /**
   * @param cpus number of host CPUs
   * @param nrHgei guest interrupt files per CPU, 0..63 (0: AIA without guest files)
   */
  constructor(cpus: number, nrHgei: number) {
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096) throw new ConfigError(`host CPU count ${cpus} is not in 1..4096`);
    if (!Number.isInteger(nrHgei) || nrHgei < 0 || nrHgei > 63) {
      throw new ConfigError(`guest interrupt files per hart ${nrHgei} is not in 0..63 (GEILEN ≤ 63 on RV64)`);
    }
    this.cpus = cpus;
    this.nrHgei = nrHgei;
    this.#freeLo = new Int32Array(cpus);
    this.#freeHi = new Int32Array(cpus);
    this.#freeCount = new Int32Array(cpus).fill(nrHgei);
    this.#owner = new Int32Array(cpus * HGEI_SLOTS).fill(-1);
    this.#cpusWithFree = new Bitmap(cpus);
    const lo = nrHgei >= 31 ? 0xfffffffe | 0 : ((1 << (nrHgei + 1)) - 2) | 0;
    const hi = nrHgei <= 31 ? 0 : nrHgei === 63 ? -1 : (1 << (nrHgei - 31)) - 1;
    for (let c = 0; c < cpus; c++) {
      this.#freeLo[c] = lo;
      this.#freeHi[c] = hi;
      if (nrHgei > 0) this.#cpusWithFree.set(c);
    }
    this.#totalFree = cpus * nrHgei;
  }

  /**
   * Allocates the lowest free line on `cpu` for `owner` (a non-negative id).
   * Returns the line (1..nrHgei) or {@link HGEI_NONE_FREE}.
   */
  alloc(cpu: number, owner: number): number {
    this.#checkCpu(cpu);
    let line: number;
    const lo = this.#freeLo[cpu]!;
    if (lo !== 0) {
      line = 31 - Math.clz32(lo & -lo);
      this.#freeLo[cpu] = lo & ~(1 << line);
    } else {
      const hi = this.#freeHi[cpu]!;
      if (hi === 0) return HGEI_NONE_FREE;
      const bit = 31 - Math.clz32(hi & -hi);
      this.#freeHi[cpu] = hi & ~(1 << bit);
      line = 32 + bit;
    }
    this.#owner[cpu * HGEI_SLOTS + line] = owner;
    const left = this.#freeCount[cpu]! - 1;
    this.#freeCount[cpu] = left;
    if (left === 0) this.#cpusWithFree.clear(cpu);
    this.#totalFree--;
    return line;
  }

  /** Frees `line` on `cpu`. Like Linux, a line out of range or already free is ignored. */
  free(cpu: number, line: number): void {
    this.#checkCpu(cpu);
    if (!Number.isInteger(line) || line < 1 || line > this.nrHgei || this.#owner[cpu * HGEI_SLOTS + line] === -1) return;
    this.#owner[cpu * HGEI_SLOTS + line] = -1;
    if (line < 32) this.#freeLo[cpu]! |= 1 << line;
    else this.#freeHi[cpu]! |= 1 << (line - 32);
    const before = this.#freeCount[cpu]!;
    this.#freeCount[cpu] = before + 1;
    if (before === 0) this.#cpusWithFree.set(cpu);
    this.#totalFree++;
  }

  /** Owner of `line` on `cpu`, or -1 when it is free. */
  ownerOf(cpu: number, line: number): number {
    this.#checkCpu(cpu);
    return line >= 1 && line <= this.nrHgei ? this.#owner[cpu * HGEI_SLOTS + line]! : -1;
  }

  /** Free lines on `cpu`. */
  freeOn(cpu: number): number {
    this.#checkCpu(cpu);
    return this.#freeCount[cpu]!;
  }

  /** Free lines on the whole host. */
  get totalFree(): number {
    return this.#totalFree;
  }

  /**
   * A CPU with a free line, searching upwards from `from` (wrapping), among
   * `allowed` if given; -1 if there is none.
   */
  findCpuWithFree(from = 0, allowed?: Bitmap): number {
    if (allowed) return this.#cpusWithFree.findNextCommonWrapping(allowed, from);
    return this.#cpusWithFree.findNextCommonWrapping(this.#cpusWithFree, from);
  }

  /** Lines owned by `owner`, as [cpu, line] pairs (a vCPU should own at most one). */
  linesOf(owner: number): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.#owner.length; i++) if (this.#owner[i] === owner) out.push([i >> 6, i & 63]);
    return out;
  }

  #checkCpu(cpu: number): void {
    if (!(cpu >= 0 && cpu < this.cpus) || !Number.isInteger(cpu)) throw new ConfigError(`host CPU ${cpu} is not in 0..${this.cpus - 1}`);
  }
}
