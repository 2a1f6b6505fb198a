#!/usr/bin/python3
"""Flop counts and sgemm ceilings per workload for bench/lib/report.mjs, computed with the
peers' own lib/flops.py (so that rnnkit's GFLOP/s and the peers' use the same formulas).

Usage: python3 flops_table.py PEERS_LIB_DIR [LOCAL_WORKLOADS_JSON] < rows.jsonl
Reads any JSON rows on stdin and uses the "ceiling-sgemm" ones (best of torch.mm and
numpy.matmul per shape and thread count). The workloads are the peers' lib/workloads.json
and, if given, bench's own (bench/lib/wordlm-workloads.json, see local_workloads.py).
Prints one JSON object:
  {"workloads": {id: {"flops_per_token": f, "ceiling": {"1": GFLOP/s, ...}}},
   "peak": {"1": GFLOP/s of sgemm 2048^3, ...}}
"""
import json
import os
import sys

sys.path.insert(0, sys.argv[1])
sys.path.insert(1, os.path.dirname(os.path.abspath(__file__)))
import flops  # noqa: E402
import local_workloads  # noqa: E402
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
shared = timing.load_workloads()
local = local_workloads.load(sys.argv[2]) if len(sys.argv) > 2 else []
for w in shared + local:
    ceiling = {}
    for t in threads:
        shapes = local_workloads.ceiling_gemms(flops, w)
        if all((t, m, k, n) in rates for m, k, n, _ in shapes):
            ceiling[str(t)] = local_workloads.ceiling_gflops(flops, w, lambda m, k, n, t=t: rates[(t, m, k, n)])
    out["workloads"][w["id"]] = {"flops_per_token": flops.flops_per_token(local_workloads.for_flops(w)), "ceiling": ceiling}
for t in threads:
    if (t, 2048, 2048, 2048) in rates:
        out["peak"][str(t)] = rates[(t, 2048, 2048, 2048)]
print(json.dumps(out))
