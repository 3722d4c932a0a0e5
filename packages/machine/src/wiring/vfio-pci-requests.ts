/**
 * What the passed-through virtio-scsi function of a `vfio-pci` device does
 * when its driver kicks it, for workloads that need the device to raise
 * its MSI-X vectors: BAR4 is the modern virtio region of QEMU's virtio-pci
 * layout (common 0x0000, ISR 0x1000, device 0x2000, notify 0x3000); a
 * 16- or 32-bit write of N to the notify area queues a request whose
 * completion raises MSI-X entry N, as seed 001's device raises entries 1–6
 * for its six request queues. The device serves one request at a time,
 * each {@link VFIO_REQUEST_NS} after the previous one finished (or after
 * the kick). Requests in flight when the VM resets still complete: the
 * model does not abort them at the function reset. Reads return 0; a
 * value beyond the vectors is ignored. The virtio configuration
 * structures themselves are not modelled.
 */

import type { AccessSize, EventQueue, MmioDevice, WideValue } from "@irqlab/sim";

/** Offset of the notify area in BAR4 (virtio-pci's QEMU layout: VIRTIO_PCI_NOTIFY at 0x3000). */
export const VFIO_NOTIFY_OFFSET = 0x3000;
/** Time the device takes for one request. */
export const VFIO_REQUEST_NS = 1_000_000;

/** BAR4 of the passed-through function: the notify area and the request engine. */
export class VfioRequestEngine implements MmioDevice {
  /** Requests started and completed. */
  started = 0;
  completed = 0;
  #busyUntil = 0;
  readonly #complete = (vector: number): void => {
    this.completed++;
    this.raise(vector);
  };

  constructor(
    private readonly queue: EventQueue,
    private readonly vectors: number,
    /** The device raises MSI-X entry `vector`. */
    private readonly raise: (vector: number) => void,
  ) {}

  read(_offset: number, _size: AccessSize, wide: WideValue): number {
    wide.hi = 0;
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (offset < VFIO_NOTIFY_OFFSET || offset >= VFIO_NOTIFY_OFFSET + 0x1000 || size === 1 || size === 8) return;
    const vector = value & 0xffff;
    if (vector >= this.vectors) return;
    this.started++;
    const at = Math.max(this.queue.now, this.#busyUntil) + VFIO_REQUEST_NS;
    this.#busyUntil = at;
    this.queue.schedule(at, this.#complete, vector);
  }
}
