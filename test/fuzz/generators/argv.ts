import fc from "fast-check";
import {
  durationMs,
  int32Max,
  isDataKey,
  isDnsLabel,
  isDnsSubdomain,
  isLabelKey,
  isLabelValue,
  isSandboxName,
} from "./rules.js";

/**
 * Command lines for every verb, valid ones first, as a list of parts that a mutation can aim at: a flag's
 * value, a positional, the verb itself. Each part has a kind that says which values are certainly wrong
 * for it, and the name a refusal must use (the flag, or the positional's placeholder).
 */

export type Outcome =
  /** The input passed every check and the CLI reached for the (unreachable) cluster. */
  | "cluster"
  /** The command finished: exit 0. */
  | "ok"
  /** `sandbox status/kubeconfig` of a sandbox that is not up. */
  | "no-sandbox"
  /** `sandbox up` and `demo` with PATH="": go is missing, nothing started. */
  | "no-go";

export const outcomeCodes: Readonly<Record<Outcome, { exit: number; code?: string }>> = {
  cluster: { exit: 1, code: "BRD_KUBE_UNREACHABLE" },
  ok: { exit: 0 },
  "no-sandbox": { exit: 1, code: "BRD_SANDBOX_NOT_FOUND" },
  "no-go": { exit: 1, code: "BRD_PREREQUISITE_MISSING" },
};

export interface Part {
  /** The flag ("--namespace") or, for a positional, undefined. */
  readonly flag?: string;
  readonly value?: string;
  /** What a refusal must name: the flag, or the positional's placeholder ("TARGET"). */
  readonly names: readonly string[];
  /** Certainly wrong as this part's value. */
  readonly isBad: (value: string) => boolean;
  readonly required?: boolean;
  /** Which hostile values to aim at it. */
  readonly flavour: "name" | "duration" | "number" | "key" | "text";
}

export interface CommandLine {
  readonly verb: readonly string[];
  readonly parts: readonly Part[];
  readonly outcome: Outcome;
}

/** The files every case directory holds, named relative to the case's working directory. */
export const caseFiles = { experiment: "experiment.yaml", schedule: "schedule.yaml", report: "run.json" };

const timerMax = 2 ** 31 - 1;
const never = (): boolean => false;
const list = (valid: (item: string) => boolean) => (value: string) =>
  value.split(",").some((item) => !valid(item.trim()));
const badDuration = (value: string) => {
  const ms = durationMs(value);
  return ms === undefined || !Number.isFinite(ms) || ms >= timerMax;
};
const badPositiveDuration = (value: string) => badDuration(value) || durationMs(value) === 0;
const badFaultDuration = (value: string) =>
  badPositiveDuration(value) || (durationMs(value) ?? 0) > 3_600_000;
const wholeNumber = (min: number, max: number) => (value: string) =>
  !/^-?\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max;
const oneOf =
  (...choices: string[]) =>
  (value: string) =>
    !choices.includes(value);
/** Kubernetes' quantity grammar (apimachinery resource.ParseQuantity), and no negative limits. */
const badQuantity = (value: string) =>
  !/^\+?(\d+(\.\d*)?|\.\d+)([numkMGTPE]|[KMGTPE]i|[eE][+-]?\d+)?$/.test(value);

function pairs(validKey: (key: string) => boolean, validValue: (value: string) => boolean) {
  return (text: string) =>
    text.trim() === "" ||
    text.split(",").some((pair) => {
      const [key = "", value, ...rest] = pair.split("=");
      return rest.length > 0 || value === undefined || !validKey(key.trim()) || !validValue(value.trim());
    });
}

function flag(
  name: string,
  value: string | undefined,
  rule: Omit<Part, "flag" | "value" | "names">,
  alias?: string,
): Part {
  return {
    flag: name,
    ...(value === undefined ? {} : { value }),
    names: alias === undefined ? [name] : [name, alias],
    ...rule,
  };
}

