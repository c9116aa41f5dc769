import { usageError } from "../core/errors.js";

declare const sandboxNameBrand: unique symbol;

/**
 * A sandbox's name, checked: 1-32 lowercase letters, digits or '-', starting and ending with a letter or
 * digit. Names become directory names under the state root, so every function that builds a sandbox's
 * path takes this type, never a plain string: "", ".", "..", "a/b" cannot reach the file system.
 */
export type SandboxName = string & { readonly [sandboxNameBrand]: true };

const namePattern = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** How much of a refused name the message repeats: enough to recognise it, never a flood. */
const echoLimit = 40;

export const SandboxName = {
  /** Checks `text`; a refusal is BRD_USAGE naming `flag` (exit 2). */
  parse(text: string, flag: string): SandboxName {
    const name = SandboxName.check(text);
    if (name === undefined) {
      throw usageError(
        flag,
        `${quote(text)} must be 1-32 lowercase letters, digits or '-', starting and ending with a letter or digit (a sandbox name is a directory name)`,
      );
    }
    return name;
  },

  /** The name, or undefined when `text` is not one (for directory entries read back from the state root). */
  check(text: string): SandboxName | undefined {
    return namePattern.test(text) ? (text as SandboxName) : undefined;
  },
};

/** JSON quoting shows control characters as escapes, so a hostile name cannot drive the terminal. */
function quote(text: string): string {
  const shown = text.length > echoLimit ? `${text.slice(0, echoLimit)}...` : text;
  return JSON.stringify(shown);
}
