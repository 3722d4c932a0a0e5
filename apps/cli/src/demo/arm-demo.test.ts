import { DEFAULT_COSTS } from "@irqlab/kvm";
import { describe, expect, test } from "vitest";
import { runArmDemo } from "./arm-demo.js";

describe("runArmDemo: eventfd → irqfd → vgic-v3 → guest IAR/EOI", () => {
  test("every device signal is taken once as SPI 40, with the cost model's latency", () => {
    const r = runArmDemo({ seed: 7, trace: false });
    expect(r.interrupts).toHaveLength(5);
    const c = DEFAULT_COSTS;
    for (const x of r.interrupts) {
      expect(x.intid).toBe(40);
      // Blocked in WFI: wake-up, exception entry, then the ICC_IAR1_EL1 read (no trap).
      expect(x.acknowledged - x.signalled).toBe(c.wakeup + c.interruptInjection + c.sysregNoTrap);
      // 2 us of handler work, then ICC_EOIR1_EL1.
      expect(x.completed - x.acknowledged).toBe(2_000 + c.sysregNoTrap);
    }
    const times = r.interrupts.map((x) => x.signalled);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(r.summary).toMatch(/5 interrupts taken, 5 irqfd injections/);
    expect(r.summary).toMatch(/KVM_EXIT_INTR \(idle\)/);
  });

  test("deterministic: the same seed gives the same summary and trace; another seed other timings", () => {
    const a = runArmDemo({ seed: 3, trace: true });
    const b = runArmDemo({ seed: 3, trace: true });
    expect(a.summary).toBe(b.summary);
    expect(a.tracer.toText()).toBe(b.tracer.toText());
    expect(a.tracer.events().some((e) => e.name === "kvm_set_irq")).toBe(true);
    expect(a.tracer.events().filter((e) => e.name === "irq-taken")).toHaveLength(5);
    const c = runArmDemo({ seed: 4, trace: false });
    expect(c.interrupts.map((x) => x.signalled)).not.toEqual(a.interrupts.map((x) => x.signalled));
  });
});
