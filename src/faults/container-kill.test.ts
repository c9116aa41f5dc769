import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { parseNodeWorkSpec } from "../core/node-work.js";
import { containerKillWork, planContainerKills } from "./container-kill.js";

function pod(
  name: string,
  containers: string[],
  extra: Partial<V1Pod["status"]> = {},
  node = "kwok-node-0",
): V1Pod {
  return {
    metadata: { namespace: "shop", name, uid: "0b5a6c1e-1111-4222-8333-944455556666" },
    spec: { nodeName: node, containers: containers.map((each) => ({ name: each })) },
    status: extra,
  };
}

describe("container-kill's plan: every named container checked on every pod before anything is written", () => {
  it("plans one kill per pod and container, with the restart count and container ID from the status", () => {
    const id = `containerd://${"ab".repeat(32)}`;
    const targets = planContainerKills(
      [
        pod("web-1", ["web", "sidecar"], {
          containerStatuses: [
            { name: "web", restartCount: 2, containerID: id, image: "", imageID: "", ready: true },
          ],
        }),
      ],
      ["web"],
      "--container",
    );
    expect(targets).toEqual([
      {
        pod: { namespace: "shop", name: "web-1", uid: "0b5a6c1e-1111-4222-8333-944455556666" },
        node: "kwok-node-0",
        container: "web",
        containerId: id,
        restartCount: 2,
      },
    ]);
  });

  it("refuses a container the pod does not have, naming the field, the pod and the containers it has", () => {
    expect(() =>
      planContainerKills(
        [pod("web-1", ["web"]), pod("web-2", ["web", "sidecar"])],
        ["sidecar"],
        "spec.containerNames",
      ),
    ).toThrow('spec.containerNames: pod shop/web-1 has no container "sidecar"; its containers: web');
  });

  it("refuses a pod not yet on a node, and an empty list of containers", () => {
    expect(() => planContainerKills([pod("web-1", ["web"], {}, "")], ["web"], "--container")).toThrow(
      /not on a node yet/,
    );
    expect(() => planContainerKills([pod("web-1", ["web"])], [], "--container")).toThrow(
      "--container: name at least one container",
    );
  });

  it("words work the daemon accepts, leaving out a container ID in a form it would refuse", () => {
    const [target] = planContainerKills(
      [
        pod("web-1", ["web"], {
          containerStatuses: [
            {
              name: "web",
              restartCount: 0,
              containerID: "kwok://not-hex",
              image: "",
              imageID: "",
              ready: true,
            },
          ],
        }),
      ],
      ["web"],
      "--container",
    );
    if (target === undefined) throw new Error("no target");
    const spec = containerKillWork(target, {
      ledgerId: "20261207t133000-abc123",
      createdAt: 1,
      deadline: 2,
      actor: "me",
    });
    expect(spec.containerId).toBeUndefined();
    expect(parseNodeWorkSpec(spec)).toEqual(spec);
  });
});
