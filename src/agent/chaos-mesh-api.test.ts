import { describe, expect, it } from "vitest";
import { BroadsideError } from "../core/errors.js";
import { MemoryCrdReader } from "../kube/crds.js";
import { checkChaosMeshCrds } from "./chaos-mesh-api.js";

const ours = { "broadside.dev/installed-by": "broadside" };

async function refusal(reader: MemoryCrdReader): Promise<BroadsideError> {
  const error: unknown = await checkChaosMeshCrds(reader, ["podchaos", "schedules"]).catch(
    (caught: unknown) => caught,
  );
  if (!(error instanceof BroadsideError)) throw new Error("expected a refusal");
  return error;
}

describe("--serve-chaos-mesh-api takes over only the chaos-mesh.org CRDs Broadside installed", () => {
  it("starts when every drop-in CRD carries Broadside's mark", async () => {
    const reader = new MemoryCrdReader({ "podchaos.chaos-mesh.org": ours, "schedules.chaos-mesh.org": ours });
    await expect(checkChaosMeshCrds(reader, ["podchaos", "schedules"])).resolves.toBeUndefined();
  });

  it("refuses beside a real Chaos Mesh, naming the flag and the CRD", async () => {
    const reader = new MemoryCrdReader({
      "podchaos.chaos-mesh.org": { "controller-gen.kubebuilder.io/version": "v0.14.0" },
      "schedules.chaos-mesh.org": ours,
    });
    const error = await refusal(reader);
    expect(error.code).toBe("BRD_CHAOS_MESH_API_REFUSED");
    expect(error.message).toContain("--serve-chaos-mesh-api");
    expect(error.message).toContain("podchaos.chaos-mesh.org was not installed by Broadside");
  });

  it("refuses a mark with another value: only Broadside's own value counts", async () => {
    const reader = new MemoryCrdReader({
      "podchaos.chaos-mesh.org": { "broadside.dev/installed-by": "someone-else" },
      "schedules.chaos-mesh.org": ours,
    });
    expect((await refusal(reader)).message).toContain("podchaos.chaos-mesh.org");
  });

  it("refuses when the CRDs are absent, saying how to install them", async () => {
    const error = await refusal(new MemoryCrdReader({}));
    expect(error.message).toContain("podchaos.chaos-mesh.org, schedules.chaos-mesh.org");
    expect(error.message).toContain("kubectl apply --server-side -f deploy/crds/chaos-mesh/");
  });
});
