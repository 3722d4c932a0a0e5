/**
 * Typed errors of the simulation kernel.
 *
 * Two tiers, as DESIGN.md asks: host or configuration misuse throws one of
 * these (a programming error by whoever builds the machine); guest misbehaviour
 * never throws, it is traced and counted by the device that sees it. A guest
 * memory fault is the one error a guest can cause here, and it is a typed value
 * that the layer above turns into what the hardware does (an abort, a stall).
 */

const MARKER = Symbol.for("irqlab.error");

/** Base class of every error irqlab throws on purpose. */
export class IrqlabError extends Error {
  readonly [MARKER] = true;
  /** A stable machine-readable code, like Node's `err.code`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }

  /** True for any irqlab error, even from a second copy of the package. */
  static isInstance(e: unknown): e is IrqlabError {
    return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** An invalid argument to a constructor or host API: names the bad value. */
export class ConfigError extends IrqlabError {
  constructor(message: string) {
    super("ERR_IRQLAB_CONFIG", message);
  }
}

/** Two MMIO or RAM regions that would overlap. Names both regions. */
export class RegionOverlapError extends IrqlabError {
  constructor(
    readonly region: string,
    readonly existing: string,
    message: string,
  ) {
    super("ERR_IRQLAB_REGION_OVERLAP", message);
  }
}

/** Kind of access that faulted. */
export type AccessKind = "read" | "write";

/**
 * A guest-physical access outside RAM. Thrown by GuestMemory accessors so that
 * a device walking guest tables (an ITS, an LPI pending table) can turn it into
 * the architectural outcome; it never escapes a model as a crash.
 */
export class GuestMemoryFault extends IrqlabError {
  constructor(
    readonly address: number,
    readonly size: number,
    readonly access: AccessKind,
  ) {
    super(
      "ERR_IRQLAB_GUEST_MEMORY_FAULT",
      `guest ${access} of ${size} byte(s) at 0x${address.toString(16)} is outside RAM`,
    );
  }
}
