#!/usr/bin/python3
"""The sgemm ceiling for bench's own workloads: the GEMM shapes of local_workloads.py's
schedule that the peers' ceiling/gemm.py does not already time (for a word-level LM: its
stack's shapes and the head [B*T, H] x [H, V]), timed by gemm.py's own main() (same
libraries, timing policy and row format), run from the harness's copy of the peers.

Usage: OMP_NUM_THREADS=N OPENBLAS_NUM_THREADS=N /usr/bin/python3 ceiling_local.py \\
         PEERS_DIR LOCAL_WORKLOADS_JSON --threads N --budget S [--workloads a,b]
Prints gemm.py's rows ("peer": "ceiling-sgemm"); nothing when every shape is already timed.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peers")
    ap.add_argument("local")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--budget", type=float, default=1.0)
    ap.add_argument("--workloads", default="")
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(a.peers, "ceiling"))
    sys.path.insert(0, os.path.join(a.peers, "lib"))
    sys.path.insert(0, HERE)
    import flops
    import gemm
    import local_workloads

    wanted = {s for s in a.workloads.split(",") if s}
    seen = {(m, k, n) for _, m, k, n in gemm.shapes()}
    extra = []
    for w in local_workloads.load(a.local):
        if wanted and w["id"] not in wanted:
            continue
        stack = len(flops.ceiling_gemms(local_workloads.for_flops(w)))
        for idx, (m, k, n, count) in enumerate(local_workloads.ceiling_gemms(flops, w)):
            if (m, k, n) in seen:
                continue
            seen.add((m, k, n))
            if idx >= stack:
                label = "%s head [B*T, H] x [H, V]" % w["id"]
            elif w["T"] == 1:
                label = "%s layer %d fused step" % (w["id"], idx + 1)
            else:
                kind = "recurrent, per step" if count > 1 else "input projection"
                label = "%s layer %d %s" % (w["id"], idx // 2 + 1, kind)
            extra.append((label, m, k, n))
    if not extra:
        return
    gemm.shapes = lambda: extra
    sys.argv = [gemm.__file__, "--threads", str(a.threads), "--budget", str(a.budget)]
    gemm.main()


if __name__ == "__main__":
    main()
