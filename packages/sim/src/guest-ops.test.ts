import { describe, expect, test } from "vitest";
import { call, guestOpProblem, loopForm, newGuestResult, op, type GuestOp, type GuestResult } from "./guest-ops.js";

/** One op of every kind, as the builders make them. */
function everyBuilder(): GuestOp[] {
  const read = op.read(0x1000, 4);
  return [
    read,
    op.readSigned(0x1000, 2, 32),
    op.write(0x1000, 8, 1, 2),
    op.mrs(0x18cc00),
    op.msr(0x18cc20, 1),
    op.csrRead(0x140),
    op.csrWrite(0x140, 1),
    op.csrSet(0x140, 1),
    op.csrClear(0x140, 1),
    op.wfi(),
    op.hvc([0x84000000]),
    op.smc([0x84000000], 1),
    op.sbi(0x10, 0),
    op.compute(10),
    op.spin(10),
    op.brk(1, 0x4000),
    op.ebreak(0x4000),
    op.repeat(4, read),
    op.repeat(4, op.write(0x1000, 4, 0), 4),
    op.pollWhile(read, 1, 0, op.compute(1), 8),
    op.pollBelow(op.mrs(0x1bce40), 100, op.compute(1), 8),
    op.seq([read, op.wfi()]),
    op.call((function* () {
      yield read;
    })()),
    op.mask(),
    op.unmask(),
  ];
}

describe("op builders", () => {
  test("every op a builder makes has the same fields in the same order (one object shape for the executor)", () => {
    const ops = everyBuilder();
    const keys = Object.keys(ops[0]!);
    expect(keys).toContain("kind");
    for (const o of ops) expect(Object.keys(o)).toEqual(keys);
  });

  test("a builder sets only its kind's fields; the others stay undefined", () => {
    const w = op.write(0x1000, 8, 0xffff_ffff, 0x1_0000_0001);
    expect(w).toEqual({ kind: "mmio-write", addr: 0x1000, size: 8, value: 0xffff_ffff, hi: 1 });
    // The field is there (the shape), and holds nothing: a store has no register.
    expect(Object.keys(w)).toContain("reg");
    expect((w as unknown as Record<string, unknown>).reg).toBeUndefined();
    expect(op.readSigned(0x10, 1)).toEqual({ kind: "mmio-read", addr: 0x10, size: 1, signExtend: 64 });
    expect(op.repeat(2, op.wfi())).toEqual({ kind: "repeat", count: 2, op: { kind: "wfi" } });
  });

  test("csrs and csrc take the upper half of a 64-bit CSR's bits", () => {
    expect(op.csrSet(0x151, 0, 0x8000_0000)).toEqual({ kind: "csr", op: "csrrs", csr: 0x151, value: 0, hi: 0x8000_0000 });
    expect(op.csrClear(0x151, -1, -1)).toEqual({ kind: "csr", op: "csrrc", csr: 0x151, value: 0xffff_ffff, hi: 0xffff_ffff });
    expect(op.csrSet(0x151, 4)).toEqual({ kind: "csr", op: "csrrs", csr: 0x151, value: 4, hi: 0 });
  });

  test("an op made by hand is still checked as the builders check theirs", () => {
    expect(guestOpProblem({ kind: "repeat", count: 0, op: { kind: "wfi" } })).toBe("count 0 is not a positive integer");
    expect(guestOpProblem(op.repeat(1, op.wfi()))).toBeUndefined();
  });
});

describe("op.call in loopForm (the reference executors run)", () => {
  /** Runs `program` through loopForm, answering each load with its address; returns the ops' kinds and the return value. */
  function run<T>(program: Generator<GuestOp, T, GuestResult>): { ops: string[]; value: T } {
    const r = newGuestResult();
    const form = loopForm(program);
    const ops: string[] = [];
    let it = form.next(r);
    while (it.done !== true) {
      const o = it.value;
      ops.push(o.kind === "mmio-read" ? `r${o.addr}` : o.kind);
      r.value = o.kind === "mmio-read" ? o.addr : 0;
      it = form.next(r);
    }
    return { ops, value: it.value };
  }

  test("the called program's ops come in line; the caller gets what it returned and its last op's result", () => {
    const out = run((function* () {
      const got = yield* call((function* () {
        const a = (yield op.read(8, 4)).value;
        yield op.wfi();
        return a + (yield op.read(16, 4)).value;
      })());
      const inner = yield* call((function* () {
        return yield* call((function* () {
          return (yield op.read(4, 4)).value * 10;
        })());
      })());
      return [got, inner];
    })());
    expect(out.ops).toEqual(["r8", "wfi", "r16", "r4"]);
    expect(out.value).toEqual([24, 40]);
  });

  test("a program that returns before its first op: the caller goes on with the result it had", () => {
    const out = run((function* () {
      const before = (yield op.read(12, 4)).value;
      // eslint-disable-next-line require-yield -- a program that returns before its first op
      const r = yield op.call((function* () {
        return "none";
      })());
      return [before, r.value, r.returned];
    })());
    expect(out.ops).toEqual(["r12"]);
    expect(out.value).toEqual([12, 12, "none"]);
  });

  test("op.call refuses what is not an iterator; no compound op holds a call", () => {
    expect(() => op.call(42 as never)).toThrow("op.call: a call needs a program (an iterator of ops)");
    expect(() => op.call({} as never)).toThrow("op.call: a call needs a program (an iterator of ops)");
    expect(guestOpProblem({ kind: "call", program: { next: () => ({ done: true, value: 0 }) } } as never)).toBeUndefined();
    const c = op.call((function* () {
      yield op.wfi();
    })());
    expect(() => op.seq([op.wfi(), c])).toThrow("op.seq: a sequence cannot hold a call");
    expect(() => op.repeat(2, c as never)).toThrow("op.repeat: a repeat cannot repeat a call");
  });
});
