/**
 * A QEMU-like machine: one `qemu-system-aarch64` / `qemu-system-riscv64`
 * process running a `virt` board under KVM, as a library object.
 *
 * {@link Machine.create} does what QEMU's qemu_init() does, phase by phase
 * (include/hw/qdev-core.h MachineInitPhase): the machine object, the
 * accelerator (KVM_CREATE_VM), board init (RAM, CPUs, the in-kernel irqchip,
 * devices), machine-init-done notifiers (late KVM set-up, the device tree,
 * whatever a caller registered, e.g. passthrough devices' irqfds), a system
 * reset, and — without `-S` — vm_start(). Time then runs with
 * {@link Machine.run} (or the host's run for several machines at once).
 *
 * vCPU threads run kvm_cpu_exec (core/vcpu-thread.ts); the machine answers
 * their exits: MMIO to its address space, system events as shutdown or
 * reset requests, the SBI console, FAIL_ENTRY by its policy. A vCPU thread
 * returning -1 stops the VM in RUN_STATE_INTERNAL_ERROR after dumping the
 * vCPU state, as kvm_cpu_exec does. Run-state changes are reported as QMP
 * events to listeners.
 */

import {
  KVM_SYSTEM_EVENT_CRASH,
  KVM_SYSTEM_EVENT_RESET,
  KVM_SYSTEM_EVENT_SHUTDOWN,
  SBI_EXT_0_1_CONSOLE_PUTCHAR,
  SBI_EXT_DBCN,
  SBI_SUCCESS,
  type FailEntryExit,
  type GuestImage,
  type MmioExit,
  type RiscvSbiExit,
  type SystemEventExit,
  type Vcpu,
  type Vm,
} from "@irqlab/kvm";
import { ConfigError, MMIO_UNHANDLED, MmioBus, type AccessSize, type EventQueue, type Nanoseconds, type Tracer } from "@irqlab/sim";
import { ArmVirtBoard } from "./boards/arm-virt-board.js";
import type { Board, BoardCpuSlot } from "./boards/board.js";
import { RiscvVirtBoard } from "./boards/riscv-virt-board.js";
import type { DeviceConfig, MachineConfig } from "./config/machine-config.js";
import type { VirtCpuHotplug } from "./devices/cpu-hotplug-virt.js";
import { pinNextHostCpu } from "./core/fail-entry.js";
import { InitPhaseTracker, type MachineInitPhase } from "./core/init-phase.js";
import { KvmCallLog } from "./core/kvm-call-log.js";
import type { MachineEvent, MachineEventListener, ShutdownCause } from "./core/machine-events.js";
import { checkRunStateTransition, type RunState } from "./core/run-state.js";
import { VcpuThread, type VcpuThreadMachine } from "./core/vcpu-thread.js";
import { MachineHost } from "./host/machine-host.js";
import type { DeviceContext } from "./wiring/device-context.js";
import { KvmRoutes } from "./wiring/kvm-routes.js";
import { MachinePci, PCI_DEVICE_DRIVERS } from "./wiring/pci-devices.js";
import { plugVfioPlatformDevice } from "./wiring/vfio-platform-kvm.js";

/** Options of {@link Machine.create}. */
export interface MachineOptions {
  /** The resolved configuration (the command-line parser's output, or written by hand). */
  readonly config: MachineConfig;
  /** The host to run on (default: a new one from `config.host`); share one between machines. */
  readonly host?: MachineHost;
  /** The guest image `-kernel` names, already loaded. Without one the CPUs execute nothing (an idle loop). */
  readonly kernel?: GuestImage;
  /** Console output (UART, SBI console), as text. */
  readonly console?: (text: string) => void;
  /** Record a trace (only when the machine creates its host). */
  readonly trace?: boolean;
  /** Device drivers beyond the built-in ones (the PCI functions, vfio-platform), by `-device` driver name. */
  readonly drivers?: ReadonlyMap<string, DevicePlug>;
  /** Machine-init-done notifiers to register before init (qemu_add_machine_init_done_notifier). */
  readonly machineInitDone?: readonly ((m: Machine) => void)[];
}

