/**
 * Host file errors as the C library words them: QEMU prints strerror(errno)
 * (and glib's g_file_set_contents its own sentence around it), where Node
 * gives "ENOENT: no such file or directory, open '…'". Node 20 has no
 * strerror of its own (util.getSystemErrorMessage arrived in Node 22.12), so
 * the few errors a file write can meet are spelled here as glibc spells them.
 */

const STRERROR: Readonly<Record<string, string>> = {
  EACCES: "Permission denied",
  EEXIST: "File exists",
  EFBIG: "File too large",
  EIO: "Input/output error",
  EISDIR: "Is a directory",
  ELOOP: "Too many levels of symbolic links",
  EMFILE: "Too many open files",
  ENAMETOOLONG: "File name too long",
  ENOENT: "No such file or directory",
  ENOSPC: "No space left on device",
  ENOTDIR: "Not a directory",
  EPERM: "Operation not permitted",
  EROFS: "Read-only file system",
  ETXTBSY: "Text file busy",
};

/** strerror() of a Node file-system error, or its message when the code is not one of the above. */
export function strerror(e: unknown): string {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") {
    const text = STRERROR[e.code];
    if (text !== undefined) return text;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The error code of a Node file-system error ("ENOENT"), if it has one. */
export function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string" ? e.code : undefined;
}
