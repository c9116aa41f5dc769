import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import type { Clock } from "../../core/clock.js";
import { BroadsideError, describeError } from "../../core/errors.js";
import type { Informer, InformerEvent } from "../../kube/watch/informer.js";
import { serveSelector } from "./behaviour.js";
import { informersOf } from "./collections.js";
import type { WatchScope } from "./collections.js";
import { chooseEndpoint, readyEndpointUids, serviceNameLabel } from "./endpoints.js";
import { FrontDoor } from "./front-door.js";
import type { RefusedWindow, ServiceName, Upstream } from "./front-door.js";
import { portFor } from "./front-door-port.js";
import type { PortChoice } from "./front-door-port.js";
import { loopbackHost } from "./loopback.js";
import { describePortHolder } from "./port-holder.js";

/** A front door that listens. */
export interface OpenDoor {
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
}

/** A front door that could not open, and why. */
export interface FailedDoor {
  readonly namespace: string;
  readonly service: string;
  /** The port it asked for (0: ephemeral); null when the annotation holds no port at all. */
  readonly port: number | null;
  readonly reason: string;
}

/** Every front door, open or failed, sorted by namespace then Service. */
export interface DoorsReport {
  readonly open: readonly OpenDoor[];
  readonly failed: readonly FailedDoor[];
}

/** A door opened or closed, for logs. Failures go to onError. */
export interface DoorEvent extends OpenDoor {
  readonly kind: "open" | "closed";
}

/** An outage made by refuse(): the door's port and when it stopped and started accepting again. */
export interface Outage extends RefusedWindow {
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
}

export interface FrontDoorsOptions extends WatchScope {
  /** Times the outages made by refuse(). */
  readonly clock: Clock;
  /** Where each pod answers, by pod uid (PodListeners.dial, or PodBodies.dial). */
  readonly dial: (uid: string) => Promise<Upstream | undefined>;
  /** Which hosts may be dialed; 127.0.0.0/8 only when absent (see Upstreams.canDial). */
  readonly canDial?: (host: string) => boolean;
  /** Draws the endpoint per request; Math.random by default. */
  readonly random?: () => number;
  readonly onError?: (error: BroadsideError) => void;
  readonly onDoor?: (event: DoorEvent) => void;
  /** How soon a door whose fixed port was in use tries again. Default 2 s. */
  readonly retryMs?: number;
  /** Names the process holding a port that was in use; from /proc (port-holder.ts) by default. */
  readonly describeHolder?: (port: number) => Promise<string>;
}

/** One opted-in Service as the doors know it: the port it asks for, and its door or why it has none. */
interface Entry {
  readonly service: ServiceName;
  readonly choice: PortChoice;
  door: FrontDoor | undefined;
  failure: string | undefined;
  /** Who held its port at the last failure, described ("pid 4242 (python3 -m http.server 18081)"). */
  holder: string | undefined;
  retry: NodeJS.Timeout | undefined;
}

/**
 * A front door for every opted-in Service (label broadside.dev/serve=http) in scope, on the port its
 * annotation broadside.dev/front-door-port asks for (an ephemeral one without it), routing through the
 * Service's EndpointSlices as the informer last saw them, so endpoint changes reach the traffic with the
 * same lag as kube-proxy's. A door whose fixed port is in use tries again every `retryMs`; a door whose
 * annotation is not a port stays shut until the annotation is fixed. One Service informer and one
 * EndpointSlice informer per namespace, or one of each across all namespaces.
 */
