/**
 * The management-layer remedy of seed 000 (drew's reply: "if upper layers
 * are already involved in the scheduling, then pinning is also an option"):
 * a virt manager, like libvirt with `<vcpupin>`, that knows every hart has
 * GEILEN guest interrupt files, counts the files its VMs use on each hart,
 * and pins each vCPU thread of a HWACCEL VM to one hart with a free file
 * (sched_setaffinity, 1:1) before the VM runs. When the VMs already running
 * leave fewer free files than the new VM has vCPUs, it refuses the launch:
 * "the last guest launched will fail before it runs".
 */

/** What the manager decided for one VM. */
export type ManagerDecision = { readonly admitted: true; readonly harts: readonly number[] } | { readonly admitted: false; readonly free: number };

/** Per-hart VS-file accounting of a management layer. */
export class VsFileManager {
  readonly #free: number[];

  /** `harts` harts with `geilen` guest interrupt files each. */
  constructor(harts: number, geilen: number) {
    this.#free = Array.from({ length: harts }, () => geilen);
  }

  /** Files not yet promised to a VM, in total. */
  get free(): number {
    return this.#free.reduce((a, b) => a + b, 0);
  }

  /**
   * Admits a VM of `vcpus` vCPUs: one hart per vCPU, taking the hart with
   * the most free files each time (ties: lowest hart), so the VM's vCPUs
   * spread out; or refuses it when fewer than `vcpus` files are free.
   */
  admit(vcpus: number): ManagerDecision {
    if (this.free < vcpus) return { admitted: false, free: this.free };
    const harts: number[] = [];
    for (let i = 0; i < vcpus; i++) {
      let best = 0;
      for (let h = 1; h < this.#free.length; h++) if (this.#free[h]! > this.#free[best]!) best = h;
      this.#free[best]!--;
      harts.push(best);
    }
    return { admitted: true, harts };
  }
}
