// Runs one child (a peer script or the rnnkit worker) under a wall-clock cap and collects
// the JSON rows it prints on stdout. Its stderr goes to a log file (and its tail into errors).
import { spawn } from 'node:child_process';
import fs from 'node:fs';

/**
 * @returns {Promise<{rows: object[], code: number|null, timedOut: boolean, stderrTail: string, seconds: number}>}
 */
export function runChild([cmd, args, env = {}], { capS, logFile }) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args.map(String), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the cap can stop it and anything it started
    });
    const log = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
    log?.write(`\n$ ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}${cmd} ${args.join(' ')}\n`);
    let out = '';
    let errTail = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => {
      log?.write(d);
      errTail = (errTail + d).slice(-2000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, capS * 1000);
    let done = false;
    const finish = (code) => { // 'error' and 'close' can both arrive
      if (done) return;
      done = true;
      clearTimeout(timer);
      log?.end();
      const rows = [];
      for (const line of out.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try { rows.push(JSON.parse(line)); } catch { /* a partial line from a killed child */ }
      }
      resolve({ rows, code, timedOut, stderrTail: errTail.trim(), seconds: (Date.now() - t0) / 1000 });
    };
    child.on('error', (e) => { errTail += `\n${cmd}: ${e.message}`; finish(null); });
    child.on('close', (code) => finish(code));
  });
}