export class FrontDoors {
  private readonly entries = new Map<string, Entry>();
  private readonly services: Informer<V1Service>[];
  private readonly slices: Informer<V1EndpointSlice>[];
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: FrontDoorsOptions) {
    this.services = informersOf<V1Service>(options, {
      apiVersion: "v1",
      plural: "services",
      labelSelector: serveSelector,
    });
    this.slices = informersOf<V1EndpointSlice>(options, {
      apiVersion: "discovery.k8s.io/v1",
      plural: "endpointslices",
      labelSelector: serviceNameLabel,
    });
    for (const informer of this.services) {
      informer.subscribe((event) => {
        this.onServiceEvent(event);
      });
    }
  }

  /** Resolves once everything in scope is listed and the doors of the Services found have opened (or failed). */
  async start(): Promise<void> {
    // Slices first: a front door must not open on an empty view of its endpoints and answer 503.
    await Promise.all(this.slices.map((informer) => informer.start()));
    await Promise.all(this.services.map((informer) => informer.start()));
    await this.settle();
  }

  /** The port of a Service's front door, once it listens (kept through an outage). */
  portOf(service: ServiceName): number | undefined {
    return this.entries.get(keyOf(service))?.door?.port;
  }

  /** The pod uids of the Service's ready endpoints, as the front door currently routes. */
  readyEndpoints(service: ServiceName): string[] {
    const mine = (slice: V1EndpointSlice): boolean =>
      slice.metadata?.namespace === service.namespace &&
      slice.metadata.labels?.[serviceNameLabel] === service.name;
    return readyEndpointUids(this.slices.flatMap((informer) => informer.list().filter(mine)));
  }

  /** Every door, open or failed. A door still binding its port is in neither list. */
  report(): DoorsReport {
    const open: OpenDoor[] = [];
    const failed: FailedDoor[] = [];
    for (const entry of [...this.entries.values()].sort(byService)) {
      const where = { namespace: entry.service.namespace, service: entry.service.name };
      const port = entry.door?.port;
      if (port !== undefined) open.push({ ...where, port });
      else if (entry.failure !== undefined) {
        const asked = "port" in entry.choice ? entry.choice.port : null;
        failed.push({ ...where, port: asked, reason: entry.failure });
      }
    }
    return { open, failed };
  }

  /** See FrontDoor.refuse: an outage of exactly `durationMs` on the Service's front door. */
  async refuse(service: ServiceName, durationMs: number): Promise<Outage> {
    if (!Number.isFinite(durationMs) || durationMs < 0)
      throw new BroadsideError("BRD_USAGE", `an outage lasts 0 ms or more, not ${durationMs}`);
    const { door, port } = this.openDoor(service);
    try {
      const window = await door.refuse(durationMs);
      return { namespace: service.namespace, service: service.name, port, ...window };
    } catch (error: unknown) {
      // The port was taken while the door was shut: it is a failed door now, like one that never opened.
      const entry = this.entries.get(keyOf(service));
      if (entry?.door === door && door.port === undefined) this.failed(entry, port, error);
      throw error;
    }
  }

  private openDoor(service: ServiceName): { door: FrontDoor; port: number } {
    const door = this.entries.get(keyOf(service))?.door;
    const port = door?.port;
    if (door === undefined || port === undefined) {
      throw new BroadsideError(
        "BRD_USAGE",
        `service ${keyOf(service)} has no open front door (is it labelled broadside.dev/serve=http?)`,
      );
    }
    return { door, port };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.services, ...this.slices].map((informer) => informer.stop()));
    await this.settle();
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map((entry) => this.shut(entry)));
  }

  private async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private onServiceEvent(event: InformerEvent<V1Service>): void {
    const name = event.object.metadata?.name;
    const namespace = event.object.metadata?.namespace;
    if (name === undefined || namespace === undefined || this.stopped) return;
    const service = { namespace, name };
    const existing = this.entries.get(keyOf(service));
    if (event.type === "DELETED") {
      this.remove(existing);
      return;
    }
    const choice = portFor(event.object);
    if (existing !== undefined && sameChoice(existing.choice, choice)) return;
    // A new Service, or its annotation changed: (re)open the door where it now asks.
    this.remove(existing);
    this.add(service, choice);
  }

  private add(service: ServiceName, choice: PortChoice): void {
    const entry: Entry = {
      service,
      choice,
      door: undefined,
      failure: undefined,
      holder: undefined,
      retry: undefined,
    };
    this.entries.set(keyOf(service), entry);
    if ("problem" in choice) {
      entry.failure = choice.problem;
      this.options.onError?.(new BroadsideError("BRD_USAGE", choice.problem));
      return;
    }
    this.open(entry, choice.port);
  }

  private open(entry: Entry, port: number): void {
    const random = this.options.random ?? Math.random;
    const door = new FrontDoor(
      entry.service,
      {
        choose: () => chooseEndpoint(this.readyEndpoints(entry.service), random),
        dial: this.options.dial,
        ...(this.options.canDial === undefined ? {} : { canDial: this.options.canDial }),
      },
      this.options.clock,
    );
    entry.door = door;
    const opening = door.listen(port).then(
      (bound) => {
        if (entry.door !== door) return;
        entry.failure = undefined;
        entry.holder = undefined;
        this.options.onDoor?.({ kind: "open", ...whereOf(entry), port: bound });
      },
      (error: unknown) => {
        if (entry.door === door) this.failed(entry, port, error);
      },
    );
    this.track(opening);
  }

  private failed(entry: Entry, port: number, error: unknown): void {
    entry.door = undefined;
    const where = `${loopbackHost}:${port}`;
    if (errnoOf(error) !== "EADDRINUSE") {
      this.fail(entry, `could not listen on ${where}: ${describeError(error)}`, error);
      return;
    }
    this.track(this.failedInUse(entry, port, error));
  }

  /** The port is someone else's: say whose, and try again every retryMs until it is free. */
  private async failedInUse(entry: Entry, port: number, error: unknown): Promise<void> {
    // Looked up once per run of failures: scanning /proc every retry would cost more than the retry.
    entry.holder ??= await (this.options.describeHolder ?? describePortHolder)(port);
    if (this.entries.get(keyOf(entry.service)) !== entry || entry.door !== undefined) return;
    const retryMs = this.options.retryMs ?? 2000;
    const where = `${loopbackHost}:${port}`;
    this.fail(
      entry,
      `${where} is in use (EADDRINUSE) by ${entry.holder}; trying again every ${retryMs} ms`,
      error,
    );
    if (this.stopped) return;
    entry.retry = setTimeout(() => {
      entry.retry = undefined;
      if (!this.stopped && this.entries.get(keyOf(entry.service)) === entry) this.open(entry, port);
    }, retryMs);
    entry.retry.unref();
  }

  private fail(entry: Entry, failure: string, cause: unknown): void {
    entry.failure = failure;
    this.options.onError?.(
      new BroadsideError("BRD_INTERNAL", `the front door of service ${keyOf(entry.service)}: ${failure}`, {
        cause,
      }),
    );
  }

  private remove(entry: Entry | undefined): void {
    if (entry === undefined) return;
    this.entries.delete(keyOf(entry.service));
    this.track(this.shut(entry));
  }

  private async shut(entry: Entry): Promise<void> {
    clearTimeout(entry.retry);
    const door = entry.door;
    const port = door?.port;
    entry.door = undefined;
    if (door === undefined) return;
    await door.close();
    if (port !== undefined) this.options.onDoor?.({ kind: "closed", ...whereOf(entry), port });
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }
}

function keyOf(service: ServiceName): string {
  return `${service.namespace}/${service.name}`;
}

function whereOf(entry: Entry): { namespace: string; service: string } {
  return { namespace: entry.service.namespace, service: entry.service.name };
}

function byService(a: Entry, b: Entry): number {
  return keyOf(a.service) < keyOf(b.service) ? -1 : keyOf(a.service) > keyOf(b.service) ? 1 : 0;
}

function sameChoice(a: PortChoice, b: PortChoice): boolean {
  if ("port" in a && "port" in b) return a.port === b.port;
  if ("problem" in a && "problem" in b) return a.problem === b.problem;
  return false;
}

/** The errno code of a listen failure, which FrontDoor wraps in a BroadsideError as its cause. */
function errnoOf(error: unknown): string | undefined {
  const cause = error instanceof BroadsideError ? error.cause : error;
  if (typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string")
    return cause.code;
  return undefined;
}
