"""The Python side of workloads.mjs: bench's own workloads (wordlm-workloads.json) as the
peers' lib/flops.py sees them, and the GEMM shapes that bound them.

A word-level LM ("wordlm") is, in arithmetic, a "train" workload whose head is over the
vocabulary: flops.py's 3*cell + 3*2*H*head per token counts it exactly (the embedding
lookup costs no flops), so it is presented to flops.py with mode "train". Its ceiling adds
the head GEMM [B*T, H] x [H, V] to flops.py's schedule of the stack, because the head is
most of the work (13.3 of ~15 Mflop per token forward at V = 33,278); flops.py's own train
schedule leaves the head out (a 128-class head is negligible there).
"""
import json


def load(path):
    with open(path) as f:
        return json.load(f)


def for_flops(w):
    """The workload as flops.py understands it."""
    return dict(w, mode="train") if w["mode"] == "wordlm" else w


def ceiling_gemms(flops, w):
    """(M, K, N, count) of the workload's ceiling schedule, flops.ceiling_gemms plus the head."""
    out = list(flops.ceiling_gemms(for_flops(w)))
    if w["mode"] == "wordlm":
        out.append((w["B"] * w["T"], w["H"], w["head"], 1))
    return out


def ceiling_gflops(flops, w, rate):
    """flops.ceiling_gflops's combination (total flops / total time) over ceiling_gemms."""
    if w["mode"] != "wordlm":
        return flops.ceiling_gflops(w, rate)
    total = time = 0.0
    for m, k, n, count in ceiling_gemms(flops, w):
        f = 2.0 * m * k * n * count
        total += f
        time += f / rate(m, k, n)
    return total / time
