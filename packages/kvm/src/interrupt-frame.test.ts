/**
 * Taking an interrupt saves the interrupted program's context and returning
 * from the vector restores it: the last op's result — a load's value and
 * high half, x0..x3 of an HVC — comes back to the program as the op left it, even when the
 * vector made HVCs of its own, and the saved records are reused from one
 * interrupt to the next. An image's entries are called as its methods.
 */
import { EventQueue, op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Kvm } from "./kvm.js";
import type { GuestImage } from "./vcpu-core.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import { KVM_EXIT_MMIO } from "./uapi/exit-reasons.js";
import { PSCI_0_2_FN_PSCI_VERSION } from "./uapi/psci.js";

const DONE = 0x1000;
const ACK = 0x2000;
/** SMCCC_VERSION: KVM answers 1.1 (0x10001) in x0. */
const SMCCC_VERSION = 0x8000_0000;

describe("interrupt frames", () => {
  test("an HVC's x0..x3 reach the program intact across interrupts whose vectors make HVCs, again and again", () => {
    const queue = new EventQueue();
    const kvm = new Kvm({ queue });
    const vm = kvm.createVm();
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const seen: number[][] = [];
    let vectors = 0;
    v.loadGuest({
      main: function* (): GuestProgram {
        yield op.unmask();
        for (let i = 0; i < 20; i++) {
          const r = yield op.hvc([PSCI_0_2_FN_PSCI_VERSION]);
          seen.push([...r.regs]);
          yield op.compute(1_000);
        }
        yield op.write(DONE, 4, 0);
      },
      vector: function* (): GuestProgram {
        vectors++;
        const r = yield op.hvc([SMCCC_VERSION]);
        expect(r.regs[0]).toBe(0x1_0001);
        yield op.write(ACK, 4, 0);
      },
    });
    // A line rising during each HVC: the interrupt is taken before the program sees the HVC's result.
    const first = 1; // the unmask's instruction
    for (let i = 0; i < 20; i++) queue.schedule(first + i * 2_989 + 100, () => vm.irqLine(0, 1), undefined);
    for (;;) {
      const e = v.run();
      expect(e.reason).toBe(KVM_EXIT_MMIO);
      if (e.reason !== KVM_EXIT_MMIO || e.physAddr === DONE) break;
      if (e.physAddr === ACK) vm.irqLine(0, 0);
    }
    expect(vectors).toBeGreaterThan(5);
    // PSCI_VERSION: x0 the VM's PSCI version (major 1), x1..x3 zero (smccc_set_retval).
    expect(seen).toHaveLength(20);
    for (const regs of seen) expect(regs).toEqual([seen[0]![0], 0, 0, 0]);
    expect(seen[0]![0]! >>> 16).toBe(1);
  });

  test("a load's value and high half reach the program across an interrupt taken before it resumes, zero or not, whatever the vector's load left", () => {
    const USER = 0x0900_0000;
    const VECTOR_LOAD = 0x0900_1000;
    const queue = new EventQueue();
    const vm = new Kvm({ queue }).createVm();
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const seen: [number, number][] = [];
    let vectors = 0;
    v.loadGuest({
      main: function* (): GuestProgram {
        yield op.unmask();
        for (let i = 0; i < 6; i++) {
          const r = yield op.read(USER, 8);
          seen.push([r.value, r.hi]);
        }
        yield op.write(DONE, 4, 0);
      },
      vector: function* (): GuestProgram {
        vectors++;
        const r = yield op.read(VECTOR_LOAD, 8);
        expect([r.value, r.hi]).toEqual([0xdead_beef, 0x1234_5678]);
        yield op.write(ACK, 4, 0);
      },
    });
    // The VMM answers the program's i-th load with 0 for even i, else with both halves set, and raises the
    // line before re-entering: the vector runs between the load's completion and the program seeing it.
    let loads = 0;
    for (;;) {
      const e = v.run();
      expect(e.reason).toBe(KVM_EXIT_MMIO);
      if (e.reason !== KVM_EXIT_MMIO || e.physAddr === DONE) break;
      if (e.physAddr === ACK) vm.irqLine(0, 0);
      else if (e.physAddr === VECTOR_LOAD) e.data.set([0xef, 0xbe, 0xad, 0xde, 0x78, 0x56, 0x34, 0x12]);
      else {
        const i = loads++;
        e.data.set(i % 2 === 0 ? [0, 0, 0, 0, 0, 0, 0, 0] : [i, 0, 0, 0x80, 0, 0, 0, i]);
        vm.irqLine(0, 1);
      }
    }
    expect(vectors).toBe(6);
    expect(seen).toEqual([
      [0, 0],
      [0x8000_0001, 0x0100_0000],
      [0, 0],
      [0x8000_0003, 0x0300_0000],
      [0, 0],
      [0x8000_0005, 0x0500_0000],
    ]);
  });

  test("an image's entries are called as its methods: a class instance's vector and main reach its own fields", () => {
    /** One vCPU's guest whose state is the image's fields. */
    class CountingImage implements GuestImage {
      taken = 0;
      readonly #ack: number;

      constructor(ack: number) {
        this.#ack = ack;
      }

      *main(): GuestProgram {
        yield op.unmask();
        yield op.compute(10_000);
        yield op.write(DONE, 4, this.taken);
      }

      *vector(): GuestProgram {
        this.taken++;
        yield op.write(this.#ack, 4, 0);
      }
    }
    const queue = new EventQueue();
    const vm = new Kvm({ queue }).createVm();
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const image = new CountingImage(ACK);
    v.loadGuest(image);
    queue.schedule(500, () => vm.irqLine(0, 1), undefined);
    const exits: number[] = [];
    for (;;) {
      const e = v.run();
      expect(e.reason).toBe(KVM_EXIT_MMIO);
      if (e.reason !== KVM_EXIT_MMIO) break;
      exits.push(e.physAddr);
      if (e.physAddr === DONE) break;
      vm.irqLine(0, 0);
    }
    expect(exits).toEqual([ACK, DONE]);
    expect(image.taken).toBe(1);
  });
});
