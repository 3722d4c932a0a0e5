/**
 * The `idle` image on riscv64: the device interrupt that wakes the idle CPUs
 * is the UART's, wired to an APLIC source and delivered as an MSI into an
 * IMSIC identity (aia=aplic-imsic); the IPIs are the IMSIC's.
 *
 * The boot CPU sets up the IMSIC and the APLIC (MSI mode, from `msi-parent`)
 * and prints Linux's lines for them, starts every other hart into the idle
 * loop (SBI HSM hart_start), then requests the console's interrupt (the
 * specifier of its `interrupts`: source and trigger type) on itself and
 * sends one line with interrupt-driven transmission as the 8250 driver does
 * it (serial8250_handle_irq: IIR says "THR empty", one byte goes to THR;
 * with nothing left, IER.THRI is cleared — __stop_tx), idling between
 * interrupts. The level source stays asserted while THR is empty and THRI
 * enabled, so each pass ends with the APLIC's setipnum_le re-trigger
 * (irq-riscv-aplic-msi.c irq_eoi), whose MSI the IMSIC claim loop takes in
 * the same pass: one wakeup serves the whole line. Then it wakes each idle
 * CPU with an IPI (virtual IPI 0 of the ipi-mux, identity 1 of the target's
 * file) and prints what every CPU counted (-smp 4):
 *
 *     riscv-aplic interrupt-controller@d000000: 96 interrupts forwarded to MSI base 0x0000000028000000
 *     idle: ttyS0 irq 10 (level high) -> IMSIC identity 2 on CPU0
 *     idle: this line was sent by interrupt-driven transmission
 *     idle: 59 bytes from 60 UART interrupts, 1 wakeup of CPU0 from WFI
 *     CPU1: 1 IPI, 1 wakeup from WFI
 *     ...
 *     reboot: Power down
 *
 * A console that is not an NS16550A with an APLIC interrupt is reported
 * ("idle: the console has no APLIC interrupt") and the UART part skipped.
 */

import { op } from "@irqlab/sim";
import { allocateBootMemory } from "../boot/boot-memory.js";
import { boot, type BootedGuest } from "../boot/boot.js";
import { hex } from "../boot/dt-read.js";
import { halt, panic } from "../boot/panic.js";
import type { Ns16550Info } from "../boot/platform-info.js";
import { putLine } from "../console/console.js";
import { UART_TX } from "../console/ns16550a.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { IrqTable } from "../irq/irq-table.js";
import { powerOff } from "../power/power.js";
import { sbiHartStart } from "../power/sbi.js";
import { IRQ_TYPE_LEVEL_HIGH, IRQ_TYPE_SENSE_MASK } from "../riscv/aplic-driver.js";
import { AplicMsiDriver } from "../riscv/aplic-msi.js";
import { IRQ_S_EXT } from "../boot/dt-irqchips.js";
import { setThisCpu, thisCpu } from "../riscv/hart-csr.js";
import { ImsicDriver } from "../riscv/imsic-driver.js";
import { IpiMux } from "../riscv/ipi-mux.js";
import { IdleRecords, IPI_RESCHEDULE, idleForever, idleTxLine, transmitByInterrupts, wakeIdleCpus, type TxProgress } from "./idle-common.js";
import { printBanner, waitForWord, type ImageOptions } from "./image-common.js";

/** 8250 registers and bits (include/uapi/linux/serial_reg.h). */
const UART_IER = 1;
const UART_IIR = 2;
const UART_IER_THRI = 0x02;
const UART_IIR_NO_INT = 0x01;
const UART_IIR_ID = 0x0e;
const UART_IIR_THRI = 0x02;

interface State {
  readonly sys: BootedGuest;
  readonly imsic: ImsicDriver;
  readonly rec: IdleRecords;
}

/** serial8250_handle_irq's transmit half for `uart`. */
function uartHandler(uart: Ns16550Info, tx: TxProgress) {
  const reg = (r: number): number => uart.region.base + (r << uart.regShift);
  const w = uart.regIoWidth;
  return function* (): GuestCode {
    tx.irqs++;
    const iir = (yield op.read(reg(UART_IIR), w)).value;
    if ((iir & UART_IIR_NO_INT) !== 0 || (iir & UART_IIR_ID) !== UART_IIR_THRI) return;
    if (tx.sent < tx.bytes.length) {
      yield op.write(reg(UART_TX), w, tx.bytes[tx.sent++]!);
      return;
    }
    const ier = (yield op.read(reg(UART_IER), w)).value;
    yield op.write(reg(UART_IER), w, ier & ~UART_IER_THRI); // __stop_tx
  };
}

