/**
 * Where a built file is when rnnkit runs from its TypeScript sources (vitest runs src/*.ts):
 * Node cannot start a .ts worker, so the workers come from dist/, and the wasm modules are in
 * wasm/dist/ at the repository root. `from` is the caller's `import.meta.url`; undefined when
 * the caller is not a .ts source (an installed package, a bundle).
 *
 * Deliberately not a literal `new URL('…', import.meta.url)`: bundlers resolve every such
 * literal as an asset at build time, and webpack fails the build on paths that exist only in
 * the repository.
 */
export function fromSourceTree(from: string, relative: string): URL | undefined {
  return from.endsWith('.ts') ? new URL(relative, from) : undefined;
}
