#!/usr/bin/env node
// Re-make the markdown table of a finished run: node bench/report.mjs bench/results/<run>.jsonl
import fs from 'node:fs';
import { flopsInfo, markdown } from './lib/report.mjs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node bench/report.mjs RESULTS.jsonl\n');
  process.exit(2);
}
const rows = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l));
process.stdout.write(markdown(rows, flopsInfo(rows), { date: fs.statSync(file).mtime.toISOString() }));
