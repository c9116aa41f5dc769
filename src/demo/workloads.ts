/**
 * The demo's three workloads by name, apart from the fleet's manifests (fleet.ts) so that reading the
 * CLI's configuration (front-door-ports.ts, cli/config.ts) does not load the Kubernetes client: every
 * command, `--version` included, reads that configuration first.
 */
export interface DemoWorkload {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
}

export const storefront: DemoWorkload = { namespace: "demo-shop", name: "storefront", replicas: 3 };
export const checkout: DemoWorkload = { namespace: "demo-payments", name: "checkout", replicas: 2 };
export const ledgerWriter: DemoWorkload = { namespace: "demo-batch", name: "ledger-writer", replicas: 1 };
export const demoWorkloads = [storefront, checkout, ledgerWriter] as const;
