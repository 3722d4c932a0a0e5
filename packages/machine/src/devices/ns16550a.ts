/**
 * NS16550A UART, the console of QEMU's riscv64 `virt` machine (VIRT_UART0 at
 * 0x10000000, PLIC/APLIC source 10, reg-shift 0, 1-byte registers: QEMU
 * hw/riscv/virt.c serial_mm_init(..., 0, irq, 399193, ...)). Register layout
 * from the PC16550D datasheet (National Semiconductor, June 1995, Table II);
 * names from Linux include/uapi/linux/serial_reg.h; behaviour from QEMU
 * hw/char/serial.c (serial_ioport_read/write, serial_update_irq,
 * serial_xmit, serial_receive1, serial_can_receive, fifo_timeout_int,
 * serial_write_fcr, serial_update_parameters, serial_reset_hold) and
 * hw/char/serial-mm.c (serial_mm_read/write, serial_mm_ops), QEMU 10.
 *
 * As in QEMU:
 * - Interrupt identification, highest first (serial_update_irq): receiver
 *   line status (IER.RLSI and LSR.OE/PE/FE/BI), character timeout (IER.RDI
 *   and the FIFO timeout fired), received data (IER.RDI, LSR.DR and, in FIFO
 *   mode, the trigger level reached), THR empty (IER.THRI and the THRE
 *   interrupt pending), modem status (IER.MSI and an MSR delta bit). IIR
 *   keeps its FIFO bits 7:6 and reads 0x01 with nothing pending.
 * - Transmission is instant: a THR write sends the byte to the sink (or, in
 *   loopback, to the receiver) and LSR.THRE/TEMT are set again before the
 *   write returns; THRE pending is raised by that, cleared by the THR write
 *   itself and by reading IIR while it reports THRI, and re-sampled when
 *   IER.THRI changes.
 * - The character-timeout interrupt fires 4 character times after the last
 *   receive or RBR read with data left in the FIFO, on the injected timers
 *   (it never fires without them). Character time follows LCR and the
 *   divisor with QEMU's float arithmetic.
 * - serial-mm ops (valid/impl max 8): every access size works, an access of
 *   more than one byte reads or writes the one register at its offset
 *   (upper bytes read 0), unaligned accesses are split by the memory core.
 *   QEMU logs nothing for this device, so no access is a guest error.
 * - No modem-line backend: MSR keeps DCD|DSR|CTS (poll_msl = -1 after reset).
 *   FCR is not changed by reset (serial_reset_hold leaves it).
 */

import { ConfigError, type AccessSize, type MmioDevice, type Nanoseconds, type WideValue } from "@irqlab/sim";
import { DeviceLog, type ByteSink, type DeviceTimers, type DeviceTraceOptions } from "./device-io.js";
import type { IrqLine } from "./interrupt.js";
import { qemuAccessRules, qemuInvalidMessage, qemuRead, qemuWrite, type QemuInvalidReason, type QemuRegionOps } from "./qemu-memory.js";
import {
  UART_RX, UART_TX, UART_IER, UART_IIR, UART_FCR, UART_LCR, UART_MCR, UART_LSR, UART_MSR, UART_LCR_DLAB, UART_IER_RDI, UART_IER_THRI,
  UART_IER_RLSI, UART_IER_MSI, UART_IIR_NO_INT, UART_IIR_ID, UART_IIR_MSI, UART_IIR_THRI, UART_IIR_RDI, UART_IIR_RLSI, UART_IIR_CTI,
  UART_IIR_FE, UART_MCR_LOOP, UART_MCR_OUT2, UART_MSR_DCD, UART_MSR_DSR, UART_MSR_CTS, UART_MSR_ANY_DELTA, UART_LSR_DR, UART_LSR_OE,
  UART_LSR_BI, UART_LSR_THRE, UART_LSR_TEMT, UART_LSR_INT_ANY, UART_FCR_FE, UART_FCR_RFR, UART_FCR_XFR, UART_FIFO_LENGTH,
  NANOSECONDS_PER_SECOND
} from "./ns16550a-regs.js";

