/**
 * The board's HTTP API from the page: JSON in and out, a token only ever in the Authorization header
 * (never in a URL, a cookie or the page's markup), and every answer read whatever its status, since the
 * screens show what the API said.
 */

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

export async function callApi(
  method: "GET" | "POST" | "DELETE",
  path: string,
  options: { readonly token?: string; readonly body?: object } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  try {
    const response = await fetch(path, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      credentials: "omit",
      cache: "no-store",
    });
    const text = await response.text();
    return { status: response.status, body: parsed(text), headers: response.headers };
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 0,
      body: { error: { code: "NETWORK", message: `the board did not answer: ${message}` } },
      headers: new Headers(),
    };
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { error: { code: "BRD_INTERNAL", message: text.slice(0, 200) } };
  }
}

/** The message of an `{ error: { code, message } }` answer, or a fallback naming the status. */
export function errorMessage(answer: ApiAnswer): string {
  const error = (answer.body as { error?: { message?: unknown } } | null)?.error;
  return typeof error?.message === "string" ? error.message : `the board answered ${answer.status}`;
}
