import { z } from "zod";
import { usageError } from "../../../core/errors.js";
import { formatPath } from "../../../core/field-path.js";
import { dnsLabelProblem } from "../../../core/names.js";
import { optional } from "../../../core/objects.js";
import { keyedRecord, namespaceNameSchema, objectNameSchema } from "../../../core/schemas.js";
import { labelKeyProblem, labelValueProblem } from "../../../core/targeting/label-selector.js";
import { modeKinds, readMode } from "../../../core/targeting/mode.js";
import { podPhases } from "../../../core/targeting/types.js";
import type {
  FieldSelectors,
  LabelRequirement,
  Mode,
  PodPhase,
  PodRef,
  Selector,
} from "../../../core/targeting/types.js";
import { manifestRoot } from "../problems.js";

/**
 * The pod selector of a Chaos Mesh manifest (api/v1alpha1/selector.go: PodSelector and PodSelectorSpec),
 * so experiments written for Chaos Mesh run under Broadside unchanged. Objects are strict: a misspelt
 * field would otherwise be dropped silently and widen the selection, the worst way for chaos to fail.
 */

/** Label and annotation selectors: every key a qualified name, checked as written (see keyedRecord). */
const labelMap = keyedRecord(labelKeyProblem, z.string());

const expressionSelectorSchema = z.strictObject({
  key: z.string().describe("The label key the expression tests."),
  operator: z
    .enum(["In", "NotIn", "Exists", "DoesNotExist"])
    .describe("How the label's value relates to values, as in a Kubernetes label selector."),
  values: z
    .array(z.string())
    .optional()
    .describe("The values of In and NotIn; empty for Exists and DoesNotExist."),
});

export const chaosMeshSelectorSchema = z.strictObject({
  namespaces: z
    .array(namespaceNameSchema)
    .optional()
    .describe("Namespaces to pick pods from; default: the resource's own namespace."),
  nodes: z.array(objectNameSchema).optional().describe("Only pods on these nodes, by node name."),
  pods: keyedRecord(dnsLabelProblem, z.array(objectNameSchema))
    .optional()
    .describe("Exact pods, as a map of namespace to pod names; the other selectors still apply."),
  // Accepted so the error can say why it is unsupported rather than calling it unknown.
  nodeSelectors: labelMap.optional().describe("Refused: Broadside does not read node labels."),
  // Broadside reads two field selectors (spec.nodeName, status.phase): the bound says so to editors and CRDs.
  fieldSelectors: keyedRecord(() => undefined, z.string())
    .meta({ maxProperties: 2 })
    .optional()
    .describe("Field selectors: spec.nodeName and status.phase only."),
  labelSelectors: labelMap.optional().describe("Pods whose labels include all of these."),
  expressionSelectors: z
    .array(expressionSelectorSchema)
    .optional()
    .describe("Label selector expressions; a pod must meet all of them."),
  annotationSelectors: labelMap.optional().describe("Pods whose annotations include all of these."),
  podPhaseSelectors: z
    .array(z.string())
    .optional()
    .describe("Pods in one of these phases (Pending, Running, ...); default: any phase."),
});

/**
 * The longest value a mode can use ("100000"), with room for spaces; the bound also keeps the CRDs' CEL
 * rules over it cheap enough for the API server.
 */
export const maxModeValueLength = 16;

/** Chaos Mesh's value is a string in the CRD; YAML turns an unquoted 2 into a number. */
const valueSchema = z
  .string({
    error: (issue) =>
      typeof issue.input === "number"
        ? `must be a string in a Chaos Mesh manifest; quote it: "${issue.input}"`
        : undefined,
  })
  .max(maxModeValueLength);

export const chaosMeshPodSelectorSchema = z.strictObject({
  selector: chaosMeshSelectorSchema.describe("Which pods are candidates; all given selectors must match."),
  mode: z
    .enum(modeKinds, { error: `must be one of ${modeKinds.join(", ")}` })
    .describe(
      "How many candidates are hit: one, all, fixed (value pods), fixed-percent, random-max-percent.",
    ),
  value: valueSchema.optional().describe('The count or percentage the mode needs, as a string ("2", "50").'),
});

export type ChaosMeshSelector = z.infer<typeof chaosMeshSelectorSchema>;
export type ChaosMeshPodSelector = z.infer<typeof chaosMeshPodSelectorSchema>;

export interface ChaosMeshConversionOptions {
  /** Where the object sits in the manifest, for error paths: "spec". Default: none. */
  readonly path?: string;
  /**
   * The experiment's own namespace. Chaos Mesh's webhook defaults an empty selector.namespaces to it
   * (PodSelectorSpec.DefaultNamespace); without it an empty list means every namespace.
   */
  readonly manifestNamespace?: string;
}

