/**
 * A bare RISC-V AIA platform for driving the guest's IMSIC and APLIC drivers
 * without KVM: N harts, each with an S-level IMSIC interrupt file from
 * @irqlab/aia mapped where QEMU's virt puts it (0x28000000 + hart × 4 KiB),
 * and an APLIC with a machine-level root (0x0c000000) and a supervisor child
 * (0x0d000000) that the rig, as M-mode firmware would, has every source
 * delegated to. The S domain delivers by MSI into the S files, or directly
 * through its IDCs (`direct: true`).
 *
 * Code runs synchronously: `run(cpu, code)` executes a generator's ops on one
 * hart — MMIO on the bus or in a small RAM, the CSRs the drivers use
 * (siselect/sireg/stopei reach the hart's S file; sie, sip, sscratch,
 * sstatus are plain registers; the interrupt mask follows op.mask/unmask) —
 * and after each op every hart takes a pending, enabled, unmasked interrupt
 * by running the vector (cause 9 external, 1 software) with interrupts
 * masked, as a hart would. Test scaffolding only.
 */

import {
  Aplic,
  APLIC_SOURCECFG_BASE,
  APLIC_SOURCECFG_D,
  CSR_SIREG,
  CSR_SISELECT,
  CSR_STOPEI,
  ImsicFile,
  ImsicHart,
  ImsicLayout,
  IREG_OK,
  type IregValue,
} from "@irqlab/aia";
import { parseFdt } from "@irqlab/fdt";
import { loopForm, MmioBus, newGuestResult, type GuestOp, type GuestResult } from "@irqlab/sim";
import { parsePlatformInfo, type GuestCode, type PlatformInfo } from "../../src/index.js";
import { CSR_SIE, CSR_SIP, CSR_TIME } from "../../src/riscv/hart-csr.js";
import { riscvVirtTree } from "../trees.js";

const IMSIC_M = 0x2400_0000;
const IMSIC_S = 0x2800_0000;
const APLIC_M = 0x0c00_0000;
const APLIC_S = 0x0d00_0000;
const SOURCES = 96;

/** Options of {@link AiaRig}. */
export interface AiaRigOptions {
  readonly harts?: number;
  /** APLIC direct delivery (tree without IMSIC) instead of MSI. */
  readonly direct?: boolean;
}

interface Hart {
  readonly imsic: ImsicHart;
  readonly csrs: Map<number, number>;
  masked: boolean;
  idcLine: boolean;
  depth: number;
}

/** The rig. */
export class AiaRig {
  readonly platform: PlatformInfo;
  readonly bus = new MmioBus();
  readonly aplic: Aplic;
  readonly harts: Hart[];
  /** Interrupts taken: "cpu<n>:<cause>". */
  readonly taken: string[] = [];
  /** The vector interrupts run; set by the test. */
  vector: ((cpu: number, cause: number) => GuestCode) | undefined;
  /** Virtual time in ns for the `time` CSR (10 MHz timebase). */
  now = 0;
  readonly #ram = new Map<number, number>();
  readonly #out: IregValue = { lo: 0, hi: 0 };

  constructor(o: AiaRigOptions = {}) {
    const n = o.harts ?? 4;
    const blob = riscvVirtTree({ harts: n, aia: o.direct === true ? "aplic" : "aplic-imsic" });
    const parsed = parsePlatformInfo(parseFdt(blob), "riscv64", { fdt: { base: 0x8000_0000 + 0x700_0000, size: blob.length }, bootHwid: 0 });
    if (!parsed.ok) throw new Error(parsed.message);
    this.platform = parsed.platform;
    const layout = new ImsicLayout({ mBase: IMSIC_M, sBase: IMSIC_S, hartBits: Math.max(1, Math.ceil(Math.log2(n))) });
    this.harts = Array.from({ length: n }, (_, h) => {
      const imsic = new ImsicHart({ hartIndex: h, mIds: 255, sIds: 255 });
      imsic.mapInto(this.bus, layout, 0, h);
      return { imsic, csrs: new Map<number, number>(), masked: true, idcLine: false, depth: 0 };
    });
    const mode = o.direct === true ? "direct" : "msi";
    this.aplic = new Aplic({
      nrSources: SOURCES,
      ...(o.direct === true ? {} : { msi: { bus: this.bus, addrCfg: layout.toMsiAddrCfg() } }),
      domains: [
        { name: "m", level: "m", harts: n, deliveryModes: mode },
        {
          name: "s",
          level: "s",
          parent: "m",
          harts: n,
          deliveryModes: mode,
          onIdcLine: (h, on) => {
            const hart = this.harts[h];
            if (hart !== undefined) hart.idcLine = on;
          },
        },
      ],
    });
    this.aplic.mapDomain(this.bus, "m", APLIC_M);
    this.aplic.mapDomain(this.bus, "s", APLIC_S);
    // M-mode firmware: every source delegated to the supervisor domain (child 0).
    const m = this.aplic.domain("m");
    for (let i = 1; i <= SOURCES; i++) m.write(APLIC_SOURCECFG_BASE + (i - 1) * 4, 4, APLIC_SOURCECFG_D, 0);
  }

