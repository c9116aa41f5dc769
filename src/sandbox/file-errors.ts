import { BroadsideError, type ErrorCode } from "../core/errors.js";

/**
 * A file-system error from Node: it names its system call and, for most, the path. Writing a sandbox's
 * files can fail for reasons that are not bugs (a full disk, a cache or state folder someone made
 * read-only, a damaged cache): those become the step's coded error instead of BRD_INTERNAL.
 */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  const candidate = error as { syscall?: unknown; code?: unknown } | undefined;
  return (
    error instanceof Error && typeof candidate?.syscall === "string" && typeof candidate.code === "string"
  );
}

/** Runs `work`; a file-system error it throws becomes `code`, saying what was being done and on which path. */
export async function withFileErrors<T>(code: ErrorCode, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error: unknown) {
    if (!isFileSystemError(error)) throw error;
    const where = error.path === undefined ? "" : ` ${error.path}`;
    throw new BroadsideError(
      code,
      `${what}: ${error.syscall ?? "file"}${where} failed (${error.code ?? "error"})`,
      {
        cause: error,
      },
    );
  }
}
