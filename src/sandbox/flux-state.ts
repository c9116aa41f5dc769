import { z } from "zod";

/**
 * What state.json records of a sandbox's Flux (`--with flux`): where its repository is and is served,
 * and, with `--flux-interval`, what it keeps in sync. The processes themselves are components like the
 * others (git-server, source-controller, kustomize-controller).
 */
export const fluxStateSchema = z.object({
  version: z.string(),
  /** The repository as Flux fetches it: http://127.0.0.1:<port>/<name>.git. */
  gitUrl: z.string(),
  /** The bare repository the git server serves, and the work tree commits are made in. */
  repository: z.string(),
  workTree: z.string(),
  /** source-controller's artifact storage, which kustomize-controller downloads from. */
  artifactStorage: z.string(),
  /** Each controller's Prometheus metrics address (host:port). */
  metrics: z.object({ "source-controller": z.string(), "kustomize-controller": z.string() }),
  sync: z
    .object({
      interval: z.string(),
      /** namespace/name of the GitRepository and of the Kustomization. */
      gitRepository: z.string(),
      kustomization: z.string(),
      /** The directory of the repository the Kustomization applies. */
      path: z.string(),
      /** The commit the sandbox made and Flux applied: main@sha1:<sha>. */
      revision: z.string(),
    })
    .optional(),
});
export type FluxState = z.infer<typeof fluxStateSchema>;
