/**
 * The RISC-V ONE_REG registers (arch/riscv/kvm/vcpu_onereg.c
 * kvm_riscv_vcpu_get_reg / kvm_riscv_vcpu_set_reg and the per-type
 * handlers, kvm_riscv_vcpu_copy_reg_indices for KVM_GET_REG_LIST's order;
 * vcpu_sbi.c for SBI_EXT, vcpu_timer.c for TIMER, aia.c for the AIA CSRs).
 *
 * Each type checks the id's size first (EINVAL unless it is the register's:
 * KVM_REG_SIZE_U64 on riscv64), then the register (ENOENT). Writes of ISA
 * and SBI extensions and of mvendorid/marchid/mimpid/isa that change
 * something fail with EBUSY once the vCPU has entered KVM_RUN
 * (vcpu->arch.ran_atleast_once); SBI_EXT writes fail with EBUSY then even
 * when they would change nothing.
 */

import type { OneRegBank } from "./one-reg-bank.js";
import type { OneRegVcpu } from "./one-reg-vcpu.js";
import { formatRegId, kvmRegSize, KVM_REG_RISCV, KVM_REG_SIZE_U64 } from "./one-reg-id.js";
import {
  KVM_REG_RISCV_CONFIG,
  KVM_REG_RISCV_CORE,
  KVM_REG_RISCV_CSR,
  KVM_REG_RISCV_CSR_AIA,
  KVM_REG_RISCV_CSR_GENERAL,
  KVM_REG_RISCV_ISA_EXT,
  KVM_REG_RISCV_ISA_MULTI_DIS,
  KVM_REG_RISCV_ISA_MULTI_EN,
  KVM_REG_RISCV_ISA_SINGLE,
  KVM_REG_RISCV_SBI_EXT,
  KVM_REG_RISCV_SBI_MULTI_DIS,
  KVM_REG_RISCV_SBI_MULTI_EN,
  KVM_REG_RISCV_SBI_SINGLE,
  KVM_REG_RISCV_SBI_STATE,
  KVM_REG_RISCV_SUBTYPE_MASK,
  KVM_REG_RISCV_TIMER,
  KVM_REG_RISCV_TYPE_MASK,
  KVM_RISCV_ISA_EXT_MAX,
  KVM_RISCV_ISA_EXT_SSAIA,
  KVM_RISCV_MODE_S,
  KVM_RISCV_MODE_U,
  KVM_RISCV_SBI_EXT_MAX,
  KVM_RISCV_TIMER_STATE_OFF,
  KVM_RISCV_TIMER_STATE_ON,
  RISCV_AIA_CSR_REGS,
  RISCV_CORE_REGS,
  RISCV_CSR_REGS,
  RISCV_TIMER_REGS,
} from "./riscv-reg-ids.js";
import {
  RISCV_HOST_ISA_EXTS,
  RISCV_ISA_EXT_BASE,
  riscvBase2IsaExt,
  riscvDefaultIsa,
  riscvHostHasIsaExt,
  riscvHostIsaBase,
  riscvIsaDisableAllowed,
  riscvIsaEnableAllowed,
  riscvIsaLetterBit,
} from "./riscv-isa.js";
import { RISCV_SBI_EXT_AVAILABLE } from "./riscv-sbi-ext.js";
import type { ErrnoName } from "../errno.js";

/**
 * What the RISC-V bank needs of its vCPU beyond {@link OneRegVcpu}: the
 * state KVM keeps in vcpu->arch as the model holds it.
 */
