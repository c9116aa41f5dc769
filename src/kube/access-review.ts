import type { V1TokenReviewStatus } from "@kubernetes/client-node";
import { optional } from "../core/objects.js";
import type { KubeClients } from "./client.js";

/*
 * Who a bearer token belongs to, and whether that identity may do something: the API server's own
 * answers (TokenReview, SubjectAccessReview), as kube-rbac-proxy and the Kubernetes dashboard ask them.
 * The board (issue 11) logs its operator in this way, so the cluster's RBAC decides who may open a game
 * and press halt, and Broadside keeps no password of its own.
 */

/** The identity a token stands for, as the API server authenticated it. */
export interface ReviewedUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** A request the identity would make: the same attributes as an RBAC rule. */
export interface AccessAttributes {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  /** Omitted for a cluster-wide question. */
  readonly namespace?: string;
  readonly name?: string;
}

export type TokenVerdict =
  | { readonly authenticated: true; readonly user: ReviewedUser }
  | { readonly authenticated: false; readonly reason: string };

export type AccessVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** The two questions, behind an interface so pure logic is tested with an in-memory reviewer. */
export interface AccessReviewer {
  authenticate(token: string): Promise<TokenVerdict>;
  authorize(user: ReviewedUser, attributes: AccessAttributes): Promise<AccessVerdict>;
}

/**
 * Asks the API server, with the caller's own identity (it needs `create` on tokenreviews and
 * subjectaccessreviews, as the built-in ClusterRole system:auth-delegator grants). `audiences`, when
 * given, must include one of the token's audiences, so a token minted for another service is refused.
 */
export class ClusterAccessReviewer implements AccessReviewer {
  constructor(
    private readonly kube: Pick<KubeClients, "authentication" | "authorization">,
    private readonly audiences: readonly string[] = [],
  ) {}

  async authenticate(token: string): Promise<TokenVerdict> {
    if (token.length === 0) return { authenticated: false, reason: "no token" };
    const review = await this.kube.authentication.createTokenReview({
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, ...(this.audiences.length > 0 ? { audiences: [...this.audiences] } : {}) },
      },
    });
    return tokenVerdict(review.status);
  }

  async authorize(user: ReviewedUser, attributes: AccessAttributes): Promise<AccessVerdict> {
    const review = await this.kube.authorization.createSubjectAccessReview({
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          groups: [...user.groups],
          ...(user.uid === undefined ? {} : { uid: user.uid }),
          ...(user.extra === undefined ? {} : { extra: copyExtra(user.extra) }),
          resourceAttributes: { ...attributes },
        },
      },
    });
    if (review.status?.allowed === true) return { allowed: true };
    const reason = review.status?.reason ?? "";
    return {
      allowed: false,
      reason: `${user.username} may not ${describeAccess(attributes)}${reason === "" ? "" : ` (${reason})`}`,
    };
  }
}

/** What a TokenReview's status says, as a verdict: authenticated with a user name, or why not. */
function tokenVerdict(status: V1TokenReviewStatus | undefined): TokenVerdict {
  const user = status?.user;
  if (status?.authenticated !== true || user?.username === undefined) {
    return { authenticated: false, reason: status?.error ?? "the API server did not authenticate the token" };
  }
  return {
    authenticated: true,
    user: {
      username: user.username,
      groups: user.groups ?? [],
      ...optional("uid", user.uid),
      ...optional("extra", user.extra),
    },
  };
}

function copyExtra(extra: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(extra).map(([key, values]) => [key, [...values]]));
}

/** `operate boards.broadside.dev in namespace demo`, as kubectl auth can-i would name it. */
export function describeAccess(attributes: AccessAttributes): string {
  const resource =
    attributes.group === "" ? attributes.resource : `${attributes.resource}.${attributes.group}`;
  const named = attributes.name === undefined ? "" : `/${attributes.name}`;
  const where =
    attributes.namespace === undefined ? " cluster-wide" : ` in namespace ${attributes.namespace}`;
  return `${attributes.verb} ${resource}${named}${where}`;
}
