import fc from "fast-check";

/**
 * Values a hostile user types, by the kind of field they are aimed at. Each list is the issue's own
 * examples first, then neighbours of them. Paths climb at most four levels ("../../../.."): the harness
 * nests every folder the CLI may use four levels deep inside the case's own directory, so that even a
 * name that walks out of its folder today stays inside the test's directory, where it is detected.
 */

/** At most this many ".." segments in any one generated value (see above). */
export const maxClimb = 4;

const esc = "\u001b";

/** Control characters and escape sequences that would act on a terminal if printed raw. */
export const terminalAttacks: readonly string[] = [
  `${esc}[2J${esc}[H`,
  `${esc}]52;c;aGVsbG8=\u0007`,
  `${esc}[31mred${esc}[0m`,
  "a\rb",
  "a\bb",
  "\u009b31m",
  "a\u202eb",
  "a\u2066b\u2069",
  "a\u0000b",
  "a\u007fb",
];

export const hostileNames: readonly string[] = [
  "",
  ".",
  "..",
  "../..",
  "../../x",
  "../../../..",
  "a/b",
  "a\\b",
  "/etc",
  "__proto__",
  "constructor",
  "prototype",
  "hasOwnProperty",
  "UPPER",
  "Mixed-Case",
  "x".repeat(300),
  "a".repeat(64),
  "-x",
  "x-",
  "a b",
  " x",
  "x\n",
  "%2e%2e",
  "a..b",
  "a_b",
  "*",
  "$(id)",
  "`id`",
  "a;b",
  "a:b",
  "a@b",
  "~",
  "😀",
  "a.b",
  "kube-system",
  "broadside-system",
  ...terminalAttacks.map((attack) => `x${attack}`),
];

/** Broadside durations and Go durations, hostile or at their edges. */
export const hostileDurations: readonly string[] = [
  "600h",
  `${"9".repeat(400)}s`,
  `${"9".repeat(400)}ms`,
  "-1s",
  "-0",
  "1e3s",
  "0",
  "0s",
  "",
  " ",
  "NaN",
  "Infinity",
  "1d",
  "1.5.5s",
  "1h-1s",
  "9999999999h",
  "2562048h",
  "169h",
  "0.0001ms",
  ".5s",
  "1us",
  "5",
  "s",
  "10s\u001b[2J",
  "1m".repeat(200),
];

/** Numbers as YAML or flags carry them. */
export const hostileNumbers: readonly unknown[] = [
  99_999_999_999,
  2_147_483_648,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e308,
  2 ** 53 + 1,
  0,
  -0,
];

export const hostileNumberTexts: readonly string[] = [
  "99999999999",
  "2147483648",
  "-1",
  "1.5",
  "NaN",
  "Infinity",
  "1e3",
  "0x10",
  "",
  " ",
  "٣",
  "1_000",
  "9".repeat(400),
];

/** Keys of selector maps: the prototype's names first. */
export const hostileKeys: readonly string[] = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "",
  "a b",
  "UPPER/x",
  "a/b/c",
  "-x",
  "x".repeat(300),
  `k${esc}[2J`,
];

/** A marker that plays a credential: it must never be printed or written. */
export function secretMarker(seed: number): string {
  return `s3cr3t-${(seed >>> 0).toString(36)}-do-not-print`;
}

/** URLs with credentials and other surprises, for probes and BROADSIDE_PROMETHEUS_URL. */
export function hostileUrls(secret: string): string[] {
  return [
    `http://user:${secret}@127.0.0.1:18080/`,
    `http://${secret}@127.0.0.1/`,
    `http://a:b@c:${secret}@127.0.0.1/`,
    `https://user:${secret}@localhost:8443/x?y=1`,
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "file:///etc/passwd",
    "ftp://127.0.0.1/",
    "http://[::1",
    "http://127.0.0.1:99999/",
    "",
    `http://127.0.0.1/${esc}[2J`,
  ];
}

/** Any string, mostly short, sometimes with the characters that break parsers and terminals. */
export function anyText(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constantFrom(...terminalAttacks) },
  );
}

/** A hostile value for a field that holds text of the given flavour. */
export function hostileFor(
  flavour: "name" | "duration" | "number" | "key",
  secret: string,
): fc.Arbitrary<unknown> {
  switch (flavour) {
    case "name":
      return fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...hostileNames) },
        { weight: 1, arbitrary: anyText() },
      );
    case "duration":
      return fc.constantFrom(...hostileDurations);
    case "number":
      return fc.oneof(fc.constantFrom(...hostileNumbers), fc.constantFrom(...hostileNumberTexts));
    case "key":
      return fc.oneof(fc.constantFrom(...hostileKeys), fc.constant(secret));
  }
}

/** How many ".." segments a value holds: the harness refuses to run a value that climbs further than maxClimb. */
export function climb(text: string): number {
  return text.split(/[/\\]/).filter((segment) => segment === "..").length;
}
