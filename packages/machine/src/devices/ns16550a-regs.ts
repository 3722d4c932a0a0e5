/**
 * NS16550A register offsets and bits, named as in Linux
 * include/uapi/linux/serial_reg.h (PC16550D datasheet, Table II), with the
 * constants QEMU hw/char/serial.c uses.
 */

// ---- Register offsets (before reg-shift), Linux serial_reg.h ----
/** Receive buffer (read, DLAB = 0). */
export const UART_RX = 0;
/** Transmit holding (write, DLAB = 0). */
export const UART_TX = 0;
/** Divisor latch low (DLAB = 1). */
export const UART_DLL = 0;
/** Interrupt enable (DLAB = 0). */
export const UART_IER = 1;
/** Divisor latch high (DLAB = 1). */
export const UART_DLM = 1;
/** Interrupt identification (read). */
export const UART_IIR = 2;
/** FIFO control (write). */
export const UART_FCR = 2;
/** Line control. */
export const UART_LCR = 3;
/** Modem control. */
export const UART_MCR = 4;
/** Line status. */
export const UART_LSR = 5;
/** Modem status. */
export const UART_MSR = 6;
/** Scratch. */
export const UART_SCR = 7;

// ---- Bits ----
/** LCR: divisor latch access. */
export const UART_LCR_DLAB = 0x80;
/** IER: received data available. */
export const UART_IER_RDI = 0x01;
/** IER: THR empty. */
export const UART_IER_THRI = 0x02;
/** IER: receiver line status. */
export const UART_IER_RLSI = 0x04;
/** IER: modem status. */
export const UART_IER_MSI = 0x08;
/** IIR: no interrupt pending. */
export const UART_IIR_NO_INT = 0x01;
/** IIR: interrupt ID mask. */
export const UART_IIR_ID = 0x06;
/** IIR: modem status. */
export const UART_IIR_MSI = 0x00;
/** IIR: THR empty. */
export const UART_IIR_THRI = 0x02;
/** IIR: received data available. */
export const UART_IIR_RDI = 0x04;
/** IIR: receiver line status. */
export const UART_IIR_RLSI = 0x06;
/** IIR: character timeout. */
export const UART_IIR_CTI = 0x0c;
/** IIR: FIFOs enabled (bits 7:6). */
export const UART_IIR_FE = 0xc0;
/** MCR: loopback. */
export const UART_MCR_LOOP = 0x10;
/** MCR: OUT2. */
export const UART_MCR_OUT2 = 0x08;
/** MSR: data carrier detect. */
export const UART_MSR_DCD = 0x80;
/** MSR: data set ready. */
export const UART_MSR_DSR = 0x20;
/** MSR: clear to send. */
export const UART_MSR_CTS = 0x10;
/** MSR: any delta bit. */
export const UART_MSR_ANY_DELTA = 0x0f;
/** LSR: data ready. */
export const UART_LSR_DR = 0x01;
/** LSR: overrun error. */
export const UART_LSR_OE = 0x02;
/** LSR: break interrupt. */
export const UART_LSR_BI = 0x10;
/** LSR: THR empty. */
export const UART_LSR_THRE = 0x20;
/** LSR: transmitter empty. */
export const UART_LSR_TEMT = 0x40;
/** LSR: the bits that raise the line-status interrupt. */
export const UART_LSR_INT_ANY = 0x1e;
/** FCR: FIFO enable. */
export const UART_FCR_FE = 0x01;
/** FCR: receive FIFO reset. */
export const UART_FCR_RFR = 0x02;
/** FCR: transmit FIFO reset. */
export const UART_FCR_XFR = 0x04;
/** UART_FIFO_LENGTH. */
export const UART_FIFO_LENGTH = 16;
/** QEMU NANOSECONDS_PER_SECOND. */
export const NANOSECONDS_PER_SECOND = 1_000_000_000;
