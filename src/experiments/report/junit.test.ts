import { describe, expect, it } from "vitest";
import { renderJunit } from "./junit.js";
import { buildRunReport } from "./build.js";
import type { RunInput } from "./run-report.js";
import { exampleRunInput } from "./synthetic.js";

/**
 * A minimal XML well-formedness check (no XML parser is a dependency): one root element, properly nested
 * and closed tags, quoted attributes without duplicates or raw `<`, only the five predefined entities and
 * character references, no `&` or `<` loose in text, no characters XML 1.0 forbids. Returns the first
 * problem, or undefined.
 */
function wellFormedProblem(xml: string): string | undefined {
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, "");
  if (/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body)) return "a forbidden character";
  const state: Elements = { open: [], roots: 0 };
  let index = 0;
  while (index < body.length) {
    const next = body.indexOf("<", index);
    const problem = textProblem(body.slice(index, next === -1 ? body.length : next), state);
    if (problem !== undefined) return `${problem} at ${index}`;
    if (next === -1) break;
    const step = readTag(body, next, state);
    if (typeof step === "string") return step;
    index = step;
  }
  if (state.open.length > 0) return `<${state.open.join("> <")}> not closed`;
  return state.roots === 1 ? undefined : `${state.roots} root elements`;
}

interface Elements {
  readonly open: string[];
  roots: number;
}

function textProblem(text: string, state: Elements): string | undefined {
  if (!entitiesOk(text)) return "a bad entity in text";
  if (state.open.length === 0 && text.trim() !== "") return "text outside the root";
  return undefined;
}

/** Reads the tag at `at`; returns where the next token starts, or the problem. */
function readTag(body: string, at: number, state: Elements): number | string {
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>/y;
  tag.lastIndex = at;
  const match = tag.exec(body);
  if (match === null) return `a malformed tag at ${at}: ${body.slice(at, at + 40)}`;
  const [whole, closing, name, attributes, selfClosing] = match;
  const problem =
    attributeProblem(attributes ?? "") ??
    nestingProblem(state, closing === "/", name ?? "", selfClosing === "/");
  return problem ?? at + whole.length;
}

function nestingProblem(
  state: Elements,
  closing: boolean,
  name: string,
  selfClosing: boolean,
): string | undefined {
  if (closing) return state.open.pop() === name ? undefined : `</${name}> closes the wrong element`;
  if (state.open.length === 0) state.roots += 1;
  if (!selfClosing) state.open.push(name);
  return undefined;
}

function entitiesOk(text: string): boolean {
  return !/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);)/.test(text);
}

function attributeProblem(attributes: string): string | undefined {
  const names = new Set<string>();
  for (const [, name = "", value = ""] of attributes.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
    if (names.has(name)) return `attribute ${name} twice`;
    names.add(name);
    if (!entitiesOk(value)) return `a bad entity in ${name}`;
  }
  return undefined;
}

function attribute(xml: string, element: string, name: string): string | undefined {
  return new RegExp(`<${element}\\b[^>]*\\s${name}="([^"]*)"`).exec(xml)?.[1];
}

describe("the well-formedness check itself", () => {
  it.each([
    ["<a><b></a></b>", "closes the wrong element"],
    ["<a>x & y</a>", "bad entity"],
    ['<a b="1" b="2"/>', "twice"],
    ["<a/><b/>", "2 root elements"],
    ["<a>", "not closed"],
    ["<a>\u0001</a>", "forbidden"],
  ])("catches %j", (xml, problem) => {
    expect(wellFormedProblem(xml)).toContain(problem);
  });
});

describe("the JUnit report of a passed run", () => {
  const xml = renderJunit(buildRunReport(exampleRunInput()));

  it("is well-formed XML", () => {
    expect(wellFormedProblem(xml)).toBeUndefined();
  });

  it("has one testsuite with a testcase per check, per fault recovery and for isolation", () => {
    expect(xml.match(/<testsuite\b/g)).toHaveLength(1);
    expect(xml.match(/<testcase\b/g)).toHaveLength(4 + 2 + 1);
    expect(attribute(xml, "testsuite", "tests")).toBe("7");
    expect(attribute(xml, "testsuite", "failures")).toBe("0");
    expect(xml).toContain(
      '<testcase classname="broadside.recovery" name="fault 1 (pod-kill) recovers" time="2.450"/>',
    );
    expect(xml).toContain('<property name="broadside.verdict" value="passed"/>');
  });
});

describe("the JUnit report of a failed run", () => {
  const input = exampleRunInput();
  const xml = renderJunit(
    buildRunReport({
      ...input,
      checks: [
        {
          name: "p95 <= 10 ms & \"fast\" <b>'ok'</b>",
          subject: { type: "probe", probe: "front-door", scope: "chaos", figure: "p95Ms" },
          tolerance: { op: "<=", limit: 10 },
        },
      ],
      restarts: [{ namespace: "demo", name: "cache-0", role: "node-mate", before: 0, after: 2 }],
    }),
  );

  it("is well-formed XML, with failures carrying messages", () => {
    expect(wellFormedProblem(xml)).toBeUndefined();
    expect(attribute(xml, "testsuite", "failures")).toBe("2");
    expect(xml).toContain(
      '<failure message="p95 latency of probe front-door during chaos was 30 ms (wanted &lt;= 10 ms)" type="HypothesisFailed">',
    );
    expect(xml).toContain('type="IsolationBroken"');
  });

  it("escapes every text it writes", () => {
    expect(xml).toContain('name="p95 &lt;= 10 ms &amp; &quot;fast&quot; &lt;b&gt;&#39;ok&#39;&lt;/b&gt;"');
    expect(xml).not.toContain("<b>");
  });
});

describe("the JUnit report of an aborted run", () => {
  const hostile: RunInput = {
    ...exampleRunInput(),
    title: 'chaos <&> "quoted" \u0001 bell\u0007',
    aborted: "Ctrl-C </testsuite> & gone",
  };
  const xml = renderJunit(buildRunReport(hostile));

  it("stays well-formed whatever the text, replacing characters XML cannot hold", () => {
    expect(wellFormedProblem(xml)).toBeUndefined();
    expect(xml).toContain('<testsuite name="chaos &lt;&amp;&gt; &quot;quoted&quot; \uFFFD bell\uFFFD"');
  });

  it("adds an error testcase and skips the checks, whose figures cover part of the run", () => {
    expect(attribute(xml, "testsuite", "errors")).toBe("1");
    expect(attribute(xml, "testsuite", "skipped")).toBe("4");
    expect(xml).toContain(
      '<error message="the run was aborted: Ctrl-C &lt;/testsuite&gt; &amp; gone" type="Aborted">',
    );
  });
});
