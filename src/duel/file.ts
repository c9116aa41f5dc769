import { z } from "zod";
import type { Duration } from "../core/duration.js";
import { countLimits, durationLimits } from "../core/input-limits.js";
import { formatPath } from "../core/field-path.js";
import { isRecord } from "../core/objects.js";
import { namespaceNameSchema, objectNameSchema } from "../core/schemas.js";
import type { Mode, Selector } from "../core/targeting/types.js";
import { readTargeting, type LoadContext } from "../experiments/files/context.js";
import { durationField } from "../experiments/files/durations.js";
import { experimentApiVersion } from "../experiments/files/model.js";
import { manifestRoot, Problems, type FieldPath } from "../experiments/files/problems.js";
import { readSingleDocument } from "../experiments/files/yaml-source.js";
import { checkObjectDeleteParams, type ObjectDeleteParams } from "../faults/object-delete.js";
import { checkObjectFaultParams, type ObjectFaultParams } from "../faults/object-registry.js";

/**
 * The Duel file (issue 13, ADR 0034): which GitOps controller defends, at which reconcile intervals
 * ("legs"), and the attacks fired at the objects it manages each round. Read and checked whole before
 * anything reaches the cluster; every problem names its field (`spec.attacks[2].params.replicas`).
 */

export const duelKind = "Duel";

/** What an attack does, and which engine path does it. */
export const attackKinds = ["drift", "remove-key", "squeeze", "scale", "delete", "kill-pods"] as const;
export type AttackKind = (typeof attackKinds)[number];

/** The object fault behind each object attack, and its parameters. */
export type ObjectAttack =
  | { readonly kind: "drift" | "remove-key"; readonly params: ObjectFaultParams["config-drift"] }
  | { readonly kind: "squeeze"; readonly params: ObjectFaultParams["resource-squeeze"] }
  | { readonly kind: "scale"; readonly params: ObjectFaultParams["scale"] }
  | { readonly kind: "delete"; readonly params: ObjectDeleteParams };

export interface PodAttack {
  readonly kind: "kill-pods";
  readonly selector: Selector;
  readonly mode: Mode;
}

export type Attack = (ObjectAttack | PodAttack) & { readonly name: string };

export interface DuelLeg {
  readonly name: string;
  /** The GitOps controller's reconcile interval during this leg. */
  readonly interval: Duration;
  /** How long each attack may hold before Broadside reverts it itself: the round's length. */
  readonly deadline: Duration;
  readonly rounds: number;
}

export interface GitOpsRef {
  readonly controller: "flux";
  /** Flux: the Kustomization that applies the objects attacked. */
  readonly namespace: string;
  readonly name: string;
}

export interface DuelFile {
  readonly fileName: string;
  readonly name: string;
  readonly gitops: GitOpsRef;
  readonly legs: readonly DuelLeg[];
  readonly attacks: readonly Attack[];
}

const { duelLegs, duelRounds, duelAttacks } = countLimits;

const legSchema = z.strictObject({
  name: objectNameSchema,
  interval: durationField(durationLimits.duelInterval),
  deadline: durationField(durationLimits.duelDeadline),
  rounds: z.number().int().min(duelRounds.min).max(duelRounds.max).default(1),
});

const attackSchema = z.strictObject({
  name: objectNameSchema.optional(),
  kind: z.enum(attackKinds),
  params: z.record(z.string(), z.unknown()),
});

const duelSchema = z.strictObject({
  apiVersion: z.literal(experimentApiVersion),
  kind: z.literal(duelKind),
  metadata: z.strictObject({ name: objectNameSchema }),
  spec: z.strictObject({
    gitops: z.strictObject({
      controller: z.literal("flux"),
      namespace: namespaceNameSchema.default("flux-system"),
      name: objectNameSchema,
    }),
    legs: z.array(legSchema).min(duelLegs.min).max(duelLegs.max),
    attacks: z.array(attackSchema).min(duelAttacks.min).max(duelAttacks.max),
  }),
});

type ParsedAttack = z.output<typeof attackSchema>;