const kubeconfigPart = (kubeconfig: string) =>
  flag("--kubeconfig", kubeconfig, {
    isBad: (value) => value !== kubeconfig && !value.endsWith(".kubeconfig"),
    flavour: "name",
  });
const outputPart = (value: string) =>
  flag("--output", value, { isBad: oneOf("table", "json"), flavour: "text" }, "-o");
const namespacePart = (value: string) =>
  flag("--namespace", value, { isBad: (v) => !isDnsLabel(v), flavour: "name" }, "-n");

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const namespace = name.map((text) => `ns-${text}`);
const sandboxName = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
const duration = fc.constantFrom("500ms", "10s", "1m", "5m");

function podVerb(verb: "kill" | "evict", kubeconfig: string): fc.Arbitrary<CommandLine> {
  return fc
    .record({
      ns: fc.array(namespace, { minLength: 1, maxLength: 2 }),
      pods: fc.array(name, { maxLength: 2 }),
      labels: fc.constantFrom("app=web", "tier in (front,back)", "app=web,!canary"),
      annotations: fc.constantFrom("owner=sre", "example.com/role=db"),
      mode: fc.constantFrom(["one"], ["all"], ["fixed", "2"], ["fixed-percent", "50"]),
      timeout: duration,
      output: fc.constantFrom("table", "json"),
    })
    .map(({ ns, pods, labels, annotations, mode, timeout, output }) => ({
      verb: [verb],
      outcome: "cluster",
      parts: [
        ...pods.map((pod): Part => ({
          value: pod,
          names: ["pods", "[pods...]"],
          isBad: (v) => !isDnsSubdomain(v),
          flavour: "name",
        })),
        flag(
          "--namespace",
          pods.length > 0 ? (ns[0] ?? "default") : ns.join(","),
          { isBad: list(isDnsLabel), flavour: "name" },
          "-n",
        ),
        flag(
          "--selector",
          labels,
          {
            isBad: (v) =>
              v.trim() === "" || (/^[^,()!]*=[^,]*$/.test(v) && pairs(isLabelKey, isLabelValue)(v)),
            flavour: "key",
          },
          "-l",
        ),
        flag("--annotation-selector", annotations, { isBad: pairs(isLabelKey, () => true), flavour: "key" }),
        flag("--mode", mode[0], {
          isBad: oneOf("one", "all", "fixed", "fixed-percent", "random-max-percent"),
          flavour: "text",
        }),
        ...(mode[1] === undefined
          ? []
          : [
              flag("--value", mode[1], {
                isBad: wholeNumber(1, mode[0] === "fixed" ? int32Max : 100),
                flavour: "number",
              }),
            ]),
        flag("--timeout", timeout, { isBad: badDuration, flavour: "duration" }),
        flag("--max-shots", "2", { isBad: wholeNumber(1, 10_000), flavour: "number" }),
        flag("--per", "1s", { isBad: badPositiveDuration, flavour: "duration" }),
        flag("--grace-period", "5", { isBad: wholeNumber(0, 86_400), flavour: "number" }),
        flag("--node", "kwok-node-1", { isBad: list(isDnsSubdomain), flavour: "name" }),
        flag("--dry-run", undefined, { isBad: never, flavour: "text" }),
        outputPart(output),
        kubeconfigPart(kubeconfig),
      ],
    }));
}

function objectVerb(
  verb: string,
  kinds: readonly string[],
  extra: (arbitrary: { readonly key: string }) => Part[],
  kubeconfig: string,
): fc.Arbitrary<CommandLine> {
  return fc
    .record({
      kind: fc.constantFrom(...kinds),
      name,
      ns: namespace,
      key: fc.constantFrom("mode", "A_KEY", "a.b"),
      duration,
    })
    .map(({ kind, name: target, ns, key, duration: length }) => ({
      verb: [verb],
      outcome: "cluster",
      parts: [
        {
          value: `${kind}/${target}`,
          names: ["TARGET", "target"],
          isBad: (v: string) => {
            const [k = "", n, ...rest] = v.split("/");
            return (
              rest.length > 0 || n === undefined || !kinds.includes(k.toLowerCase()) || !isDnsSubdomain(n)
            );
          },
          required: true,
          flavour: "name",
        },
        namespacePart(ns),
        flag("--duration", length, { isBad: badFaultDuration, flavour: "duration" }),
        ...extra({ key }),
        flag("--dry-run", undefined, { isBad: never, flavour: "text" }),
        outputPart("json"),
        kubeconfigPart(kubeconfig),
      ],
    }));
}

