/**
 * Values by guest page number, looked up at every MSI a VM's AIA delivers
 * (kvm_riscv_aia_inject_msi finds the vCPU whose IMSIC page an address
 * falls in). A VM's IMSIC pages lie side by side, a page per hart (or a few,
 * with guest files), in one group: when they span at most
 * {@link DENSE_PAGES_PER_ENTRY} pages per entry they are kept in an array
 * indexed from the lowest, whose lookup costs a fraction of a map's; pages
 * spread wider (groups far apart) are kept in a map, which takes no room for
 * the gaps.
 */

/** The most pages an entry may stand for, on average, in the array (8 bytes of slot each). */
export const DENSE_PAGES_PER_ENTRY = 16;

/** A page number → value table, fixed once built. */
export class PageIndex<T> {
  readonly #dense: (T | undefined)[] = [];
  #base = 0;
  readonly #sparse: Map<number, T>;

  /** `entries` by page; of two entries for one page the first is kept. */
  constructor(entries: Iterable<readonly [number, T]>) {
    const byPage = new Map<number, T>();
    for (const [page, value] of entries) if (!byPage.has(page)) byPage.set(page, value);
    let lowest = Infinity;
    let highest = -Infinity;
    let whole = true;
    for (const page of byPage.keys()) {
      if (page < lowest) lowest = page;
      if (page > highest) highest = page;
      whole &&= Number.isSafeInteger(page);
    }
    if (byPage.size > 0 && whole && highest - lowest < DENSE_PAGES_PER_ENTRY * byPage.size) {
      this.#base = lowest;
      this.#dense = new Array<T | undefined>(highest - lowest + 1).fill(undefined);
      for (const [page, value] of byPage) this.#dense[page - lowest] = value;
      this.#sparse = new Map();
    } else {
      this.#sparse = byPage;
    }
  }

  /** The value of `page`, or undefined. */
  get(page: number): T | undefined {
    const i = page - this.#base;
    if (i >= 0 && i < this.#dense.length) return this.#dense[i];
    return this.#sparse.get(page);
  }
}
