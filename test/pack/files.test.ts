/**
 * What `npm pack` puts in the package (package.json "files"), checked on the dry-run list
 * (`npm pack --dry-run --json --ignore-scripts`: nothing is built or written). The full
 * proof — pack, install without a compiler, run — is scripts/verify-pack.sh (npm run test:pack).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

function walk(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

let files: Set<string>;
beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, npm_config_loglevel: 'silent' },
  });
  files = new Set((JSON.parse(out)[0].files as { path: string }[]).map((f) => f.path));
});

describe('npm package contents', () => {
  it('ships everything a compile needs where no prebuild matches (the install script, binding.gyp and every C++ file)', () => {
    expect(pkg.scripts.install).toBe('node scripts/install.mjs');
    for (const f of ['binding.gyp', 'scripts/install.mjs', 'scripts/native-sources.cjs', 'native/sources.json']) {
      expect(files, f).toContain(f);
    }
    const native = ['native/src', 'native/include', 'native/addon'].flatMap(walk).filter((f) => /\.(cc|h)$/.test(f));
    expect(native.length).toBeGreaterThan(20);
    const missing = native.filter((f) => !files.has(f.split(path.sep).join('/')));
    expect(missing).toEqual([]);
    const listed = JSON.stringify(JSON.parse(readFileSync(path.join(root, 'native/sources.json'), 'utf8')));
    for (const src of listed.match(/native\/(?:src|addon)\/[\w/.-]+\.cc/g) ?? []) expect(files, src).toContain(src);
  });

  it('ships the built JavaScript and wasm when they are built, and names prebuilds/', () => {
    if (existsSync(path.join(root, 'dist/src/index.js'))) {
      expect(files).toContain('dist/src/index.js');
      expect(files).toContain('dist/src/cli/main.js');
    }
    if (existsSync(path.join(root, 'wasm/dist/rnnkit.wasm'))) expect(files).toContain('wasm/dist/rnnkit.wasm');
    expect(pkg.files).toContain('prebuilds');
    // npm pack from a clone builds the prebuild for its platform and the wasm first.
    expect(pkg.scripts.prepack).toMatch(/prebuildify --napi --strip --tag-libc/);
    expect(pkg.scripts.prepack).toMatch(/node wasm\/build\.mjs/);
  });

  it('ships no tests, benchmarks, examples, build scripts or source maps', () => {
    const devOnly = [...files].filter((f) =>
      /^(native\/test\/|test\/|bench\/|examples\/|build\/|build-|\.ci\/|CMakeLists\.txt$|wasm\/[^/]+$)|\.map$/.test(f),
    );
    expect(devOnly).toEqual([]);
  });
});
