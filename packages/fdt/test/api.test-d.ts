/**
 * The public API of @irqlab/fdt as a user compiles against it: the value
 * exports, the writer/reader/printer signatures, the header constants of
 * Devicetree Specification v0.4 §5.2, and misuse the types reject. Checked
 * (never run) by vitest's typecheck project against the built declarations,
 * and by this package's `tsc --noEmit` against the sources.
 */
import * as fdt from "@irqlab/fdt";
import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_HEADER_SIZE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_NOP,
  FDT_PROP,
  FDT_VERSION,
  FdtError,
  FdtHeaderOffset,
  FdtNode,
  FdtWriter,
  parseFdt,
  toDts,
  writeFdt,
  type DtsOptions,
  type Fdt,
  type FdtMemReserve,
  type FdtWriterOptions,
} from "@irqlab/fdt";
import { describe, expectTypeOf, test } from "vitest";

/** Every value export: adding or removing one fails here until this list is updated. */
type ValueExports =
  | "FDT_BEGIN_NODE" | "FDT_END" | "FDT_END_NODE" | "FDT_FIRST_SUPPORTED_VERSION" | "FDT_HEADER_SIZE"
  | "FDT_LAST_COMP_VERSION" | "FDT_MAGIC" | "FDT_MAX_DEPTH" | "FDT_MAX_NAME_LENGTH" | "FDT_NOP" | "FDT_PROP"
  | "FDT_VERSION" | "FdtError" | "FdtHeaderOffset" | "FdtNode" | "FdtWriter" | "formatDtsValue" | "parseFdt"
  | "toDts" | "writeFdt";

describe("@irqlab/fdt public API", () => {
  test("the value exports are exactly the pinned list", () => {
    expectTypeOf<Exclude<keyof typeof fdt, ValueExports>>().toBeNever(); // exported, not pinned
    expectTypeOf<Exclude<ValueExports, keyof typeof fdt>>().toBeNever(); // pinned, not exported
  });

  test("the header and token constants are the specification's literals (§5.1, §5.4.1)", () => {
    expectTypeOf<typeof FDT_MAGIC>().toEqualTypeOf<0xd00dfeed>();
    expectTypeOf<typeof FDT_VERSION>().toEqualTypeOf<17>();
    expectTypeOf<typeof FDT_LAST_COMP_VERSION>().toEqualTypeOf<16>();
    expectTypeOf<typeof FDT_HEADER_SIZE>().toEqualTypeOf<40>();
    expectTypeOf([FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END] as const).toEqualTypeOf<readonly [1, 2, 3, 4, 9]>();
    expectTypeOf(FdtHeaderOffset.magic).toEqualTypeOf<0>();
    expectTypeOf(FdtHeaderOffset.sizeDtStruct).toEqualTypeOf<36>();
  });

  test("FdtWriter: sequential node and property calls, then finish() to a blob", () => {
    expectTypeOf<ConstructorParameters<typeof FdtWriter>>().toEqualTypeOf<[options?: FdtWriterOptions | undefined]>();
    expectTypeOf<FdtWriterOptions>().toEqualTypeOf<{ bootCpuidPhys?: number }>();
    expectTypeOf<FdtWriter["beginNode"]>().toEqualTypeOf<(name: string) => void>();
    expectTypeOf<FdtWriter["propertyU64"]>().toEqualTypeOf<(name: string, value: number | bigint) => void>();
    expectTypeOf<FdtWriter["propertyArrayU64"]>().toEqualTypeOf<(name: string, values: readonly (number | bigint)[]) => void>();
    expectTypeOf<FdtWriter["propertyStringList"]>().toEqualTypeOf<(name: string, values: readonly string[]) => void>();
    expectTypeOf<FdtWriter["property"]>().toEqualTypeOf<(name: string, value: Uint8Array) => void>();
    expectTypeOf<FdtWriter["finish"]>().toEqualTypeOf<() => Uint8Array>();
    expectTypeOf(writeFdt).toEqualTypeOf<(fdt: Fdt) => Uint8Array>();
    const w = new FdtWriter();
    // @ts-expect-error -- a string list is an array of strings, not one string
    w.propertyStringList("compatible", "arm,gic-v3");
    // @ts-expect-error -- the option is bootCpuidPhys, as the header field boot_cpuid_phys
    new FdtWriter({ bootCpuid: 1 });
  });

  test("parseFdt and the tree it returns: lookups answer undefined when absent", () => {
    expectTypeOf(parseFdt).toEqualTypeOf<(blob: Uint8Array) => Fdt>();
    expectTypeOf<Fdt["root"]>().toEqualTypeOf<FdtNode>();
    expectTypeOf<Fdt["memReserve"]>().toEqualTypeOf<readonly FdtMemReserve[]>();
    expectTypeOf<FdtMemReserve>().toEqualTypeOf<{ readonly address: bigint; readonly size: bigint }>();
    expectTypeOf<Fdt["findNode"]>().toEqualTypeOf<(path: string) => FdtNode | undefined>();
    expectTypeOf<Fdt["nodeByPhandle"]>().toEqualTypeOf<(phandle: number) => FdtNode | undefined>();
    expectTypeOf<Fdt["findCompatible"]>().toEqualTypeOf<(compatible: string) => FdtNode[]>();
    expectTypeOf<Fdt["nodes"]>().returns.toEqualTypeOf<Generator<FdtNode>>();
    expectTypeOf<FdtNode["u32"]>().toEqualTypeOf<(name: string) => number | undefined>();
    expectTypeOf<FdtNode["u64"]>().toEqualTypeOf<(name: string) => bigint | undefined>();
    expectTypeOf<FdtNode["cells"]>().toEqualTypeOf<(name: string) => number[] | undefined>();
    expectTypeOf<FdtNode["stringList"]>().toEqualTypeOf<(name: string) => string[] | undefined>();
    expectTypeOf<FdtNode["parent"]>().toEqualTypeOf<FdtNode | undefined>();
    expectTypeOf<FdtNode["properties"]>().toEqualTypeOf<ReadonlyMap<string, Uint8Array>>();
    const tree = parseFdt(new Uint8Array(0));
    // @ts-expect-error -- the tree is read-only: a parsed header cannot be changed
    tree.version = 16;
    // @ts-expect-error -- parseFdt reads bytes, not DTS text
    parseFdt("/dts-v1/;");
  });

  test("toDts prints dtc's DTS; FdtError names the offset of a malformed blob", () => {
    expectTypeOf(toDts).toEqualTypeOf<(fdt: Fdt, options?: DtsOptions) => string>();
    expectTypeOf<DtsOptions>().toEqualTypeOf<{ stringLists?: "split" | "joined" }>();
    expectTypeOf<FdtError>().toExtend<Error>();
    expectTypeOf<FdtError["code"]>().toEqualTypeOf<"ERR_IRQLAB_FDT">();
    expectTypeOf<FdtError["offset"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<typeof FdtError.isInstance>().guards.toEqualTypeOf<FdtError>();
    // @ts-expect-error -- stringLists is "split" or "joined" (dtc >= 1.7.1 or older)
    toDts(parseFdt(new Uint8Array(0)), { stringLists: "merged" });
  });
});
