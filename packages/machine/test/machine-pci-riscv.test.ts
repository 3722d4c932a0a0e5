/**
 * An emulated MSI-X function on the riscv64 virt machine with the in-kernel
 * AIA: QEMU sends each message with KVM_SIGNAL_MSI and no devid (there is no
 * ITS: msi_send_message → kvm_irqchip_send_msi with flags 0), and KVM
 * delivers it to the IMSIC file whose page the address names
 * (kvm_riscv_aia_inject_msi): the identity is the data, taken through
 * `stopei` by the hart that owns the file (RISC-V AIA 1.0, IMSIC.adoc §3).
 */
import { CSR_SIREG, CSR_SISELECT, CSR_STOPEI, ISELECT_EIDELIVERY, ISELECT_EIE0, ISELECT_EITHRESHOLD } from "@irqlab/aia";
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Machine } from "../src/machine.js";
import { riscvVirtLayout } from "../src/board/riscv-virt-layout.js";
import { riscvConfig } from "./machine-config-fixture.js";

const CMD_MEM = 1 << 1;
const CMD_MASTER = 1 << 2;
const PCI_CAP_ID_MSIX = 0x11;
const CSR_SIE = 0x104;
const CSR_SSCRATCH = 0x140;
const IE_SEIE = 1 << 9;
const IRQ_S_EXT = 9;
const DOORBELL = 0x08;

describe("x-irqlab-msix-test on the riscv64 virt machine", () => {
  test("a doorbell is KVM_SIGNAL_MSI without devid into the target hart's IMSIC file, claimed through stopei", () => {
    const config = { ...riscvConfig({ cpus: 2 }), devices: [{ driver: "x-irqlab-msix-test", props: { vectors: "4" } }] };
    const ID = 5;
    const claimed: { hart: number; id: number }[] = [];
    let hart1Ready = false;
    const layout = riscvVirtLayout(config);
    const imsicFile = (hart: number): number => layout.kvmAia!.imsicAddrs[hart]!;

    // imsic_local_delivery + the identity's eie bit, on the hart that runs it.
    function* enableFile(id: number): GuestProgram {
      yield op.csrWrite(CSR_SISELECT, ISELECT_EIE0);
      yield op.csrSet(CSR_SIREG, 1 << id);
      yield op.csrWrite(CSR_SISELECT, ISELECT_EITHRESHOLD);
      yield op.csrWrite(CSR_SIREG, 0);
      yield op.csrWrite(CSR_SISELECT, ISELECT_EIDELIVERY);
      yield op.csrWrite(CSR_SIREG, 1);
      yield op.csrSet(CSR_SIE, IE_SEIE);
    }

    const m = Machine.create({
      config,
      kernel: {
        main: function* (): GuestProgram {
          yield op.csrWrite(CSR_SSCRATCH, 0);
          const { ecam, mmio } = layout.pcie;
          const cfg = ecam.base + (1 << 15); // bus 0, device 1, function 0
          const bar0 = mmio.base;
          const bar1 = mmio.base + 0x1000;
          yield op.write(cfg + 0x10, 4, bar0);
          yield op.write(cfg + 0x14, 4, bar1);
          yield op.write(cfg + 0x04, 2, CMD_MEM | CMD_MASTER);
          let cap = (yield op.read(cfg + 0x34, 1)).value;
          while (cap !== 0 && (yield op.read(cfg + cap, 1)).value !== PCI_CAP_ID_MSIX) cap = (yield op.read(cfg + cap + 1, 1)).value;
          yield op.write(cfg + cap + 2, 2, 1 << 15); // MSI-X enable
          // Vector 2 → hart 1's S-level file, identity ID.
          const entry = bar1 + 2 * 16;
          yield op.write(entry, 4, imsicFile(1));
          yield op.write(entry + 4, 4, 0);
          yield op.write(entry + 8, 4, ID);
          yield op.write(entry + 12, 4, 0);
          yield op.sbi(0x48534d, 0, [1, 0x8020_0000, 0]); // SBI HSM hart_start(hart 1)
          while (!hart1Ready) yield op.compute(1_000);
          yield op.write(bar0 + DOORBELL, 4, 2);
          for (;;) yield op.wfi();
        },
        secondary: function* (): GuestProgram {
          yield op.csrWrite(CSR_SSCRATCH, 1);
          yield* enableFile(ID);
          yield op.unmask();
          hart1Ready = true;
          for (;;) yield op.wfi();
        },
        vector: function* (cause): GuestProgram {
          if (cause !== IRQ_S_EXT) return;
          for (;;) {
            const id = (yield op.csrWrite(CSR_STOPEI, 0)).value >>> 16;
            if (id === 0) return;
            claimed.push({ hart: (yield op.csrRead(CSR_SSCRATCH)).value, id });
          }
        },
      },
    });
    expect(m.board.pcie.ecam).toEqual(layout.pcie.ecam);
    m.run(10_000_000);
    const msis = m.calls.lines().filter((l) => l.startsWith("KVM_SIGNAL_MSI"));
    expect(msis).toEqual([`KVM_SIGNAL_MSI addr=0x${imsicFile(1).toString(16)} data=${ID} devid=0`]);
    expect(claimed).toEqual([{ hart: 1, id: ID }]);
  });
});
