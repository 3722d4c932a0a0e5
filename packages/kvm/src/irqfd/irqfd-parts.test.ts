import { describe, expect, test } from "vitest";
import { KvmError } from "../errno.js";
import { EventFd } from "./eventfd.js";
import {
  GsiRoutingTable,
  KVM_IRQCHIP_NUM_PINS_ARM64,
  KVM_IRQCHIP_NUM_PINS_RISCV,
  KVM_IRQ_ROUTING_IRQCHIP,
  KVM_IRQ_ROUTING_MSI,
  KVM_MSI_VALID_DEVID,
  type RoutingEntry,
} from "./gsi-routing.js";
import { IrqBypassManager, type IrqBypassConsumer, type IrqBypassProducer } from "./irq-bypass.js";

describe("EventFd (fs/eventfd.c)", () => {
  test("writes add up, a read drains, an empty read would block", () => {
    const fd = new EventFd();
    fd.signal();
    fd.write(4);
    expect(fd.read()).toBe(5);
    expect(fd.read()).toBeUndefined(); // EAGAIN on a non-blocking eventfd
  });

  test("waiters are woken with EPOLLIN on each write and EPOLLHUP once on close", () => {
    const fd = new EventFd(2);
    const seen: string[] = [];
    const w = (_f: EventFd, why: string) => seen.push(why);
    fd.addWaiter(w);
    fd.signal();
    fd.write(0); // adds nothing, wakes nobody
    fd.close();
    fd.close();
    expect(seen).toEqual(["in", "hup"]);
    expect(() => fd.signal()).toThrow(/EBADF/);
    expect(fd.removeWaiter(w)).toBe(true);
    expect(fd.drain()).toBe(3);
  });

  test("one exclusive priority waiter (add_wait_queue_priority_exclusive): it alone sees EPOLLIN, everyone sees EPOLLHUP", () => {
    const fd = new EventFd();
    const seen: string[] = [];
    fd.addWaiter((_f, why) => seen.push(`poll ${why}`));
    const irqfd = (_f: EventFd, why: string) => seen.push(`irqfd ${why}`);
    expect(fd.addPriorityWaiterExclusive(irqfd)).toBe(true);
    expect(fd.addPriorityWaiterExclusive(() => undefined)).toBe(false); // -EBUSY
    fd.signal();
    fd.close();
    expect(seen).toEqual(["irqfd in", "irqfd hup", "poll hup"]);
    expect(fd.removeWaiter(irqfd)).toBe(true);
    expect(fd.hasPriorityWaiter).toBe(false);
  });

  test("a priority waiter may be an object woken through its eventfdWake method, as KVM's irqfd is", () => {
    const fd = new EventFd();
    const seen: string[] = [];
    const target = { eventfdWake: (f: EventFd, why: string) => seen.push(`${why} ${f.drain()}`) };
    expect(fd.addPriorityWaiterExclusive(target)).toBe(true);
    expect(fd.addPriorityWaiterExclusive({ eventfdWake: () => undefined })).toBe(false); // -EBUSY
    fd.write(2);
    expect(fd.removeWaiter({ eventfdWake: () => undefined })).toBe(false);
    expect(fd.removeWaiter(() => undefined)).toBe(false);
    fd.close();
    expect(seen).toEqual(["in 2", "hup 0"]);
    expect(fd.removeWaiter(target)).toBe(true);
    expect(fd.hasPriorityWaiter).toBe(false);
  });
});

function producer(irq: number, log: string[]): IrqBypassProducer {
  return {
    irq,
    addConsumer: () => log.push(`p${irq}.add`),
    delConsumer: () => log.push(`p${irq}.del`),
    stop: () => log.push(`p${irq}.stop`),
    start: () => log.push(`p${irq}.start`),
  };
}

