import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Machine } from "../src/machine.js";
import { armConfig, riscvConfig } from "./machine-config-fixture.js";

function* print(base: number, text: string): GuestProgram {
  for (const c of text) yield op.write(base, 1, c.charCodeAt(0));
}

describe("smoke", () => {
  test("arm64: a guest prints on the PL011 and powers off with PSCI SYSTEM_OFF", () => {
    const lines: string[] = [];
    const m = Machine.create({
      config: armConfig(),
      console: (t) => lines.push(t),
      kernel: {
        main: function* (regs) {
          yield* print(0x0900_0000, `dtb at 0x${regs[0]!.toString(16)}\n`);
          yield op.hvc([0x8400_0008]);
        },
      },
    });
    expect(m.runState).toBe("running");
    const end = m.run(1_000_000_000);
    expect(lines).toEqual(["dtb at 0x40000000\n"]);
    expect(end).toBe("shutdown");
  });

  test("riscv64: a guest prints through the SBI console and powers off with SRST", () => {
    const lines: string[] = [];
    const m = Machine.create({
      config: riscvConfig(),
      console: (t) => lines.push(t),
      kernel: {
        main: function* (regs) {
          for (const c of `hart ${regs[0]} dtb 0x${regs[1]!.toString(16)}\n`) yield op.sbi(0x01, 0, [c.charCodeAt(0)]);
          yield op.sbi(0x5352_5354, 0, [0, 0]);
        },
      },
    });
    expect(m.run(1_000_000_000)).toBe("shutdown");
    expect(lines[0]).toMatch(/^hart 0 dtb 0x/);
  });
});