export interface ChaosMeshTargeting {
  readonly selector: Selector;
  readonly mode: Mode;
  readonly warnings: string[];
}

type PathSegment = PropertyKey;

/** A bad field and what is wrong with it. */
interface FieldProblem {
  readonly path: string;
  readonly problem: string;
}

function describeIssue(prefix: string, issue: z.core.$ZodIssue): FieldProblem {
  if (issue.code === "unrecognized_keys") {
    const fields = issue.keys.map((key) => formatPath([...issue.path, key], manifestRoot, prefix));
    return {
      path: fields.join(", "),
      problem: `unknown field${fields.length > 1 ? "s" : ""} in a Chaos Mesh pod selector`,
    };
  }
  return { path: formatPath(issue.path, manifestRoot, prefix), problem: issue.message };
}

/** One usage error for all problems, named after the first, so one run reports everything wrong. */
function throwProblems(problems: readonly FieldProblem[]): void {
  const [first, ...rest] = problems;
  if (first === undefined) return;
  const more = rest.map((other) => `; also ${other.path}: ${other.problem}`).join("");
  throw usageError(first.path, `${first.problem}${more}`);
}

function parseManifest(input: unknown, prefix: string): ChaosMeshPodSelector {
  const result = chaosMeshPodSelectorSchema.safeParse(input);
  if (result.success) return result.data;
  throwProblems(result.error.issues.map((issue) => describeIssue(prefix, issue)));
  // safeParse never fails without issues; this keeps the types honest if it ever did.
  throw usageError(formatPath([], manifestRoot, prefix), "is not a valid Chaos Mesh pod selector");
}

/** Collects errors with their paths instead of stopping at the first, so one run reports them all. */
class Converter {
  readonly problems: FieldProblem[] = [];
  readonly warnings: string[] = [];

  constructor(private readonly prefix: string) {}

  at(...segments: PathSegment[]): string {
    return formatPath(segments, manifestRoot, this.prefix);
  }

  problem(path: string, problem: string): void {
    this.problems.push({ path, problem });
  }

  labelSelector(labels: Readonly<Record<string, string>>): string | undefined {
    const entries = Object.entries(labels);
    for (const [key, value] of entries) {
      const path = this.at("selector", "labelSelectors", key);
      const problem = labelKeyProblem(key) ?? labelValueProblem(value);
      if (problem !== undefined) this.problem(path, `label ${JSON.stringify(`${key}=${value}`)}: ${problem}`);
    }
    return entries.length > 0 ? entries.map(([key, value]) => `${key}=${value}`).join(",") : undefined;
  }

  expressions(expressions: ChaosMeshSelector["expressionSelectors"] = []): LabelRequirement[] {
    return expressions.map((expression, index) => {
      const values = expression.values ?? [];
      const keyProblem = labelKeyProblem(expression.key);
      if (keyProblem !== undefined)
        this.problem(this.at("selector", "expressionSelectors", index, "key"), keyProblem);
      const valuesProblem = this.valuesProblem(expression.operator, values);
      if (valuesProblem !== undefined) {
        this.problem(this.at("selector", "expressionSelectors", index, "values"), valuesProblem);
      }
      return { key: expression.key, operator: expression.operator, values };
    });
  }

  // The rule Kubernetes applies to metav1.LabelSelectorRequirement.
  private valuesProblem(
    operator: LabelRequirement["operator"],
    values: readonly string[],
  ): string | undefined {
    const needsValues = operator === "In" || operator === "NotIn";
    if (needsValues && values.length === 0) return `operator ${operator} needs at least one value`;
    if (!needsValues && values.length > 0) return `operator ${operator} takes no values`;
    return values.map(labelValueProblem).find((problem) => problem !== undefined);
  }

  annotations(annotations: Readonly<Record<string, string>> = {}): Record<string, string> {
    for (const key of Object.keys(annotations)) {
      const problem = labelKeyProblem(key);
      if (problem !== undefined) this.problem(this.at("selector", "annotationSelectors", key), problem);
    }
    return { ...annotations };
  }

  fields(fields: Readonly<Record<string, string>> = {}): FieldSelectors {
    let result: FieldSelectors = {};
    for (const [key, value] of Object.entries(fields)) {
      const path = this.at("selector", "fieldSelectors", key);
      if (key === "spec.nodeName") result = { ...result, nodeName: value };
      else if (key !== "status.phase")
        this.problem(path, "Broadside supports the field selectors spec.nodeName and status.phase");
      else result = this.withPhase(result, value, path);
    }
    return result;
  }

  private withPhase(fields: FieldSelectors, value: string, path: string): FieldSelectors {
    const phase = this.phase(value, path);
    return phase === undefined ? fields : { ...fields, phase };
  }

