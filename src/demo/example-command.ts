import { usageError } from "../core/errors.js";

/**
 * Every file under examples/ says how to run it, on a comment line of its own:
 *
 *   # broadside run examples/x.yaml --sandbox demo --probe name=web,url=front-door://web.shop/
 *
 * The demo runs its example with exactly those arguments, and the integration tier runs every example
 * with them, so the documented command is the tested one. Arguments are split on spaces: the examples
 * keep quotes out of that line.
 */
const commandLine = /^#\s*broadside run (.+)$/m;

/** The arguments after `broadside run`, the file first. */
export function exampleRunArgs(text: string, fileName: string): string[] {
  const match = commandLine.exec(text);
  if (match?.[1] === undefined) throw usageError(fileName, 'has no "# broadside run ..." line');
  return match[1].trim().split(/\s+/);
}

/** `args` with the value of `flag` replaced (or the flag added). */
export function withFlag(args: readonly string[], flag: string, value: string): string[] {
  const at = args.indexOf(flag);
  if (at < 0) return [...args, flag, value];
  return [...args.slice(0, at + 1), value, ...args.slice(at + 2)];
}