/** Construction options of an {@link Ns16550a}. */
export interface Ns16550aOptions extends DeviceTraceOptions {
  /** The interrupt output (riscv virt: wired interrupt 10). */
  readonly irq?: IrqLine;
  /** Transmitted bytes. */
  readonly tx?: ByteSink;
  /** qemu_chr_fe_accept_input(): the guest read RBR; offer more input with {@link Ns16550a.receive}. */
  readonly onAcceptInput?: () => void;
  /** Input clock / 16 (QEMU "baudbase"; riscv virt passes 399193). */
  readonly baudbase?: number;
  /** Register spacing 1 << regShift bytes (QEMU "regshift"; riscv virt: 0). */
  readonly regShift?: number;
  /** Virtual-time timers for the FIFO character timeout. */
  readonly timers?: DeviceTimers;
}

/** Plain, versioned snapshot of an {@link Ns16550a}. */
export interface Ns16550aState {
  readonly version: 1;
  readonly divider: number;
  readonly rbr: number;
  readonly thr: number;
  readonly ier: number;
  readonly iir: number;
  readonly lcr: number;
  readonly mcr: number;
  readonly lsr: number;
  readonly msr: number;
  readonly scr: number;
  readonly fcr: number;
  readonly recvFifo: readonly number[];
  readonly recvFifoItl: number;
  readonly thrIpending: boolean;
  readonly timeoutIpending: boolean;
  readonly charTransmitTime: Nanoseconds;
  readonly lastBreakEnable: number;
}

const RULES = qemuAccessRules({ validMax: 8, implMax: 8 });

/** A 16-byte QEMU Fifo8. */
class Fifo8 {
  readonly data = new Uint8Array(UART_FIFO_LENGTH);
  head = 0;
  num = 0;
  reset(): void {
    this.head = 0;
    this.num = 0;
  }
  push(v: number): void {
    this.data[(this.head + this.num) % UART_FIFO_LENGTH] = v;
    this.num++;
  }
  pop(): number {
    const v = this.data[this.head]!;
    this.head = (this.head + 1) % UART_FIFO_LENGTH;
    this.num--;
    return v;
  }
  contents(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.num; i++) out.push(this.data[(this.head + i) % UART_FIFO_LENGTH]!);
    return out;
  }
}

/** An NS16550A UART. Map it (8 << regShift bytes) on the MMIO bus. */
export class Ns16550a implements MmioDevice, QemuRegionOps {
  readonly rules = RULES;
  /** Size of the register block: 8 << regShift. */
  readonly regionSize: number;
  readonly #log: DeviceLog;
  readonly #irq: IrqLine | undefined;
  readonly #tx: ByteSink | undefined;
  readonly #accept: (() => void) | undefined;
  readonly #timers: DeviceTimers | undefined;
  readonly #baudbase: number;
  readonly #regShift: number;
  readonly #recv = new Fifo8();
  readonly #xmit = new Fifo8();
  readonly #loopbackByte = new Uint8Array(1);
  #divider = 0;
  #rbr = 0;
  #thr = 0;
  #tsr = 0;
  #ier = 0;
  #iir = UART_IIR_NO_INT;
  #lcr = 0;
  #mcr = 0;
  #lsr = 0;
  #msr = 0;
  #scr = 0;
  #fcr = 0;
  #recvFifoItl = 0;
  #thrIpending = false;
  #timeoutIpending = false;
  #charTransmitTime = 0;
  #lastBreakEnable = 0;
  #timeoutId = -1;