  phase(value: string, path: string): PodPhase | undefined {
    if ((podPhases as readonly string[]).includes(value)) return value as PodPhase;
    this.problem(path, `${JSON.stringify(value)} is not a pod phase; use ${podPhases.join(", ")}`);
    return undefined;
  }

  // Chaos Mesh parses these as a label selector over the phase: "Running" includes, "!Failed" excludes.
  podPhases(selectors: readonly string[] = []): NonNullable<Selector["podPhases"]> {
    const include: PodPhase[] = [];
    const exclude: PodPhase[] = [];
    selectors.forEach((text, index) => {
      const negated = text.trim().startsWith("!");
      const name = text.trim().replace(/^!\s*/, "");
      const phase = this.phase(name, this.at("selector", "podPhaseSelectors", index));
      if (phase !== undefined) (negated ? exclude : include).push(phase);
    });
    return { include, exclude };
  }

  pods(pods: Readonly<Record<string, readonly string[]>> = {}): PodRef[] {
    return Object.entries(pods).flatMap(([namespace, names]) => names.map((name) => ({ namespace, name })));
  }

  nodeSelectors(nodeSelectors: Readonly<Record<string, string>> = {}): void {
    if (Object.keys(nodeSelectors).length === 0) return;
    this.problem(
      this.at("selector", "nodeSelectors"),
      "is not supported: Broadside does not read node labels; list the nodes by name in selector.nodes",
    );
  }

  mode(manifest: ChaosMeshPodSelector): Mode {
    const fields = { mode: this.at("mode"), value: this.at("value") };
    if (manifest.mode === "one" || manifest.mode === "all") {
      // Chaos Mesh ignores value for these modes, so manifests often carry a leftover one.
      if (manifest.value !== undefined && manifest.value !== "") {
        this.warnings.push(
          `${fields.value} ${JSON.stringify(manifest.value)} is ignored by mode ${manifest.mode}`,
        );
      }
    }
    const value = manifest.mode === "one" || manifest.mode === "all" ? undefined : manifest.value;
    const result = readMode(manifest.mode, value, fields);
    if (result.ok) return result.mode;
    this.problem(result.field, result.problem);
    // Stands in for the bad mode so the selector's problems are still collected and reported together.
    return { kind: "one" };
  }
}

function namespacesFor(spec: ChaosMeshSelector, options: ChaosMeshConversionOptions): string[] {
  const namespaces = spec.namespaces ?? [];
  // Named pods carry their namespaces; defaulting would wrongly exclude named pods elsewhere.
  const hasPods = Object.keys(spec.pods ?? {}).length > 0;
  if (namespaces.length > 0 || hasPods || options.manifestNamespace === undefined) return namespaces;
  return [options.manifestNamespace];
}

function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === "object" && value !== null && Object.keys(value).length > 0;
}

function podsWarning(spec: ChaosMeshSelector, converter: Converter): void {
  const { pods, ...others } = spec;
  if (!isSet(pods) || !Object.values(others).some(isSet)) return;
  converter.warnings.push(
    `${converter.at("selector", "pods")} is set, so Chaos Mesh ignores the other selectors when listing pods; ` +
      "Broadside applies them all, so a named pod must also match the rest",
  );
}

function buildSelector(
  spec: ChaosMeshSelector,
  options: ChaosMeshConversionOptions,
  converter: Converter,
): Selector {
  converter.nodeSelectors(spec.nodeSelectors);
  const labelSelector = converter.labelSelector(spec.labelSelectors ?? {});
  return {
    namespaces: namespacesFor(spec, options),
    ...optional("labelSelector", labelSelector),
    expressionSelectors: converter.expressions(spec.expressionSelectors),
    annotationSelectors: converter.annotations(spec.annotationSelectors),
    fieldSelectors: converter.fields(spec.fieldSelectors),
    podPhases: converter.podPhases(spec.podPhaseSelectors),
    pods: converter.pods(spec.pods),
    nodeNames: spec.nodes ?? [],
  };
}

/**
 * Converts the `{selector, mode, value}` of a Chaos Mesh experiment spec into Broadside's Selector and Mode.
 * Throws a usage error whose message names the path of each bad field (`spec.selector.pods.demo[0]`).
 */
export function fromChaosMesh(input: unknown, options: ChaosMeshConversionOptions = {}): ChaosMeshTargeting {
  const prefix = options.path ?? "";
  const manifest = parseManifest(input, prefix);
  const converter = new Converter(prefix);
  const selector = buildSelector(manifest.selector, options, converter);
  podsWarning(manifest.selector, converter);
  const mode = converter.mode(manifest);
  throwProblems(converter.problems);
  return { selector, mode, warnings: converter.warnings };
}