function drift(kubeconfig: string, secret: string) {
  return objectVerb(
    "drift",
    ["configmap", "cm", "secret"],
    ({ key }) => [
      flag("--key", key, { isBad: (v) => !isDataKey(v), required: true, flavour: "key" }),
      flag("--value", secret, { isBad: never, flavour: "text" }),
    ],
    kubeconfig,
  );
}

function squeeze(kubeconfig: string) {
  return objectVerb(
    "squeeze",
    ["deployment", "deploy", "statefulset", "sts", "daemonset", "ds"],
    () => [
      flag("--cpu", "100m", { isBad: badQuantity, required: true, flavour: "number" }),
      flag("--memory", "64Mi", { isBad: badQuantity, required: true, flavour: "number" }),
      flag("--container", "app", { isBad: (v) => !isDnsLabel(v), flavour: "name" }),
    ],
    kubeconfig,
  );
}

function scale(kubeconfig: string) {
  return objectVerb(
    "scale",
    ["deployment", "deploy", "statefulset", "sts"],
    () => [flag("--replicas", "3", { isBad: wholeNumber(0, int32Max), required: true, flavour: "number" })],
    kubeconfig,
  );
}

function ledgerVerb(verb: string, kubeconfig: string): fc.Arbitrary<CommandLine> {
  return fc.constantFrom("table", "json").map((output) => ({
    verb: [verb],
    outcome: "cluster",
    parts: [outputPart(output), kubeconfigPart(kubeconfig)],
  }));
}

const probeIsBad = (value: string) => {
  try {
    const url = new URL(value.startsWith("http") && !value.includes(",") ? value : "x:");
    return !/^https?:$/.test(url.protocol) || !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  } catch {
    return !value.includes("=");
  }
};

function run(kubeconfig: string, secret: string): fc.Arbitrary<CommandLine> {
  return fc
    .record({ schedule: fc.boolean(), window: duration, format: fc.constantFrom("text", "json", "md") })
    .map(({ schedule, window, format }) => ({
      verb: ["run"],
      outcome: "cluster",
      parts: [
        {
          value: schedule ? caseFiles.schedule : caseFiles.experiment,
          names: ["<file>", "file"],
          isBad: never,
          required: true,
          flavour: "name",
        },
        flag("--probe", `http://fuzz:${secret}@127.0.0.1:18080/`, {
          isBad: probeIsBad,
          required: schedule,
          flavour: "text",
        }),
        ...(schedule
          ? [flag("--for", "1m", { isBad: badPositiveDuration, required: true, flavour: "duration" })]
          : []),
        flag("--window", window, { isBad: badPositiveDuration, flavour: "duration" }),
        flag("--report-dir", "reports", { isBad: never, flavour: "name" }),
        flag("--format", format, { isBad: oneOf("text", "json", "md", "junit", "html"), flavour: "text" }),
        flag("--dry-run", undefined, { isBad: never, flavour: "text" }),
        kubeconfigPart(kubeconfig),
      ],
    }));
}

function report(): fc.Arbitrary<CommandLine> {
  return fc.constantFrom("text", "json", "md", "junit", "html").map((format) => ({
    verb: ["report"],
    outcome: "ok",
    parts: [
      {
        value: caseFiles.report,
        names: ["<run.json>", "run.json"],
        isBad: never,
        required: true,
        flavour: "name",
      },
      flag("--format", format, { isBad: oneOf("text", "json", "md", "junit", "html"), flavour: "text" }),
      flag("--output", `rendered.${format}`, { isBad: never, flavour: "name" }),
    ],
  }));
}

