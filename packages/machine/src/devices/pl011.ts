/**
 * Arm PrimeCell UART (PL011), the console of QEMU's aarch64 `virt` machine
 * (VIRT_UART at 0x09000000, SPI 1). Registers and bits from the PL011 TRM
 * (Arm DDI 0183G, §3.2 summary table, §3.3 register descriptions); behaviour
 * from QEMU hw/char/pl011.c (pl011_read, pl011_write, pl011_update,
 * pl011_fifo_rx_put, pl011_read_rxdata, pl011_write_txdata,
 * pl011_loopback_*, pl011_can_receive, pl011_receive, pl011_reset), QEMU 10.
 *
 * QEMU's model, which this follows rather than the TRM where they differ:
 * - Transmission is instant: a UARTDR write goes to the sink at once and sets
 *   TXRIS, which stays set until UARTICR clears it (there is no TX FIFO
 *   level, so TXFE stays 1 and TXFF 0). Writing UARTDR with UARTEN or TXE
 *   clear still transmits, and is logged as a guest error: with TXE clear
 *   every time, with UARTEN clear once until UARTEN next changes.
 * - The RX FIFO is 16 entries with FEN, else 1; the RX interrupt triggers at
 *   1 character whatever UARTIFLS says (pl011_set_read_trigger) and clears
 *   when the FIFO is read empty. Receive-timeout, modem-status (except
 *   loopback) and error interrupts are never raised. UARTEN/RXE do not gate
 *   reception.
 * - Registers keep the whole 32-bit value written (UARTLCR_H, UARTCR,
 *   UARTIMSC, ...); UARTIBRD keeps 16 bits, UARTFBRD 6.
 * - Accesses: MemoryRegionOps without `valid` and with impl 4..4, so every
 *   size is accepted and a sub-word access is a 32-bit register access at
 *   the unaligned offset, the register picked by offset >> 2
 *   (qemu-memory.ts). Unknown offsets (including reads of UARTICR and
 *   writes of UARTRIS/UARTMIS and the ID registers) read 0, ignore writes
 *   and are guest errors ("pl011_read: Bad offset").
 * - Only the combined interrupt UARTINTR (sysbus IRQ 0, the one `virt`
 *   connects) is an output here. UARTDMACR is stored; DMA is not modelled
 *   (QEMU: LOG_UNIMP, not a guest error). Break on the line (LCR_H.BRK) is
 *   only looped back.
 */

