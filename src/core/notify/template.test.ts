import { describe, expect, it } from "vitest";
import { notificationEventTypes, type NotificationEvent } from "./event.js";
import {
  defaultTemplateText,
  maxTemplateLength,
  maxValueLength,
  parseTemplate,
  placeholders,
  plainText,
  renderTemplate,
  slackMrkdwn,
  type Template,
} from "./template.js";

const recovered: NotificationEvent = {
  type: "recovered",
  faultKind: "pod-kill",
  target: { kind: "Pod", namespace: "shop", name: "web-1", uid: "u-1" },
  source: { apiVersion: "broadside.dev/v1alpha1", kind: "PodChaos", namespace: "shop", name: "kill-web" },
  milestones: { acceptedMs: 12, createdMs: 40, scheduledMs: 55, readyMs: 1830 },
  at: Date.UTC(2026, 11, 6, 18, 30, 0, 250),
};

function parsed(text: string): Template {
  const template = parseTemplate(text);
  if (!("parts" in template)) throw new Error(`expected a template: ${template.problem}`);
  return template;
}

describe("templates: placeholders only, checked when the configuration is read", () => {
  it("fills placeholders from the event, with or without spaces inside the braces", () => {
    const template = parsed("{{target.namespace}}/{{ target.name }} Ready after {{milestones.readyMs}} ms");
    expect(renderTemplate(template, recovered, plainText)).toBe("shop/web-1 Ready after 1830 ms");
  });

  it("knows every field of the event: time in RFC 3339, the source, the event type", () => {
    const template = parsed(
      "{{event}} {{time}} {{source.kind}}/{{source.name}} {{fault.kind}} {{target.uid}}",
    );
    expect(renderTemplate(template, recovered, plainText)).toBe(
      "recovered 2026-12-06T18:30:00.250Z PodChaos/kill-web pod-kill u-1",
    );
  });

  it("shows n/a for what the event lacks: a milestone not seen, no reason, no source", () => {
    const template = parsed("gone {{milestones.goneMs}}; {{reason}}; {{source.name}}");
    const { source, ...withoutSource } = recovered;
    expect(source).toBeDefined();
    expect(renderTemplate(template, withoutSource, plainText)).toBe("gone n/a; n/a; n/a");
  });

  it("refuses an unknown placeholder, naming it and listing the known ones", () => {
    expect(parseTemplate("{{target.nam}} down")).toEqual({
      problem: `unknown placeholder "{{target.nam}}"; known placeholders: ${placeholders.join(", ")}`,
    });
  });

  it("refuses anything that looks like code: expressions are unknown placeholders", () => {
    for (const text of [
      "{{constructor.constructor}}",
      "{{target.name.toUpperCase()}}",
      "{{ process.env }}",
    ]) {
      const result = parseTemplate(text);
      expect("problem" in result && result.problem.startsWith("unknown placeholder"), text).toBe(true);
    }
  });

  it("refuses braces that open no placeholder, an empty template and a very long one", () => {
    expect(parseTemplate("{{target.name} down")).toHaveProperty(
      "problem",
      expect.stringMatching(/opens no placeholder/),
    );
    expect(parseTemplate("{{ {{target.name}}")).toHaveProperty(
      "problem",
      expect.stringMatching(/opens no placeholder/),
    );
    expect(parseTemplate("  ")).toEqual({ problem: "must not be empty" });
    expect(parseTemplate("x".repeat(maxTemplateLength + 1))).toEqual({
      problem: `must be at most ${maxTemplateLength} characters`,
    });
  });

  it("shows an unknown placeholder's control characters as escapes in the problem", () => {
    expect(parseTemplate("{{a\u001b[2Jb}}")).toHaveProperty(
      "problem",
      expect.stringContaining("a\\\\u001b[2Jb"),
    );
  });

  it("parses every default template", () => {
    for (const type of notificationEventTypes)
      expect(parseTemplate(defaultTemplateText[type])).toHaveProperty("parts");
  });
});

describe("rendering: values from the cluster cannot inject formatting", () => {
  const hostile: NotificationEvent = {
    ...recovered,
    type: "refused",
    reason: "<!channel> & <https://evil.example|click> \u001b[31mred\u001b[0m\u202eevil",
  };

  it("escapes Slack's &, < and > in values, and shows control characters as escapes", () => {
    expect(renderTemplate(parsed("refused: {{reason}}"), hostile, slackMrkdwn)).toBe(
      "refused: &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; \\u001b[31mred\\u001b[0m\\u202eevil",
    );
  });

  it("keeps the operator's own markup in the template text", () => {
    expect(
      renderTemplate(parsed("*<https://runbook.example|runbook>* {{target.name}}"), recovered, slackMrkdwn),
    ).toBe("*<https://runbook.example|runbook>* web-1");
  });

  it("leaves plain text unescaped but still cleaned of control characters", () => {
    expect(renderTemplate(parsed("{{reason}}"), hostile, plainText)).toBe(
      "<!channel> & <https://evil.example|click> \\u001b[31mred\\u001b[0m\\u202eevil",
    );
  });

  it("cuts a very long value", () => {
    const long = { ...hostile, reason: "r".repeat(maxValueLength + 50) };
    expect(renderTemplate(parsed("{{reason}}"), long, plainText)).toBe(`${"r".repeat(maxValueLength)}...`);
  });
});
