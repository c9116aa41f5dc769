import type { z } from "zod";

/**
 * A daemon-spawned process's `--config <json>`, from the argv its entry point passes (the proxy's, the stressor's), checked by its schema; a
 * missing, malformed or invalid one ends the process at once (exit 1, the reason on stderr).
 */
export function configArgument<Schema extends z.ZodType>(
  argv: readonly string[],
  schema: Schema,
  who: string,
): z.output<Schema> {
  const at = argv.indexOf("--config");
  let value: unknown;
  try {
    value = at < 0 ? undefined : (JSON.parse(argv[at + 1] ?? "") as unknown);
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    process.stderr.write(`broadside ${who}: --config: ${parsed.error.message}\n`);
    process.exit(1);
  }
  return parsed.data;
}
