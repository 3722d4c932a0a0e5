/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/vgic_lpi_stress.c,
 * with the lib/arm64 helpers it uses (gic_v3_its.c its_init and
 * its_send_{mapd,mapc,mapti,invall,sync}_cmd; gic_v3.c
 * gic_rdist_enable_lpis; vgic.c vgic_its_setup), rewritten against
 * irqlab's API.
 *
 * The guest of vCPU 0 programs everything itself, as upstream: each vCPU
 * points its redistributor at the shared LPI configuration table and its own
 * pending table and sets EnableLPIs; vCPU 0 then installs the ITS device and
 * collection tables and the command queue, enables the ITS, and writes
 * MAPC (one collection per vCPU), MAPD and MAPTI (LPIs from 8192, collections
 * round-robin over the vCPUs), INVALL and SYNC into the queue, advancing
 * GITS_CWRITER after each and asserting that GITS_CREADR has caught up at
 * the first read (GITS_CMDQ_POLL_ITERATIONS is 0). Every vCPU then makes
 * GUEST_SYNC and spins until the host sets request_vcpus_stop.
 *
 * Threads. Upstream runs a thread per vCPU and a KVM_SIGNAL_MSI worker per
 * device, released together by a barrier once every vCPU has synced. Here
 * the vCPUs take 100 µs turns of the shared virtual clock (as threads on one
 * host CPU would), and each worker is a chain of events on that clock, one
 * signal_lpi() every SIGNAL_INTERVAL_NS, which fire while the vCPUs run:
 * the injections interleave with KVM_RUN the same way on every run.
 *
 * What upstream checks is that every KVM_SIGNAL_MSI returns 1 (a valid
 * translation) and, in guest_irq_handler, that each INTID is an LPI.
 * Upstream's guest never unmasks interrupts (PSTATE after reset has DAIF set,
 * arch/arm64/kvm/reset.c VCPU_RESET_PSTATE_EL1, and guest_code never calls
 * local_irq_enable), so its handler does not run during the stress: the
 * LPIs only become pending. The port keeps that and adds what upstream does
 * not check: after the stop request the guest unmasks and takes what is
 * pending, counting acknowledgements per INTID, and the host then checks
 * that every LPI was received after its last signal (an edge LPI signalled
 * again while pending is one interrupt, so "received" means the last
 * acknowledgement follows the last signal) and that nothing is left pending
 * (GUEST_ASSERT_IAR_EMPTY).
 *
 * Two runs go beyond upstream: one where the guest spins with interrupts
 * unmasked, so its handler acknowledges LPIs while the workers signal them,
 * and one where the workers signal through irqfds bound to MSI routes
 * (KVM_SET_GSI_ROUTING with KVM_IRQ_ROUTING_MSI and KVM_MSI_VALID_DEVID,
 * kvm_set_msi → vgic_its_inject_msi) instead of KVM_SIGNAL_MSI.
 *
 * Sizes: upstream's defaults (-v 1 -d 1 -e 16 -i 1000: 16,000 MSIs) run as
 * they are. The -v 4 -d 4 runs keep 16,000 MSIs per run by scaling -i to
 * 250, so each takes about as long as the default one.
 *
 * test_data, nr_cpus_ready and the per-INTID counts live in a host object the
 * guest code reads and writes (as vgic_irq.test.ts does with its shared
 * data); the tables and the command queue are guest memory in the test's
 * memslot at the top of the IPA space, as setup_memslot places them.
 * GUEST_SYNC, GUEST_DONE and a failed GUEST_ASSERT are 8-byte stores to the
 * ucall address, which no device claims (KVM_EXIT_MMIO).
 */
