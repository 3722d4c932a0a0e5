/**
 * The CPU side of a vCPU under the in-kernel RISC-V AIA: its IMSIC, which is
 * either a hardware guest interrupt file (VS-file) on the host hart it last
 * entered on, or KVM's software file (SW-file) in memory.
 * Linux arch/riscv/kvm/aia_imsic.c: kvm_riscv_vcpu_aia_imsic_update (the
 * VS-file lifecycle at each entry), kvm_riscv_vcpu_aia_imsic_release,
 * kvm_riscv_vcpu_aia_imsic_inject, kvm_riscv_vcpu_aia_rmw_topei/_ireg
 * (SW-file trap-and-emulate), imsic_swfile_extirq_update;
 * arch/riscv/kvm/aia.c kvm_riscv_vcpu_aia_has_interrupts, aia_set_hvictl.
 *
 * - EMUL: always the SW-file. AUTO/HWACCEL: at each entry on CPU c, nothing to
 *   do if the VS-file is already on c; else take the lowest free line on c,
 *   zero that file, point the guest's IMSIC page at it, read-and-clear the old
 *   file (VS or SW) and OR it into the new one, free the old line. No free
 *   line: HWACCEL refuses entry (reason per kernel profile, old file kept);
 *   AUTO releases the old VS-file into the SW-file and runs trapped, trying
 *   again at every entry.
 * - With a VS-file, `sireg`/`stopei` reach hardware (REG_DIRECT) and the
 *   external interrupt is the file's hgeip bit; with the SW-file they trap
 *   (REG_TRAP) and VSEIP = eidelivery ∧ topei ≠ 0.
 */

import { ImsicFile, LINUX_KVM_PROFILE, IREG_EXIT_TO_USER, IREG_OK, type DeliveryTarget, type IregValue } from "@irqlab/aia";
import type { CsrOp, Tracer, TrackId, WideValue } from "@irqlab/sim";
import { CSR_EXIT_TO_USER, REG_DIRECT, REG_NOT_HANDLED, REG_TRAP, type IrqChipVcpu, type VcpuIrqChip } from "../irqchip.js";
import { CSR_SIE, CSR_SIP, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER } from "../uapi/sbi.js";
import type { RiscvAiaHost, VsFileOwner } from "./aia-host.js";
import { KVM_DEV_RISCV_AIA_MODE_EMUL, KVM_DEV_RISCV_AIA_MODE_HWACCEL, KVM_RISCV_AIA_UNDEF_ADDR } from "./aia-uapi.js";

/** siselect (VS mode: vsiselect, no trap). */
export const CSR_SISELECT = 0x150;
/** sireg (VS mode: vsireg; traps without a VS-file). */
export const CSR_SIREG = 0x151;
/** stopei (VS mode: vstopei; traps without a VS-file). */
export const CSR_STOPEI = 0x15c;

const SEIE = 1 << IRQ_S_EXT;
const LINE_MASK = (1 << IRQ_S_SOFT) | (1 << IRQ_S_TIMER) | (1 << IRQ_S_EXT);
/**
 * @internal The MSIs to the host's other vCPUs after which a vCPU's state
 * has likely left the cache, so that its next MSI loads that state up front
 * (AiaVcpuChip's #prefetch). A delivery touches some 100 cache lines; past
 * the last-level cache's share of a core, the loads of a cold delivery find
 * memory one after another, and the prefetch asks for them together. In
 * the RISC-V scale bench on a two-CPU machine (`bench:compare`, six
 * processes a side), a prefetch at every MSI made a delivery to each of 4096
 * vCPUs in turn take 0.83 of the time it took without, to 2048 vCPUs 0.98,
 * but to 1024, whose state stays in the last-level cache, 1.06: it is made
 * once 1536 MSIs to others followed the vCPU's last.
 */
export const PREFETCH_AFTER_MSIS = 1536;

/** What the vCPU side reads of the VM's AIA device. */
export interface AiaVmView {
  readonly mode: number;
  readonly vmName: string;
  readonly vmIndex: number;
  readonly tracer: Tracer;
  readonly now: number;
}