  /** The S-level interrupt file of hart `cpu`. */
  sFile(cpu: number): ImsicFile {
    return this.harts[cpu]!.imsic.s!;
  }

  /** A CSR's stored value on `cpu` (sie, sip, sscratch, ...). */
  csr(cpu: number, csr: number): number {
    return this.harts[cpu]!.csrs.get(csr) ?? 0;
  }

  /** Runs `code` to its end on hart `cpu` (its repeats and polls as loops of yields), taking interrupts between ops. Returns its value. */
  run<T>(cpu: number, code: GuestCode<T>): T {
    const r = newGuestResult();
    const prog = loopForm(code);
    for (;;) {
      const it = prog.next(r);
      if (it.done === true) return it.value;
      this.#execute(cpu, it.value, r);
      // Every hart samples its interrupt lines: an MSI or IPI from this hart reaches the others now.
      this.#maybeTake(cpu);
      for (let h = 0; h < this.harts.length; h++) if (h !== cpu) this.#maybeTake(h);
    }
  }

  /** Takes whatever interrupt is pending on `cpu` now (as after an op). */
  poll(cpu: number): void {
    this.#maybeTake(cpu);
  }

  #pending(cpu: number): number {
    const h = this.harts[cpu]!;
    const seip = h.imsic.s!.deliveryAsserted || h.idcLine ? 1 << 9 : 0;
    return ((h.csrs.get(CSR_SIP) ?? 0) | seip) & (h.csrs.get(CSR_SIE) ?? 0);
  }

  #maybeTake(cpu: number): void {
    const h = this.harts[cpu]!;
    if (h.masked || h.depth > 0 || this.vector === undefined) return;
    for (let guard = 0; guard < 1000; guard++) {
      const p = this.#pending(cpu);
      if (p === 0) return;
      const cause = (p & (1 << 9)) !== 0 ? 9 : (p & 2) !== 0 ? 1 : 5;
      this.taken.push(`cpu${cpu}:${cause}`);
      h.depth++;
      h.masked = true;
      this.run(cpu, this.vector(cpu, cause));
      h.masked = false;
      h.depth--;
    }
    throw new Error(`cpu${cpu}: interrupt storm`);
  }

  #execute(cpu: number, op: GuestOp, r: GuestResult): void {
    const h = this.harts[cpu]!;
    r.value = 0;
    r.hi = 0;
    r.error = 0;
    switch (op.kind) {
      case "mmio-read": {
        const v = this.bus.read(op.addr, op.size);
        r.value = v >= 0 ? v : (this.#ram.get(op.addr) ?? 0);
        return;
      }
      case "mmio-write":
        if (!this.bus.write(op.addr, op.size, op.value, op.hi)) this.#ram.set(op.addr, op.value);
        return;
      case "csr": {
        const f = h.imsic.s!;
        if (op.csr === CSR_STOPEI) {
          r.value = op.op === "csrrw" || op.value !== 0 ? f.swapTopei() : f.readTopei();
          return;
        }
        if (op.csr === CSR_TIME) {
          r.value = Math.floor(this.now / 100) >>> 0;
          return;
        }
        if (op.csr === CSR_SIREG) {
          const isel = h.csrs.get(CSR_SISELECT) ?? 0;
          const maskLo = op.op === "csrrw" ? 0xffff_ffff : op.value;
          const maskHi = op.op === "csrrw" ? 0xffff_ffff : op.hi;
          const vLo = op.op === "csrrc" ? 0 : op.value;
          const vHi = op.op === "csrrc" ? 0 : op.hi;
          const st = f.rmwIreg(isel, 64, vLo, vHi, maskLo, maskHi, this.#out);
          if (st !== IREG_OK) throw new Error(`cpu${cpu}: sireg at isel 0x${isel.toString(16)} faults (${st})`);
          r.value = this.#out.lo >>> 0;
          r.hi = this.#out.hi >>> 0;
          return;
        }
        const old = h.csrs.get(op.csr) ?? 0;
        r.value = old >>> 0;
        const next = op.op === "csrrw" ? op.value : op.op === "csrrs" ? old | op.value : old & ~op.value;
        h.csrs.set(op.csr, next >>> 0);
        return;
      }
      case "irq-mask":
        h.masked = true;
        return;
      case "irq-unmask":
        h.masked = false;
        return;
      case "compute":
        this.now += op.ns;
        return;
      case "wfi":
      case "sbi":
      case "hvc":
      case "smc":
      case "sysreg-read":
      case "sysreg-write":
      case "brk":
      case "ebreak":
      case "repeat":
      case "poll":
      case "seq":
      case "call":
        throw new Error(`cpu${cpu}: ${op.kind} is not handled by the AIA rig`);
    }
  }
}