import { ICC_EOIR1_EL1, ICC_IAR1_EL1, GITS_TRANSLATER, LPI_PROP_ENABLED, LPI_PROP_GROUP1 } from "@irqlab/gic";
import { op } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { EventFd, KVM_EXIT_INTR, KVM_EXIT_MMIO, KVM_IRQ_ROUTING_MSI, KVM_MSI_VALID_DEVID, type MsiRoute, type Vcpu, type Vm } from "../../src/index.js";
import {
  GITS_BASE_GPA,
  SZ_64K,
  gicInit,
  gicRdistEnableLpis,
  itsInit,
  itsSendInvallCmd,
  itsSendMapcCmd,
  itsSendMapdCmd,
  itsSendMaptiCmd,
  itsSendSyncCmd,
  type GuestItsState,
} from "./lib/gic_v3_its.js";
import { UCALL_ABORT, UCALL_ADDR, UCALL_DONE, UCALL_SYNC, guestAssert, ucall, type Guest } from "./lib/ucall.js";
import { setupMemslot, vgicItsSetup, vmWithVgicV3 } from "./lib/vgic.js";

const GIC_LPI_OFFSET = 8192;
const IAR_SPURIOUS = 1023;
const LPI_PROP_DEFAULT_PRIO = 0xa0;

/** How long one vCPU runs before the next takes the clock (upstream: threads on host CPUs). */
const QUANTUM_NS = 100_000;
/** Virtual time between two signal_lpi() calls of one worker: about one KVM_SIGNAL_MSI ioctl. */
const SIGNAL_INTERVAL_NS = 1_000;
/** cpu_relax() in the guest's wait loops. */
const CPU_RELAX_NS = 200;

/** The command-line parameters (-v, -d, -e, -i) and the two variants beyond upstream. */
interface Params {
  readonly nrCpus: number;
  readonly nrDevices: number;
  readonly nrEventIds: number;
  readonly nrIterations: number;
  /** Signal through irqfds with MSI routes instead of KVM_SIGNAL_MSI. */
  readonly irqfd?: boolean;
  /** Spin with interrupts unmasked, so the handler runs during the stress. */
  readonly unmaskedSpin?: boolean;
}

/** struct test_data, the guest's shared counters, and what the host saw. */
interface TestData extends GuestItsState {
  readonly p: Params;
  requestVcpusStop: boolean;
  deviceTable: number;
  collectionTable: number;
  cmdqBase: number;
  ittTables: number;
  lpiPropTable: number;
  lpiPendTables: number;
  nrCpusReady: number;
  distInitialised: boolean;
  /** Per LPI (INTID − 8192): signals sent, acknowledgements, the signal count at the last acknowledgement. */
  readonly signalled: number[];
  readonly acked: number[];
  readonly signalsBeforeLastAck: number[];
  /** The vCPUs that acknowledged each LPI. */
  readonly ackedOn: Set<number>[];
  /** Acknowledgements taken before the stop request. */
  acksDuringStress: number;
  msiResults: Map<number, number>;
  readonly failures: string[];
}

const nrLpis = (p: Params) => p.nrDevices * p.nrEventIds;

// ---- vgic_lpi_stress.c guest code -------------------------------------------------

/** guest_irq_handler: acknowledge, assert it is an LPI, EOI; plus the port's bookkeeping. */
function* guestIrqHandler(t: TestData, cpuid: number): Guest {
  const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
  if (intid === IAR_SPURIOUS) return;
  yield* guestAssert(t, intid >= GIC_LPI_OFFSET && intid < GIC_LPI_OFFSET + nrLpis(t.p), `INTID ${intid} is not one of the test's LPIs`);
  const i = intid - GIC_LPI_OFFSET;
  if (i >= 0 && i < nrLpis(t.p)) {
    t.acked[i]!++;
    t.signalsBeforeLastAck[i] = t.signalled[i]!;
    t.ackedOn[i]!.add(cpuid);
    if (!t.requestVcpusStop) t.acksDuringStress++;
  }
  yield op.msr(ICC_EOIR1_EL1, intid); // gic_set_eoi
}

