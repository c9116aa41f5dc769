import { describe, expect, it } from "vitest";
import { SandboxName } from "../sandbox-name.js";
import {
  bridgeName,
  checkContainerName,
  checkPodUid,
  containerCgroup,
  hostVethName,
  interfaceNameLimit,
  isOwnInterfaceName,
  isOwnNetnsName,
  netnsName,
  sandboxTag,
} from "./names.js";
import type { PodUid } from "./names.js";

const sandbox = SandboxName.parse("pod-body", "--name");
const other = SandboxName.parse("bench-envelope", "--name");
const longest = SandboxName.parse("a".repeat(32), "--name");
const uid = checkPodUid("c373f5eb-6c8f-4bc7-b34f-ce5a213edb4f") as PodUid;

describe("the names of a pod body's parts", () => {
  it("keeps every interface name within Linux's 15 characters, whatever the sandbox's name", () => {
    for (const name of [sandbox, other, longest]) {
      expect(bridgeName(name).length).toBeLessThanOrEqual(interfaceNameLimit);
      expect(hostVethName(name, uid)).toHaveLength(interfaceNameLimit);
    }
    expect(bridgeName(sandbox)).toBe(`bs${sandboxTag(sandbox)}br`);
    expect(hostVethName(sandbox, uid)).toMatch(new RegExp(`^bs${sandboxTag(sandbox)}[0-9a-f]{7}$`));
  });

  it("gives each sandbox its own prefix, so one sandbox's names are never another's", () => {
    expect(sandboxTag(sandbox)).not.toBe(sandboxTag(other));
    expect(isOwnInterfaceName(bridgeName(sandbox), sandbox)).toBe(true);
    expect(isOwnInterfaceName(bridgeName(sandbox), other)).toBe(false);
    expect(isOwnNetnsName(netnsName(sandbox, uid), sandbox)).toBe(true);
    expect(isOwnNetnsName(netnsName(sandbox, uid), other)).toBe(false);
    // "pod" is a prefix of "pod-body": the name's length tells them apart.
    expect(isOwnNetnsName(netnsName(sandbox, uid), SandboxName.parse("pod", "--name"))).toBe(false);
  });

  it("names the namespace and cgroup after the sandbox and the pod, as the kubelet's cgroupfs layout does", () => {
    expect(netnsName(sandbox, uid)).toBe("bs-pod-body-c373f5eb-6c8f-4bc7-b34f-ce5a213edb4f");
    const container = checkContainerName("web");
    expect(container).toBe("web");
    if (container === undefined) return;
    expect(containerCgroup(sandbox, uid, container)).toBe(
      "broadside-pod-body/podc373f5eb-6c8f-4bc7-b34f-ce5a213edb4f/web",
    );
  });

  it("lets no uid or container name that is not what Kubernetes makes reach a name", () => {
    for (const bad of ["", "../../etc", "C373F5EB-6C8F-4BC7-B34F-CE5A213EDB4F", "x; rm -rf /", undefined])
      expect(checkPodUid(bad)).toBeUndefined();
    for (const bad of ["", "Web", "a/b", "..", "-web", "web-", "a".repeat(64), undefined])
      expect(checkContainerName(bad)).toBeUndefined();
    expect(isOwnInterfaceName("eth0", sandbox)).toBe(false);
    expect(isOwnNetnsName("bs-pod-body-../../etc", sandbox)).toBe(false);
  });
});