function consumer(name: string, log: string[], refuse = false): IrqBypassConsumer {
  return {
    addProducer: (p) => {
      log.push(`${name}.addProducer(${p.irq})`);
      if (refuse) throw new KvmError("EINVAL", "kvm_arch_irq_bypass_add_producer", "refused");
    },
    delProducer: (p) => log.push(`${name}.delProducer(${p.irq})`),
    stop: () => log.push(`${name}.stop`),
    start: () => log.push(`${name}.start`),
  };
}

describe("IrqBypassManager (virt/lib/irqbypass.c)", () => {
  test("connects a producer and a consumer with the same token, in Linux's order", () => {
    const m = new IrqBypassManager();
    const log: string[] = [];
    const token = new EventFd();
    const c = consumer("irqfd", log);
    m.registerConsumer(c, token);
    expect(log).toEqual([]); // waits for its producer
    m.registerProducer(producer(42, log), token);
    expect(log).toEqual(["p42.stop", "irqfd.stop", "p42.add", "irqfd.addProducer(42)", "irqfd.start", "p42.start"]);
    expect(m.producerOf(c)?.irq).toBe(42);
  });

  test("a second producer or consumer on a token is EBUSY and the first stays connected", () => {
    const m = new IrqBypassManager();
    const log: string[] = [];
    const token = new EventFd();
    const c = consumer("irqfd", log);
    m.registerProducer(producer(1, log), token);
    m.registerConsumer(c, token);
    expect(() => m.registerProducer(producer(2, log), token)).toThrow(KvmError);
    expect(() => m.registerConsumer(consumer("x", log), token)).toThrow(/already has a consumer/);
    expect(m.producerOf(c)?.irq).toBe(1);
  });

  test("unregistering one side disconnects; a new peer with the same token reconnects", () => {
    const m = new IrqBypassManager();
    const log: string[] = [];
    const token = new EventFd();
    const p = producer(7, log);
    const c1 = consumer("a", log);
    m.registerProducer(p, token);
    m.registerConsumer(c1, token);
    log.length = 0;
    m.unregisterConsumer(c1); // KVM irqfd deassign
    expect(log).toEqual(["p7.stop", "a.stop", "a.delProducer(7)", "p7.del", "a.start", "p7.start"]);
    const c2 = consumer("b", log);
    m.registerConsumer(c2, token); // irqfd assign again: add_producer again (set_forwarding)
    expect(m.producerOf(c2)?.irq).toBe(7);
  });

  test("a refused connection fails the registration and keeps the peer", () => {
    const m = new IrqBypassManager();
    const log: string[] = [];
    const token = new EventFd();
    const p = producer(9, log);
    m.registerProducer(p, token);
    expect(() => m.registerConsumer(consumer("no", log, true), token)).toThrow(/refused/);
    expect(log).toContain("p9.del"); // rolled back
    const c = consumer("yes", log);
    m.registerConsumer(c, token); // the token's consumer slot is free again
    expect(m.producerOf(c)).toBe(p);
  });
});

