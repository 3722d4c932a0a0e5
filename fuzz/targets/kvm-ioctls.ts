/**
 * Random host ioctl sequences on @irqlab/kvm, for an arm64 and a riscv64
 * host: create VMs, vCPUs and devices (vgic-v3, vITS, RISC-V AIA, unknown
 * types), set/get/has device attributes with random groups, attributes and
 * values, the same on vCPUs (the vPMU's and the timers' groups among them),
 * KVM_IRQ_LINE, irqfd assign/deassign (with and without resamplefd),
 * KVM_SET_GSI_ROUTING, KVM_SIGNAL_MSI, memory slots, MP states, capabilities,
 * and KVM_RUN with a budget on a small guest.
 *
 * Invariant (DESIGN.md, "Errors"): host-API misuse fails with a KvmError
 * carrying a Linux errno (packages/kvm/src/errno.ts), never a ConfigError,
 * TypeError, RangeError or any other exception.
 */

import {
  ERRNO,
  EventFd,
  Host,
  Kvm,
  KvmError,
  registerRiscvAia,
  type Device,
  type Vcpu,
  type Vm,
} from "@irqlab/kvm";
import { EventQueue, op, type GuestProgram, type Rng } from "@irqlab/sim";
import { drawWord } from "../mmio-access.js";
import { check, type FuzzTarget } from "../target.js";

interface Setup {
  readonly hostCpus: number;
  readonly geilen: number;
}

/** One ioctl: its name and plain-number arguments (objects are picked by index modulo the ones created). */
interface Op {
  readonly k: string;
  readonly a: readonly number[];
}

const CALLS = [
  "createVm", "createVcpu", "vcpuInit", "createDevice", "setAttr", "getAttr", "hasAttr", "irqLine", "irqfd", "routing",
  "signalMsi", "memslot", "mpState", "run", "cap", "vcpuAttr",
] as const;

/** Device types: vgic-v2, vgic-v3, vITS, RISC-V AIA, and numbers no one registered. */
const DEVICE_TYPES = [5, 7, 8, 10, 0, 100];

function arg(rng: Rng): number {
  return rng.chance(0.7) ? rng.int(0, 16) : rng.chance(0.5) ? rng.int(-2, 1100) : drawWord(rng);
}

/** A value for KVM_SET_DEVICE_ATTR: usually a number, sometimes what a buggy VMM might pass. */
function attrValue(code: number): unknown {
  switch (code % 8) {
    case 0:
      return undefined;
    case 1:
      return BigInt(code);
    case 2:
      return -code;
    case 3:
      return Number.NaN;
    case 4:
      return 0x0800_0000 + (code & 0xff) * 0x1_0000;
    case 5:
      return [code];
    default:
      return code;
  }
}

const idleGuest = {
  main: function* (): GuestProgram {
    yield op.unmask();
    for (;;) {
      yield op.compute(2_000);
      yield op.wfi();
    }
  },
};

function pick<T>(list: readonly T[], i: number): T | undefined {
  return list.length === 0 ? undefined : list[Math.abs(i) % list.length];
}

