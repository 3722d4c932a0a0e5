/**
 * `x-irqlab-msix-test`: a small emulated PCI function whose only job is to
 * send MSI-X messages, for scenarios that need an emulated device next to a
 * passed-through one. No upstream QEMU device fits: `pci-testdev` and `edu`
 * have no MSI-X (edu has MSI), `ivshmem-doorbell` needs a server and under
 * KVM routes its vectors through irqfds, virtio devices need a virtio
 * transport. So the name has the `x-irqlab-` prefix, and the MSI-X part is
 * QEMU's (msix.ts), used the way simple QEMU devices use it:
 * msix_init_exclusive_bar() for the table and PBA, msix_vector_use() of
 * every vector at realize (as ivshmem does), and msix_notify() on the
 * device's events. Under KVM on arm64 a sent message is a KVM_SIGNAL_MSI
 * with the requester ID as devid (the machine's MsiSink).
 *
 * Layout:
 * - Identity: vendor 0x1234 (the ID QEMU gives its own test devices, edu is
 *   1234:11e8), device 0x11e9 chosen here, class 0xff0000 (unassigned),
 *   conventional PCI with QEMU's default subsystem, no interrupt pin; all
 *   overridable, so a scenario can present e.g. an emulated virtio-scsi
 *   identity.
 * - BAR0, 4 KiB, 32-bit: registers, 32-bit accesses only (QEMU-style ops
 *   with valid and impl 4..4; other sizes are guest errors):
 *   0x00 ID (RO, "MSXT"), 0x04 VECTORS (RO, vector count),
 *   0x08 DOORBELL (WO: writing n notifies vector n; reads 0).
 *   Other offsets read 0, ignore writes and are guest errors.
 * - BAR1, 32-bit: the MSI-X table at 0 and PBA at max(2 KiB, 16·vectors),
 *   the BAR 4 KiB or the next power of two (msix_init_exclusive_bar).
 * - Capabilities: MSI-X only, at 0x40 (pci_find_space).
 */

import { ConfigError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import type { DeviceTraceOptions } from "../device-io.js";
import type { MsiSink } from "../interrupt.js";
import { qemuAccessRules, qemuInvalidMessage, qemuRead, qemuWrite, type QemuInvalidReason, type QemuRegionOps } from "../qemu-memory.js";
import { Msix } from "./msix.js";
import { PciBarRegion } from "./pci-bar.js";
import { PciFunction, type PciFunctionIdentity } from "./pci-function.js";

/** BAR0 register: identification, "MSXT" little-endian. */
export const MSIX_TEST_ID = 0x00;
/** BAR0 register: number of MSI-X vectors. */
export const MSIX_TEST_VECTORS = 0x04;
/** BAR0 register: write a vector number to notify it. */
export const MSIX_TEST_DOORBELL = 0x08;
/** Value of MSIX_TEST_ID. */
export const MSIX_TEST_ID_VALUE = 0x5458534d;
/** BAR0 size. */
export const MSIX_TEST_BAR0_SIZE = 0x1000;
/** Default identity of `x-irqlab-msix-test`. */
export const MSIX_TEST_IDENTITY: PciFunctionIdentity = { vendorId: 0x1234, deviceId: 0x11e9, revision: 0, classCode: 0xff0000 };

/** Construction options of a {@link MsixTestFunction}. */
export interface MsixTestFunctionOptions extends Partial<PciFunctionIdentity>, DeviceTraceOptions {
  /** Number of MSI-X vectors (default 8). */
  readonly vectors?: number;
  /** Where messages go (KVM_SIGNAL_MSI in the machine). */
  readonly sink: MsiSink;
}

const REG_RULES = qemuAccessRules({ validMin: 4, validMax: 4, implMin: 4, implMax: 4 });

/** msix_init_exclusive_bar()'s layout: [BAR size, PBA offset]. */
export function msixExclusiveBarLayout(vectors: number): [number, number] {
  let pbaOffset = 2048;
  if (vectors * 16 > pbaOffset) pbaOffset = vectors * 16;
  const pbaSize = (Math.ceil(vectors / 64) * 64) / 8;
  let size = 4096;
  if (pbaOffset + pbaSize > 4096) size = pbaOffset + pbaSize;
  return [2 ** Math.ceil(Math.log2(size)), pbaOffset];
}

/** The `x-irqlab-msix-test` function. */
export class MsixTestFunction extends PciFunction implements MmioDevice, QemuRegionOps {
  readonly rules = REG_RULES;
  readonly #msix: Msix;

  /** @throws ConfigError for a bad vector count or identity. */
  constructor(options: MsixTestFunctionOptions) {
    const vectors = options.vectors ?? 8;
    if (!Number.isInteger(vectors) || vectors < 1 || vectors > 2048) throw new ConfigError(`x-irqlab-msix-test: ${vectors} vectors is not in 1..2048`);
    super({ ...MSIX_TEST_IDENTITY, ...options, name: options.name ?? "x-irqlab-msix-test" });
    this.registerBar(0, MSIX_TEST_BAR0_SIZE, "mem32", this);
    const [barSize, pbaOffset] = msixExclusiveBarLayout(vectors);
    this.registerBar(1, barSize, "mem32", new PciBarRegion(barSize, `${this.name}-msix`, this));
    this.#msix = new Msix(this, { vectors, tableBar: 1, tableOffset: 0, pbaBar: 1, pbaOffset, sink: options.sink });
    for (let v = 0; v < vectors; v++) this.#msix.vectorUse(v);
  }

  /** The function's MSI-X capability, table and PBA. */
  override get msix(): Msix {
    return this.#msix;
  }

  /** The device signals `vector` (msix_notify). @throws ConfigError for a vector it does not have. */
  notify(vector: number): void {
    this.#msix.notify(vector);
  }

  // ---- BAR0 ----

  read(offset: number, size: AccessSize, wide: WideValue): number {
    return qemuRead(this, offset, size, wide);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    qemuWrite(this, offset, size, value, hi);
  }

  opsRead(offset: number): number {
    switch (offset) {
      case MSIX_TEST_ID: return MSIX_TEST_ID_VALUE;
      case MSIX_TEST_VECTORS: return this.#msix.vectors;
      case MSIX_TEST_DOORBELL: return 0;
      default:
        this.guestError("register", `read of unknown register 0x${offset.toString(16)}`);
        return 0;
    }
  }

  opsWrite(offset: number, _size: number, value: number): void {
    if (offset !== MSIX_TEST_DOORBELL) {
      this.guestError("register", `write 0x${value.toString(16)} to read-only or unknown register 0x${offset.toString(16)}`);
      return;
    }
    if (value >= this.#msix.vectors) {
      this.guestError("doorbell", `doorbell for vector ${value} of ${this.#msix.vectors}`);
      return;
    }
    this.#msix.notify(value);
  }

  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    this.guestError("access", qemuInvalidMessage(`${this.name}-regs`, offset, size, write, reason, REG_RULES));
  }
}
