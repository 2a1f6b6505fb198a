// Where a saved model directory keeps its weights and its config, whatever the layout:
// `dir/model.safetensors` and `dir/config.json` as plain files (rnnkit ≤ 0.1), or names that
// are symlinks into a versioned subdirectory (atomic saves: `dir/.rnnkit/current/…`), or,
// should the top-level names go away, the one `*.safetensors` / `config.json` found under
// `dir`. Returns the REAL paths (symlinks resolved), so that a test that corrupts a file
// corrupts the bytes a load reads — not a link that a save would replace.
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findUnder(dir, test) {
  const found = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (test(e.name)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

function locate(dir, name, test) {
  const top = join(dir, name);
  if (existsSync(top)) return realpathSync(top);
  const found = findUnder(dir, test).map((p) => realpathSync(p));
  const unique = [...new Set(found)];
  if (unique.length !== 1) throw new Error(`${dir}: expected one ${name}, found ${unique.length}: ${unique.join(', ')}`);
  return unique[0];
}

/** The real paths of a saved model's weights and config. */
export function modelFiles(dir) {
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  return {
    weights: locate(dir, 'model.safetensors', (n) => n.endsWith('.safetensors')),
    config: locate(dir, 'config.json', (n) => n === 'config.json'),
  };
}