const sandboxNamePart = (value: string) =>
  flag("--name", value, { isBad: (v) => !isSandboxName(v), flavour: "name" });

function sandbox(): fc.Arbitrary<CommandLine> {
  return fc.tuple(sandboxName, fc.constantFrom("table", "json")).chain(([sandboxNameValue, output]) =>
    fc.constantFrom<CommandLine>(
      {
        verb: ["sandbox", "up"],
        outcome: "no-go",
        parts: [
          sandboxNamePart(sandboxNameValue),
          flag("--nodes", "3", { isBad: wholeNumber(1, 500), flavour: "number" }),
          flag("--pod-ready-delay", "1s", { isBad: badDuration, flavour: "duration" }),
        ],
      },
      { verb: ["sandbox", "down"], outcome: "ok", parts: [sandboxNamePart(sandboxNameValue)] },
      {
        verb: ["sandbox", "status"],
        outcome: "no-sandbox",
        parts: [sandboxNamePart(sandboxNameValue), outputPart(output)],
      },
      {
        verb: ["sandbox", "kubeconfig"],
        outcome: "no-sandbox",
        parts: [
          sandboxNamePart(sandboxNameValue),
          flag("--user", "viewer", { isBad: oneOf("admin", "viewer"), flavour: "text" }),
        ],
      },
      { verb: ["sandbox", "list"], outcome: "ok", parts: [] },
      {
        verb: ["demo"],
        outcome: "no-go",
        parts: [
          sandboxNamePart(sandboxNameValue),
          flag("--report-dir", "reports", { isBad: never, flavour: "name" }),
        ],
      },
    ),
  );
}

export const verbs = [
  "kill",
  "evict",
  "drift",
  "squeeze",
  "scale",
  "recover",
  "halt",
  "status",
  "run",
  "report",
  "sandbox",
  "demo",
] as const;
export type Verb = (typeof verbs)[number];

type LineMaker = (kubeconfig: string, secret: string) => fc.Arbitrary<CommandLine>;

const sandboxLines = (demo: boolean) => sandbox().filter((line) => (line.verb[0] === "demo") === demo);

const lineMakers: Readonly<Record<Verb, LineMaker>> = {
  kill: (kubeconfig) => podVerb("kill", kubeconfig),
  evict: (kubeconfig) => podVerb("evict", kubeconfig),
  drift,
  squeeze,
  scale,
  recover: (kubeconfig) => ledgerVerb("recover", kubeconfig),
  halt: (kubeconfig) => ledgerVerb("halt", kubeconfig),
  status: (kubeconfig) => ledgerVerb("status", kubeconfig),
  run,
  report,
  sandbox: () => sandboxLines(false),
  demo: () => sandboxLines(true),
};

/** A valid command line of `verb` ("sandbox" stands for its five subcommands). */
export function validCommandLine(verb: Verb, kubeconfig: string, secret: string): fc.Arbitrary<CommandLine> {
  return lineMakers[verb](kubeconfig, secret);
}

/** The command line as argv. */
export function argvOf(line: CommandLine): string[] {
  return [
    ...line.verb,
    ...line.parts.flatMap((part) =>
      part.flag === undefined
        ? [part.value ?? ""]
        : part.value === undefined
          ? [part.flag]
          : [part.flag, part.value],
    ),
  ];
}

/** The objects of the end-to-end tier's fixture namespace. */
export interface Fixture {
  readonly namespace: string;
  readonly deployment: string;
  readonly configMap: string;
  readonly secret: string;
  /** A value the Secret does not hold, for drift's --value. */
  readonly guess: string;
}

function fixtureObjectLine(
  verb: string,
  kinds: readonly string[],
  target: string,
  fixture: Fixture,
  kubeconfig: string,
  extra: Part[],
): CommandLine {
  const line = objectVerbLine(verb, kinds, target, fixture.namespace, kubeconfig);
  return { ...line, outcome: "ok", parts: [...line.parts, ...extra] };
}

