import { z } from "zod";

/**
 * The field types the RunReport's schemas share. Each part of the report (samples.ts, checks.ts,
 * restarts.ts, fault-facts.ts, fault-outcome.ts, run-report.ts) declares its shape once, as a zod schema,
 * and takes its TypeScript type from it with `z.infer`: the reader of a report file and the code that
 * builds one cannot disagree. Objects and lists are `.readonly()`, as every part of the report is to the
 * code that reads it (a parsed report is frozen); a schema that others extend stays a plain `z.object`,
 * and its type is `Readonly<z.infer<...>>`, the type `.readonly()` would give.
 */

/** Epoch milliseconds, up to the last instant a JavaScript Date can hold. */
export const epochMs = z.number().nonnegative().max(8.64e15);

/** A duration or an offset in milliseconds. */
export const ms = z.number();

export const count = z.number().int().nonnegative();

export const name = z.string().min(1);
