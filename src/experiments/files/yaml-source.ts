import type { Document, Node } from "yaml";
import { isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";
import { BroadsideError } from "../../core/errors.js";
import { documentLimits } from "../../core/input-limits.js";
import { nestsDeeperThan } from "../../core/objects.js";
import type { FieldPath, Locator } from "./problems.js";

/**
 * Reads the YAML of an experiment file. A file holds one experiment: several YAML documents are allowed
 * so that files written for `kubectl apply` (a leading `---`, a trailing `---`, documents holding only
 * comments) read as they are, but exactly one document may have content. A file with two manifests is
 * refused with the line of each, rather than running one and silently ignoring the other.
 */

export interface SourceDocument {
  /** The document as plain data. */
  readonly data: unknown;
  /** The line of a field, for error messages. */
  readonly locate: Locator;
  readonly warnings: readonly string[];
}

/** Aliases beyond this many expansions are refused: a tiny file must not expand into gigabytes. */
const maxAliasCount = documentLimits.yamlAliases;

function tooDeep(fileName: string): BroadsideError {
  return usage(
    `${fileName}: nests more than ${documentLimits.depth} levels deep; an experiment needs far fewer ` +
      "(refused before it is read further)",
  );
}

function usage(message: string): BroadsideError {
  return new BroadsideError("BRD_USAGE", message);
}

function isEmptyDocument(document: Document): boolean {
  const contents = document.contents;
  return contents === null || (isScalar(contents) && contents.value === null);
}

function syntaxErrors(documents: readonly Document[], lines: LineCounter, fileName: string): string[] {
  return documents.flatMap((document) =>
    document.errors.map((error) => {
      const { line, col } = lines.linePos(error.pos[0]);
      return `${fileName}:${line}:${col}: ${error.message.split("\n")[0] ?? error.code}`;
    }),
  );
}

function lineOf(document: Document, lines: LineCounter): number {
  return lines.linePos(document.contents?.range?.[0] ?? document.range?.[0] ?? 0).line;
}

/** The node a path ends at or, when the path leads beyond the document, the deepest node on the way. */
function nodeOnPath(document: Document, path: FieldPath): Node | undefined {
  let node: unknown = document.contents;
  let found: Node | undefined = isNode(node) ? node : undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === segment);
      if (pair === undefined) break;
      // The key's line, which is the value's too in the usual block style, and exists for unknown fields.
      if (isNode(pair.key)) found = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      if (!isNode(node)) break;
      found = node;
    } else break;
  }
  return found;
}

function toData(document: Document, fileName: string): unknown {
  try {
    return document.toJS({ maxAliasCount });
  } catch (error) {
    // An alias to an anchor that was never set, or too many alias expansions.
    const message = error instanceof Error ? error.message : String(error);
    throw usage(`${fileName}: ${message}`);
  }
}

/** Parses `text`; bad YAML and files with no or several experiments are usage errors naming the line. */
export function readSingleDocument(text: string, fileName: string): SourceDocument {
  const lines = new LineCounter();
  const documents: Document[] = [
    ...parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, merge: true }),
  ];
  // The YAML reader stops where its own stack ends and says so; that is a depth past any limit.
  if (documents.some((document) => document.errors.some((error) => error.code === "RESOURCE_EXHAUSTION"))) {
    throw tooDeep(fileName);
  }
  const errors = syntaxErrors(documents, lines, fileName);
  if (errors.length > 0) throw usage(errors.join("\n"));
  const withContent = documents.filter((document) => !isEmptyDocument(document));
  const [document, ...others] = withContent;
  if (document === undefined) throw usage(`${fileName}: holds no experiment: the file is empty`);
  if (others.length > 0) {
    const at = withContent.map((each) => lineOf(each, lines)).join(", ");
    throw usage(
      `${fileName}: holds ${withContent.length} YAML documents (at lines ${at}); ` +
        "broadside run takes one experiment per file: put each in its own file",
    );
  }
  const warnings = document.warnings.map((warning) => {
    const { line, col } = lines.linePos(warning.pos[0]);
    return `${fileName}:${line}:${col}: ${warning.message.split("\n")[0] ?? warning.code}`;
  });
  const data = toData(document, fileName);
  if (nestsDeeperThan(data, documentLimits.depth)) throw tooDeep(fileName);
  return {
    data,
    locate: (path) => {
      const node = nodeOnPath(document, path);
      return node?.range === undefined || node.range === null ? undefined : lines.linePos(node.range[0]).line;
    },
    warnings,
  };
}
