// The image registry that `-kernel irqlab:NAME` resolves against.
import { expect, test } from "vitest";
import { GUEST_IMAGE_PREFIX, guestImages, lookupGuestImage } from "../src/index.js";

test("the images, hello, smp-hello, panic-test, idle and storm for both architectures, hotplug for arm64; each create() a fresh image", () => {
  expect(Object.keys(guestImages)).toEqual(expect.arrayContaining(["hello", "hotplug", "panic-test", "smp-hello"]));
  for (const name of ["hello", "panic-test", "smp-hello"]) expect(guestImages[name]?.arch).toEqual(["aarch64", "riscv64"]);
  expect(guestImages.hotplug?.arch).toEqual(["aarch64"]);
  for (const name of ["idle", "storm"]) expect(guestImages[name]?.arch).toEqual(["aarch64", "riscv64"]);
  for (const entry of Object.values(guestImages)) {
    expect(entry.arch.length).toBeGreaterThan(0);
    expect(entry.description.length).toBeGreaterThan(20);
    const a = entry.create();
    const b = entry.create();
    expect(a).not.toBe(b);
    expect(typeof a.main).toBe("function");
  }
  expect(guestImages["smp-hello"]?.create().secondary).toBeTypeOf("function");
  expect(guestImages.hotplug?.create().vector).toBeTypeOf("function");
  expect(Object.isFrozen(guestImages)).toBe(true);
});

test("lookupGuestImage: irqlab:NAME or NAME; unknown names list what exists", () => {
  expect(GUEST_IMAGE_PREFIX).toBe("irqlab:");
  const hello = lookupGuestImage("irqlab:hello");
  expect(hello.ok && hello.name).toBe("hello");
  expect(lookupGuestImage("smp-hello", "riscv64").ok).toBe(true);
  expect(lookupGuestImage("irqlab:nope")).toEqual({
    ok: false,
    message: `unknown guest image 'nope' (known: ${Object.keys(guestImages).sort().map((k) => `irqlab:${k}`).join(", ")})`,
  });
  expect(lookupGuestImage("irqlab:toString").ok).toBe(false);
});
