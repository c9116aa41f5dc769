import fc from "fast-check";
import { argvOf, type CommandLine, type Part } from "./argv.js";
import {
  anyText,
  hostileDurations,
  hostileKeys,
  hostileNames,
  hostileNumberTexts,
  hostileUrls,
} from "./hostile.js";
import { isOutOfAnyDurationRange } from "./rules.js";

/**
 * Mutations of a valid command line: a part's value made hostile, a part dropped, an unknown flag, a flag
 * given twice (the last one counts), an unknown verb, a hostile BROADSIDE_* variable.
 */

export interface CliInput {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly line: CommandLine;
  readonly description: string;
  readonly attack: string;
  /** Set when the input is certainly invalid: the names one of which the refusal must use (may be empty). */
  readonly mustRefuse?: readonly string[];
  readonly unmutated: boolean;
}

function hostileValue(part: Part, secret: string): fc.Arbitrary<string> {
  const own: Record<Part["flavour"], readonly string[]> = {
    name: hostileNames,
    duration: hostileDurations,
    number: hostileNumberTexts,
    key: [...hostileKeys.map((key) => `${key}=x`), "", " ", "a=b,", "=x", "a", "a=b=c"],
    text: [...hostileNames.slice(0, 12), ...hostileUrls(secret)],
  };
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...own[part.flavour]) },
    { weight: 2, arbitrary: fc.constantFrom(...hostileNames, ...hostileDurations, ...hostileNumberTexts) },
    { weight: 1, arbitrary: anyText() },
  );
}

function withParts(line: CommandLine, parts: readonly Part[]): CommandLine {
  return { ...line, parts };
}

function describeArg(value: string): string {
  const text = JSON.stringify(value);
  return text.length > 50 ? `${text.slice(0, 50)}...` : text;
}

function replaceValue(line: CommandLine, index: number, value: string): CliInput {
  const part = line.parts[index];
  const parts = line.parts.map((each, at) => (at === index ? { ...each, value } : each));
  const mutated = withParts(line, parts);
  const where = part?.flag ?? part?.names[0] ?? "?";
  return {
    argv: argvOf(mutated),
    env: {},
    line,
    description: `${where} ${describeArg(value)}`,
    attack: `hostile ${where}`,
    // A positional that starts with "-" is read as an option, and commander's refusal names it as one.
    ...(part?.isBad(value) === true
      ? { mustRefuse: part.flag === undefined && value.startsWith("-") ? [...part.names, value] : part.names }
      : {}),
    unmutated: false,
  };
}

function dropPart(line: CommandLine, index: number): CliInput {
  const part = line.parts[index];
  const where = part?.flag ?? part?.names[0] ?? "?";
  return {
    argv: argvOf(
      withParts(
        line,
        line.parts.filter((_, at) => at !== index),
      ),
    ),
    env: {},
    line,
    description: `without ${where}`,
    attack: `missing ${where}`,
    ...(part?.required === true ? { mustRefuse: part.names } : {}),
    unmutated: false,
  };
}

function twice(line: CommandLine, index: number, value: string): CliInput {
  const part = line.parts[index];
  if (part?.flag === undefined || part.value === undefined) return replaceValue(line, index, value);
  return {
    argv: [...argvOf(line), part.flag, value],
    env: {},
    line,
    description: `${part.flag} given again as ${describeArg(value)}`,
    attack: `${part.flag} twice`,
    ...(part.isBad(value) ? { mustRefuse: part.names } : {}),
    unmutated: false,
  };
}

function unknownFlag(line: CommandLine, flag: string): CliInput {
  return {
    argv: [...argvOf(line), flag],
    env: {},
    line,
    description: `with ${flag}`,
    attack: "unknown flag",
    mustRefuse: [flag],
    unmutated: false,
  };
}

function unknownVerb(line: CommandLine, verb: string): CliInput {
  const argv = argvOf(line);
  const position = line.verb.length - 1;
  return {
    argv: argv.map((arg, index) => (index === position ? verb : arg)),
    env: {},
    line,
    description: `verb ${describeArg(verb)}`,
    attack: "unknown verb",
    mustRefuse: [],
    unmutated: false,
  };
}

const envChecks: Readonly<Record<string, (value: string) => boolean>> = {
  BROADSIDE_MAX_FAULT_DURATION: (value) =>
    value !== "" && (isOutOfAnyDurationRange(value) || value.trim() === "0"),
  BROADSIDE_PROMETHEUS_URL: (value) => value !== "" && !/^https?:\/\/[^\s/]+/.test(value),
  BROADSIDE_POD_UID: (value) =>
    value !== "" && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value),
};

function badVariable(line: CommandLine, variable: string, value: string): CliInput {
  const bad = envChecks[variable]?.(value) === true;
  return {
    argv: argvOf(line),
    env: { [variable]: value },
    line,
    description: `${variable}=${describeArg(value)}`,
    attack: `hostile ${variable}`,
    ...(bad ? { mustRefuse: [variable] } : {}),
    unmutated: false,
  };
}

export function unmutated(line: CommandLine): CliInput {
  return { argv: argvOf(line), env: {}, line, description: "valid", attack: "valid", unmutated: true };
}

/** The valid line, or one mutation of it. */
export function mutateLine(line: CommandLine, secret: string): fc.Arbitrary<CliInput> {
  const indexes = line.parts.map((_, index) => index);
  const part = indexes.length === 0 ? fc.constant(-1) : fc.constantFrom(...indexes);
  const valueFor = (index: number) => {
    const target = line.parts[index];
    return target === undefined ? anyText() : hostileValue(target, secret);
  };
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(unmutated(line)) },
    {
      weight: 8,
      arbitrary: part.chain((index) => valueFor(index).map((value) => replaceValue(line, index, value))),
    },
    { weight: 2, arbitrary: part.map((index) => dropPart(line, index)) },
    {
      weight: 2,
      arbitrary: part.chain((index) => valueFor(index).map((value) => twice(line, index, value))),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom("--frobnicate", "--__proto__", "--constructor", "-Z")
        .map((flag) => unknownFlag(line, flag)),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...hostileNames.filter((name) => name !== ""))
        .map((verb) => unknownVerb(line, verb)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...Object.keys(envChecks)),
          fc.constantFrom(...hostileDurations, ...hostileUrls(secret), "../x", "__proto__"),
        )
        .map(([variable, value]) => badVariable(line, variable, value)),
    },
  );
}