/** A vCPU's AIA irqchip (its IMSIC: VS-file or SW-file). */
export class AiaVcpuChip implements VcpuIrqChip, VsFileOwner, DeliveryTarget {
  // The fields an MSI and a KVM_RUN use come first, in as few cache lines as they fit: at thousands of
  // vCPUs each line of the chip a delivery touches is a cache miss (the RISC-V scale bench). What an MSI
  // reads before it prefetches the rest (#prefetch) lead: the files, the host and the MSI count.
  #swfile: ImsicFile | undefined;
  // The identities N of the vCPU's IMSIC (imsic->nr_msis is N + 1), 0 before CTRL_INIT: an MSI into the VS-file checks it here,
  // without reading the SW-file it does not write.
  #nrMsis = 0;
  // The host's MSI count (RiscvAiaHost.msis) at this vCPU's last MSI.
  #lastMsi: number;
  /** The host's VS-files. */
  readonly host: RiscvAiaHost;
  #vsFile: ImsicFile | undefined;
  #vcpu: IrqChipVcpu | undefined;
  #vsCpu = -1;
  #vsHgei = 0;
  #lines = 0;
  // The external interrupt line (externalPending), read anew at each change of it the chip hears (vsFileLine,
  // deliveryChanged), the changes a move's or a release's copy of the state makes included: a KVM_RUN asks for
  // it at each check for a pending interrupt, where reading it from the hart is a chain of loads.
  #ext = false;
  #sie = 0;
  #siselect = 0;
  #quiet = false;
  // What the last #prefetch() returned: written and never read, so that the compiler cannot drop its loads.
  // eslint-disable-next-line no-unused-private-class-members -- written only, as said above
  #prefetched = 0;
  /** The VM's device. */
  readonly vm: AiaVmView;
  /** vCPU id. */
  readonly vcpuId: number;
  readonly name = "aia-imsic";
  readonly inKernel = true;
  /** Owner id in the host's allocator. */
  readonly ownerId: number;
  /** Guest-physical address of this vCPU's IMSIC page (u64; KVM_RISCV_AIA_UNDEF_ADDR if unset). */
  imsicAddr = KVM_RISCV_AIA_UNDEF_ADDR;
  /** hart_index derived from the IMSIC address at CTRL_INIT. */
  hartIndex = 0;
  /** VS-file moves (state copied from one file to another). */
  moves = 0;
  readonly #out: IregValue = { lo: 0, hi: 0 };
  readonly #track: TrackId;

  /**
   * @param vm the VM's device
   * @param host the host's VS-files
   * @param vcpuId the vCPU id
   */
  constructor(vm: AiaVmView, host: RiscvAiaHost, vcpuId: number) {
    this.host = host;
    this.vm = vm;
    this.vcpuId = vcpuId;
    this.ownerId = host.register(this);
    // As if the vCPU's last MSI came long ago: its first one loads its state first.
    this.#lastMsi = (host.msis - PREFETCH_AFTER_MSIS) | 0;
    this.#track = vm.tracer.track(vm.vmName, `vcpu${vcpuId}`, "vcpu");
  }

  get vmName(): string {
    return this.vm.vmName;
  }
  get vmIndex(): number {
    return this.vm.vmIndex;
  }

  /** The SW-file (exists once CTRL_INIT gave this vCPU IMSIC state). */
  get swfile(): ImsicFile | undefined {
    return this.#swfile;
  }
  /** Host CPU of the owned VS-file, or -1 (SW-file mode). */
  get vsFileCpu(): number {
    return this.#vsCpu;
  }
  /** Whether entry needs a VS-file (HWACCEL with IMSIC state). */
  get needsVsFile(): boolean {
    return this.#swfile !== undefined && this.vm.mode === KVM_DEV_RISCV_AIA_MODE_HWACCEL;
  }
  /** HGEI line of the owned VS-file (hstatus.VGEIN), or 0. */
  get vsFileHgei(): number {
    return this.#vsHgei;
  }
  /** The file MSIs and guest accesses reach now: the VS-file, else the SW-file. */
  get currentFile(): ImsicFile | undefined {
    return this.#vsFile ?? this.#swfile;
  }

  /** @internal CTRL_INIT: creates the IMSIC state (kvm_riscv_vcpu_aia_imsic_init) with `nrIds` identities. */
  initImsic(nrIds: number): void {
    this.#swfile = new ImsicFile({ nrIds, name: `${this.vm.vmName}/vcpu${this.vcpuId}/swfile`, tracer: this.vm.tracer, profile: LINUX_KVM_PROFILE });
    this.#swfile.connectTarget(this, 0);
    this.#nrMsis = nrIds;
  }