/** Creates the riscv64 `idle` image. */
export function idleRiscvImage(options: ImageOptions = {}): GuestImage {
  let state: State | undefined;

  return {
    main: function* (bootRegs) {
      state = undefined;
      const sys = yield* boot(bootRegs, { arch: "riscv64", ...options });
      yield* setThisCpu(0);
      yield* printBanner(sys, "idle");
      const cpus = sys.platform.cpus;
      const setup = ImsicDriver.setup(sys.platform, new IrqTable());
      if (!setup.ok) return yield* panic(sys, setup.message);
      const imsic = setup.driver;
      for (const l of imsic.probeLines()) yield* putLine(sys.console, l);
      const bytes = IdleRecords.bytes(cpus.length) + IpiMux.bytes(cpus.length);
      const base = allocateBootMemory(sys.platform, bytes);
      if (base === undefined) return yield* panic(sys, `idle: no free RAM for ${bytes} bytes`);
      const rec = new IdleRecords(base, cpus.length);
      yield* rec.init();
      const mux = new IpiMux(base + IdleRecords.bytes(cpus.length), cpus.length, imsic);
      yield* mux.init();
      mux.register(IPI_RESCHEDULE, (cpu) => rec.countIpi(cpu));
      state = { sys, imsic, rec };
      yield* imsic.startingCpu(0);
      yield* rec.setOnline(0);

      // The APLIC: MSI mode when the tree gives it an msi-parent (aplic_probe).
      const aplicInfo = AplicMsiDriver.find(sys.platform);
      let aplic: AplicMsiDriver | undefined;
      if (aplicInfo !== undefined) {
        const made = AplicMsiDriver.create(aplicInfo, imsic);
        if (!made.ok) yield* putLine(sys.console, made.message);
        else {
          aplic = made.driver;
          for (const l of yield* aplic.setup()) yield* putLine(sys.console, l);
        }
      }

      for (const cpu of cpus.slice(1)) {
        const rc = yield* sbiHartStart(cpu.hwid, base, rec.record(cpu.logical));
        if (rc !== 0) yield* putLine(sys.console, `CPU${cpu.logical}: failed to boot: ${rc}`);
      }
      for (const cpu of cpus.slice(1)) yield* waitForWord(rec.record(cpu.logical));

      // The console's interrupt, sent through by interrupt-driven transmission.
      const uart = sys.platform.console;
      const spec = uart?.interrupts[0];
      if (uart?.kind === "ns16550a" && aplic !== undefined && spec?.controller === aplic.regs.info.path && spec.cells.length >= 2) {
        const hwirq = spec.cells[0]!;
        const type = spec.cells[1]! & IRQ_TYPE_SENSE_MASK;
        const tx = idleTxLine();
        const got = yield* aplic.requestIrq(hwirq, type, uartHandler(uart, tx), [0], 0);
        if (typeof got === "number") yield* putLine(sys.console, `idle: request_irq of ttyS0 irq ${hwirq} failed (${got})`);
        else {
          const how = type === IRQ_TYPE_LEVEL_HIGH ? "level high" : `type ${type}`;
          yield* putLine(sys.console, `idle: ttyS0 irq ${hwirq} (${how}) -> IMSIC identity ${got.localId} on CPU${got.cpu}`);
          const ier = uart.region.base + (UART_IER << uart.regShift);
          yield* transmitByInterrupts(
            sys.console,
            rec,
            tx,
            function* () {
              yield op.write(ier, uart.regIoWidth, UART_IER_THRI); // __start_tx
            },
            function* () {
              return tx.sent === tx.bytes.length && ((yield op.read(ier, uart.regIoWidth)).value & UART_IER_THRI) === 0;
            },
          );
        }
      } else {
        yield* putLine(sys.console, "idle: the console has no APLIC interrupt");
      }

      yield* wakeIdleCpus(sys.console, rec, (c) => mux.send(c, IPI_RESCHEDULE));
      return yield* powerOff(sys);
    },

    secondary: function* (entry, context) {
      const s = state;
      if (s === undefined) return yield* halt();
      const cpu = s.rec.cpuOf(context);
      if (entry !== s.rec.base || cpu === undefined || cpu === 0) {
        return yield* panic(s.sys, `idle: a hart started at ${hex(entry)} with ${hex(context)}, which this image did not ask for`);
      }
      yield* setThisCpu(cpu);
      yield* s.imsic.startingCpu(cpu);
      yield* s.rec.setOnline(cpu);
      yield* idleForever(s.rec, cpu);
    },

    vector: function* (cause) {
      const s = state;
      if (s === undefined) return;
      const cpu = yield* thisCpu();
      if (cause === IRQ_S_EXT) yield* s.imsic.handleIrq(cpu);
    },
  };
}
