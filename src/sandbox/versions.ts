/**
 * The pinned versions of the sandbox's control plane. The Go wrapper modules under sandbox/go/ pin the
 * same versions (their go.mod files); scripts/gen-kubernetes-gomod.mjs regenerates the Kubernetes one.
 * Built binaries are cached outside the repository in one directory per version (see build.ts).
 */
export const kubernetesVersion = "v1.36.3";
export const etcdVersion = "v3.6.16";
export const kwokVersion = "v0.8.0";
/**
 * helm, for the install tests only (the chart's lint, template and the rendered install): built on first
 * use by a test that needs it, never by `sandbox up`. Its go.mod has no replace directives, so
 * `go install module@version` builds it as it is; it brings its own k8s.io modules (v0.37.x).
 */
export const helmVersion = "v4.3.2";
/**
 * Flux's source-controller and kustomize-controller, for `sandbox up --with flux` only: built on first
 * use through the wrapper modules sandbox/go/flux-source-controller and flux-kustomize-controller. v1.9.6
 * is the newest that builds from the module proxy (v1.10.x needs Go 1.27 and modules the proxy refuses)
 * and the one on the sandbox's Kubernetes libraries (client-go v0.36).
 */
export const fluxVersion = "v1.9.6";
/**
 * Prometheus, for `sandbox up --with prometheus` only: built on first use with `go install` of its command
 * (its go.mod has no replace directives). The module's v0.3XX.Y is Prometheus 3.XX.Y: this is 3.16.0.
 */
export const prometheusVersion = "v0.316.0";
/** The release that module version is, as Prometheus itself reports it (stamped at build time). */
export const prometheusRelease = "3.16.0";