export const kvmIoctls: FuzzTarget<Setup, Op> = {
  name: "kvm-ioctls",
  about: "random KVM ioctl sequences (VMs, vCPUs, devices and attributes, IRQ lines, irqfd, routing, MSIs, memslots, runs): only KvmErrors",
  generate(rng, count) {
    const setup: Setup = { hostCpus: rng.int(1, 4), geilen: rng.int(0, 3) };
    const ops: Op[] = [{ k: "createVm", a: [0, 0] }, { k: "createVm", a: [1, 0] }];
    for (let i = 2; i < count; i++) ops.push({ k: rng.pick(CALLS), a: Array.from({ length: 6 }, () => arg(rng)) });
    return { setup, ops };
  },
  execute(setup, ops, step) {
    const queue = new EventQueue();
    const kvms = [new Kvm({ queue, host: new Host({ cpus: setup.hostCpus }) }), new Kvm({ arch: "riscv64", queue, host: new Host({ cpus: setup.hostCpus }) })];
    registerRiscvAia(kvms[1]!, { geilen: setup.geilen });
    const vms: Vm[] = [];
    const vcpus: Vcpu[] = [];
    const devices: Device[] = [];
    const fds = [new EventFd(), new EventFd(), new EventFd()];
    for (let i = 0; i < ops.length; i++) {
      step(i);
      const { k, a } = ops[i]!;
      const [a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0] = a;
      try {
        const vm = pick(vms, a0);
        const vcpu = pick(vcpus, a0);
        const dev = pick(devices, a0);
        switch (k) {
          case "createVm":
            vms.push(kvms[a0 & 1]!.createVm(a1 % 3 === 0 ? 0 : a1));
            break;
          case "createVcpu":
            if (vm) {
              const v = vm.createVcpu(a1);
              v.loadGuest(idleGuest);
              vcpus.push(v);
            }
            break;
          case "vcpuInit":
            vcpu?.armVcpuInit({ target: a1 % 2 === 0 ? 5 : a1, features: [a2 & 0x1f] });
            break;
          case "createDevice":
            if (vm) {
              const d = vm.createDevice(DEVICE_TYPES[a1 % DEVICE_TYPES.length]!, a2 % 4 === 0 ? 1 : 0);
              if (d) devices.push(d);
            }
            break;
          case "setAttr":
            dev?.setDeviceAttr({ group: a1 % 13, attr: a2 % 5 === 0 ? BigInt(a3) << 32n : a3, value: attrValue(a4) });
            break;
          case "getAttr":
            dev?.getDeviceAttr({ group: a1 % 13, attr: a2 % 5 === 0 ? BigInt(a3) << 32n : a3 });
            break;
          case "hasAttr":
            dev?.hasDeviceAttr({ group: a1, attr: a3 });
            break;
          case "irqLine":
            vm?.irqLine((((a1 & 3) << 24) | ((a2 & 0xff) << 16) | (a3 & 0xffff)) >>> 0, a4 % 3);
            break;
          case "irqfd":
            vm?.irqfd({ fd: pick(fds, a1)!, gsi: a2, flags: a3 & 3, ...(a4 % 2 === 0 ? { resamplefd: pick(fds, a5)! } : {}) });
            break;
          case "routing":
            vm?.setGsiRouting(
              Array.from({ length: a1 % 4 }, (_, j) =>
                (a2 + j) % 2 === 0
                  ? { gsi: a3 + j, type: 1, irqchip: a4 % 2, pin: a5 + j }
                  : { gsi: a3 + j, type: 2, addressLo: 0x2800_0000 + a4 * 0x1000, addressHi: 0, data: a5, ...(j === 1 ? { flags: 1, devid: a2 } : {}) },
              ) as never,
              a2 % 7 === 0 ? 1 : 0,
            );
            break;
          case "signalMsi":
            vm?.signalMsi({ addressLo: (a1 % 2 === 0 ? 0x0808_0040 : 0x2800_0000 + a2 * 0x1000) >>> 0, addressHi: a3 % 5 === 0 ? 1 : 0, data: a4, flags: a5 & 3, devid: a2 });
            break;
          case "memslot":
            vm?.setUserMemoryRegion({ slot: a1, flags: a2 & 7, guestPhysAddr: a3 * 0x1000, memorySize: (a4 % 4) * 0x10_0000 + (a5 % 3 === 0 ? 0x800 : 0) });
            break;
          case "mpState":
            vcpu?.setMpState(a1 % 12);
            break;
          case "run":
            vcpu?.run(a1 % 4 === 0 ? 1 : 0, { until: queue.now + 1_000 + (a2 % 50) * 1_000 });
            break;
          case "vcpuAttr": {
            // Groups 0-2 are the vPMU's, the timers' and stolen time's; the vPMU's FILTER takes a struct.
            const attr = { group: a1 % 4, attr: a2 % 6, value: a1 % 4 === 0 && a2 % 6 === 2 ? { baseEvent: a3 & 0xffff, nevents: a4 & 0xffff, action: a5 & 3 } : attrValue(a3) };
            if (a5 % 3 === 0) vcpu?.setDeviceAttr(attr);
            else if (a5 % 3 === 1) vcpu?.getDeviceAttr(attr);
            else vcpu?.hasDeviceAttr(attr);
            break;
          }
          case "cap":
            if (a1 % 2 === 0) vm?.checkExtension(a2);
            else vm?.enableCap(a2, [a3, a4]);
            break;
        }
      } catch (e) {
        const ok = e instanceof KvmError && typeof e.code === "string" && e.code in ERRNO && e.errno === -ERRNO[e.code as keyof typeof ERRNO];
        check(ok, `non-kvm-error:${k}:${e instanceof Error ? e.name : typeof e}`, () => `${k}(${a.join(", ")}) threw ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split("\n").slice(1, 4).join("\n") ?? ""}` : String(e)}`);
      }
    }
    step(ops.length);
  },
};