/** strerror() of the errnos a vCPU plug can fail with. */
function strerror(code: string): string {
  const texts: Record<string, string> = { EBUSY: "Device or resource busy", EINVAL: "Invalid argument", EEXIST: "File exists", ENOMEM: "Cannot allocate memory" };
  return texts[code] ?? code;
}

/** Plugs one `-device` of a driver into a machine (called during board init). */
export type DevicePlug = (ctx: DeviceContext, device: DeviceConfig) => void;

/** Why {@link Machine.run} returned. */
export type MachineRunEnd = "until" | "shutdown" | "internal-error" | "guest-panicked" | "paused" | "idle";

/** A vCPU of the machine as `info cpus` / query-cpus-fast show it. */
export interface MachineCpu {
  readonly index: number;
  readonly archId: number;
  readonly vcpu: Vcpu;
  readonly thread: VcpuThread;
}

/** One QEMU-like virt machine under KVM. */
export class Machine implements VcpuThreadMachine {
  readonly config: MachineConfig;
  readonly host: MachineHost;
  /** The machine's name (`-name`, else "vm<index on the host>"). */
  readonly name: string;
  /** Virtual time at which the machine was created (QMP event timestamps count from it). */
  readonly createdAt: Nanoseconds;
  /** The ioctls the machine issued, by init phase. */
  readonly calls: KvmCallLog;
  /** The address space of everything KVM hands to userspace (KVM_EXIT_MMIO). */
  readonly bus = new MmioBus();
  /** Internal errors: the vCPU state dump and the reason, as kvm_cpu_exec prints them. */
  readonly errors: string[] = [];
  /** FAIL_ENTRY handled by the pin-next policy: re-pins made. */
  repins = 0;
  readonly #phases = new InitPhaseTracker();
  readonly #board: ArmVirtBoard | RiscvVirtBoard;
  readonly #threads = new Map<number, VcpuThread>();
  readonly #listeners: MachineEventListener[] = [];
  readonly #notifiers: ((m: Machine) => void)[] = [];
  readonly #resetHandlers: (() => void)[] = [];
  readonly #extraDrivers: ReadonlyMap<string, DevicePlug>;
  #pci: MachinePci | undefined;
  /** The GED and CPU hotplug block (arm64 with x-cpu-hotplug=precreate|naive). */
  #cpuHotplug: VirtCpuHotplug | undefined;
  /** device_add ids of hotplugged CPUs, by slot. */
  readonly #cpuIds = new Map<number, string>();
  readonly #kernel: GuestImage | undefined;
  readonly #console: (text: string) => void;
  #runState: RunState = "prelaunch";
  #resetPending: ShutdownCause | undefined;
  readonly #doReset = (): void => {
    const reason = this.#resetPending;
    if (reason === undefined) return;
    this.#resetPending = undefined;
    this.systemReset(reason);
    if (this.#runState === "running") for (const t of this.#threads.values()) t.resume();
  };
  readonly #consoleLine: number[] = [];
  readonly #consoleBytes: number[] = [];
  readonly #decoder = new TextDecoder();

