/**
 * Seed 000's occupancy series: which VM owns each hart's guest interrupt
 * files (HGEI lines 1..GEILEN) over the run. Every take and free of a line
 * in the host's HGEI allocator (RiscvAiaHost.lineHook; Linux's
 * kvm_riscv_aia_alloc_hgei / kvm_riscv_aia_free_hgei in arch/riscv/kvm/aia.c)
 * is logged with its virtual time; the log is replayed into evenly spaced
 * samples at the end. Only observing the allocator keeps the run itself
 * unchanged: stopping the event loop at sample times would cut vCPU compute
 * slices and move the measured latencies.
 */

import type { MachineHost } from "@irqlab/machine";
import type { OccupancySeries } from "../framework/occupancy-series.js";

/** Samples per run: enough for a readable heat map, small enough to post to a page. */
const SAMPLES_PER_RUN = 200;

/** Logs the VS-file owners of a host from its creation on. */
export class VsFileOccupancyLog {
  readonly #host: MachineHost;
  readonly #aia: NonNullable<MachineHost["aia"]>;
  /** Per change: time, cell (hart × GEILEN + line - 1), owner index or -1. */
  readonly #times: number[] = [];
  readonly #cells: number[] = [];
  readonly #owner: number[] = [];
  readonly #owners: string[] = [];

  /** Starts logging `host` (a RISC-V host with AIA, before any VM takes a file). */
  constructor(host: MachineHost) {
    this.#host = host;
    const aia = host.aia;
    if (aia === undefined) throw new Error("VS-file occupancy needs a RISC-V host with AIA");
    this.#aia = aia;
    aia.lineHook = (cpu, hgei, owner) => {
      let i = -1;
      if (owner !== undefined) {
        i = this.#owners.indexOf(owner.vmName);
        if (i < 0) i = this.#owners.push(owner.vmName) - 1;
      }
      this.#times.push(host.queue.now);
      this.#cells.push(cpu * aia.nrHgei + hgei - 1);
      this.#owner.push(i);
    };
  }

  /** The series from time 0 to now: SAMPLES_PER_RUN + 1 samples, each the state after every change up to its time. */
  series(): OccupancySeries {
    const aia = this.#aia;
    const end = this.#host.queue.now;
    const size = aia.cpuCount * aia.nrHgei;
    const state = new Int16Array(size).fill(-1);
    const times = new Float64Array(SAMPLES_PER_RUN + 1);
    const cells = new Int16Array(times.length * size);
    let next = 0;
    for (let k = 0; k < times.length; k++) {
      const t = (end * k) / SAMPLES_PER_RUN;
      while (next < this.#times.length && this.#times[next]! <= t) {
        state[this.#cells[next]!] = this.#owner[next]!;
        next++;
      }
      times[k] = t;
      cells.set(state, k * size);
    }
    return {
      title: "VS-files in use",
      rowLabel: "hart",
      columnLabel: "HGEI line",
      rows: aia.cpuCount,
      columns: aia.nrHgei,
      columnBase: 1,
      times,
      cells,
      owners: [...this.#owners],
      marks: aia.failures.map((f) => ({ time: f.time, row: f.cpu, label: `${f.vm} vCPU ${f.vcpuId}: no free VS-file on hart ${f.cpu}` })),
    };
  }
}
