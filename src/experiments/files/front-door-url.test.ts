import { describe, expect, it } from "vitest";
import { probesFromFlags } from "../../cli/probe-flag.js";
import { frontDoorHttpUrl, isFrontDoorUrl, parseFrontDoorUrl } from "./front-door-url.js";
import { isLoopback, probeSchema } from "./probes.js";

describe("front-door://SERVICE.NAMESPACE/PATH: a probe URL that names a sandbox Service's door", () => {
  it("names the Service and namespace by its host, and keeps the path and query", () => {
    expect(parseFrontDoorUrl("front-door://checkout.demo-payments/healthz?deep=1")).toEqual({
      namespace: "demo-payments",
      service: "checkout",
      path: "/healthz?deep=1",
    });
    expect(parseFrontDoorUrl("front-door://ledger-writer.demo-batch")).toMatchObject({ path: "/" });
  });

  it.each([
    "front-door://checkout/",
    "front-door://checkout.demo-payments:18080/",
    "front-door://Checkout.demo-payments/",
    "front-door://a.b.c/",
    "front-door://user@checkout.demo-payments/",
    "front-door:checkout.demo-payments",
  ])("refuses %s, saying what the form is", (url) => {
    expect(parseFrontDoorUrl(url)).toEqual({
      problem: `a front-door URL is front-door://SERVICE.NAMESPACE/PATH (no port: the sandbox knows where the door listens), got ${JSON.stringify(url)}`,
    });
  });

  it("becomes a request to 127.0.0.1 at the door's port", () => {
    const target = { namespace: "demo-shop", service: "storefront", path: "/x?y=1" };
    expect(frontDoorHttpUrl(target, 28081)).toBe("http://127.0.0.1:28081/x?y=1");
  });

  it("is accepted by an experiment file's http probe, and a bad one is refused naming the field", () => {
    expect(probeSchema.safeParse({ name: "web", http: { url: "front-door://web.shop/" } }).success).toBe(
      true,
    );
    const bad = probeSchema.safeParse({ name: "web", http: { url: "front-door://web/" } });
    expect(bad.error?.issues.map((issue) => [issue.path.join("."), issue.message])).toEqual([
      [
        "http.url",
        'a front-door URL is front-door://SERVICE.NAMESPACE/PATH (no port: the sandbox knows where the door listens), got "front-door://web/"',
      ],
    ]);
    const ftp = probeSchema.safeParse({ name: "web", http: { url: "ftp://web/" } });
    expect(ftp.error?.issues[0]?.message).toBe(
      'must be an http://, https:// or front-door:// URL, got "ftp://web/"',
    );
  });

  it("is accepted by --probe, alone or among key=value pairs", () => {
    expect(probesFromFlags(["front-door://web.shop/"])[0]).toMatchObject({ url: "front-door://web.shop/" });
    expect(probesFromFlags(["name=web,url=front-door://web.shop/a,frequency=5"])[0]).toMatchObject({
      url: "front-door://web.shop/a",
      frequencyHz: 5,
    });
    expect(() => probesFromFlags(["url=front-door://web:80/"])).toThrow(/^--probe: url: a front-door URL is/);
  });

  it("counts as loopback: it can only ever mean 127.0.0.1", () => {
    expect(isFrontDoorUrl("front-door://web.shop/")).toBe(true);
    expect(isFrontDoorUrl("http://web.shop/")).toBe(false);
    expect(isLoopback("front-door://web.shop/")).toBe(true);
  });
});