  private constructor(options: MachineOptions) {
    const config = options.config;
    this.config = config;
    this.#kernel = options.kernel;
    this.#console = options.console ?? (() => undefined);
    this.#notifiers.push(...(options.machineInitDone ?? []));
    this.#extraDrivers = new Map<string, DevicePlug>([
      [
        "vfio-platform",
        (ctx, d) => {
          plugVfioPlatformDevice(ctx, d);
        },
      ],
      ...(options.drivers ?? []),
    ]);
    this.#phases.advance("PHASE_MACHINE_CREATED");
    this.host =
      options.host ??
      new MachineHost({
        arch: config.arch,
        ...config.host,
        trace: options.trace ?? false,
        ...("vgicInit" in config.machine && config.machine.vgicInit === "first-run" ? { vgicInitMode: "lazy-init" as const } : {}),
      });
    if ((this.host.arch === "arm64") !== (config.arch === "aarch64")) throw new ConfigError(`a ${config.arch} machine cannot run on a ${this.host.arch} host`);
    this.name = config.name ?? `vm${this.host.kvm.vms.length}`;
    this.createdAt = this.host.queue.now;
    this.calls = new KvmCallLog(() => this.#phases.phase);
    const ctx = {
      config,
      host: this.host,
      calls: this.calls,
      bus: this.bus,
      console: (b: number) => {
        this.#out(b);
      },
      name: this.name,
      // arm64 with an ITS: MSI routes carry the requester id (kvm_msi_use_devid, set by kvm_arm_its_realize).
      routes: (vm: Vm) => new KvmRoutes(vm, this.calls, config.arch === "aarch64" && "its" in config.machine && config.machine.its),
    };
    this.#board = config.arch === "aarch64" ? new ArmVirtBoard(ctx) : new RiscvVirtBoard(ctx);
    this.#phases.advance("PHASE_ACCEL_CREATED");
    this.#phases.advance("PHASE_LATE_BACKENDS_CREATED");
  }

  /**
   * Creates the machine as QEMU's qemu_init() does, up to PHASE_MACHINE_READY,
   * resets it, and starts the vCPUs unless `-S` (config.startPaused).
   * @throws KvmError when an ioctl fails as KVM would make it fail (QEMU exits).
   * @throws ConfigError for a configuration irqlab cannot model.
   */
  static create(options: MachineOptions): Machine {
    const m = new Machine(options);
    m.#boardInit();
    m.#machineReady();
    m.systemReset("none", false);
    if (!options.config.startPaused) m.cont();
    return m;
  }

  // ---- state ------------------------------------------------------------------

  /** The VM fd. */
  get vm(): Vm {
    return this.#board.vm;
  }
  /** The board (layout, UART, device tree). */
  get board(): Board {
    return this.#board;
  }
  /** The shared clock. */
  get queue(): EventQueue {
    return this.host.queue;
  }
  /** The tracer. */
  get tracer(): Tracer {
    return this.host.tracer;
  }
  /** The current init phase. */
  get phase(): MachineInitPhase {
    return this.#phases.phase;
  }
  /** QEMU's RunState. */
  get runState(): RunState {
    return this.#runState;
  }
  /** The device tree the guest boots with. */
  get fdt(): Uint8Array {
    return this.#board.fdt;
  }
  /** The PCIe host bridge and its functions. */
  get pci(): MachinePci {
    return this.#pci!;
  }
  /** The CPU slots (possible_cpus). */
  get slots(): readonly BoardCpuSlot[] {
    return this.#board.slots;
  }
  /** The plugged CPUs, by cpu_index. */
  get cpus(): MachineCpu[] {
    return [...this.#threads.entries()].sort((a, b) => a[0] - b[0]).map(([index, thread]) => ({ index, archId: this.#board.slots[index]!.archId, vcpu: thread.vcpu, thread }));
  }
  /** Console output so far. */
  get consoleText(): string {
    return this.#decoder.decode(Uint8Array.from(this.#consoleBytes));
  }

  /** Listens to the machine's QMP events. */
  onEvent(listener: MachineEventListener): void {
    this.#listeners.push(listener);
  }

  /** qemu_add_machine_init_done_notifier(): runs now if the machine is already ready. */
  addMachineInitDoneNotifier(n: (m: Machine) => void): void {
    if (this.#phases.check("PHASE_MACHINE_READY")) n(this);
    else this.#notifiers.push(n);
  }

  /** qemu_register_reset(): `fn` runs at every system reset, after the board's devices. */
  addResetHandler(fn: () => void): void {
    this.#resetHandlers.push(fn);
  }

  /** What a `-device` plugged into this machine works with. */
  deviceContext(): DeviceContext {
    return {
      arch: this.config.arch,
      name: this.name,
      kvm: this.host.kvm,
      vm: this.vm,
      bus: this.bus,
      queue: this.queue,
      tracer: this.tracer,
      calls: this.calls,
      routes: this.#board.routes,
      platformBus: this.#board.platformBus,
      addMachineInitDoneNotifier: (fn) => {
        this.addMachineInitDoneNotifier(() => {
          fn();
        });
      },
      addResetHandler: (fn) => {
        this.addResetHandler(fn);
      },
      allocateHostIrqs: (n) => this.host.allocateHostIrqs(n),
    };
  }

  // ---- CPU hotplug ----------------------------------------------------------

  /**
   * `device_add` of a CPU into absent slot `index` (arm64). With
   * x-cpu-hotplug=precreate the slot's vCPU was created, initialised and
   * parked at machine init: it is unparked and its thread started (the guest
   * brings it up with PSCI CPU_ON). With x-cpu-hotplug=naive the vCPU is
   * created now, which KVM refuses once the vgic is initialised (EBUSY), and
   * the realize fails as QEMU's kvm_init_vcpu reports it. Once plugged, the
   * CPU hotplug block flags an insert event and the GED interrupts the guest
   * (acpi_cpu_plug_cb); `id` is the device's id (device_add's "id").
   * @throws ConfigError with QEMU's message when the plug fails.
   */
  plugCpu(index: number, id?: string): MachineCpu {
    const slot = this.#board.slots[index];
    const mode = "cpuHotplug" in this.config.machine ? this.config.machine.cpuHotplug : "off";
    if (slot === undefined) throw new ConfigError(`CPU slot ${index} does not exist (maxcpus is ${this.#board.slots.length})`);
    if (!this.#phases.check("PHASE_MACHINE_READY")) throw new ConfigError("CPU hotplug is only possible once the machine is ready");
    if (mode === "off") throw new ConfigError(`CPU hotplug is not supported by this machine (-M virt,x-cpu-hotplug=precreate|naive enables it)`);
    if (this.#threads.has(index)) throw new ConfigError(`CPU slot ${index} is already plugged`);
    let thread: VcpuThread;
    try {
      thread = this.#plug(slot);
    } catch (e) {
      const code = (e as { code?: unknown; message?: unknown }).code;
      if (typeof code !== "string") throw e;
      // kvm_init_vcpu(): error_setg_errno(errp, -ret, "kvm_init_vcpu: kvm_create_vcpu failed (%lu)", vcpu id).
      throw new ConfigError(`kvm_init_vcpu: kvm_create_vcpu failed (${slot.vcpuId}): ${strerror(code)}`);
    }
    if (this.#board instanceof ArmVirtBoard && mode === "naive") this.#board.postInitVcpu(thread.vcpu);
    if (id !== undefined) this.#cpuIds.set(index, id);
    this.#cpuHotplug?.cpus.plug(index);
    return { index, archId: slot.archId, vcpu: thread.vcpu, thread };
  }

  /**
   * `device_del` of a plugged CPU (virt_cpu_unplug_request in the arm vCPU
   * hotplug RFCs, then acpi_cpu_unplug_request_cb): the CPU hotplug block
   * flags a remove event and the GED interrupts the guest. Nothing is
   * removed yet: the guest takes the CPU offline (PSCI CPU_OFF) and writes
   * the eject flag, and then the machine unplugs it ({@link unplugCpu},
   * DEVICE_DELETED).
   * @throws ConfigError with QEMU's message when the request is refused.
   */
  requestUnplugCpu(index: number): void {
    const slot = this.#board.slots[index];
    if (slot === undefined) throw new ConfigError(`CPU slot ${index} does not exist (maxcpus is ${this.#board.slots.length})`);
    const hp = this.#cpuHotplug;
    if (hp === undefined) throw new ConfigError("CPU hot(un)plug not supported on this machine");
    if (!this.#threads.has(index)) throw new ConfigError(`CPU slot ${index} is not plugged`);
    if (index === 0 && this.#board instanceof ArmVirtBoard) {
      const c = this.#board.layout.cpus[0]!;
      throw new ConfigError(`Boot CPU(id0=${c.socket}:${c.cluster}:${c.core}:${c.thread}) hot-unplug not supported`);
    }
    hp.cpus.unplugRequest(index);
  }

  /**
   * `device_del` of a CPU once the guest has taken it offline: its thread
   * ends and the vCPU is parked (KVM has no way to destroy a vCPU; QEMU keeps
   * the fd for a later plug). The guest's eject write to the CPU hotplug
   * block calls it (hotplug_handler_unplug).
   */
  unplugCpu(index: number): void {
    const t = this.#threads.get(index);
    if (t === undefined) throw new ConfigError(`CPU slot ${index} is not plugged`);
    t.stop();
    this.#threads.delete(index);
    this.#cpuHotplug?.cpus.unplug(index);
    const id = this.#cpuIds.get(index);
    this.#cpuIds.delete(index);
    this.#emit({ event: "DEVICE_DELETED", data: id === undefined ? { path: `/machine/peripheral-anon/cpu${index}` } : { device: id, path: `/machine/peripheral/${id}` } });
  }

  // ---- run control ----------------------------------------------------------

  /**
   * Runs virtual time for `ns` nanoseconds (Infinity: until nothing is left to
   * happen) or until the machine stops (shutdown, internal error, pause).
   */
  run(ns: Nanoseconds = Number.POSITIVE_INFINITY): MachineRunEnd {
    const until = ns === Number.POSITIVE_INFINITY ? ns : this.queue.now + ns;
    const end = this.host.run(until, () => this.#runState !== "running");
    if (end === "done") return this.#runState === "prelaunch" ? "paused" : (this.#runState as MachineRunEnd);
    return end;
  }

  /** vm_start() / QMP cont: the vCPUs run. */
  cont(): void {
    if (this.#runState === "running") return;
    this.#setRunState("running");
    this.#emit({ event: "RESUME", data: {} });
    for (const t of this.#threads.values()) t.resume();
  }

  /** vm_stop(RUN_STATE_PAUSED) / QMP stop. */
  stop(): void {
    this.#vmStop("paused");
  }

  /**
   * qemu_system_reset(): devices, the irqchip and every CPU to their reset
   * state; the boot CPU starts the guest image again. `guest` says whether the
   * guest asked for it (SYSTEM_RESET / SRST) or the host (QMP system_reset).
   */
  systemReset(reason: ShutdownCause, emit = true): void {
    // QEMU resets the qdev tree depth-first, and a bus lists its children newest
    // first (hw/core/qdev.c bus_add_child: QTAILQ_INSERT_HEAD_RCU), so devices
    // realized later reset earlier: the PCI host (created after the GIC and its
    // ITS in machvirt_init) with its vfio-pci functions, whose MSI-X teardown
    // deassigns their irqfds (vfio_pci_reset → vfio_msix_disable), and the
    // -device ones, all before the board's irqchip (kvm_arm_its_reset_hold).
    for (let i = this.#resetHandlers.length - 1; i >= 0; i--) this.#resetHandlers[i]!();
    this.#board.reset();
    for (const [index, t] of this.#threads) this.#resetCpu(index, t.vcpu);
    if (emit) this.#emit({ event: "RESET", data: { guest: reason === "guest-reset", reason } });
  }

  /**
   * qemu_system_reset_request(): the main loop pauses every vCPU, resets the
   * machine and resumes them. From a vCPU thread (a guest SYSTEM_RESET) the
   * reset happens once every vCPU is out of KVM_RUN.
   */
  requestReset(reason: ShutdownCause): void {
    if (this.#resetPending !== undefined) return;
    this.#resetPending = reason;
    for (const t of this.#threads.values()) t.kick();
    this.host.wakeRunLoop();
    this.queue.scheduleWhenUnlimited(this.#doReset, undefined);
  }

  /**
   * qemu_system_powerdown_request() as the main loop serves it: the POWERDOWN
   * event. The board's power button (arm virt: the GPIO key or the GED;
   * riscv virt has none) is not modelled, so the guest is not told and
   * nothing else happens, as with a QEMU guest that ignores the button.
   */
  powerdown(): void {
    this.#emit({ event: "POWERDOWN", data: {} });
  }

  /** qemu_system_shutdown_request(): the machine powers off (SHUTDOWN event; QEMU then exits). */
  shutdown(reason: ShutdownCause): void {
    if (this.#runState === "shutdown") return;
    this.#emit({ event: "SHUTDOWN", data: { guest: reason === "guest-shutdown" || reason === "guest-panic", reason } });
    this.#vmStop("shutdown", false);
  }

  // ---- VcpuThreadMachine ------------------------------------------------------

  vcpusMayRun(): boolean {
    return this.#runState === "running" && this.#resetPending === undefined;
  }

  mmio(e: MmioExit, _cpu: number): void {
    const bus = this.bus;
    if (e.isWrite) {
      if (!bus.write(e.physAddr, e.len, e.value, e.len === 8 ? e.hi : 0)) this.#unassigned(e);
      return;
    }
    const v = bus.read(e.physAddr, e.len);
    if (v === MMIO_UNHANDLED) {
      this.#unassigned(e);
      e.clear(); // unassigned_mem_read: 0
      return;
    }
    e.value = v;
    if (e.len === 8) e.hi = bus.readHi;
  }

  quietLoad(addr: number, size: AccessSize): boolean {
    return this.bus.quietRead(addr, size);
  }

  systemEvent(e: SystemEventExit, _cpu: number): void {
    // kvm_cpu_exec: SHUTDOWN → qemu_system_shutdown_request(GUEST_SHUTDOWN); RESET → reset request; CRASH → guest panicked.
    switch (e.type) {
      case KVM_SYSTEM_EVENT_SHUTDOWN:
        this.shutdown("guest-shutdown");
        return;
      case KVM_SYSTEM_EVENT_RESET:
        this.requestReset("guest-reset");
        return;
      case KVM_SYSTEM_EVENT_CRASH:
        this.#emit({ event: "GUEST_PANICKED", data: { action: "pause" } });
        this.#vmStop("guest-panicked");
        return;
      default:
        this.errors.push(`KVM_EXIT_SYSTEM_EVENT type ${e.type} is not handled`);
    }
  }

  sbi(e: RiscvSbiExit, _cpu: number): boolean {
    // kvm_riscv_handle_sbi: the legacy console and the debug console (DBCN write_byte / write).
    if (e.extensionId === SBI_EXT_0_1_CONSOLE_PUTCHAR) {
      this.#out(e.args[0]! & 0xff);
      e.ret[0] = 0;
      return true;
    }
    if (e.extensionId === SBI_EXT_DBCN) {
      if (e.functionId === 2) {
        this.#out(e.args[0]! & 0xff);
        e.ret[0] = SBI_SUCCESS;
        return true;
      }
      if (e.functionId === 0) {
        const len = e.args[0]!;
        const addr = e.args[1]! + e.args[2]! * 2 ** 32;
        for (const b of this.vm.memory.read(addr, len)) this.#out(b);
        e.ret[0] = SBI_SUCCESS;
        e.ret[1] = len;
        return true;
      }
    }
    return false;
  }

  failEntry(e: FailEntryExit, thread: VcpuThread): boolean {
    const policy = this.config.accel.failEntry;
    if (policy === "pin-next" && this.config.arch === "riscv64") {
      const next = pinNextHostCpu(e, this.host.config.harts);
      if (next < 0) return false;
      thread.vcpu.setThreadAffinity([next]);
      this.repins++;
      return true;
    }
    return false;
  }

  internalError(thread: VcpuThread, why: string): void {
    // kvm_cpu_exec: ret < 0 → cpu_dump_state(cpu, stderr, CPU_DUMP_CODE); vm_stop(RUN_STATE_INTERNAL_ERROR).
    this.errors.push(`${this.name}: ${thread.name}: ${why} (host CPU ${thread.vcpu.hostCpu}, mp_state ${thread.vcpu.getMpState()})`);
    this.#vmStop("internal-error");
  }

  threadBlocked(thread: VcpuThread, blocked: boolean): void {
    const sched = this.host.placement;
    const t = sched.threadOf(thread.vcpu);
    if (blocked) this.host.scheduler.sleep(t);
    else if (t.state === "sleeping") this.host.scheduler.wake(t);
  }

  // ---- init -------------------------------------------------------------------

  #boardInit(): void {
    this.#board.init();
    this.#plugDevices();
    const b = this.#board;
    if (b instanceof ArmVirtBoard) {
      this.#cpuHotplug = b.createCpuHotplug({
        eject: (slot) => {
          this.unplugCpu(slot);
        },
        ost: (info) => {
          this.#emit({ event: "ACPI_DEVICE_OST", data: { info } });
        },
        deviceId: (slot) => this.#cpuIds.get(slot),
      });
    }
    for (const s of b.slots) {
      if (!s.present) continue;
      this.#plug(s);
      this.#cpuHotplug?.cpus.coldPlug(s.index);
    }
    this.#phases.advance("PHASE_MACHINE_INITIALIZED");
  }

  /** The -device list, in order (qdev_device_add for each cold-plugged device). */
  #plugDevices(): void {
    const ctx = this.deviceContext();
    for (const d of this.config.devices) {
      if (d.driver in PCI_DEVICE_DRIVERS) {
        this.#pci ??= new MachinePci(ctx, this.#board.pcie.ecam, this.config.accel.gicv4);
        this.#pci.plug(d);
      } else {
        const plug = this.#extraDrivers.get(d.driver);
        if (plug === undefined) throw new ConfigError(`'${d.driver}' is not a valid device model name`);
        plug(ctx, d);
      }
    }
    this.#pci ??= new MachinePci(ctx, this.#board.pcie.ecam, this.config.accel.gicv4);
  }

  #machineReady(): void {
    // qdev_machine_creation_done(): phase_advance(PHASE_MACHINE_READY), then the
    // notifiers in registration order, the board's own (kvm_arm_machine_init_done, virt_machine_done) first.
    this.#phases.advance("PHASE_MACHINE_READY");
    this.#board.machineInitDone();
    for (const n of this.#notifiers.splice(0)) n(this);
  }

  #plug(slot: BoardCpuSlot): VcpuThread {
    const vcpu = this.#board.createVcpu(slot);
    const thread = new VcpuThread(this, slot.index, vcpu);
    this.#threads.set(slot.index, thread);
    if (this.#kernel !== undefined) vcpu.loadGuest(this.#kernel, this.#board.bootRegs(slot));
    thread.start();
    return thread;
  }

  #resetCpu(index: number, vcpu: Vcpu): void {
    const slot = this.#board.slots[index]!;
    this.#board.resetCpu(slot, vcpu);
    if (this.#kernel !== undefined) vcpu.loadGuest(this.#kernel, this.#board.bootRegs(slot));
  }

  #vmStop(state: RunState, emitStop = true): void {
    if (this.#runState === state) return;
    const wasRunning = this.#runState === "running";
    this.#setRunState(state);
    // pause_all_vcpus(): every thread is kicked out of KVM_RUN and waits.
    for (const t of this.#threads.values()) t.kick();
    if (wasRunning && emitStop) this.#emit({ event: "STOP", data: {} });
    this.host.wakeRunLoop();
  }

  #setRunState(s: RunState): void {
    checkRunStateTransition(this.#runState, s);
    this.#runState = s;
    if (this.tracer.enabled) this.tracer.instant(this.tracer.track("machine", this.name, "device"), "machine", "runstate", { state: s });
  }

  #emit(e: MachineEvent): void {
    const at = this.queue.now;
    for (const l of this.#listeners) l(e, at);
  }

  #unassigned(e: MmioExit): void {
    this.tracer.guestError(this.tracer.track("machine", this.name, "device"), `${this.name}:unassigned`, `${e.isWrite ? "write" : "read"} of ${e.len} bytes at 0x${e.physAddr.toString(16)}: no device`);
  }

  /** A console byte; the console callback gets whole lines (UTF-8 decoded). */
  #out(byte: number): void {
    this.#consoleBytes.push(byte);
    this.#consoleLine.push(byte);
    if (byte === 0x0a) this.flushConsole();
  }

  /** Hands a partial console line to the console callback (at the end of a run). */
  flushConsole(): void {
    if (this.#consoleLine.length === 0) return;
    this.#console(this.#decoder.decode(Uint8Array.from(this.#consoleLine.splice(0))));
  }
}
