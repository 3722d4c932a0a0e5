/**
 * PL011 register offsets, bits and identification bytes: Arm PrimeCell UART
 * (PL011) Technical Reference Manual, Arm DDI 0183G, Table 3-1 and §3.3;
 * the ID bytes and masks as QEMU hw/char/pl011.c has them.
 */

// ---- Register offsets (DDI 0183G Table 3-1) ----
/** Data register. */
export const UARTDR = 0x000;
/** Receive status / error clear register. */
export const UARTRSR = 0x004;
/** Flag register. */
export const UARTFR = 0x018;
/** IrDA low-power counter. */
export const UARTILPR = 0x020;
/** Integer baud rate divisor. */
export const UARTIBRD = 0x024;
/** Fractional baud rate divisor. */
export const UARTFBRD = 0x028;
/** Line control. */
export const UARTLCR_H = 0x02c;
/** Control. */
export const UARTCR = 0x030;
/** Interrupt FIFO level select. */
export const UARTIFLS = 0x034;
/** Interrupt mask set/clear. */
export const UARTIMSC = 0x038;
/** Raw interrupt status. */
export const UARTRIS = 0x03c;
/** Masked interrupt status. */
export const UARTMIS = 0x040;
/** Interrupt clear (write-only). */
export const UARTICR = 0x044;
/** DMA control. */
export const UARTDMACR = 0x048;
/** UARTPeriphID0; PeriphID0-3 and PCellID0-3 follow every 4 bytes up to 0xFFC. */
export const UARTPERIPHID0 = 0xfe0;
/** Size of the register block (QEMU maps 0x1000 bytes). */
export const PL011_REGION_SIZE = 0x1000;

// ---- Bits ----
/** UARTFR: receive FIFO empty. */
export const PL011_FR_RXFE = 0x10;
/** UARTFR: transmit FIFO full. */
export const PL011_FR_TXFF = 0x20;
/** UARTFR: receive FIFO full. */
export const PL011_FR_RXFF = 0x40;
/** UARTFR: transmit FIFO empty. */
export const PL011_FR_TXFE = 0x80;
/** UARTFR: ring indicator. */
export const PL011_FR_RI = 0x100;
/** UARTFR: data carrier detect. */
export const PL011_FR_DCD = 0x04;
/** UARTFR: data set ready. */
export const PL011_FR_DSR = 0x02;
/** UARTFR: clear to send. */
export const PL011_FR_CTS = 0x01;
/** UARTDR: break error. */
export const PL011_DR_BE = 1 << 10;
/** UARTRIS/UARTMIS/UARTIMSC/UARTICR: receive interrupt. */
export const PL011_INT_RX = 1 << 4;
/** UARTRIS/UARTMIS/UARTIMSC/UARTICR: transmit interrupt. */
export const PL011_INT_TX = 1 << 5;
/** Interrupt bits: RI modem. */
export const PL011_INT_RI = 1 << 0;
/** Interrupt bits: CTS modem. */
export const PL011_INT_CTS = 1 << 1;
/** Interrupt bits: DCD modem. */
export const PL011_INT_DCD = 1 << 2;
/** Interrupt bits: DSR modem. */
export const PL011_INT_DSR = 1 << 3;
/** UARTLCR_H: FIFO enable. */
export const PL011_LCR_FEN = 1 << 4;
/** UARTLCR_H: send break. */
export const PL011_LCR_BRK = 1 << 0;
/** UARTCR: UART enable. */
export const PL011_CR_UARTEN = 1 << 0;
/** UARTCR: loopback enable. */
export const PL011_CR_LBE = 1 << 7;
/** UARTCR: transmit enable. */
export const PL011_CR_TXE = 1 << 8;
/** UARTCR: receive enable. */
export const PL011_CR_RXE = 1 << 9;
/** UARTCR: data transmit ready. */
export const PL011_CR_DTR = 1 << 10;
/** UARTCR: request to send. */
export const PL011_CR_RTS = 1 << 11;
/** UARTCR: Out1. */
export const PL011_CR_OUT1 = 1 << 12;
/** UARTCR: Out2. */
export const PL011_CR_OUT2 = 1 << 13;
/** UARTIBRD bits kept (QEMU IBRD_MASK). */
export const PL011_IBRD_MASK = 0xffff;
/** UARTFBRD bits kept (QEMU FBRD_MASK). */
export const PL011_FBRD_MASK = 0x3f;
/** PL011_FIFO_DEPTH. */
export const PL011_FIFO_DEPTH = 16;

/** PeriphID0-3, PCellID0-3 (QEMU pl011_id_arm). */
export const PL011_ID_ARM = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1] as const;
/** QEMU pl011_id_luminary (the "pl011_luminary" type). */
export const PL011_ID_LUMINARY = [0x11, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1] as const;