/** guest_setup_its_mappings: MAPC per vCPU, then per device MAPD and a MAPTI per event, collections round-robin. */
function* guestSetupItsMappings(t: TestData): Guest {
  const { nrCpus, nrDevices, nrEventIds } = t.p;
  let intid = GIC_LPI_OFFSET;
  for (let collId = 0; collId < nrCpus; collId++) yield* itsSendMapcCmd(t, collId, collId, true);
  let collId = 0;
  for (let deviceId = 0; deviceId < nrDevices; deviceId++) {
    yield* itsSendMapdCmd(t, deviceId, t.ittTables + deviceId * SZ_64K, SZ_64K, true);
    for (let eventId = 0; eventId < nrEventIds; eventId++) {
      yield* itsSendMaptiCmd(t, deviceId, eventId, collId, intid++);
      collId = (collId + 1) % nrCpus;
    }
  }
}

/** guest_setup_gic: every vCPU enables its LPIs; vCPU 0 waits for the others, then sets up the ITS. */
function* guestSetupGic(t: TestData, cpuid: number): Guest {
  yield* gicInit(t);
  yield* gicRdistEnableLpis(cpuid, t.lpiPropTable, SZ_64K, t.lpiPendTables + cpuid * SZ_64K);
  t.nrCpusReady++; // atomic_fetch_add: no yield between the read and the write
  if (cpuid > 0) return;
  while (t.nrCpusReady < t.p.nrCpus) yield op.compute(CPU_RELAX_NS);
  yield* itsInit(t, t.collectionTable, SZ_64K, t.deviceTable, SZ_64K, t.cmdqBase, SZ_64K);
  yield* guestSetupItsMappings(t);
  for (let i = 0; i < t.p.nrCpus; i++) yield* itsSendInvallCmd(t, i); // guest_invalidate_all_rdists
  for (let i = 0; i < t.p.nrCpus; i++) yield* itsSendSyncCmd(t, i);
}

/**
 * guest_code: set up, GUEST_SYNC, spin (no WFI, as upstream) until the stop
 * request; then, beyond upstream, unmask and take what is pending and
 * assert that nothing is left before GUEST_DONE.
 */
function* guestCode(t: TestData, cpuid: number): Guest {
  yield* guestSetupGic(t, cpuid);
  yield* ucall(UCALL_SYNC);
  if (t.p.unmaskedSpin === true) yield op.unmask();
  while (!t.requestVcpusStop) yield op.compute(CPU_RELAX_NS);
  yield op.unmask(); // every pending LPI is taken here, at the next instruction boundary
  yield op.compute(CPU_RELAX_NS);
  yield op.mask();
  const left = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff; // GUEST_ASSERT_IAR_EMPTY
  yield* guestAssert(t, left === IAR_SPURIOUS, `vCPU ${cpuid}: IAR gave ${left} after the drain`);
  yield* ucall(UCALL_DONE);
}

// ---- host side -----------------------------------------------------------------------

/** The vCPUs' ucall exits; anything else is a test failure. */
function ucallOf(vcpu: Vcpu, t: TestData): number | undefined {
  const e = vcpu.run(0, { until: vcpu.vm.kvm.queue.now + QUANTUM_NS });
  if (e.reason === KVM_EXIT_INTR) return undefined;
  if (e.reason !== KVM_EXIT_MMIO || e.physAddr !== UCALL_ADDR) {
    t.failures.push(`vCPU ${vcpu.vcpuId}: unexpected exit ${e.reason}`);
    return UCALL_ABORT;
  }
  return e.value;
}

/**
 * setup_vm: vm_create_with_vcpus (with the default vgic-v3, __vgic_v3_setup(vm,
 * nr_vcpus, 64) and its CTRL_INIT at vCPU finalisation), setup_memslot,
 * vgic_its_setup, setup_test_data with configure_lpis.
 */
