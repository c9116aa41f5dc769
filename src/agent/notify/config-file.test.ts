import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { notificationConfigFromText } from "./config-file.js";

function problem(text: string): string {
  try {
    notificationConfigFromText(text, "notify.yaml");
  } catch (error: unknown) {
    if (error instanceof BroadsideError && error.code === "BRD_USAGE") return error.message;
    throw error;
  }
  throw new Error("expected a usage error");
}

describe("the --notifications file", () => {
  it("reads the notifications section docs/agent.md shows", () => {
    const config = notificationConfigFromText(
      [
        "notifications:",
        "  sinks:",
        "    - name: team-chat",
        "      type: slack",
        "      urlFrom:",
        "        secretKeyRef: { name: broadside-notifications, key: slack-url }",
        "  delivery:",
        "    attempts: 3",
        "",
      ].join("\n"),
      "notify.yaml",
    );
    expect(config.sinks.map((sink) => sink.name)).toEqual(["team-chat"]);
    expect(config.delivery.attempts).toBe(3);
  });

  it("names the flag, the file and the field of every problem", () => {
    const message = problem(
      "notifications:\n  sinks:\n    - name: chat\n      type: slack\n      urlFrom: { secretKeyRef: { name: s, key: k } }\n      templates: { recovered: '{{target.nam}}' }\n",
    );
    expect(message).toContain("--notifications notify.yaml");
    expect(message).toContain("notifications.sinks[0].templates.recovered");
  });

  it("refuses a file without the section, with another top-level key, or that is no mapping", () => {
    expect(problem("sinks: []\n")).toContain("notify.yaml: sinks: unknown field");
    expect(problem("# nothing\n")).toContain("empty");
    expect(problem("- notifications\n")).toContain("must be a mapping with the key notifications");
    expect(problem("notifications:\n")).toContain("notify.yaml: notifications: must be a mapping");
  });
});
