/**
 * GICv4.1 direct injection throughput: a passthrough function's MSI whose host
 * LPI is forwarded to a vLPI (its_map_vlpi, linux-6.16 behaviour) goes
 * physical ITS → VMAPTI'd ITE → the resident vPE's pending table, and the guest
 * takes it with ICV_IAR1_EL1 and completes it with ICV_EOIR1_EL1 — no host
 * interrupt, no irqfd, no exit. One call runs 1000 of these (target ≥ 5 M/s).
 * For comparison, the same MSI when it is not forwarded: host interrupt →
 * VFIO handler → eventfd → irqfd → vgic_its_inject_msi (translation cache hit)
 * → LPI pending on the vgic's redistributor.
 */
import { bench, describe } from "vitest";
import { ICC_EOIR1_EL1, ICC_IAR1_EL1, itsCommand as cmd } from "@irqlab/gic";
import { EventFd } from "../src/irqfd/eventfd.js";
import { HostGicv4 } from "../src/vgic/its/host-gicv4.js";
import { enableVgicV4 } from "../src/vgic/its/vgic-v4-forwarding.js";
import { vgicItsInjectMsi } from "../src/vgic/its/vits-msi.js";
import { ITT, msi, vmWithVits } from "../src/vgic/its/vits-rig.js";

const N = 1000;
const DEV = 0x10;

function setup(forward: boolean) {
  const t = vmWithVits(1);
  t.driver.enable();
  t.driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapti(DEV, 0, 8192, 0));
  const host = new HostGicv4({ vpes: 1 });
  const v = host.addDevice(3, 1)[0]!;
  const fwd = enableVgicV4(t.vm, { host });
  const route = msi(DEV, 0);
  const fd = new EventFd();
  host.requestIrq(v.irq, () => fd.signal());
  fd.addWaiter((f) => {
    f.drain();
    vgicItsInjectMsi(t.vm, route);
  });
  fwd.vcpuLoad(0);
  if (forward) fwd.setForwarding(v.irq, route);
  return { ...t, host, irq: v.irq };
}

describe("GICv4.1 forwarded vLPI", () => {
  const a = setup(true);
  const hyp = a.gic.hyp[0]!;
  a.host.fire(a.irq);
  if (hyp.readIcv(ICC_IAR1_EL1) !== 8192) throw new Error("bench setup: the forwarded vLPI did not arrive");
  hyp.writeIcv(ICC_EOIR1_EL1, 8192);
  bench(`forwarded vLPI (direct injection) → ICV_IAR1 → ICV_EOIR1 [x${N}]`, () => {
    const host = a.host;
    const irq = a.irq;
    for (let i = 0; i < N; i++) {
      host.fire(irq);
      hyp.writeIcv(ICC_EOIR1_EL1, hyp.readIcv(ICC_IAR1_EL1));
    }
  });

  const b = setup(false);
  const gic = b.gic;
  bench(`not forwarded: host IRQ → irqfd → vITS → LPI pending → acknowledged [x${N}]`, () => {
    const host = b.host;
    const irq = b.irq;
    for (let i = 0; i < N; i++) {
      host.fire(irq);
      gic.clearLpiPending(0, 8192);
    }
  });
});
