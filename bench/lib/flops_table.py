#!/usr/bin/python3
"""Flop counts and sgemm ceilings per workload for bench/lib/report.mjs, computed with the
peers' own lib/flops.py (so that rnnkit's GFLOP/s and the peers' use the same formulas).

Usage: python3 flops_table.py PEERS_LIB_DIR < rows.jsonl
Reads any JSON rows on stdin and uses the "ceiling-sgemm" ones (best of torch.mm and
numpy.matmul per shape and thread count). Prints one JSON object:
  {"workloads": {id: {"flops_per_token": f, "ceiling": {"1": GFLOP/s, ...}}},
   "peak": {"1": GFLOP/s of sgemm 2048^3, ...}}
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import flops  # noqa: E402
import timing  # noqa: E402

rates = {}
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    if r.get("peer") != "ceiling-sgemm" or "gflops" not in r:
        continue
    key = (r["threads"], r["M"], r["K"], r["N"])
    rates[key] = max(rates.get(key, 0.0), r["gflops"])

threads = sorted({k[0] for k in rates})
out = {"workloads": {}, "peak": {}}
for w in timing.load_workloads():
    ceiling = {}
    for t in threads:
        shapes = flops.ceiling_gemms(w)
        if all((t, m, k, n) in rates for m, k, n, _ in shapes):
            ceiling[str(t)] = flops.ceiling_gflops(w, lambda m, k, n, t=t: rates[(t, m, k, n)])
    out["workloads"][w["id"]] = {"flops_per_token": flops.flops_per_token(w), "ceiling": ceiling}
for t in threads:
    if (t, 2048, 2048, 2048) in rates:
        out["peak"][str(t)] = rates[(t, 2048, 2048, 2048)]
print(json.dumps(out))
