import { usageError } from "../errors.js";
import type { LabelOperator, LabelRequirement } from "./types.js";

/**
 * kubectl's label selector syntax (k8s.io/apimachinery/pkg/labels), so `--selector` accepts exactly what
 * `kubectl get pods -l` does: comma-separated requirements `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a` and `!a`. The numeric `a>1` / `a<1` forms are refused: they exist for nodes, and
 * Chaos Mesh's expression selectors cannot express them either.
 */

type TokenKind = "word" | "," | "(" | ")" | "=" | "==" | "!=" | "!" | "<" | ">" | "end";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 1-based, for error messages. */
  readonly column: number;
}

// Characters that end a word; everything else (including '.', '/', '-', '_') belongs to keys and values.
const specialCharacters = new Set([",", "(", ")", "=", "!", "<", ">"]);
const whitespace = /\s/;

function isWordCharacter(character: string): boolean {
  return !specialCharacters.has(character) && !whitespace.test(character);
}

function operatorAt(text: string, index: number): TokenKind {
  const pair = text.slice(index, index + 2);
  if (pair === "==" || pair === "!=") return pair;
  return text.charAt(index) as TokenKind;
}

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const character = text.charAt(index);
    if (whitespace.test(character)) {
      index += 1;
    } else if (specialCharacters.has(character)) {
      const kind = operatorAt(text, index);
      tokens.push({ kind, text: kind, column: index + 1 });
      index += kind.length;
    } else {
      const start = index;
      while (index < text.length && isWordCharacter(text.charAt(index))) index += 1;
      tokens.push({ kind: "word", text: text.slice(start, index), column: start + 1 });
    }
  }
  tokens.push({ kind: "end", text: "", column: text.length + 1 });
  return tokens;
}

const namePattern = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const dnsSubdomainPattern = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const nameRule =
  "must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";

function nameProblem(name: string): string | undefined {
  if (name.length > 63 || !namePattern.test(name)) return nameRule;
  return undefined;
}

/** Why `key` is not a valid label or annotation key (Kubernetes' qualified-name rules), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split("/");
  const [first = "", second] = parts;
  if (parts.length > 2) return "must contain at most one '/'";
  if (second === undefined) return nameProblem(first);
  if (first.length > 253 || !dnsSubdomainPattern.test(first)) {
    return "the prefix before '/' must be a DNS subdomain: lowercase letters, digits, '-' and '.'";
  }
  return nameProblem(second);
}

/** Why `value` is not a valid label value, or undefined. Empty values are valid, as in Kubernetes. */
export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !namePattern.test(value)) return nameRule.replace("1 to 63", "at most 63");
  return undefined;
}

class Parser {
  private index = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly source: string,
    private readonly field: string,
  ) {}

  parse(): LabelRequirement[] {
    if (this.peek().kind === "end") return [];
    const requirements = [this.requirement()];
    while (this.peek().kind === ",") {
      this.next();
      requirements.push(this.requirement());
    }
    const last = this.peek();
    if (last.kind !== "end") this.fail(last, `expected "," or the end of the selector, found "${last.text}"`);
    return requirements;
  }

  private requirement(): LabelRequirement {
    if (this.peek().kind === "!") {
      this.next();
      return { key: this.key(), operator: "DoesNotExist", values: [] };
    }
    const key = this.key();
    const operator = this.peek();
    switch (operator.kind) {
      case "end":
      case ",":
        return { key, operator: "Exists", values: [] };
      case "=":
      case "==":
      case "!=":
        this.next();
        return { key, operator: operator.kind === "!=" ? "NotIn" : "In", values: [this.singleValue()] };
      default:
        return this.setRequirement(key, operator);
    }
  }

  private setRequirement(key: string, operator: Token): LabelRequirement {
    if (operator.kind === "word" && (operator.text === "in" || operator.text === "notin")) {
      this.next();
      return {
        key,
        operator: operator.text === "in" ? "In" : "NotIn",
        values: this.valueList(operator.text),
      };
    }
    if (operator.kind === "<" || operator.kind === ">") {
      this.fail(operator, `the numeric operator "${operator.kind}" is not supported for pods`);
    }
    return this.fail(operator, `expected =, ==, !=, in or notin after "${key}", found "${operator.text}"`);
  }

  private key(): string {
    const token = this.peek();
    if (token.kind !== "word") return this.fail(token, `expected a label key, found ${describe(token)}`);
    this.next();
    const problem = labelKeyProblem(token.text);
    if (problem !== undefined) this.fail(token, `label key "${token.text}": ${problem}`);
    return token.text;
  }

  // `a=` is allowed and means "label a is empty", as in kubectl.
  private singleValue(): string {
    const token = this.peek();
    if (token.kind === "end" || token.kind === ",") return "";
    return this.value();
  }

  private value(): string {
    const token = this.peek();
    if (token.kind !== "word") return this.fail(token, `expected a label value, found ${describe(token)}`);
    this.next();
    const problem = labelValueProblem(token.text);
    if (problem !== undefined) this.fail(token, `label value "${token.text}": ${problem}`);
    return token.text;
  }

  private valueList(operator: string): string[] {
    const open = this.next();
    if (open.kind !== "(") this.fail(open, `expected "(" after "${operator}", found ${describe(open)}`);
    if (this.peek().kind === ")") this.fail(this.peek(), `"${operator}" needs at least one value`);
    const values = [this.value()];
    while (this.peek().kind === ",") {
      this.next();
      values.push(this.value());
    }
    const close = this.next();
    if (close.kind !== ")")
      this.fail(close, `expected "," or ")" in the value list, found ${describe(close)}`);
    return values;
  }

  private peek(): Token {
    return this.tokens[this.index] ?? this.endToken();
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.index += 1;
    return token;
  }

  private endToken(): Token {
    return { kind: "end", text: "", column: this.source.length + 1 };
  }

  private fail(token: Token, problem: string): never {
    throw usageError(this.field, `${problem} at column ${token.column} of "${this.source}"`);
  }
}

