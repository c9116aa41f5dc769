import { open } from "node:fs/promises";
import { usageError } from "../core/errors.js";
import { documentLimits } from "../core/input-limits.js";

/**
 * Reads a file a user named (an experiment, a report) as text, refusing what it should not try to
 * parse: something that is not a regular file, or a file over the documented size, checked on the open
 * file before a byte is read.
 */
export async function readInputFile(path: string, field: string): Promise<string> {
  const handle = await open(path, "r").catch((error: unknown) => {
    throw usageError(field, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw usageError(field, `${path} is not a regular file`);
    if (stats.size > documentLimits.fileBytes) {
      throw usageError(
        field,
        `${path} is ${stats.size} bytes; files of at most ${documentLimits.fileBytes} bytes (1 MiB) are read`,
      );
    }
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
