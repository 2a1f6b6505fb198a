/**
 * The calls that read or write files run in Node only. The browser build maps their file
 * modules to nothing (package.json "browser"), where the call would fail with "x is not a
 * function" or a failed dynamic import; this says what to use in a page instead.
 */
export function requireNode(call: string, inPage: string): void {
  if (!globalThis.process?.versions?.node) {
    throw new TypeError(`${call} needs Node's files; in a page, ${inPage}`);
  }
}