function objectVerbLine(
  verb: string,
  kinds: readonly string[],
  target: string,
  namespace: string,
  kubeconfig: string,
): CommandLine {
  return {
    verb: [verb],
    outcome: "ok",
    parts: [
      {
        value: target,
        names: ["TARGET", "target"],
        isBad: (v: string) => {
          const [k = "", n, ...rest] = v.split("/");
          return rest.length > 0 || n === undefined || !kinds.includes(k.toLowerCase()) || !isDnsSubdomain(n);
        },
        required: true,
        flavour: "name",
      },
      namespacePart(namespace),
      flag("--duration", "1m", { isBad: badFaultDuration, flavour: "duration" }),
      flag("--dry-run", undefined, { isBad: never, flavour: "text" }),
      outputPart("json"),
      kubeconfigPart(kubeconfig),
    ],
  };
}

/**
 * Valid command lines aimed at the fixture, every one a dry run (or a ledger verb with nothing open), so
 * that the end-to-end tier changes nothing when the CLI does what it should.
 */
export function fixtureCommandLines(
  fixture: Fixture,
  kubeconfig: string,
  experimentFile: string,
): CommandLine[] {
  const { namespace, deployment, configMap, secret } = fixture;
  return [
    fixturePodLine("kill", namespace, kubeconfig),
    fixturePodLine("evict", namespace, kubeconfig),
    fixtureObjectLine("drift", ["configmap", "cm", "secret"], `configmap/${configMap}`, fixture, kubeconfig, [
      flag("--key", "mode", { isBad: (v) => !isDataKey(v), required: true, flavour: "key" }),
      flag("--value", "stormy", { isBad: never, flavour: "text" }),
    ]),
    fixtureObjectLine("drift", ["configmap", "cm", "secret"], `secret/${secret}`, fixture, kubeconfig, [
      flag("--key", "password", { isBad: (v) => !isDataKey(v), required: true, flavour: "key" }),
      flag("--value", fixture.guess, { isBad: never, flavour: "text" }),
    ]),
    fixtureObjectLine("squeeze", ["deployment", "deploy"], `deployment/${deployment}`, fixture, kubeconfig, [
      flag("--cpu", "100m", { isBad: badQuantity, required: true, flavour: "number" }),
      flag("--memory", "64Mi", { isBad: badQuantity, required: true, flavour: "number" }),
    ]),
    fixtureObjectLine("scale", ["deployment", "deploy"], `deployment/${deployment}`, fixture, kubeconfig, [
      flag("--replicas", "2", { isBad: wholeNumber(0, int32Max), required: true, flavour: "number" }),
    ]),
    { verb: ["status"], outcome: "ok", parts: [outputPart("json"), kubeconfigPart(kubeconfig)] },
    {
      verb: ["run"],
      outcome: "ok",
      parts: [
        { value: experimentFile, names: ["<file>", "file"], isBad: never, required: true, flavour: "name" },
        flag("--window", "5s", { isBad: badPositiveDuration, flavour: "duration" }),
        flag("--dry-run", undefined, { isBad: never, flavour: "text" }),
        kubeconfigPart(kubeconfig),
      ],
    },
  ];
}

function fixturePodLine(verb: string, namespace: string, kubeconfig: string): CommandLine {
  return {
    verb: [verb],
    outcome: "ok",
    parts: [
      namespacePart(namespace),
      flag("--selector", "app=fixture", { isBad: (v) => v.trim() === "", flavour: "key" }, "-l"),
      flag("--annotation-selector", "owner=fuzz", { isBad: pairs(isLabelKey, () => true), flavour: "key" }),
      flag("--mode", "one", {
        isBad: oneOf("one", "all", "fixed", "fixed-percent", "random-max-percent"),
        flavour: "text",
      }),
      flag("--timeout", "30s", { isBad: badDuration, flavour: "duration" }),
      flag("--dry-run", undefined, { isBad: never, flavour: "text" }),
      outputPart("json"),
      kubeconfigPart(kubeconfig),
    ],
  };
}