function setupVm(p: Params) {
  const { kvm, vm, vcpus } = vmWithVgicV3(p.nrCpus);
  // setup_memslot: 3 ITS tables + an ITT per device, the LPI property table + a pending table per vCPU.
  const slot = setupMemslot(vm, (3 + p.nrDevices) * SZ_64K + (1 + p.nrCpus) * SZ_64K);
  vgicItsSetup(vm);
  // setup_test_data
  const alloc = (bytes: number) => slot.alloc(bytes);
  const n = nrLpis(p);
  const t: TestData = {
    p,
    requestVcpusStop: false,
    deviceTable: alloc(SZ_64K),
    collectionTable: alloc(SZ_64K),
    cmdqBase: alloc(SZ_64K),
    ittTables: alloc(SZ_64K * p.nrDevices),
    lpiPropTable: alloc(SZ_64K),
    lpiPendTables: alloc(SZ_64K * p.nrCpus),
    nrCpusReady: 0,
    distInitialised: false,
    signalled: new Array<number>(n).fill(0),
    acked: new Array<number>(n).fill(0),
    signalsBeforeLastAck: new Array<number>(n).fill(-1),
    ackedOn: Array.from({ length: n }, () => new Set<number>()),
    acksDuringStress: 0,
    msiResults: new Map(),
    failures: [],
  };
  // configure_lpis
  for (let i = 0; i < n; i++) vm.memory.writeU8(t.lpiPropTable + i, LPI_PROP_DEFAULT_PRIO | LPI_PROP_GROUP1 | LPI_PROP_ENABLED);
  vcpus.forEach((v, cpuid) =>
    v.loadGuest({
      main: () => guestCode(t, cpuid),
      vector: () => guestIrqHandler(t, cpuid),
    }),
  );
  return { kvm, vm, vcpus, t };
}

/** The doorbell every MSI is written to: GITS_BASE_GPA + GITS_TRANSLATER. */
const DB_ADDR = GITS_BASE_GPA + GITS_TRANSLATER;

/**
 * How one worker injects (device, event): signal_lpi's KVM_SIGNAL_MSI,
 * asserting the return value 1, or an irqfd bound to an MSI route
 * (GSI = device × nr_event_ids + event) with the same address, data and
 * DeviceID.
 */
function lpiInjector(vm: Vm, t: TestData): (deviceId: number, eventId: number) => void {
  const { nrDevices, nrEventIds } = t.p;
  if (t.p.irqfd !== true) {
    return (deviceId, eventId) => {
      const r = vm.signalMsi({ addressLo: DB_ADDR, addressHi: 0, data: eventId, devid: deviceId, flags: KVM_MSI_VALID_DEVID });
      t.msiResults.set(r, (t.msiResults.get(r) ?? 0) + 1);
    };
  }
  const routes: MsiRoute[] = [];
  const fds: EventFd[] = [];
  for (let d = 0; d < nrDevices; d++) {
    for (let e = 0; e < nrEventIds; e++) {
      const gsi = d * nrEventIds + e;
      routes.push({ gsi, type: KVM_IRQ_ROUTING_MSI, flags: KVM_MSI_VALID_DEVID, addressLo: DB_ADDR, addressHi: 0, data: e, devid: d });
      const fd = new EventFd();
      vm.irqfd({ fd, gsi });
      fds.push(fd);
    }
  }
  vm.setGsiRouting(routes);
  return (deviceId, eventId) => fds[deviceId * nrEventIds + eventId]!.signal();
}

/**
 * run_test: the vCPUs run in turns; when all have made GUEST_SYNC (the
 * barrier), one lpi_worker_thread per device starts on the virtual clock;
 * when every worker is done, request_vcpus_stop is set; the vCPUs then end
 * with GUEST_DONE.
 */
function runTest(p: Params): TestData {
  const { kvm, vm, vcpus, t } = setupVm(p);
  const q = kvm.queue;
  const signalLpi = lpiInjector(vm, t);
  const atBarrier = vcpus.map(() => false);
  const done = vcpus.map(() => false);
  let workersStarted = false;
  let workersLeft = p.nrDevices;

  const startWorker = (deviceId: number) => {
    let iteration = 0;
    let eventId = 0;
    const step = () => {
      signalLpi(deviceId, eventId);
      t.signalled[deviceId * p.nrEventIds + eventId]!++;
      if (++eventId === p.nrEventIds) {
        eventId = 0;
        iteration++;
      }
      if (iteration < p.nrIterations) q.schedule(q.now + SIGNAL_INTERVAL_NS, step);
      else workersLeft--;
    };
    q.schedule(q.now, step);
  };

  for (let turn = 0; done.includes(false); turn++) {
    if (turn > 100_000) throw new Error("the vCPUs did not finish");
    for (const [i, v] of vcpus.entries()) {
      if (done[i] === true || (atBarrier[i] === true && !workersStarted)) continue;
      const uc = ucallOf(v, t);
      if (uc === UCALL_SYNC) atBarrier[i] = true;
      else if (uc === UCALL_DONE) done[i] = true;
      else if (uc !== undefined) throw new Error(`vCPU ${i}: GUEST_ASSERT failed: ${t.failures.join("; ")}`);
    }
    if (!workersStarted && !atBarrier.includes(false)) {
      workersStarted = true;
      for (let d = 0; d < p.nrDevices; d++) startWorker(d);
    }
    if (workersStarted && workersLeft === 0) t.requestVcpusStop = true; // write_guest_global
  }
  return t;
}

