/** VgicV3 snapshots: a plain, JSON-safe, versioned copy that a fresh VM restores. */
import { ConfigError } from "@irqlab/sim";
import { expect, test } from "vitest";
import { EventFd } from "../irqfd/eventfd.js";
import { armVm, ids, loadDriver } from "./test-fixture.js";

test("a latched SPI survives snapshot and restore into a fresh VM, and the guest then takes it", () => {
  const a = armVm();
  const fd = new EventFd();
  a.vm.irqfd({ fd, gsi: 8 });
  fd.signal(); // SPI 40 latched, not yet enabled by any guest
  const snap = a.vgic.state();
  const copy = JSON.parse(JSON.stringify(snap)) as typeof snap;
  expect(copy).toEqual(snap);

  const b = armVm({ init: false, addresses: false });
  b.vgic.loadState(copy);
  expect(b.vgic.state()).toEqual(snap);
  expect(b.vgic.gic!.irqs.status(0, 40).latch).toBe(true);
  const log = loadDriver(b.vcpus[0]!, { spis: [{ intid: 40, edge: true }] });
  b.vcpus[0]!.run();
  expect(ids(log.acked)).toEqual([40]);
  expect(() => b.vgic.loadState(copy)).toThrow(ConfigError);
});

test("a snapshot taken before init restores the configuration only", () => {
  const a = armVm({ init: false });
  const b = armVm({ init: false, addresses: false });
  b.vgic.loadState(a.vgic.state());
  expect(b.vgic.initialized).toBe(false);
  expect(b.vgic.addresses.distBase).toBe(a.vgic.addresses.distBase);
  expect(() => armVm({ init: false, addresses: false, vcpus: 2 }).vgic.loadState(armVm().vgic.state())).toThrow(/PEs/);
});