import { ConfigError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import { DeviceLog, type ByteSink, type DeviceTraceOptions } from "./device-io.js";
import type { IrqLine } from "./interrupt.js";
import { qemuAccessRules, qemuInvalidMessage, qemuRead, qemuWrite, type QemuInvalidReason, type QemuRegionOps } from "./qemu-memory.js";
import {
  UARTDR, UARTRSR, UARTFR, UARTILPR, UARTIBRD, UARTFBRD, UARTLCR_H, UARTCR, UARTIFLS, UARTIMSC, UARTRIS, UARTMIS, UARTICR, UARTDMACR,
  UARTPERIPHID0, PL011_REGION_SIZE, PL011_FR_RXFE, PL011_FR_TXFF, PL011_FR_RXFF, PL011_FR_TXFE, PL011_FR_RI, PL011_FR_DCD, PL011_FR_DSR,
  PL011_FR_CTS, PL011_DR_BE, PL011_INT_RX, PL011_INT_TX, PL011_INT_RI, PL011_INT_CTS, PL011_INT_DCD, PL011_INT_DSR, PL011_LCR_FEN,
  PL011_LCR_BRK, PL011_CR_UARTEN, PL011_CR_LBE, PL011_CR_TXE, PL011_CR_DTR, PL011_CR_RTS, PL011_CR_OUT1, PL011_CR_OUT2, PL011_IBRD_MASK,
  PL011_FBRD_MASK, PL011_FIFO_DEPTH, PL011_ID_ARM, PL011_ID_LUMINARY
} from "./pl011-regs.js";

/** Construction options of a {@link Pl011}. */
export interface Pl011Options extends DeviceTraceOptions {
  /** UARTINTR, the combined interrupt output (virt: SPI 1). */
  readonly irq?: IrqLine;
  /** Transmitted bytes. */
  readonly tx?: ByteSink;
  /**
   * qemu_chr_fe_accept_input(): the guest read UARTDR, so there may be room
   * for more input; offer it with {@link Pl011.receive}.
   */
  readonly onAcceptInput?: () => void;
  /** ID registers: "arm" (pl011_id_arm, default) or "luminary". */
  readonly variant?: "arm" | "luminary";
}

/** Plain, versioned snapshot of a {@link Pl011} (QEMU vmstate_pl011 fields). */
export interface Pl011State {
  readonly version: 1;
  readonly flags: number;
  readonly lcr: number;
  readonly rsr: number;
  readonly cr: number;
  readonly dmacr: number;
  readonly intEnabled: number;
  readonly intLevel: number;
  readonly readFifo: readonly number[];
  readonly ilpr: number;
  readonly ibrd: number;
  readonly fbrd: number;
  readonly ifl: number;
  readonly readPos: number;
  readonly readCount: number;
  readonly readTrigger: number;
}

const RULES = qemuAccessRules({ implMin: 4, implMax: 4 });

/** A PL011 UART. Map it (PL011_REGION_SIZE bytes) on the MMIO bus. */
export class Pl011 implements MmioDevice, QemuRegionOps {
  readonly rules = RULES;
  readonly #log: DeviceLog;
  readonly #irq: IrqLine | undefined;
  readonly #tx: ByteSink | undefined;
  readonly #accept: (() => void) | undefined;
  readonly #id: readonly number[];
  readonly #fifo = new Uint32Array(PL011_FIFO_DEPTH);
  #flags = 0;
  #lcr = 0;
  #rsr = 0;
  #cr = 0;
  #dmacr = 0;
  #intEnabled = 0;
  #intLevel = 0;
  #ilpr = 0;
  #ibrd = 0;
  #fbrd = 0;
  #ifl = 0;
  #readPos = 0;
  #readCount = 0;
  #readTrigger = 1;
  #loggedDisabledUart = false;

  constructor(options: Pl011Options = {}) {
    this.#log = new DeviceLog(options, "pl011");
    this.#irq = options.irq;
    this.#tx = options.tx;
    this.#accept = options.onAcceptInput;
    this.#id = options.variant === "luminary" ? PL011_ID_LUMINARY : PL011_ID_ARM;
    this.reset();
  }

  /**
   * pl011_reset(): the reset values. Like QEMU it does not recompute the
   * interrupt output, and RX FIFO contents are left behind (only the
   * pointers are reset); reset the interrupt controller along with it.
   */
  reset(): void {
    this.#lcr = 0;
    this.#rsr = 0;
    this.#dmacr = 0;
    this.#intEnabled = 0;
    this.#intLevel = 0;
    this.#ilpr = 0;
    this.#ibrd = 0;
    this.#fbrd = 0;
    this.#readTrigger = 1;
    this.#ifl = 0x12;
    this.#cr = 0x300;
    this.#flags = 0;
    this.#resetRxFifo();
    this.#resetTxFifo();
  }

  /** Current level of UARTINTR (UARTMIS != 0). */
  get irqLevel(): boolean {
    return (this.#intLevel & this.#intEnabled) !== 0;
  }

  read(offset: number, size: AccessSize, wide: WideValue): number {
    return qemuRead(this, offset, size, wide);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    qemuWrite(this, offset, size, value, hi);
  }

  /**
   * Every register but UARTDR reads without a side effect (pl011_read: only
   * the data register pops the RX FIFO and updates the interrupt). Counted
   * quiet: a load the memory core passes whole to a register pl011_read
   * knows, so that it logs nothing either.
   */
  readIsQuiet(offset: number, size: AccessSize): boolean {
    if ((RULES.wholeSizes & size) === 0 || (offset & (size - 1)) !== 0) return false;
    const idx = offset >>> 2;
    switch (idx) {
      case UARTRSR >>> 2:
      case UARTFR >>> 2:
      case UARTILPR >>> 2:
      case UARTIBRD >>> 2:
      case UARTFBRD >>> 2:
      case UARTLCR_H >>> 2:
      case UARTCR >>> 2:
      case UARTIFLS >>> 2:
      case UARTIMSC >>> 2:
      case UARTRIS >>> 2:
      case UARTMIS >>> 2:
      case UARTDMACR >>> 2:
        return true;
      default:
        return idx >= UARTPERIPHID0 >>> 2 && idx < PL011_REGION_SIZE >>> 2;
    }
  }

  /**
   * pl011_can_receive(): how many bytes the RX FIFO takes now (its free
   * entries; 16 or 1 deep with LCR_H.FEN).
   */
  canReceive(): number {
    const room = this.#depth() - this.#readCount;
    return room > 0 ? room : 0;
  }

  /**
   * Input from the line, as the chardev delivers it: as many bytes as
   * {@link canReceive} allows, then the rest waits (QEMU keeps it in the
   * backend until qemu_chr_fe_accept_input). Returns the number taken. In
   * loopback mode the input is taken and ignored (pl011_receive).
   */
  receive(bytes: ArrayLike<number>): number {
    let n = 0;
    while (n < bytes.length) {
      const room = this.canReceive();
      if (room === 0) break;
      const end = Math.min(bytes.length, n + room);
      if (!this.#loopback()) for (let i = n; i < end; i++) this.#fifoRxPut(bytes[i]! & 0xff);
      n = end;
    }
    return n;
  }

  /**
   * A break condition on the line (pl011_event, CHR_EVENT_BREAK): a BE entry
   * is put in the RX FIFO, without the room check of {@link receive}.
   */
  receiveBreak(): void {
    if (!this.#loopback()) this.#fifoRxPut(PL011_DR_BE);
  }

  // ---- MemoryRegionOps ----

  /** pl011_read(). */
  opsRead(offset: number, _size: number): number {
    const idx = offset >>> 2;
    switch (idx) {
      case UARTDR >>> 2: return this.#readRxData();
      case UARTRSR >>> 2: return this.#rsr;
      case UARTFR >>> 2: return this.#flags;
      case UARTILPR >>> 2: return this.#ilpr;
      case UARTIBRD >>> 2: return this.#ibrd;
      case UARTFBRD >>> 2: return this.#fbrd;
      case UARTLCR_H >>> 2: return this.#lcr;
      case UARTCR >>> 2: return this.#cr;
      case UARTIFLS >>> 2: return this.#ifl;
      case UARTIMSC >>> 2: return this.#intEnabled;
      case UARTRIS >>> 2: return this.#intLevel;
      case UARTMIS >>> 2: return (this.#intLevel & this.#intEnabled) >>> 0;
      case UARTDMACR >>> 2: return this.#dmacr;
      default:
        if (idx >= UARTPERIPHID0 >>> 2 && idx < PL011_REGION_SIZE >>> 2) return this.#id[(offset - UARTPERIPHID0) >>> 2]!;
        this.#log.guestError("offset", `pl011_read: Bad offset 0x${offset.toString(16)}`);
        return 0;
    }
  }

  /** pl011_write(). */
  opsWrite(offset: number, _size: number, value: number): void {
    value >>>= 0;
    switch (offset >>> 2) {
      case UARTDR >>> 2:
        this.#writeTxData(value & 0xff);
        return;
      case UARTRSR >>> 2: // UARTECR
        this.#rsr = 0;
        return;
      case UARTFR >>> 2: // writes to the flag register are ignored
        return;
      case UARTILPR >>> 2:
        this.#ilpr = value;
        return;
      case UARTIBRD >>> 2:
        this.#ibrd = value & PL011_IBRD_MASK;
        return;
      case UARTFBRD >>> 2:
        this.#fbrd = value & PL011_FBRD_MASK;
        return;
      case UARTLCR_H >>> 2:
        if (((this.#lcr ^ value) & PL011_LCR_FEN) !== 0) {
          this.#resetRxFifo();
          this.#resetTxFifo();
        }
        if (((this.#lcr ^ value) & PL011_LCR_BRK) !== 0 && (value & PL011_LCR_BRK) !== 0) {
          this.#loopbackTx(PL011_DR_BE); // pl011_loopback_break()
        }
        this.#lcr = value;
        this.#readTrigger = 1; // pl011_set_read_trigger()
        return;
      case UARTCR >>> 2:
        if (((this.#cr ^ value) & PL011_CR_UARTEN) !== 0) this.#loggedDisabledUart = false;
        this.#cr = value;
        this.#loopbackMdmctrl();
        return;
      case UARTIFLS >>> 2:
        this.#ifl = value;
        this.#readTrigger = 1;
        return;
      case UARTIMSC >>> 2:
        this.#intEnabled = value;
        this.#update();
        return;
      case UARTICR >>> 2:
        this.#intLevel = (this.#intLevel & ~value) >>> 0;
        this.#update();
        return;
      case UARTDMACR >>> 2:
        this.#dmacr = value;
        return;
      default:
        this.#log.guestError("offset", `pl011_write: Bad offset 0x${offset.toString(16)}`);
    }
  }

  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    this.#log.guestError("access", qemuInvalidMessage(this.#log.name, offset, size, write, reason, RULES));
  }

  // ---- helpers ----

  /** pl011_update(): UARTINTR = (RIS & IMSC) != 0. */
  #update(): void {
    this.#irq?.((this.#intLevel & this.#intEnabled) !== 0);
  }

  #loopback(): boolean {
    return (this.#cr & PL011_CR_LBE) !== 0;
  }

  #depth(): number {
    return (this.#lcr & PL011_LCR_FEN) !== 0 ? PL011_FIFO_DEPTH : 1;
  }

  #resetRxFifo(): void {
    this.#readCount = 0;
    this.#readPos = 0;
    this.#flags = ((this.#flags & ~PL011_FR_RXFF) | PL011_FR_RXFE) >>> 0;
  }

  #resetTxFifo(): void {
    this.#flags = ((this.#flags & ~PL011_FR_TXFF) | PL011_FR_TXFE) >>> 0;
  }

  /** pl011_fifo_rx_put(). */
  #fifoRxPut(value: number): void {
    const depth = this.#depth();
    const slot = (this.#readPos + this.#readCount) & (depth - 1);
    this.#fifo[slot] = value;
    this.#readCount++;
    this.#flags &= ~PL011_FR_RXFE;
    if (this.#readCount === depth) this.#flags |= PL011_FR_RXFF;
    if (this.#readCount === this.#readTrigger) {
      this.#intLevel |= PL011_INT_RX;
      this.#update();
    }
  }

  /** pl011_read_rxdata(): pops the FIFO (an empty FIFO returns the stale entry at the read position). */
  #readRxData(): number {
    this.#flags &= ~PL011_FR_RXFF;
    const c = this.#fifo[this.#readPos]!;
    if (this.#readCount > 0) {
      this.#readCount--;
      this.#readPos = (this.#readPos + 1) & (this.#depth() - 1);
    }
    if (this.#readCount === 0) this.#flags |= PL011_FR_RXFE;
    if (this.#readCount === this.#readTrigger - 1) this.#intLevel &= ~PL011_INT_RX;
    this.#rsr = c >>> 8;
    this.#update();
    this.#accept?.();
    return c;
  }

  /** pl011_write_txdata(). */
  #writeTxData(ch: number): void {
    // Logged once until UARTEN changes ("Some very popular guests like Linux don't actively enable the UART").
    if ((this.#cr & PL011_CR_UARTEN) === 0 && !this.#loggedDisabledUart) {
      this.#loggedDisabledUart = true;
      this.#log.guestError("tx-disabled", "PL011 data written to disabled UART");
    }
    if ((this.#cr & PL011_CR_TXE) === 0) this.#log.guestError("tx-disabled", "PL011 data written to disabled TX UART");
    this.#tx?.(ch);
    this.#loopbackTx(ch);
    this.#intLevel |= PL011_INT_TX;
    this.#update();
  }

  /** pl011_loopback_tx(): in loopback the byte enters the RX FIFO. */
  #loopbackTx(value: number): void {
    if (this.#loopback()) this.#fifoRxPut(value);
  }

  /** pl011_loopback_mdmctrl(): CR's modem outputs drive FR's modem inputs and their interrupts. */
  #loopbackMdmctrl(): void {
    if (!this.#loopback()) return;
    const cr = this.#cr;
    let fr = this.#flags & ~(PL011_FR_RI | PL011_FR_DCD | PL011_FR_DSR | PL011_FR_CTS);
    if ((cr & PL011_CR_OUT2) !== 0) fr |= PL011_FR_RI;
    if ((cr & PL011_CR_OUT1) !== 0) fr |= PL011_FR_DCD;
    if ((cr & PL011_CR_RTS) !== 0) fr |= PL011_FR_CTS;
    if ((cr & PL011_CR_DTR) !== 0) fr |= PL011_FR_DSR;
    let il = this.#intLevel & ~(PL011_INT_DSR | PL011_INT_DCD | PL011_INT_CTS | PL011_INT_RI);
    if ((fr & PL011_FR_DSR) !== 0) il |= PL011_INT_DSR;
    if ((fr & PL011_FR_DCD) !== 0) il |= PL011_INT_DCD;
    if ((fr & PL011_FR_CTS) !== 0) il |= PL011_INT_CTS;
    if ((fr & PL011_FR_RI) !== 0) il |= PL011_INT_RI;
    this.#flags = fr >>> 0;
    this.#intLevel = il >>> 0;
    this.#update();
  }

  // ---- snapshot ----

  /** Plain copy of the registers and RX FIFO. */
  state(): Pl011State {
    return {
      version: 1,
      flags: this.#flags,
      lcr: this.#lcr,
      rsr: this.#rsr,
      cr: this.#cr,
      dmacr: this.#dmacr,
      intEnabled: this.#intEnabled,
      intLevel: this.#intLevel,
      readFifo: [...this.#fifo],
      ilpr: this.#ilpr,
      ibrd: this.#ibrd,
      fbrd: this.#fbrd,
      ifl: this.#ifl,
      readPos: this.#readPos,
      readCount: this.#readCount,
      readTrigger: this.#readTrigger,
    };
  }

  /**
   * Loads a {@link state} copy (pl011_post_load's checks; then the interrupt
   * output is recomputed). @throws ConfigError for an inconsistent snapshot.
   */
  loadState(s: Pl011State): void {
    if ((s.version as number) !== 1) throw new ConfigError(`Pl011 state version ${String(s.version)} is not 1`);
    if (s.readFifo.length !== PL011_FIFO_DEPTH || s.readPos < 0 || s.readPos >= PL011_FIFO_DEPTH || s.readCount < 0 || s.readCount > PL011_FIFO_DEPTH) {
      throw new ConfigError(`Pl011 state: FIFO position ${s.readPos}/${s.readCount} out of range`);
    }
    this.#fifo.set(s.readFifo);
    this.#flags = s.flags >>> 0;
    this.#lcr = s.lcr >>> 0;
    this.#rsr = s.rsr >>> 0;
    this.#cr = s.cr >>> 0;
    this.#dmacr = s.dmacr >>> 0;
    this.#intEnabled = s.intEnabled >>> 0;
    this.#intLevel = s.intLevel >>> 0;
    this.#ilpr = s.ilpr >>> 0;
    this.#ibrd = s.ibrd & PL011_IBRD_MASK;
    this.#fbrd = s.fbrd & PL011_FBRD_MASK;
    this.#ifl = s.ifl >>> 0;
    this.#readPos = s.readPos;
    this.#readCount = s.readCount;
    this.#readTrigger = s.readTrigger;
    this.#update();
  }
}