  constructor(options: Ns16550aOptions = {}) {
    this.#log = new DeviceLog(options, "ns16550a");
    this.#irq = options.irq;
    this.#tx = options.tx;
    this.#accept = options.onAcceptInput;
    this.#timers = options.timers;
    this.#baudbase = options.baudbase ?? 399193;
    this.#regShift = options.regShift ?? 0;
    if (!Number.isInteger(this.#regShift) || this.#regShift < 0 || this.#regShift > 3) {
      throw new ConfigError(`Ns16550a: regShift ${this.#regShift} is not 0..3`);
    }
    if (!(this.#baudbase > 0)) throw new ConfigError(`Ns16550a: baudbase ${this.#baudbase} is not positive`);
    this.regionSize = 8 << this.#regShift;
    this.reset();
  }

  /** serial_reset_hold(): reset values; lowers the interrupt. FCR and the FIFO trigger level stay. */
  reset(): void {
    this.#rbr = 0;
    this.#ier = 0;
    this.#iir = UART_IIR_NO_INT;
    this.#lcr = 0;
    this.#lsr = UART_LSR_TEMT | UART_LSR_THRE;
    this.#msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    this.#divider = 0x0c; // 9600 baud, 8N1
    this.#mcr = UART_MCR_OUT2;
    this.#scr = 0;
    this.#charTransmitTime = Math.trunc(NANOSECONDS_PER_SECOND / 9600) * 10;
    this.#timeoutIpending = false;
    this.#cancelTimeout();
    this.#recv.reset();
    this.#xmit.reset();
    this.#thrIpending = false;
    this.#lastBreakEnable = 0;
    this.#irq?.(false);
  }

  /** Current level of the interrupt output (IIR != NO_INT). */
  get irqLevel(): boolean {
    return (this.#iir & UART_IIR_NO_INT) === 0;
  }

  /** Nanoseconds per character at the current LCR and divisor (char_transmit_time). */
  get charTransmitTime(): Nanoseconds {
    return this.#charTransmitTime;
  }

  read(offset: number, size: AccessSize, wide: WideValue): number {
    return qemuRead(this, offset, size, wide);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    qemuWrite(this, offset, size, value, hi);
  }

  /**
   * serial_can_receive(): bytes taken now. FIFO mode: up to the trigger level
   * (then 1 at a time above it, 0 when full); otherwise 1 if RBR is empty.
   */
  canReceive(): number {
    if ((this.#fcr & UART_FCR_FE) !== 0) {
      const num = this.#recv.num;
      if (num >= UART_FIFO_LENGTH) return 0;
      return num <= this.#recvFifoItl ? this.#recvFifoItl - num : 1;
    }
    return (this.#lsr & UART_LSR_DR) === 0 ? 1 : 0;
  }

  /**
   * Input from the line as the chardev delivers it: chunks of
   * {@link canReceive} bytes while it is non-zero (serial_receive1 per
   * chunk). Returns the number of bytes taken; the rest waits for
   * `onAcceptInput`.
   */
  receive(bytes: ArrayLike<number>): number {
    let n = 0;
    while (n < bytes.length) {
      const room = this.canReceive();
      if (room === 0) break;
      const end = Math.min(bytes.length, n + room);
      this.#receive1(bytes, n, end);
      n = end;
    }
    return n;
  }

  /** serial_receive_break(): a break on the line (CHR_EVENT_BREAK). */
  receiveBreak(): void {
    this.#rbr = 0;
    if (this.#recv.num < UART_FIFO_LENGTH) this.#recv.push(0);
    else this.#lsr |= UART_LSR_OE;
    this.#lsr |= UART_LSR_BI | UART_LSR_DR;
    this.#updateIrq();
  }

  /**
   * Whether a load changes nothing (serial_ioport_read's side effects, as the
   * registers stand now): RBR pops the FIFO; IIR reporting THRI clears it;
   * LSR with BI or OE set clears them; MSR with a delta bit set clears it
   * (not in loopback, where it is computed). With DLAB set, offsets 0 and 1
   * read the divisor, which is quiet. A load the memory core passes whole.
   */
  readIsQuiet(offset: number, size: AccessSize): boolean {
    if ((RULES.wholeSizes & size) === 0 || (offset & (size - 1)) !== 0) return false;
    switch ((offset >>> this.#regShift) & 7) {
      case UART_RX:
        return (this.#lcr & UART_LCR_DLAB) !== 0;
      case UART_IIR:
        return (this.#iir & UART_IIR_ID) !== UART_IIR_THRI;
      case UART_LSR:
        return (this.#lsr & (UART_LSR_BI | UART_LSR_OE)) === 0;
      case UART_MSR:
        return (this.#mcr & UART_MCR_LOOP) !== 0 || (this.#msr & UART_MSR_ANY_DELTA) === 0;
      default: // IER (or DLM), LCR, MCR, SCR
        return true;
    }
  }

  // ---- MemoryRegionOps (serial_mm_read/write → serial_ioport_read/write) ----

  opsRead(offset: number, _size: number): number {
    return this.#ioportRead((offset >>> this.#regShift) & 7);
  }

  opsWrite(offset: number, _size: number, value: number): void {
    this.#ioportWrite((offset >>> this.#regShift) & 7, value & 0xff);
  }

  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    // Unreachable with serial-mm's rules; kept for the interface.
    this.#log.guestError("access", qemuInvalidMessage(this.#log.name, offset, size, write, reason, RULES));
  }

  #ioportRead(addr: number): number {
    switch (addr) {
      case UART_RX:
        if ((this.#lcr & UART_LCR_DLAB) !== 0) return this.#divider & 0xff;
        return this.#readRbr();
      case UART_IER:
        return (this.#lcr & UART_LCR_DLAB) !== 0 ? (this.#divider >>> 8) & 0xff : this.#ier;
      case UART_IIR: {
        const ret = this.#iir;
        if ((ret & UART_IIR_ID) === UART_IIR_THRI) {
          this.#thrIpending = false;
          this.#updateIrq();
        }
        return ret;
      }
      case UART_LCR:
        return this.#lcr;
      case UART_MCR:
        return this.#mcr;
      case UART_LSR: {
        const ret = this.#lsr;
        if ((this.#lsr & (UART_LSR_BI | UART_LSR_OE)) !== 0) {
          this.#lsr &= ~(UART_LSR_BI | UART_LSR_OE);
          this.#updateIrq();
        }
        return ret;
      }
      case UART_MSR: {
        if ((this.#mcr & UART_MCR_LOOP) !== 0) {
          // In loopback the modem outputs drive the inputs: OUT2→DCD, OUT1→RI, RTS→CTS, DTR→DSR.
          return ((this.#mcr & 0x0c) << 4) | ((this.#mcr & 0x02) << 3) | ((this.#mcr & 0x01) << 5);
        }
        const ret = this.#msr;
        if ((this.#msr & UART_MSR_ANY_DELTA) !== 0) {
          this.#msr &= 0xf0;
          this.#updateIrq();
        }
        return ret;
      }
      default: // UART_SCR
        return this.#scr;
    }
  }

  #readRbr(): number {
    let ret: number;
    if ((this.#fcr & UART_FCR_FE) !== 0) {
      ret = this.#recv.num === 0 ? 0 : this.#recv.pop();
      if (this.#recv.num === 0) this.#lsr &= ~(UART_LSR_DR | UART_LSR_BI);
      else this.#armTimeout();
      this.#timeoutIpending = false;
    } else {
      ret = this.#rbr;
      this.#lsr &= ~(UART_LSR_DR | UART_LSR_BI);
    }
    this.#updateIrq();
    if ((this.#mcr & UART_MCR_LOOP) === 0) this.#accept?.();
    return ret;
  }

  #ioportWrite(addr: number, val: number): void {
    switch (addr) {
      case UART_TX:
        if ((this.#lcr & UART_LCR_DLAB) !== 0) {
          this.#divider = (this.#divider & 0xff00) | val;
          this.#updateParameters();
        } else {
          this.#writeThr(val);
        }
        return;
      case UART_IER:
        if ((this.#lcr & UART_LCR_DLAB) !== 0) {
          this.#divider = (this.#divider & 0x00ff) | (val << 8);
          this.#updateParameters();
        } else {
          this.#writeIer(val);
        }
        return;
      case UART_FCR:
        this.#writeFcr(val);
        return;
      case UART_LCR: {
        this.#lcr = val;
        this.#updateParameters();
        this.#lastBreakEnable = (val >>> 6) & 1;
        return;
      }
      case UART_MCR:
        this.#mcr = val & 0x1f;
        return;
      case UART_LSR:
      case UART_MSR:
        return; // read-only, writes ignored without a log
      default: // UART_SCR
        this.#scr = val;
    }
  }

  #writeThr(val: number): void {
    this.#thr = val;
    if ((this.#fcr & UART_FCR_FE) !== 0) {
      // xmit overruns overwrite data, so make space if needed
      if (this.#xmit.num === UART_FIFO_LENGTH) this.#xmit.pop();
      this.#xmit.push(val);
    }
    this.#thrIpending = false;
    this.#lsr &= ~(UART_LSR_THRE | UART_LSR_TEMT);
    this.#updateIrq();
    this.#xmitAll();
  }

  /** serial_xmit() with a chardev that always takes the byte. */
  #xmitAll(): void {
    do {
      if ((this.#fcr & UART_FCR_FE) !== 0) {
        this.#tsr = this.#xmit.pop();
        if (this.#xmit.num === 0) this.#lsr |= UART_LSR_THRE;
      } else {
        this.#tsr = this.#thr;
        this.#lsr |= UART_LSR_THRE;
      }
      if ((this.#lsr & UART_LSR_THRE) !== 0 && !this.#thrIpending) {
        this.#thrIpending = true;
        this.#updateIrq();
      }
      if ((this.#mcr & UART_MCR_LOOP) !== 0) {
        this.#loopbackByte[0] = this.#tsr;
        this.#receive1(this.#loopbackByte, 0, 1);
      } else {
        this.#tx?.(this.#tsr);
      }
    } while ((this.#lsr & UART_LSR_THRE) === 0);
    this.#lsr |= UART_LSR_TEMT;
  }

  #writeIer(val: number): void {
    const changed = (this.#ier ^ val) & 0x0f;
    this.#ier = val & 0x0f;
    // Turning IER.THRI on re-samples LSR.THRE (QEMU: "Windows relies on it").
    if ((changed & UART_IER_THRI) !== 0) {
      this.#thrIpending = (this.#ier & UART_IER_THRI) !== 0 && (this.#lsr & UART_LSR_THRE) !== 0;
    }
    if (changed !== 0) this.#updateIrq();
  }

  #writeFcr(v: number): void {
    let val = v;
    // Did the enable/disable flag change? If so, make sure FIFOs get flushed.
    if (((val ^ this.#fcr) & UART_FCR_FE) !== 0) val |= UART_FCR_XFR | UART_FCR_RFR;
    if ((val & UART_FCR_RFR) !== 0) {
      this.#lsr &= ~(UART_LSR_DR | UART_LSR_BI);
      this.#cancelTimeout();
      this.#timeoutIpending = false;
      this.#recv.reset();
    }
    if ((val & UART_FCR_XFR) !== 0) {
      this.#lsr |= UART_LSR_THRE;
      this.#thrIpending = true;
      this.#xmit.reset();
    }
    this.#setFcr(val & 0xc9);
    this.#updateIrq();
  }

  /** serial_write_fcr(): FCR's sticky bits, IIR.FE and the RX trigger level. */
  #setFcr(val: number): void {
    this.#fcr = val;
    if ((val & UART_FCR_FE) !== 0) {
      this.#iir |= UART_IIR_FE;
      const itl = val & 0xc0;
      this.#recvFifoItl = itl === 0x00 ? 1 : itl === 0x40 ? 4 : itl === 0x80 ? 8 : 14;
    } else {
      this.#iir &= ~UART_IIR_FE;
    }
  }

  /** serial_update_parameters(): char_transmit_time with QEMU's float arithmetic. */
  #updateParameters(): void {
    let frame = 1;
    if ((this.#lcr & 0x08) !== 0) frame++;
    const stop = (this.#lcr & 0x04) !== 0 ? 2 : 1;
    frame += (this.#lcr & 0x03) + 5 + stop;
    const speed = this.#divider === 0 ? 3500 : Math.fround(Math.fround(this.#baudbase) / this.#divider);
    this.#charTransmitTime = Math.trunc(Math.fround(Math.fround(NANOSECONDS_PER_SECOND / speed) * frame));
  }

  /** serial_receive1() for bytes[from, to). */
  #receive1(bytes: ArrayLike<number>, from: number, to: number): void {
    if ((this.#fcr & UART_FCR_FE) !== 0) {
      for (let i = from; i < to; i++) {
        // Receive overruns do not overwrite FIFO contents.
        if (this.#recv.num < UART_FIFO_LENGTH) this.#recv.push(bytes[i]! & 0xff);
        else this.#lsr |= UART_LSR_OE;
      }
      this.#lsr |= UART_LSR_DR;
      this.#armTimeout();
    } else {
      if ((this.#lsr & UART_LSR_DR) !== 0) this.#lsr |= UART_LSR_OE;
      this.#rbr = bytes[from]! & 0xff;
      this.#lsr |= UART_LSR_DR;
    }
    this.#updateIrq();
  }

  /** serial_update_irq(): the interrupt identification, by priority. */
  #updateIrq(): void {
    const ier = this.#ier;
    let id = UART_IIR_NO_INT;
    if ((ier & UART_IER_RLSI) !== 0 && (this.#lsr & UART_LSR_INT_ANY) !== 0) {
      id = UART_IIR_RLSI;
    } else if ((ier & UART_IER_RDI) !== 0 && this.#timeoutIpending) {
      id = UART_IIR_CTI;
    } else if (
      (ier & UART_IER_RDI) !== 0 &&
      (this.#lsr & UART_LSR_DR) !== 0 &&
      ((this.#fcr & UART_FCR_FE) === 0 || this.#recv.num >= this.#recvFifoItl)
    ) {
      id = UART_IIR_RDI;
    } else if ((ier & UART_IER_THRI) !== 0 && this.#thrIpending) {
      id = UART_IIR_THRI;
    } else if ((ier & UART_IER_MSI) !== 0 && (this.#msr & UART_MSR_ANY_DELTA) !== 0) {
      id = UART_IIR_MSI;
    }
    this.#iir = id | (this.#iir & 0xf0);
    this.#irq?.(id !== UART_IIR_NO_INT);
  }

  // timer_mod(fifo_timeout_timer, now + 4 * char_transmit_time)
  #armTimeout(): void {
    const t = this.#timers;
    if (t === undefined) return;
    if (this.#timeoutId >= 0) t.cancel(this.#timeoutId);
    this.#timeoutId = t.scheduleAfter(this.#charTransmitTime * 4, Ns16550a.#onTimeout, this);
  }

  #cancelTimeout(): void {
    if (this.#timeoutId >= 0) this.#timers?.cancel(this.#timeoutId);
    this.#timeoutId = -1;
  }

  /** fifo_timeout_int(): data has waited 4 character times. */
  static #onTimeout(s: Ns16550a): void {
    s.#timeoutId = -1;
    if (s.#recv.num !== 0) {
      s.#timeoutIpending = true;
      s.#updateIrq();
    }
  }

  // ---- snapshot ----

  /** Plain copy of the registers and the RX FIFO (the TX FIFO is always empty between accesses). */
  state(): Ns16550aState {
    return {
      version: 1,
      divider: this.#divider,
      rbr: this.#rbr,
      thr: this.#thr,
      ier: this.#ier,
      iir: this.#iir,
      lcr: this.#lcr,
      mcr: this.#mcr,
      lsr: this.#lsr,
      msr: this.#msr,
      scr: this.#scr,
      fcr: this.#fcr,
      recvFifo: this.#recv.contents(),
      recvFifoItl: this.#recvFifoItl,
      thrIpending: this.#thrIpending,
      timeoutIpending: this.#timeoutIpending,
      charTransmitTime: this.#charTransmitTime,
      lastBreakEnable: this.#lastBreakEnable,
    };
  }

  /** Loads a {@link state} copy and recomputes the interrupt (no timeout is re-armed). */
  loadState(s: Ns16550aState): void {
    if ((s.version as number) !== 1) throw new ConfigError(`Ns16550a state version ${String(s.version)} is not 1`);
    if (s.recvFifo.length > UART_FIFO_LENGTH) throw new ConfigError(`Ns16550a state: ${s.recvFifo.length} bytes in a ${UART_FIFO_LENGTH}-byte FIFO`);
    this.#divider = s.divider & 0xffff;
    this.#rbr = s.rbr & 0xff;
    this.#thr = s.thr & 0xff;
    this.#ier = s.ier & 0x0f;
    this.#iir = s.iir & 0xff;
    this.#lcr = s.lcr & 0xff;
    this.#mcr = s.mcr & 0x1f;
    this.#lsr = s.lsr & 0xff;
    this.#msr = s.msr & 0xff;
    this.#scr = s.scr & 0xff;
    this.#setFcr(s.fcr & 0xc9);
    this.#recv.reset();
    for (const b of s.recvFifo) this.#recv.push(b & 0xff);
    this.#xmit.reset();
    this.#thrIpending = s.thrIpending;
    this.#timeoutIpending = s.timeoutIpending;
    this.#charTransmitTime = s.charTransmitTime;
    this.#lastBreakEnable = s.lastBreakEnable;
    this.#cancelTimeout();
    this.#updateIrq();
  }
}