function describe(token: Token): string {
  return token.kind === "end" ? "the end of the selector" : `"${token.text}"`;
}

/**
 * Parses a kubectl label selector into requirements; an empty or blank selector has none and matches
 * everything. `field` names the flag or manifest field in the error.
 */
export function parseLabelSelector(text: string, field = "--selector"): LabelRequirement[] {
  return new Parser(lex(text), text, field).parse();
}

/** The value of `key` if the record has it as its own property (labels such as "constructor" included). */
export function ownValue(record: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function describeLabel(key: string, value: string | undefined): string {
  return value === undefined ? `label ${key} is missing` : `label ${key} is ${JSON.stringify(value)}`;
}

/** Why `labels` fail `requirement` ("label app is \"db\""), or undefined when they satisfy it. */
export function requirementMismatch(
  labels: Readonly<Record<string, string>>,
  requirement: LabelRequirement,
): string | undefined {
  const value = ownValue(labels, requirement.key);
  const listed = value !== undefined && requirement.values.includes(value);
  switch (requirement.operator) {
    case "In":
      return listed ? undefined : describeLabel(requirement.key, value);
    // As in Kubernetes, a pod without the label satisfies `a!=b` and `a notin (b)`.
    case "NotIn":
      return listed ? describeLabel(requirement.key, value) : undefined;
    case "Exists":
      return value === undefined ? describeLabel(requirement.key, value) : undefined;
    case "DoesNotExist":
      return value === undefined
        ? undefined
        : `label ${requirement.key} is present (${JSON.stringify(value)})`;
  }
}

/** The first requirement `labels` fail, with the reason, or undefined when they satisfy all. */
export function firstLabelMismatch(
  labels: Readonly<Record<string, string>>,
  requirements: readonly LabelRequirement[],
): { requirement: LabelRequirement; problem: string } | undefined {
  for (const requirement of requirements) {
    const problem = requirementMismatch(labels, requirement);
    if (problem !== undefined) return { requirement, problem };
  }
  return undefined;
}

export function matchesLabels(
  labels: Readonly<Record<string, string>>,
  requirements: readonly LabelRequirement[],
): boolean {
  return firstLabelMismatch(labels, requirements) === undefined;
}

/**
 * A metav1.LabelSelector as the API serves it, in a PodDisruptionBudget or a workload's spec.selector
 * (client-node's V1LabelSelector fits it): matchLabels and matchExpressions, all of which must hold.
 */
export interface LabelSelectorObject {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }[];
}

const labelOperators: readonly LabelOperator[] = ["In", "NotIn", "Exists", "DoesNotExist"];

/**
 * Whether an API label selector selects objects with these labels, with policy/v1's meaning: an absent
 * selector selects nothing, an empty one selects everything (every pod of the namespace, for a budget).
 */
export function selectorMatches(
  selector: LabelSelectorObject | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined) return false;
  const requirements = requirementsOf(selector);
  return requirements !== undefined && matchesLabels(labels, requirements);
}

/** The selector as requirements, or undefined when an operator is unknown (the API would reject it). */
function requirementsOf(selector: LabelSelectorObject): LabelRequirement[] | undefined {
  const requirements: LabelRequirement[] = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: "In",
    values: [value],
  }));
  for (const expression of selector.matchExpressions ?? []) {
    const operator = labelOperators.find((known) => known === expression.operator);
    if (operator === undefined) return undefined;
    requirements.push({ key: expression.key, operator, values: expression.values ?? [] });
  }
  return requirements;
}

/** A requirement back in kubectl syntax, for messages: `app=web`, `tier notin (db,cache)`, `!canary`. */
export function formatRequirement(requirement: LabelRequirement): string {
  const { key, values } = requirement;
  const [only] = values;
  switch (requirement.operator) {
    case "In":
      return values.length === 1 && only !== undefined ? `${key}=${only}` : `${key} in (${values.join(",")})`;
    case "NotIn":
      return values.length === 1 && only !== undefined
        ? `${key}!=${only}`
        : `${key} notin (${values.join(",")})`;
    case "Exists":
      return key;
    case "DoesNotExist":
      return `!${key}`;
  }
}
