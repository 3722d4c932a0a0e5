/**
 * A command's standard output and error, written to their file descriptors
 * with writeSync. process.stdout on a pipe is a net.Socket, whose first use
 * loads Node's net and stream modules: a few milliseconds of a short run.
 * Written here as process.stdout writes to a pipe or a terminal on Linux:
 * synchronously, in order.
 *
 * A descriptor that would block (EAGAIN: left non-blocking by a stream on
 * the same pipe, and full) hands the rest of that write, and every later
 * one, to the stream, which queues them in order. One that fails otherwise
 * (EPIPE: the reader went, as `| head` does; EBADF: closed) takes no more:
 * the command goes on without its output, as QEMU's character devices drop
 * what they cannot write, where process.stdout would have thrown an
 * unhandled 'error' event.
 */

import { writeSync } from "node:fs";

/** writeSync's form that fdOutput uses: bytes written, or a thrown errno error. */
export type WriteFd = (fd: number, bytes: Uint8Array, offset: number, length: number) => number;

/**
 * A writer of text to `fd`; `stream` is the process's stream for the same
 * descriptor (process.stdout or process.stderr), taken only on EAGAIN;
 * `write` is writeSync (tests replace it).
 */
export function fdOutput(fd: number, stream: () => NodeJS.WritableStream, write: WriteFd = writeSync): (text: string) => void {
  let to: "fd" | "stream" | "nowhere" = "fd";
  let s: NodeJS.WritableStream | undefined;
  const toStream = (rest: Uint8Array | string): void => {
    if (s === undefined) {
      s = stream();
      s.on("error", () => {
        to = "nowhere";
      });
    }
    s.write(rest);
  };
  return (text) => {
    if (text === "" || to === "nowhere") return;
    if (to === "stream") {
      toStream(text);
      return;
    }
    const bytes = Buffer.from(text, "utf8");
    let done = 0;
    try {
      while (done < bytes.length) done += write(fd, bytes, done, bytes.length - done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
        to = "stream";
        toStream(bytes.subarray(done));
      } else to = "nowhere";
    }
  };
}
