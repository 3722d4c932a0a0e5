/**
 * The platform bus of a virt board (hw/core/platform-bus.c): a window of
 * guest-physical space and a range of wired interrupts for dynamic sysbus
 * devices (`-device vfio-platform`), handed out first-fit as
 * platform_bus_map_mmio() and platform_bus_map_irq() do.
 */

import { ConfigError, type MmioBus } from "@irqlab/sim";

/** The window and its interrupts. */
export interface PlatformBusWindow {
  /** Guest-physical base and size of the window. */
  readonly base: number;
  readonly size: number;
  /**
   * The first wired interrupt of the window as KVM numbers it: on arm64 the
   * SPI number relative to 32 (a GSI with the identity routing; INTID = 32 + n),
   * on riscv64 the APLIC source number.
   */
  readonly firstIrq: number;
  readonly numIrqs: number;
}

/** One machine's platform bus: its window and which of its lines are taken. */
export class PlatformBus implements PlatformBusWindow {
  readonly base: number;
  readonly size: number;
  readonly firstIrq: number;
  readonly numIrqs: number;
  /** PlatformBusDevice.used_irqs. */
  readonly #usedIrqs: Uint8Array;

  constructor(window: PlatformBusWindow) {
    this.base = window.base;
    this.size = window.size;
    this.firstIrq = window.firstIrq;
    this.numIrqs = window.numIrqs;
    this.#usedIrqs = new Uint8Array(window.numIrqs);
  }

  /** platform_bus_map_irq(): the first free line, as a GSI (firstIrq + n). */
  allocateIrq(): number {
    const n = this.#usedIrqs.indexOf(0);
    if (n < 0) throw new ConfigError("Platform Bus: Can not fit IRQ line");
    this.#usedIrqs[n] = 1;
    return this.firstIrq + n;
  }

  /**
   * platform_bus_map_mmio(): the first offset aligned to `size` rounded up to
   * a power of two that no region on `bus` overlaps.
   */
  allocateMmio(bus: MmioBus, size: number): number {
    let alignment = 1;
    while (alignment < size) alignment *= 2;
    const taken = bus.regions().filter((r) => r.base < this.base + this.size && this.base < r.base + r.size);
    for (let off = 0; off + size <= this.size; off += alignment) {
      const base = this.base + off;
      if (!taken.some((r) => r.base < base + size && base < r.base + r.size)) return base;
    }
    throw new ConfigError(`Platform Bus: Can not fit MMIO region of size ${size.toString(16)}`);
  }
}
