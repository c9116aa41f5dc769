/**
 * The pinned versions of the sandbox's control plane. The Go wrapper modules under sandbox/go/ pin the
 * same versions (their go.mod files); scripts/gen-kubernetes-gomod.mjs regenerates the Kubernetes one.
 * Built binaries are cached outside the repository in one directory per version (see build.ts).
 */
export const kubernetesVersion = "v1.36.3";
export const etcdVersion = "v3.6.16";
export const kwokVersion = "v0.8.0";