export interface RiscvOneRegVcpu extends OneRegVcpu {
  /** vcpu->arch.ran_atleast_once: KVM_RUN was entered. */
  readonly ranAtLeastOnce: boolean;
  /** regs.pc (guest_context.sepc; VcpuTraps.pc). */
  pc: bigint;
  /** x1..x31 (guest_context; VcpuTraps.gprs). */
  readGpr(i: number): bigint;
  /** Sets x1..x31. */
  writeGpr(i: number, value: bigint): void;
  /** A VS-level CSR (guest_csr) as the guest reads it. */
  readCsr(csr: number): bigint;
  /** Sets a VS-level CSR as a guest csrw would, without a trap. */
  writeCsr(csr: number, value: bigint): void;
  /** The interrupts KVM injects through hvip, by cause bit (kvm_riscv_vcpu_flush_interrupts' view). */
  readonly injectedIrqs: number;
  /** Sets or clears an injected interrupt line (`cause` 1, 5, 9). */
  setInjectedIrq(cause: number, level: boolean): void;
  /** riscv_timebase: the guest's `time` frequency. */
  readonly timebaseHz: number;
  /** The guest's `time` now (kvm_riscv_current_cycles). */
  readonly guestTime: bigint;
  /** Moves the VM's guest time (kvm->arch.timer.time_delta) so that `time` reads `ticks` now (Vm.setRiscvGuestTime). */
  setGuestTime(ticks: bigint): void;
  /** The timer's compare value (vstimecmp under Sstc; all ones after reset). */
  readonly timerCompare: bigint;
  /** Sets the compare value and arms the timer with it, as the next vcpu_load's vstimecmp restore does. */
  setTimerCompare(ticks: bigint): void;
  /** SBI extensions not enabled, a bit per KVM_RISCV_SBI_EXT_* id (unavailable or disabled). */
  sbiExtOff: number;
  /** vcpu->arch.mvendorid, marchid, mimpid (what SBI BASE answers the guest). */
  readonly machineIds: bigint[];
}

/** Per-vCPU state only ONE_REG sees (kvm_vcpu_arch fields without a model counterpart). */
interface RiscvConfigState {
  isa: Set<number>;
  mode: bigint;
  /** iprio1, iprio2, sieh, siph, iprio1h, iprio2h (aia_context.guest_csr; siselect is the vCPU's). */
  readonly aia: bigint[];
}

const U64_MASK = 0xffff_ffff_ffff_ffffn;
const BITS_PER_LONG = 64;
/** satp_mode >> SATP_MODE_SHIFT of the modelled host: Sv57 (QEMU virt's rv64 default). */
const SATP_MODE_57 = 10n;
/** KVM_REG_RISCV_ISA_MULTI_REG_LAST. */
const ISA_MULTI_REG_LAST = Math.floor((KVM_RISCV_ISA_EXT_MAX - 1) / BITS_PER_LONG);
/** KVM_REG_RISCV_SBI_MULTI_REG_LAST. */
const SBI_MULTI_REG_LAST = Math.floor((KVM_RISCV_SBI_EXT_MAX - 1) / BITS_PER_LONG);
/** CSR numbers of struct kvm_riscv_csr's fields, in order (riscv privileged spec). */
const GENERAL_CSRS = [0x100, 0x104, 0x105, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, 0x106, 0x10a];
const CSR_SIP_INDEX = RISCV_CSR_REGS.indexOf("sip");
const CSR_SISELECT = 0x150;
/** VSIP_VALID_MASK: SSIP | STIP | SEIP. */
const VSIP_VALID_MASK = (1 << 1) | (1 << 5) | (1 << 9);
const IRQ_S_TIMER = 5;

/** reg->id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | type): the register number with any subtype. */
function regNum(id: bigint): number {
  return Number(id & 0x000f_ffff_00ff_ffffn);
}

/** The register number without its subtype (reg_num &= ~KVM_REG_RISCV_SUBTYPE_MASK). */
function subRegNum(id: bigint): number {
  return Number(id & 0x000f_ffff_0000_ffffn);
}

const GET = "KVM_GET_ONE_REG";
const SET = "KVM_SET_ONE_REG";

/** The RISC-V register bank of one vCPU. */
export function createRiscvRegs(vcpu: RiscvOneRegVcpu): OneRegBank {
  const st: RiscvConfigState = { isa: riscvDefaultIsa(), mode: KVM_RISCV_MODE_S, aia: [0n, 0n, 0n, 0n, 0n, 0n] };
  const bank = new RiscvRegBank(vcpu, st);
  return {
    get: (id) => bank.get(id),
    set: (id, v) => {
      bank.set(id, v);
    },
    list: () => bank.list(),
  };
}