  /** @internal The SW-file's delivery output changed: the external interrupt follows it while no VS-file is held. */
  deliveryChanged(_input: number, asserted: boolean): void {
    if (this.#vsCpu >= 0) return;
    this.#readExt();
    this.#extChanged(asserted);
  }

  attach(vcpu: IrqChipVcpu): void {
    this.#vcpu = vcpu;
  }

  // ---- entry: kvm_riscv_vcpu_aia_imsic_update --------------------------------

  flush(cpu: number): number {
    if (this.#swfile === undefined || this.vm.mode === KVM_DEV_RISCV_AIA_MODE_EMUL) return 0;
    if (this.#vsCpu === cpu) return 0;
    const host = this.host;
    const hgei = host.alloc(cpu, this.ownerId);
    if (hgei < 0) {
      if (this.vm.mode === KVM_DEV_RISCV_AIA_MODE_HWACCEL) {
        host.recordFailure(this, cpu, this.vm.now);
        if (this.vm.tracer.enabled) this.vm.tracer.instant(this.#track, "aia", "no-vsfile", { cpu, kept: this.#vsCpu });
        return host.failReason; // the old VS-file stays owned and mapped
      }
      if (this.#vsCpu >= 0) this.releaseVsFile();
      return 0;
    }
    this.#quiet = true;
    host.wakeOnHgei(cpu, hgei, false); // "Ensure HGEIE CSR bit is zero before using the new IMSIC VS-file"
    const file = host.harts[cpu]!.guestFile(hgei);
    clearFile(file); // imsic_vsfile_local_clear
    const oldCpu = this.#vsCpu;
    const oldHgei = this.#vsHgei;
    const oldFile = this.#vsFile;
    // Remap the guest page and publish: from here on MSIs land in the new file.
    this.#vsCpu = cpu;
    this.#vsHgei = hgei;
    this.#vsFile = file;
    host.moveHook?.(this, cpu, hgei);
    if (oldFile !== undefined) {
      moveState(oldFile, file);
      host.free(oldCpu, oldHgei);
    } else {
      moveState(this.#swfile, file);
    }
    this.moves++;
    this.#quiet = false;
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.#track, "aia", "vsfile", { cpu, hgei, from: oldCpu });
    return 0;
  }

  /** kvm_riscv_vcpu_aia_imsic_release: unmap, read-and-clear the VS-file into the SW-file, free the line. */
  releaseVsFile(): void {
    const f = this.#vsFile;
    const sw = this.#swfile;
    if (f === undefined || sw === undefined) return;
    const cpu = this.#vsCpu;
    const hgei = this.#vsHgei;
    this.#vsCpu = -1;
    this.#vsHgei = 0;
    this.#vsFile = undefined;
    moveState(f, sw);
    this.host.free(cpu, hgei);
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.#track, "aia", "vsfile-release", { cpu, hgei });
    if (sw.deliveryAsserted) this.#vcpu?.irqPending();
  }

  /** The owned VS-file's hgeip line changed. */
  vsFileLine(asserted: boolean): void {
    this.#readExt();
    this.#extChanged(asserted);
  }

  /** kvm_vcpu_kick() from the host (hgei_interrupt, kvm_riscv_aia_disable). */
  kick(): void {
    this.#vcpu?.kvmVcpuKick?.();
  }

  /**
   * The vCPU blocks in WFI: with a VS-file it asks to be woken by that file's
   * line, setting its HGEIE bit on the file's hart (aia_imsic.c
   * kvm_riscv_vcpu_aia_imsic_put, called from vcpu_put while kvm_vcpu_is_blocking).
   */
  blocking(): void {
    if (this.#vsFile !== undefined) this.host.wakeOnHgei(this.#vsCpu, this.#vsHgei, true);
  }

  /**
   * The vCPU stops blocking: HGEIE is left alone (kvm_riscv_vcpu_aia_imsic_load:
   * "No need to explicitly clear HGEIE CSR bits because the hgei interrupt
   * handler ... will always clear it for us"), so a bit set by a wait that
   * something else ended fires once more at the file's next interrupt.
   */
  unblocking(): void {
    // Linux ≥ 6.16 (4cec89db80ba); before it kvm_riscv_aia_wakeon_hgei(vcpu, false) cleared the bit here.
  }

  // ---- injection: kvm_riscv_vcpu_aia_imsic_inject ------------------------------

  /**
   * An MSI for this vCPU's IMSIC page at page offset `offset` with data `data`.
   * Returns 0, or the negative errno Linux returns (-ENODEV, -EINVAL).
   */
  injectMsi(guestIndex: number, offset: number, data: number): number {
    const n = this.#nrMsis;
    if (n === 0) return -19;
    if (data === 0 || guestIndex !== 0 || (offset !== 0 && offset !== 4)) return -19;
    const iid = offset === 4 ? swab(data) : data >>> 0;
    if (iid > n) return -22;
    // A count that wraps at 2^31, as a small integer: the distance below is right for any distance below 2^31.
    const msis = (this.host.msis + 1) | 0;
    this.host.msis = msis;
    const file = this.#vsFile ?? this.#swfile!;
    if (((msis - this.#lastMsi) | 0) >= PREFETCH_AFTER_MSIS) this.#prefetched = this.#prefetch(file);
    this.#lastMsi = msis;
    file.setPending(iid);
    return 0;
  }

  /**
   * Before an MSI to a vCPU that many others' MSIs followed: loads, all at
   * once, what the MSI and the KVM_RUN after it read, which at thousands of
   * vCPUs has most likely left the cache: `file`, the one the MSI goes to,
   * the hart's guest interrupt lines when the vCPU holds a VS-file, and the
   * vCPU's own state (IrqChipVcpu.prefetch). Without it the delivery reaches
   * each of those lines one load at a time, each miss served before the
   * next is asked for.
   */
  #prefetch(file: ImsicFile): number {
    // The vCPU first: through it lies the longest chain of loads, to its thread.
    let n = (this.#vcpu?.prefetch?.() ?? 0) + file.prefetch();
    if (this.#quiet) n++;
    if (this.#vsCpu >= 0 && this.host.harts[this.#vsCpu]!.hgeip(this.#vsHgei)) n++;
    return n;
  }

  // ---- interrupts -----------------------------------------------------------

  /** The external interrupt: hgeip[VGEIN] with a VS-file, VSEIP from the SW-file otherwise. */
  get externalPending(): boolean {
    return this.#ext;
  }

  /** Reads the external interrupt line anew from its source (see externalPending). */
  #readExt(): void {
    this.#ext = this.#vsFile !== undefined ? this.host.harts[this.#vsCpu]!.hgeip(this.#vsHgei) : (this.#swfile?.deliveryAsserted ?? false);
  }

  hasPendingIrq(): boolean {
    return ((this.#lines | (this.externalPending ? SEIE : 0)) & this.#sie) !== 0;
  }

  pendingCause(): number {
    const p = (this.#lines | (this.externalPending ? SEIE : 0)) & this.#sie;
    if ((p & SEIE) !== 0) return IRQ_S_EXT;
    if ((p & (1 << IRQ_S_SOFT)) !== 0) return IRQ_S_SOFT;
    return IRQ_S_TIMER;
  }

  setIrqLine(line: number, level: boolean): void {
    const bit = 1 << line;
    if (((this.#lines & bit) !== 0) === level) return;
    this.#lines = level ? this.#lines | bit : this.#lines & ~bit;
    if (level) this.#vcpu?.irqPending();
    else this.#vcpu?.irqLowered();
  }

  handlesSysReg(_reg: number): number {
    return REG_NOT_HANDLED;
  }
  readSysReg(_reg: number, wide: WideValue): number {
    wide.hi = 0;
    return 0;
  }
  writeSysReg(_reg: number, _value: number, _hi: number): void {
    // RISC-V: no system registers.
  }

  handlesCsr(csr: number): number {
    if (csr === CSR_SIE || csr === CSR_SIP || csr === CSR_SISELECT) return REG_DIRECT;
    if (csr === CSR_SIREG || csr === CSR_STOPEI) return this.#vsFile !== undefined ? REG_DIRECT : REG_TRAP;
    return REG_NOT_HANDLED;
  }

  csr(op: CsrOp["op"], csr: number, value: number, hi: number, wide: WideValue): number {
    wide.hi = 0;
    switch (csr) {
      case CSR_SIE: {
        const old = this.#sie;
        this.#sie = apply(op, old, value) & LINE_MASK;
        if ((this.#sie & ~old & (this.#lines | (this.externalPending ? SEIE : 0))) !== 0) this.#vcpu?.irqPending();
        return old >>> 0;
      }
      case CSR_SIP: {
        const old = this.#lines | (this.externalPending ? SEIE : 0);
        const ssip = 1 << IRQ_S_SOFT;
        const next = apply(op, old, value);
        if ((next & ssip) !== (old & ssip)) this.setIrqLine(IRQ_S_SOFT, (next & ssip) !== 0);
        return old >>> 0;
      }
      case CSR_SISELECT: {
        const old = this.#siselect;
        this.#siselect = apply(op, old, value) & 0x1ff;
        return old;
      }
      case CSR_STOPEI:
        return this.#topei(op, value);
      default:
        return this.#ireg(op, value, hi, wide);
    }
  }

  /** stopei: read the top identity; a write (csrrw, or csrrs/csrrc with a non-zero mask) claims it. */
  #topei(op: CsrOp["op"], value: number): number {
    const f = this.currentFile;
    if (f === undefined) return 0;
    if (op === "csrrw" || value !== 0) return f.swapTopei() >>> 0;
    return f.readTopei() >>> 0;
  }

  /**
   * sireg at the current siselect (arch/riscv/kvm/aia.c
   * kvm_riscv_vcpu_aia_rmw_ireg): 0x30..0x3F are the iprio registers, read
   * as 0 here; 0x70..0xFF the IMSIC registers of the current file
   * (kvm_riscv_vcpu_aia_imsic_rmw). Anything else, or an IMSIC number before
   * the AIA is initialised, or a reserved one (imsic_mrif_isel_check:
   * -ENOENT), is KVM_INSN_EXIT_TO_USER_SPACE: KVM_EXIT_RISCV_CSR. That needs
   * the access to trap (the SW-file); through a VS-file it stays a guest error.
   */
  #ireg(op: CsrOp["op"], value: number, hi: number, wide: WideValue): number {
    const f = this.currentFile;
    const isel = this.#siselect;
    const trapped = this.#vsFile === undefined;
    if (isel >= 0x30 && isel <= 0x3f) return 0;
    if (f === undefined || isel < 0x70 || isel > 0xff) {
      if (trapped) return CSR_EXIT_TO_USER;
      this.vm.tracer.guestError(this.#track, "aia-ireg", `sireg with siselect 0x${isel.toString(16)} (no IMSIC register there)`);
      return 0;
    }
    const out = this.#out;
    const maskLo = op === "csrrw" ? 0xffffffff : value;
    const maskHi = op === "csrrw" ? 0xffffffff : hi;
    const vLo = op === "csrrc" ? 0 : value;
    const vHi = op === "csrrc" ? 0 : hi;
    const status = f.rmwIreg(isel, 64, vLo, vHi, maskLo, maskHi, out);
    if (status === IREG_EXIT_TO_USER && trapped) return CSR_EXIT_TO_USER;
    if (status !== IREG_OK) {
      // Linux: -EINVAL → KVM_INSN_ILLEGAL_TRAP (an odd RV64 eip/eie); the model raises no guest exception.
      // The file counted an illegal number itself; a reserved one it leaves to KVM (-ENOENT), counted here.
      if (status === IREG_EXIT_TO_USER) this.vm.tracer.guestError(this.#track, "aia-ireg", `sireg isel 0x${isel.toString(16)}: reserved`);
      return 0;
    }
    wide.hi = out.hi >>> 0;
    return out.lo >>> 0;
  }

  #extChanged(on: boolean): void {
    if (this.#quiet || !on) return;
    if ((this.#sie & SEIE) !== 0) this.#vcpu?.irqPending();
  }
}

/**
 * KVM's move of a file's state (imsic_vsfile_read with clear, then
 * imsic_vsfile_local_update / imsic_swfile_update): `from` is read and
 * cleared; its eip/eie words are ORed into `to` — so an MSI that already
 * landed in `to` survives — and `to`'s eithreshold, then eidelivery, are
 * overwritten. Words beyond `to`'s identities are dropped. Same result and
 * delivery-line transitions as `to.mergeFrom(from.readAndClear())`, without
 * a snapshot (ImsicFile.moveInto: the entry path allocates nothing).
 */
export function moveState(from: ImsicFile, to: ImsicFile): void {
  from.moveInto(to);
}

/** Zeroes a file (imsic_vsfile_local_clear): eidelivery, eithreshold, every eip/eie word. */
export function clearFile(f: ImsicFile): void {
  f.reset(0);
}

function swab(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

function apply(op: CsrOp["op"], old: number, value: number): number {
  switch (op) {
    case "csrrw":
      return value;
    case "csrrs":
      return old | value;
    case "csrrc":
      return old & ~value;
  }
}