/** Parses a Duel file's text: the checked model, or one usage error naming every bad field. No I/O. */
export function parseDuelFile(text: string, fileName: string): DuelFile {
  const source = readSingleDocument(text, fileName);
  const problems = new Problems();
  const context: LoadContext = { fileName, root: source.data, problems, warnings: [] };
  const result = duelSchema.safeParse(source.data, { reportInput: true });
  if (!result.success) problems.addIssues(result.error.issues, [], source.data);
  // Each attack's parameters are checked even when the rest of the file is wrong: every problem at once.
  const attacks = rawAttacks(source.data).flatMap((raw, index) => {
    const attack = attackSchema.safeParse(raw);
    return attack.success ? [readAttack(context, attack.data, ["spec", "attacks", index])] : [];
  });
  const named = attacks.filter((attack): attack is Attack => attack !== undefined);
  uniqueNames(problems, named, ["spec", "attacks"]);
  if (result.success) uniqueNames(problems, result.data.spec.legs, ["spec", "legs"]);
  problems.throwIfAny(fileName, source.locate);
  if (!result.success) throw new Error("unreachable: the schema's problems were thrown above");
  const { metadata, spec } = result.data;
  return { fileName, name: metadata.name, gitops: spec.gitops, legs: spec.legs, attacks: named };
}

function rawAttacks(data: unknown): readonly unknown[] {
  const spec = isRecord(data) ? data.spec : undefined;
  const attacks = isRecord(spec) ? spec.attacks : undefined;
  return Array.isArray(attacks) ? attacks : [];
}

function uniqueNames(problems: Problems, items: readonly { name: string }[], path: FieldPath): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (seen.has(item.name)) problems.add([...path, index, "name"], `"${item.name}" is used twice`);
    seen.add(item.name);
  });
}

/** An attack's parameters checked by the schema of the engine's fault behind it. */
function readAttack(context: LoadContext, attack: ParsedAttack, path: FieldPath): Attack | undefined {
  const name = attack.name ?? `${attack.kind}-${String(path.at(-1))}`;
  const at = [...path, "params"];
  if (attack.kind === "kill-pods") {
    const targeting = readTargeting(context, at, { defaultMode: "one", numericValue: true });
    if (targeting === undefined && !context.problems.hasUnder(at) && !isRecord(attack.params.selector))
      context.problems.add([...at, "selector"], "is required");
    return targeting === undefined
      ? undefined
      : { name, kind: "kill-pods", selector: targeting.selector, mode: targeting.mode };
  }
  const objectAttack = objectAttackOf(context, attack.kind, attack.params, at);
  return objectAttack === undefined ? undefined : { ...objectAttack, name };
}

const faultOf = {
  drift: "config-drift",
  "remove-key": "config-drift",
  squeeze: "resource-squeeze",
  scale: "scale",
} as const;

/** Checks an attack's parameters by the schema of the change behind it; usage errors name the field. */
function checkAttackParams(
  kind: Exclude<AttackKind, "kill-pods">,
  params: Readonly<Record<string, unknown>>,
  spelled: (param: string | undefined) => string,
): void {
  if (kind === "delete") checkObjectDeleteParams(params, spelled);
  else checkObjectFaultParams(faultOf[kind], params, spelled);
}

function objectAttackOf(
  context: LoadContext,
  kind: Exclude<AttackKind, "kill-pods">,
  input: Readonly<Record<string, unknown>>,
  at: FieldPath,
): ObjectAttack | undefined {
  const where = formatPath(at, manifestRoot);
  const spelled = (param: string | undefined): string => (param === undefined ? where : `${where}.${param}`);
  if (kind === "remove-key" && input.value !== undefined) {
    context.problems.add([...at, "value"], "a remove-key attack takes no value");
    return undefined;
  }
  if (kind === "drift" && input.remove !== undefined) {
    context.problems.add([...at, "remove"], "use kind remove-key to remove a key");
    return undefined;
  }
  const params = kind === "remove-key" ? { ...input, remove: true } : input;
  try {
    checkAttackParams(kind, params, spelled);
  } catch (error) {
    context.problems.addError(error);
    return undefined;
  }
  // Checked by the fault's own schema just above.
  return { kind, params } as ObjectAttack;
}