class RiscvRegBank {
  constructor(
    readonly vcpu: RiscvOneRegVcpu,
    readonly st: RiscvConfigState,
  ) {}

  #fail(code: ErrnoName, io: string, id: bigint, why: string): never {
    return this.vcpu.fail(code, io, `${formatRegId(id)}: ${why}`);
  }

  /** Every handler's first check: the id's size must be that of unsigned long / __u64. */
  #checkSize(io: string, id: bigint): void {
    if (kvmRegSize(id) !== 8) this.#fail("EINVAL", io, id, `size ${kvmRegSize(id)} is not sizeof(unsigned long) = 8`);
  }

  get(id: bigint): bigint {
    const num = regNum(id);
    switch (id & KVM_REG_RISCV_TYPE_MASK) {
      case KVM_REG_RISCV_CONFIG:
        this.#checkSize(GET, id);
        return this.#getConfig(id, num);
      case KVM_REG_RISCV_CORE:
        this.#checkSize(GET, id);
        if (num >= RISCV_CORE_REGS.length) this.#fail("ENOENT", GET, id, "no such core register");
        if (num === 0) return this.vcpu.pc;
        return num === RISCV_CORE_REGS.length - 1 ? this.st.mode : this.vcpu.readGpr(num);
      case KVM_REG_RISCV_CSR:
        this.#checkSize(GET, id);
        return this.#csr(GET, id, undefined);
      case KVM_REG_RISCV_TIMER:
        this.#checkSize(GET, id);
        return this.#getTimer(id, num);
      case KVM_REG_RISCV_ISA_EXT:
        this.#checkSize(GET, id);
        return this.#getIsaExt(id);
      case KVM_REG_RISCV_SBI_EXT:
        this.#checkSize(GET, id);
        return this.#getSbiExt(id);
      case KVM_REG_RISCV_SBI_STATE:
        this.#checkSize(GET, id);
        return this.#fail("ENOENT", GET, id, "no SBI extension with state registers (STA, FWFT) is available");
      default:
        // FP_F / FP_D / VECTOR: the host has no F, D or V; other types do not exist.
        return this.#fail("ENOENT", GET, id, "no such register type on this vCPU");
    }
  }

  set(id: bigint, value: bigint): void {
    const num = regNum(id);
    switch (id & KVM_REG_RISCV_TYPE_MASK) {
      case KVM_REG_RISCV_CONFIG:
        this.#checkSize(SET, id);
        this.#setConfig(id, num, value);
        return;
      case KVM_REG_RISCV_CORE:
        this.#checkSize(SET, id);
        if (num >= RISCV_CORE_REGS.length) this.#fail("ENOENT", SET, id, "no such core register");
        if (num === RISCV_CORE_REGS.length - 1) this.st.mode = value === KVM_RISCV_MODE_S ? KVM_RISCV_MODE_S : KVM_RISCV_MODE_U;
        else if (num === 0) this.vcpu.pc = value;
        else this.vcpu.writeGpr(num, value);
        return;
      case KVM_REG_RISCV_CSR:
        this.#checkSize(SET, id);
        this.#csr(SET, id, value);
        return;
      case KVM_REG_RISCV_TIMER:
        this.#checkSize(SET, id);
        this.#setTimer(id, num, value);
        return;
      case KVM_REG_RISCV_ISA_EXT:
        this.#checkSize(SET, id);
        this.#setIsaExt(id, value);
        return;
      case KVM_REG_RISCV_SBI_EXT:
        this.#checkSize(SET, id);
        this.#setSbiExt(id, value);
        return;
      case KVM_REG_RISCV_SBI_STATE:
        this.#checkSize(SET, id);
        return this.#fail("ENOENT", SET, id, "no SBI extension with state registers (STA, FWFT) is available");
      default:
        return this.#fail("ENOENT", SET, id, "no such register type on this vCPU");
    }
  }

  // ---- CONFIG (kvm_riscv_vcpu_get_reg_config / set_reg_config) --------------

  #isaBase(): bigint {
    let bits = 0;
    for (const ext of this.st.isa) {
      const b = riscvIsaLetterBit(ext);
      if (b >= 0) bits |= 1 << b;
    }
    return BigInt(bits);
  }

  #getConfig(id: bigint, num: number): bigint {
    switch (num) {
      case 0:
        return this.#isaBase();
      case 2:
      case 3:
      case 4:
        return this.vcpu.machineIds[num - 2]!;
      case 6:
        return SATP_MODE_57;
      default:
        // zicbom/zicboz/zicbop_block_size: the host has no Zicbom/Zicboz/Zicbop.
        return this.#fail("ENOENT", GET, id, "no such config register on this host");
    }
  }

  #setConfig(id: bigint, num: number, v: bigint): void {
    switch (num) {
      case 0:
        this.#setIsa(id, v);
        return;
      case 2:
      case 3:
      case 4: {
        const ids = this.vcpu.machineIds;
        if (v === ids[num - 2]) return;
        if (this.vcpu.ranAtLeastOnce) this.#fail("EBUSY", SET, id, `${["mvendorid", "marchid", "mimpid"][num - 2]!} cannot change after the vCPU has run`);
        ids[num - 2] = v;
        return;
      }
      case 6:
        if (v !== SATP_MODE_57) this.#fail("EINVAL", SET, id, `satp_mode ${v} is not the host's (${SATP_MODE_57})`);
        return;
      default:
        this.#fail("ENOENT", SET, id, "no such config register on this host");
    }
  }

  /**
   * CONFIG(isa): single-letter bits only (EINVAL beyond); the same value is
   * a no-op; before the first run each letter is forced to what may be
   * enabled/disabled and masked to the host's letters; after it EBUSY.
   */
  #setIsa(id: bigint, v: bigint): void {
    // fls(reg_val) >= RISCV_ISA_EXT_BASE
    if (v >> BigInt(RISCV_ISA_EXT_BASE - 1) !== 0n) this.#fail("EINVAL", SET, id, "isa has bits beyond the single-letter extensions");
    if (v === this.#isaBase()) return;
    if (this.vcpu.ranAtLeastOnce) this.#fail("EBUSY", SET, id, "isa cannot change after the vCPU has run");
    let bits = Number(v);
    for (let i = 0; i < RISCV_ISA_EXT_BASE; i++) {
      const ext = riscvBase2IsaExt(i);
      const bit = 1 << i;
      if (ext >= KVM_RISCV_ISA_EXT_MAX) bits &= ~bit;
      else {
        if (!riscvIsaEnableAllowed(ext)) bits &= ~bit;
        if (!riscvIsaDisableAllowed(ext) && (bits & bit) === 0) bits |= bit;
      }
    }
    bits &= riscvHostIsaBase();
    for (const ext of RISCV_HOST_ISA_EXTS) {
      const b = riscvIsaLetterBit(ext);
      if (b < 0) continue;
      if ((bits & (1 << b)) !== 0) this.st.isa.add(ext);
      else this.st.isa.delete(ext);
    }
  }

  // ---- CSR (kvm_riscv_vcpu_get_reg_csr / set_reg_csr) -----------------------

  #csr(io: string, id: bigint, value: bigint | undefined): bigint {
    const sub = id & KVM_REG_RISCV_SUBTYPE_MASK;
    const num = subRegNum(id);
    if (sub === KVM_REG_RISCV_CSR_GENERAL) {
      if (num >= GENERAL_CSRS.length) this.#fail("ENOENT", io, id, "no such general CSR");
      if (num === CSR_SIP_INDEX) return this.#sip(value);
      const csr = GENERAL_CSRS[num]!;
      if (value === undefined) return this.vcpu.readCsr(csr);
      this.vcpu.writeCsr(csr, value);
      return 0n;
    }
    if (sub === KVM_REG_RISCV_CSR_AIA) {
      // kvm_riscv_vcpu_aia_get_csr / set_csr: ENOENT without Ssaia or beyond the struct.
      if (!this.st.isa.has(KVM_RISCV_ISA_EXT_SSAIA)) this.#fail("ENOENT", io, id, "the vCPU has no Ssaia");
      if (num >= RISCV_AIA_CSR_REGS.length) this.#fail("ENOENT", io, id, "no such AIA CSR");
      if (num === 0) {
        if (value === undefined) return this.vcpu.readCsr(CSR_SISELECT);
        this.vcpu.writeCsr(CSR_SISELECT, value);
        return 0n;
      }
      if (value === undefined) return this.st.aia[num - 1]!;
      this.st.aia[num - 1] = value;
      return 0n;
    }
    // Smstateen: the host has none; any other subtype does not exist.
    return this.#fail("ENOENT", io, id, "no such CSR subtype on this vCPU");
  }

  /**
   * sip: the interrupts KVM injects through hvip (VSSIP/VSTIP/VSEIP shifted
   * down to SSIP/STIP/SEIP). A write replaces them: the bits of VSIP_VALID_MASK
   * become hvip, and KVM forgets what it had queued (irqs_pending_mask = 0).
   */
  #sip(value: bigint | undefined): bigint {
    const v = this.vcpu;
    if (value === undefined) return BigInt(v.injectedIrqs & VSIP_VALID_MASK);
    const bits = Number(value & BigInt(VSIP_VALID_MASK));
    for (const cause of [1, IRQ_S_TIMER, 9]) {
      const level = (bits & (1 << cause)) !== 0;
      // Under Sstc the timer's pending bit comes from vstimecmp, not hvip: clearing hvip.VSTIP leaves it.
      if (cause === IRQ_S_TIMER && !level) continue;
      v.setInjectedIrq(cause, level);
    }
    return 0n;
  }

  // ---- TIMER (vcpu_timer.c kvm_riscv_vcpu_get_reg_timer / set_reg_timer) ----

  #getTimer(id: bigint, num: number): bigint {
    switch (num) {
      case 0:
        return BigInt(this.vcpu.timebaseHz);
      case 1:
        return this.vcpu.guestTime;
      case 2:
        return this.vcpu.timerCompare;
      case 3:
        // Under Sstc next_set is only true while the vCPU blocks inside KVM_RUN.
        return KVM_RISCV_TIMER_STATE_OFF;
      default:
        return this.#fail("ENOENT", GET, id, "no such timer register");
    }
  }

  #setTimer(id: bigint, num: number, v: bigint): void {
    switch (num) {
      case 0:
        if (v !== BigInt(this.vcpu.timebaseHz)) this.#fail("EINVAL", SET, id, `frequency ${v} is not riscv_timebase (${this.vcpu.timebaseHz})`);
        return;
      case 1:
        this.vcpu.setGuestTime(v);
        return;
      case 2:
        this.vcpu.setTimerCompare(v);
        return;
      case 3:
        // ON: timer_next_event(next_cycles), i.e. vstimecmp = compare. OFF: kvm_riscv_vcpu_timer_cancel, EINVAL while !next_set.
        if (v === KVM_RISCV_TIMER_STATE_ON) this.vcpu.setTimerCompare(this.vcpu.timerCompare);
        else this.#fail("EINVAL", SET, id, "no timer event is set (kvm_riscv_vcpu_timer_cancel)");
        return;
      default:
        this.#fail("ENOENT", SET, id, "no such timer register");
    }
  }

  // ---- ISA_EXT (kvm_riscv_vcpu_get_reg_isa_ext / set_reg_isa_ext) ----------

  #getIsaExt(id: bigint): bigint {
    const sub = id & KVM_REG_RISCV_SUBTYPE_MASK;
    const num = subRegNum(id);
    if (sub === KVM_REG_RISCV_ISA_SINGLE) {
      if (!riscvHostHasIsaExt(num)) this.#fail("ENOENT", GET, id, `the host has no ISA extension ${num}`);
      return this.st.isa.has(num) ? 1n : 0n;
    }
    if (sub === KVM_REG_RISCV_ISA_MULTI_EN || sub === KVM_REG_RISCV_ISA_MULTI_DIS) {
      if (num > ISA_MULTI_REG_LAST) this.#fail("ENOENT", GET, id, "beyond KVM_REG_RISCV_ISA_MULTI_REG_LAST");
      let bits = 0n;
      for (let i = 0; i < BITS_PER_LONG; i++) {
        const ext = i + num * BITS_PER_LONG;
        if (ext >= KVM_RISCV_ISA_EXT_MAX) break;
        if (this.st.isa.has(ext)) bits |= 1n << BigInt(i);
      }
      return sub === KVM_REG_RISCV_ISA_MULTI_DIS ? ~bits & U64_MASK : bits;
    }
    return this.#fail("ENOENT", GET, id, "no such ISA_EXT subtype");
  }

  #setIsaExt(id: bigint, v: bigint): void {
    const sub = id & KVM_REG_RISCV_SUBTYPE_MASK;
    const num = subRegNum(id);
    if (sub === KVM_REG_RISCV_ISA_SINGLE) {
      const err = this.#setIsaSingle(num, v);
      if (err !== undefined) this.#fail(err, SET, id, err === "EBUSY" ? "ISA extensions cannot change after the vCPU has run" : err === "ENOENT" ? `the host has no ISA extension ${num}` : `ISA extension ${num} cannot be ${v === 1n ? "enabled" : "disabled"}`);
      return;
    }
    if (sub === KVM_REG_RISCV_ISA_MULTI_EN || sub === KVM_REG_RISCV_ISA_MULTI_DIS) {
      if (num > ISA_MULTI_REG_LAST) this.#fail("ENOENT", SET, id, "beyond KVM_REG_RISCV_ISA_MULTI_REG_LAST");
      // riscv_vcpu_set_isa_ext_multi: each set bit's single write, errors ignored.
      for (let i = 0; i < BITS_PER_LONG; i++) {
        if (((v >> BigInt(i)) & 1n) === 0n) continue;
        const ext = i + num * BITS_PER_LONG;
        if (ext >= KVM_RISCV_ISA_EXT_MAX) break;
        this.#setIsaSingle(ext, sub === KVM_REG_RISCV_ISA_MULTI_EN ? 1n : 0n);
      }
      return;
    }
    this.#fail("ENOENT", SET, id, "no such ISA_EXT subtype");
  }

  /** riscv_vcpu_set_isa_ext_single: undefined on success, else the errno. */
  #setIsaSingle(ext: number, v: bigint): ErrnoName | undefined {
    if (!riscvHostHasIsaExt(ext)) return "ENOENT";
    if (v === (this.st.isa.has(ext) ? 1n : 0n)) return undefined;
    if (this.vcpu.ranAtLeastOnce) return "EBUSY";
    if (v === 1n && riscvIsaEnableAllowed(ext)) this.st.isa.add(ext);
    else if (v === 0n && riscvIsaDisableAllowed(ext)) this.st.isa.delete(ext);
    else return "EINVAL";
    return undefined;
  }

  // ---- SBI_EXT (vcpu_sbi.c kvm_riscv_vcpu_get_reg_sbi_ext / set_reg_sbi_ext) ----

  #sbiAvailable(ext: number): boolean {
    return ext >= 0 && ext < KVM_RISCV_SBI_EXT_MAX && (RISCV_SBI_EXT_AVAILABLE & (1 << ext)) !== 0;
  }

  #getSbiExt(id: bigint): bigint {
    const sub = id & KVM_REG_RISCV_SUBTYPE_MASK;
    const num = subRegNum(id);
    if (sub === KVM_REG_RISCV_SBI_SINGLE) {
      if (!this.#sbiAvailable(num)) this.#fail("ENOENT", GET, id, `SBI extension ${num} is not available`);
      return (this.vcpu.sbiExtOff & (1 << num)) === 0 ? 1n : 0n;
    }
    if (sub === KVM_REG_RISCV_SBI_MULTI_EN || sub === KVM_REG_RISCV_SBI_MULTI_DIS) {
      if (num > SBI_MULTI_REG_LAST) this.#fail("ENOENT", GET, id, "beyond KVM_REG_RISCV_SBI_MULTI_REG_LAST");
      let bits = 0n;
      for (let ext = 0; ext < KVM_RISCV_SBI_EXT_MAX; ext++) {
        if (this.#sbiAvailable(ext) && (this.vcpu.sbiExtOff & (1 << ext)) === 0) bits |= 1n << BigInt(ext);
      }
      return sub === KVM_REG_RISCV_SBI_MULTI_DIS ? ~bits & U64_MASK : bits;
    }
    return this.#fail("ENOENT", GET, id, "no such SBI_EXT subtype");
  }

  #setSbiExt(id: bigint, v: bigint): void {
    if (this.vcpu.ranAtLeastOnce) this.#fail("EBUSY", SET, id, "SBI extensions cannot change after the vCPU has run");
    const sub = id & KVM_REG_RISCV_SUBTYPE_MASK;
    const num = subRegNum(id);
    if (sub === KVM_REG_RISCV_SBI_SINGLE) {
      if (v !== 0n && v !== 1n) this.#fail("EINVAL", SET, id, `value ${v} is neither 0 nor 1`);
      if (!this.#sbiAvailable(num)) this.#fail("ENOENT", SET, id, `SBI extension ${num} is not available`);
      this.#setSbiSingle(num, v === 1n);
      return;
    }
    if (sub === KVM_REG_RISCV_SBI_MULTI_EN || sub === KVM_REG_RISCV_SBI_MULTI_DIS) {
      if (num > SBI_MULTI_REG_LAST) this.#fail("ENOENT", SET, id, "beyond KVM_REG_RISCV_SBI_MULTI_REG_LAST");
      for (let i = 0; i < BITS_PER_LONG; i++) {
        if (((v >> BigInt(i)) & 1n) === 0n) continue;
        const ext = i + num * BITS_PER_LONG;
        if (ext >= KVM_RISCV_SBI_EXT_MAX) break;
        if (this.#sbiAvailable(ext)) this.#setSbiSingle(ext, sub === KVM_REG_RISCV_SBI_MULTI_EN);
      }
      return;
    }
    this.#fail("ENOENT", SET, id, "no such SBI_EXT subtype");
  }

  #setSbiSingle(ext: number, enable: boolean): void {
    const bit = 1 << ext;
    this.vcpu.sbiExtOff = enable ? this.vcpu.sbiExtOff & ~bit : this.vcpu.sbiExtOff | bit;
  }

  // ---- KVM_GET_REG_LIST (kvm_riscv_vcpu_copy_reg_indices) ---------------------

  list(): bigint[] {
    const ulong = KVM_REG_RISCV | KVM_REG_SIZE_U64;
    const ids: bigint[] = [];
    // CONFIG: every field but the block sizes of the Zicbo* extensions the host lacks.
    for (const n of [0, 2, 3, 4, 6]) ids.push(ulong | KVM_REG_RISCV_CONFIG | BigInt(n));
    for (let n = 0; n < RISCV_CORE_REGS.length; n++) ids.push(ulong | KVM_REG_RISCV_CORE | BigInt(n));
    for (let n = 0; n < RISCV_CSR_REGS.length; n++) ids.push(ulong | KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_GENERAL | BigInt(n));
    if (this.st.isa.has(KVM_RISCV_ISA_EXT_SSAIA)) {
      for (let n = 0; n < RISCV_AIA_CSR_REGS.length; n++) ids.push(ulong | KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_AIA | BigInt(n));
    }
    for (let n = 0; n < RISCV_TIMER_REGS.length; n++) ids.push(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_TIMER | BigInt(n));
    // No FP_F / FP_D / VECTOR: the host has no F, D or V.
    for (const ext of RISCV_HOST_ISA_EXTS) ids.push(ulong | KVM_REG_RISCV_ISA_EXT | KVM_REG_RISCV_ISA_SINGLE | BigInt(ext));
    for (let ext = 0; ext < KVM_RISCV_SBI_EXT_MAX; ext++) {
      if (this.#sbiAvailable(ext)) ids.push(ulong | KVM_REG_RISCV_SBI_EXT | KVM_REG_RISCV_SBI_SINGLE | BigInt(ext));
    }
    // No SBI_STATE registers: STA and FWFT are not available.
    return ids;
  }
}
