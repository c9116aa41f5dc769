import { z } from "zod";

/**
 * What state.json records of a sandbox's Prometheus (`--with prometheus`): where its HTTP API answers and
 * where its targets are listed. The process itself is a component like the others (`prometheus`).
 */
export const prometheusStateSchema = z.object({
  version: z.string(),
  /** The HTTP API: http://127.0.0.1:<port>. */
  url: z.string(),
  configFile: z.string(),
  /** The file_sd directory: `broadside-*.json` files there are scraped as job "broadside". */
  targetsDir: z.string(),
});
export type PrometheusState = z.infer<typeof prometheusStateSchema>;
