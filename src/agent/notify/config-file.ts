import { usageError } from "../../core/errors.js";
import { isRecord } from "../../core/objects.js";
import { readSingleDocument } from "../../experiments/files/yaml-source.js";
import { parseNotificationConfig, type NotificationConfig } from "./config.js";

/**
 * The file `broadside agent --notifications FILE` reads: YAML (or JSON) whose one top-level key is
 * `notifications`, the section docs/agent.md describes. In a cluster it is a key of a ConfigMap mounted
 * into the agent's pod, as kube-monkey's config.toml is; the URLs and tokens stay in a Secret.
 */

export const notificationsFlag = "--notifications";

/** The configuration in `text` (read from `fileName`); every problem a usage error naming its field. */
export function notificationConfigFromText(text: string, fileName: string): NotificationConfig {
  const { data } = readSingleDocument(text, `${notificationsFlag} ${fileName}`);
  if (!isRecord(data)) {
    throw usageError(`${notificationsFlag} ${fileName}`, "must be a mapping with the key notifications");
  }
  const unknown = Object.keys(data).filter((key) => key !== "notifications");
  if (unknown.length > 0) {
    throw usageError(`${notificationsFlag} ${fileName}: ${unknown[0] ?? ""}`, "unknown field");
  }
  if (data.notifications === undefined) {
    throw usageError(`${notificationsFlag} ${fileName}: notifications`, "is required");
  }
  return parseNotificationConfig(data.notifications, `${notificationsFlag} ${fileName}`);
}
