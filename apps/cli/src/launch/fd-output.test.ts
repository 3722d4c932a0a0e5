import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { fdOutput, type WriteFd } from "./fd-output.js";

/** An errno error as writeSync throws it. */
function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: write`), { code });
}

/** A stream that keeps what is written to it. */
function keeper(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

describe("fdOutput", () => {
  test("writes the text's UTF-8 bytes to the descriptor, in order", () => {
    const dir = mkdtempSync(join(tmpdir(), "irqlab-fd-output-"));
    try {
      const file = join(dir, "out");
      const fd = openSync(file, "w");
      const out = fdOutput(fd, () => {
        throw new Error("the stream is taken only on EAGAIN");
      });
      out("PASS: 8192 µs\n");
      out("");
      out("EXIT → 1\n");
      closeSync(fd);
      expect(readFileSync(file, "utf8")).toBe("PASS: 8192 µs\nEXIT → 1\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("goes on after a partial write from where it stopped; writes nothing for empty text", () => {
    const got: string[] = [];
    const write: WriteFd = (_fd, bytes, offset, length) => {
      const n = Math.min(length, 3);
      got.push(Buffer.from(bytes.subarray(offset, offset + n)).toString("latin1"));
      return n;
    };
    const out = fdOutput(1, () => process.stdout, write);
    out("");
    expect(got).toEqual([]);
    out("abcdefgh");
    expect(got).toEqual(["abc", "def", "gh"]);
  });

  test("EAGAIN: the rest of the write and every later one go to the stream", () => {
    const k = keeper();
    const written: string[] = [];
    let calls = 0;
    const write: WriteFd = (_fd, bytes, offset) => {
      if (++calls === 2) throw errno("EAGAIN");
      written.push(Buffer.from(bytes.subarray(offset, offset + 2)).toString("latin1"));
      return 2;
    };
    const out = fdOutput(1, () => k.stream, write);
    out("abcdef");
    out("gh\n");
    expect(written).toEqual(["ab"]);
    expect(calls).toBe(2);
    expect(k.text()).toBe("cdefgh\n");
  });

  test("EPIPE or EBADF: no more output, and no error", () => {
    for (const code of ["EPIPE", "EBADF"]) {
      let calls = 0;
      const write: WriteFd = () => {
        calls++;
        throw errno(code);
      };
      const out = fdOutput(1, () => process.stdout, write);
      expect(() => {
        out("one\n");
        out("two\n");
      }).not.toThrow();
      expect(calls, code).toBe(1);
    }
  });

  test("an error on the stream it went on with stops the output too", () => {
    let failed = false;
    let taken = 0;
    const stream = new Writable({
      write(_chunk, _enc, done) {
        taken++;
        done(failed ? errno("EPIPE") : null);
      },
    });
    const out = fdOutput(1, () => stream, () => {
      throw errno("EAGAIN");
    });
    out("first\n");
    failed = true;
    out("second\n");
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        out("third\n");
        expect(taken).toBe(2);
        resolve();
      });
    });
  });
});