/** The checks every run shares: no failure, every LPI signalled nr_iterations times and received after its last signal. */
function expectEveryLpiReceived(t: TestData): void {
  const { p } = t;
  expect(t.failures).toEqual([]);
  expect(t.signalled).toEqual(new Array(nrLpis(p)).fill(p.nrIterations));
  expect(t.signalsBeforeLastAck).toEqual(t.signalled);
  for (const [i, n] of t.acked.entries()) {
    expect(n, `LPI ${GIC_LPI_OFFSET + i}`).toBeGreaterThanOrEqual(1);
    expect(n, `LPI ${GIC_LPI_OFFSET + i}`).toBeLessThanOrEqual(p.nrIterations);
  }
  // Round-robin: LPI k went to collection k mod nr_cpus, mapped to that vCPU.
  for (const [i, on] of t.ackedOn.entries()) expect([...on], `LPI ${GIC_LPI_OFFSET + i}`).toEqual([i % p.nrCpus]);
}

describe("vgic_lpi_stress (tools/testing/selftests/kvm/arm64/vgic_lpi_stress.c)", () => {
  test("main with the defaults (-v 1 -d 1 -e 16 -i 1000): 16,000 KVM_SIGNAL_MSI each return 1; the masked guest takes each LPI once after the stop", () => {
    const t = runTest({ nrCpus: 1, nrDevices: 1, nrEventIds: 16, nrIterations: 1000 });
    expectEveryLpiReceived(t);
    expect([...t.msiResults]).toEqual([[1, 16_000]]);
    // Upstream's guest spins with interrupts masked: nothing is taken until the drain, where the
    // 1000 signals of each edge LPI are one pending interrupt.
    expect(t.acksDuringStress).toBe(0);
    expect(t.acked).toEqual(new Array(16).fill(1));
  });

  test("main -v 4 -d 4 -e 16 -i 250: four devices' workers, LPIs round-robin over four vCPUs", () => {
    const t = runTest({ nrCpus: 4, nrDevices: 4, nrEventIds: 16, nrIterations: 250 });
    expectEveryLpiReceived(t);
    expect([...t.msiResults]).toEqual([[1, 16_000]]);
    expect(t.acked).toEqual(new Array(64).fill(1));
  });

  test("beyond upstream: -v 4 -d 4 -e 16 -i 250 with the guest spinning unmasked: its handler acknowledges LPIs while they are signalled", () => {
    const t = runTest({ nrCpus: 4, nrDevices: 4, nrEventIds: 16, nrIterations: 250, unmaskedSpin: true });
    expectEveryLpiReceived(t);
    expect([...t.msiResults]).toEqual([[1, 16_000]]);
    expect(t.acksDuringStress).toBeGreaterThan(64);
  });

  test("beyond upstream: -v 4 -d 4 -e 16 -i 250 signalled through irqfds with MSI routes, guest unmasked", () => {
    const t = runTest({ nrCpus: 4, nrDevices: 4, nrEventIds: 16, nrIterations: 250, unmaskedSpin: true, irqfd: true });
    expectEveryLpiReceived(t);
    expect(t.msiResults.size).toBe(0);
    expect(t.acksDuringStress).toBeGreaterThan(64);
  });
});