describe("GsiRoutingTable (KVM_SET_GSI_ROUTING)", () => {
  const irqchip = (gsi: number, pin: number, chip = 0): RoutingEntry => ({ gsi, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: chip, pin });
  const msi = (gsi: number, flags = KVM_MSI_VALID_DEVID): RoutingEntry => ({ gsi, type: KVM_IRQ_ROUTING_MSI, flags, addressLo: 0x0809_0040, addressHi: 0, data: 3, devid: 8 });
  const errno = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as KvmError).code;
    }
    return "ok";
  };

  test("accepts irqchip and MSI routes and answers per GSI", () => {
    const t = new GsiRoutingTable([irqchip(0, 0), msi(5)], KVM_IRQCHIP_NUM_PINS_ARM64);
    expect(t.routes(5)[0]?.type).toBe(KVM_IRQ_ROUTING_MSI);
    expect(t.routes(1)).toEqual([]);
  });

  // arch/arm64/kvm/vgic/vgic-irqfd.c and arch/riscv/kvm/vm.c kvm_set_routing_entry: the kernel's entry
  // takes address_lo/hi, data, flags and devid from the user's, nothing else.
  test("an MSI route is kept as kvm_set_routing_entry copies it: its message, flags and devid (0 when absent), frozen", () => {
    const entry = { gsi: 6, type: KVM_IRQ_ROUTING_MSI, addressLo: 0x0800_0040, addressHi: 1, data: 33, label: "not KVM's" } as RoutingEntry;
    const [kept] = new GsiRoutingTable([entry], KVM_IRQCHIP_NUM_PINS_ARM64).routes(6);
    expect(kept).toStrictEqual({ gsi: 6, type: KVM_IRQ_ROUTING_MSI, flags: 0, addressLo: 0x0800_0040, addressHi: 1, data: 33, devid: 0 });
    expect(Object.isFrozen(kept)).toBe(true);
  });

  test("EINVAL cases as virt/kvm/irqchip.c and vgic-irqfd.c", () => {
    const arm = KVM_IRQCHIP_NUM_PINS_ARM64;
    expect(errno(() => new GsiRoutingTable([irqchip(0, 987)], arm))).toBe("ok");
    expect(errno(() => new GsiRoutingTable([irqchip(0, 988)], arm))).toBe("EINVAL"); // pin >= 1020-32 (selftest vgic_irq.c)
    expect(errno(() => new GsiRoutingTable([irqchip(0, 1000)], KVM_IRQCHIP_NUM_PINS_RISCV))).toBe("ok");
    expect(errno(() => new GsiRoutingTable([irqchip(4096, 0)], arm))).toBe("EINVAL");
    expect(errno(() => new GsiRoutingTable([irqchip(0, 0, 1)], arm))).toBe("EINVAL"); // irqchip >= KVM_NR_IRQCHIPS
    expect(errno(() => new GsiRoutingTable([{ ...irqchip(0, 0), flags: 1 }], arm))).toBe("EINVAL");
    expect(errno(() => new GsiRoutingTable([msi(0, 2)], arm))).toBe("EINVAL");
    expect(errno(() => new GsiRoutingTable([msi(0), msi(0)], arm))).toBe("EINVAL"); // one MSI per GSI
    expect(errno(() => new GsiRoutingTable([irqchip(0, 1), irqchip(0, 2)], arm))).toBe("EINVAL"); // same chip twice
    expect(errno(() => new GsiRoutingTable([irqchip(0, 1)], arm, 1))).toBe("EINVAL");
    expect(errno(() => new GsiRoutingTable([{ gsi: 0, type: 3 } as unknown as RoutingEntry], arm))).toBe("EINVAL");
  });

  test("an EINVAL names the entry and its GSI; an irqchip GSI shared by one chip is refused at its second entry", () => {
    const arm = KVM_IRQCHIP_NUM_PINS_ARM64;
    expect(() => new GsiRoutingTable([irqchip(0, 0), irqchip(1, 1), irqchip(7, 988)], arm)).toThrow("entry 2 (gsi 7): pin 988 ≥ KVM_IRQCHIP_NUM_PINS (988)");
    expect(() => new GsiRoutingTable([irqchip(3, 0), msi(4), irqchip(3, 1)], arm)).toThrow("entry 2 (gsi 3): gsi already routed");
    expect(() => new GsiRoutingTable([msi(9, 2)], arm)).toThrow("entry 0 (gsi 9): MSI flags 0x2 other than KVM_MSI_VALID_DEVID");
  });

  test("the arm64 default table maps GSI n to SPI n + 32 through pin n", () => {
    const t = GsiRoutingTable.defaultArm64(224);
    expect(t.entries).toHaveLength(224);
    expect(t.routes(10)[0]).toMatchObject({ type: KVM_IRQ_ROUTING_IRQCHIP, pin: 10 });
  });
});
