/**
 * Test rig for the ITS driver on the bare GIC model (no KVM): guest RAM,
 * an MMIO bus with @irqlab/gic's Gicv3 distributor, redistributors and ITS
 * at the QEMU virt addresses, and a tiny executor that runs guest code on a
 * chosen PE (loads/stores to RAM or the bus, ICC_* system registers to the
 * Gicv3, compute ops summed). Test scaffolding only.
 */

import {
  Gicv3,
  Its,
  type ItsProfileName,
} from "@irqlab/gic";
import { GuestMemory, loopForm, MMIO_UNHANDLED, MmioBus, newGuestResult, type GuestOp, type GuestResult } from "@irqlab/sim";
import type { CpuInfo, Gicv3Info, PlatformInfo } from "../src/index.js";

export const GICD_BASE = 0x0800_0000;
export const ITS_BASE = 0x0808_0000;
export const GICR_BASE = 0x080a_0000;
export const RAM_BASE = 0x4000_0000;
export const RAM_SIZE = 0x0800_0000;

/** Options of {@link ItsRig}. */
export interface ItsRigOptions {
  readonly cpus?: number;
  readonly profile?: ItsProfileName;
}

/** A GICv3 + ITS with guest RAM, and an executor for guest code. */
export class ItsRig {
  readonly memory = new GuestMemory();
  readonly bus = new MmioBus();
  readonly gic: Gicv3;
  readonly its: Its;
  readonly cpus: CpuInfo[];
  readonly gicInfo: Gicv3Info;
  readonly platform: Pick<PlatformInfo, "memory" | "reserved">;
  /** Faults: accesses nobody answered. */
  readonly faults: string[] = [];
  ops = 0;
  computeNs = 0;
  readonly #result: GuestResult = newGuestResult();

  constructor(o: ItsRigOptions = {}) {
    const n = o.cpus ?? 2;
    this.memory.addRam(RAM_BASE, RAM_SIZE);
    this.gic = new Gicv3({ cpus: n, memory: this.memory });
    this.its = new Its({ profile: o.profile ?? "linux-kvm", target: this.gic, memory: this.memory });
    this.bus.map(GICD_BASE, 0x1_0000, this.gic.distributor, "gicd");
    this.bus.map(ITS_BASE, 0x2_0000, this.its, "its");
    this.bus.map(GICR_BASE, this.gic.redistributors.size, this.gic.redistributors, "gicr");
    this.cpus = Array.from({ length: n }, (_, i) => ({ logical: i, path: `/cpus/cpu@${i}`, hwid: i, enableMethod: "psci", isa: undefined, intcPhandle: undefined }));
    this.gicInfo = {
      path: "/intc@8000000",
      phandle: 1,
      interruptCells: 3,
      distributor: { base: GICD_BASE, size: 0x1_0000 },
      redistributorRegions: [{ base: GICR_BASE, size: this.gic.redistributors.size }],
      redistributorStride: undefined,
      otherRegions: [],
      its: [{ path: "/intc@8000000/its@8080000", phandle: 2, region: { base: ITS_BASE, size: 0x2_0000 }, msiCells: 1 }],
    };
    this.platform = { memory: [{ base: RAM_BASE, size: RAM_SIZE }], reserved: [] };
  }

  /** Runs `code` to completion on PE `pe` (its repeats and polls as loops of yields) and returns its value. */
  run<T>(code: Generator<GuestOp, T, GuestResult>, pe = 0): T {
    const r = this.#result;
    const prog = loopForm(code);
    for (;;) {
      const it = prog.next(r);
      if (it.done === true) return it.value;
      this.#execute(it.value, pe);
      this.ops++;
    }
  }

  /** A device write to GITS_TRANSLATER with `devId` as requester ID. */
  msi(devId: number, eventId: number): void {
    this.its.requesterId = devId;
    this.its.write(0x1_0040, 4, eventId, 0);
  }

  #execute(op: GuestOp, pe: number): void {
    const r = this.#result;
    r.value = 0;
    r.hi = 0;
    switch (op.kind) {
      case "mmio-read":
        if (this.memory.isRam(op.addr, op.size)) {
          if (op.size === 8) {
            r.value = this.memory.readU32(op.addr);
            r.hi = this.memory.readU32(op.addr + 4);
          } else r.value = op.size === 4 ? this.memory.readU32(op.addr) : op.size === 2 ? this.memory.readU16(op.addr) : this.memory.readU8(op.addr);
          return;
        }
        r.value = this.bus.read(op.addr, op.size);
        if (r.value === MMIO_UNHANDLED) {
          this.faults.push(`read ${op.size} @0x${op.addr.toString(16)}`);
          r.value = 0;
        } else r.hi = op.size === 8 ? this.bus.readHi : 0;
        return;
      case "mmio-write":
        if (this.memory.isRam(op.addr, op.size)) {
          if (op.size === 8) {
            this.memory.writeU32(op.addr, op.value);
            this.memory.writeU32(op.addr + 4, op.hi);
          } else if (op.size === 4) this.memory.writeU32(op.addr, op.value);
          else if (op.size === 2) this.memory.writeU16(op.addr, op.value);
          else this.memory.writeU8(op.addr, op.value);
          return;
        }
        if (!this.bus.write(op.addr, op.size, op.value, op.hi)) this.faults.push(`write ${op.size} @0x${op.addr.toString(16)}`);
        return;
      case "sysreg-read": {
        const w = { hi: 0 };
        r.value = this.gic.readSysReg(pe, op.reg, w);
        r.hi = w.hi;
        return;
      }
      case "sysreg-write":
        this.gic.writeSysReg(pe, op.reg, op.value, op.hi);
        return;
      case "compute":
        this.computeNs += op.ns;
        return;
      case "csr":
      case "hvc":
      case "smc":
      case "sbi":
      case "wfi":
      case "irq-mask":
      case "irq-unmask":
      case "brk":
      case "ebreak":
      case "repeat":
      case "poll":
      case "seq":
      case "call":
        this.faults.push(`unexpected op ${op.kind}`);
    }
  }
}
