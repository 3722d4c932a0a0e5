/**
 * The IRQ bypass manager (virt/lib/irqbypass.c): pairs a producer of host
 * interrupts (a VFIO MSI-X vector) with a consumer (a KVM irqfd) that share a
 * token, the eventfd, so that the consumer can have the hardware deliver
 * straight to the guest (GICv4 vLPI forwarding, posted interrupts).
 *
 * Modelled on the 2025 form, where the token is the eventfd given at
 * registration (Sean Christopherson, "irqbypass: Use xarray to track producers
 * and consumers"): at most one producer and one consumer per token (a second
 * registration of either fails with EBUSY, the first stays connected); a side
 * registered alone waits and is connected when its peer arrives; connecting
 * stops both, calls the producer's add_consumer (optional) then the
 * consumer's add_producer, rolls back on failure, and starts both again.
 * Disconnecting mirrors it. If connecting fails, the registration fails with
 * that error and the newcomer is not kept (the peer stays registered). VFIO
 * and KVM treat these failures as non-fatal (they log and go on); here they
 * are a typed error the caller may catch.
 */

import { KvmError } from "../errno.js";
import type { EventFd } from "./eventfd.js";

/** A producer of host interrupts (struct irq_bypass_producer). */
export interface IrqBypassProducer {
  /** The host IRQ number (Linux irq), what forwarding maps. */
  readonly irq: number;
  /** Optional hooks, called while connecting / disconnecting. */
  addConsumer?(consumer: IrqBypassConsumer): void;
  delConsumer?(consumer: IrqBypassConsumer): void;
  stop?(): void;
  start?(): void;
}

/** A consumer (struct irq_bypass_consumer): KVM's irqfd. */
export interface IrqBypassConsumer {
  /** Connects to a producer; throwing refuses the connection (rolled back). */
  addProducer(producer: IrqBypassProducer): void;
  /** Disconnects from a producer. */
  delProducer(producer: IrqBypassProducer): void;
  stop?(): void;
  start?(): void;
}

interface Pair {
  producer?: IrqBypassProducer;
  consumer?: IrqBypassConsumer;
  connected: boolean;
}

/** The host-wide bypass manager. */
export class IrqBypassManager {
  readonly #byToken = new Map<EventFd, Pair>();

  /** irq_bypass_register_producer(). @throws KvmError EBUSY if the token has a producer. */
  registerProducer(producer: IrqBypassProducer, token: EventFd): void {
    const pair = this.#pair(token);
    if (pair.producer) throw new KvmError("EBUSY", "irq_bypass_register_producer", `token eventfd ${token.fd} already has a producer`);
    pair.producer = producer;
    if (pair.consumer) this.#connectOrUndo(pair, token, "producer");
  }

  /** irq_bypass_unregister_producer(); a no-op for an unknown producer. */
  unregisterProducer(producer: IrqBypassProducer): void {
    for (const [token, pair] of this.#byToken) {
      if (pair.producer !== producer) continue;
      if (pair.connected) this.#disconnect(pair);
      delete pair.producer;
      this.#prune(token, pair);
      return;
    }
  }

  /** irq_bypass_register_consumer(). @throws KvmError EBUSY if the token has a consumer. */
  registerConsumer(consumer: IrqBypassConsumer, token: EventFd): void {
    const pair = this.#pair(token);
    if (pair.consumer) throw new KvmError("EBUSY", "irq_bypass_register_consumer", `token eventfd ${token.fd} already has a consumer`);
    pair.consumer = consumer;
    if (pair.producer) this.#connectOrUndo(pair, token, "consumer");
  }

  /** irq_bypass_unregister_consumer(); a no-op for an unknown consumer. */
  unregisterConsumer(consumer: IrqBypassConsumer): void {
    for (const [token, pair] of this.#byToken) {
      if (pair.consumer !== consumer) continue;
      if (pair.connected) this.#disconnect(pair);
      delete pair.consumer;
      this.#prune(token, pair);
      return;
    }
  }

  /** The producer connected to `consumer`, if any. */
  producerOf(consumer: IrqBypassConsumer): IrqBypassProducer | undefined {
    for (const pair of this.#byToken.values()) if (pair.consumer === consumer && pair.connected) return pair.producer;
    return undefined;
  }

  #pair(token: EventFd): Pair {
    let pair = this.#byToken.get(token);
    if (!pair) {
      pair = { connected: false };
      this.#byToken.set(token, pair);
    }
    return pair;
  }

  #prune(token: EventFd, pair: Pair): void {
    if (!pair.producer && !pair.consumer) this.#byToken.delete(token);
  }

  /** __connect(); on failure the side being registered is dropped and the error rethrown. */
  #connectOrUndo(pair: Pair, token: EventFd, newcomer: "producer" | "consumer"): void {
    const prod = pair.producer!;
    const cons = pair.consumer!;
    prod.stop?.();
    cons.stop?.();
    try {
      prod.addConsumer?.(cons);
      try {
        cons.addProducer(prod);
      } catch (e) {
        prod.delConsumer?.(cons);
        throw e;
      }
      pair.connected = true;
    } catch (e) {
      if (newcomer === "producer") delete pair.producer;
      else delete pair.consumer;
      this.#prune(token, pair);
      throw e;
    } finally {
      cons.start?.();
      prod.start?.();
    }
  }

  #disconnect(pair: Pair): void {
    const prod = pair.producer!;
    const cons = pair.consumer!;
    prod.stop?.();
    cons.stop?.();
    cons.delProducer(prod);
    prod.delConsumer?.(cons);
    cons.start?.();
    prod.start?.();
    pair.connected = false;
  }
}
