import fc from "fast-check";
import { stringify } from "yaml";

/**
 * A document as file text, sometimes wrapped in an attack on the YAML reader itself: duplicate keys,
 * an alias bomb, deep nesting, a second document, a byte-order mark. `refused` says when the file can
 * only be refused (naming the file).
 */

export interface Rendered {
  readonly text: string;
  readonly framing: string;
  readonly refused: boolean;
}

function nested(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** Ten levels of ten-fold aliases: a few hundred bytes that would expand to 10^10 nodes. */
function aliasBomb(): string {
  const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let level = 1; level < 10; level += 1) {
    const previous = `*a${String(level - 1)}`;
    lines.push(
      `a${String(level)}: &a${String(level)} [${Array.from({ length: 10 }, () => previous).join(",")}]`,
    );
  }
  return lines.join("\n");
}

type Framer = (text: string) => Rendered;

const framers: Readonly<Record<string, Framer>> = {
  plain: (text) => ({ text, framing: "plain", refused: false }),
  "byte-order mark": (text) => ({ text: `\uFEFF${text}`, framing: "byte-order mark", refused: false }),
  "comment with escapes": (text) => ({
    text: `# \u001b[2J\u001b]52;c;aGk=\u0007 title\n${text}`,
    framing: "comment with escapes",
    refused: false,
  }),
  // A key of its own, twice: a key of the document could be the one a mutation deleted.
  "duplicate key": (text) => ({
    text: `${text}duplicated: 1\nduplicated: 2\n`,
    framing: "duplicate key",
    refused: true,
  }),
  "alias bomb": (text) => ({ text: `${text}${aliasBomb()}\n`, framing: "alias bomb", refused: true }),
  "two documents": (text) => ({ text: `${text}---\n${text}`, framing: "two documents", refused: true }),
  "nesting 1000": (text) => ({
    text: `${text}deep: ${nested(1000)}\n`,
    framing: "nesting 1000",
    refused: true,
  }),
  "nesting 50000": (text) => ({
    text: `${text}deep: ${nested(50_000)}\n`,
    framing: "nesting 50000",
    refused: true,
  }),
};

export function render(doc: unknown): fc.Arbitrary<Rendered> {
  const text = stringify(doc, { lineWidth: 0 });
  return fc
    .oneof(
      { weight: 400, arbitrary: fc.constant("plain") },
      { weight: 20, arbitrary: fc.constantFrom("byte-order mark", "comment with escapes") },
      {
        weight: 20,
        arbitrary: fc.constantFrom("duplicate key", "alias bomb", "two documents", "nesting 1000"),
      },
      // A third of a second each: rare here, always in the corpus.
      { weight: 1, arbitrary: fc.constant("nesting 50000") },
    )
    .map((framing) =>
      (framers[framing] ?? framers.plain ?? ((plain: string) => ({ text: plain, framing, refused: false })))(
        text,
      ),
    );
}
