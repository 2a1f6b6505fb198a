#!/usr/bin/python3
"""pytorch-cpu on a word-level LM workload: runs the peers' wordlm/torch_wordlm.py (from the
harness's copy, unmodified, as a child process with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS
= --threads) and turns the dict it prints into ONE JSON row in the peers' format:
  {"peer": "pytorch-cpu", "workload", "threads", "tokens_per_s", "ms_per_iter", "iters", ...}

Usage: /usr/bin/python3 torch_wordlm_row.py PEERS_DIR --workload ID --threads N --seconds S
         --vocab V [--emb I --hidden H --layers L --batch B --bptt T]
         [--dropout 0.2 --clip 0.25]
torch_wordlm.py's own timing: 3 warm-up steps, then single steps for S seconds (at least
5), median. Exit status 1 (and no row) when the script fails or prints something else.
"""
import argparse
import ast
import json
import os
import subprocess
import sys

SCRIPT_DROPOUT = 0.2
SCRIPT_CLIP = 0.25


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peers")
    ap.add_argument("--workload", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--vocab", type=int, required=True)
    shape = {"emb": None, "hidden": None, "layers": None, "batch": None, "bptt": None}
    for k in shape:
        ap.add_argument("--" + k, type=int)
    # What torch_wordlm.py hard-codes: a workload asking for other values cannot run on it.
    ap.add_argument("--dropout", type=float, default=SCRIPT_DROPOUT)
    ap.add_argument("--clip", type=float, default=SCRIPT_CLIP)
    a = ap.parse_args()
    if a.dropout != SCRIPT_DROPOUT or a.clip != SCRIPT_CLIP:
        sys.exit("torch_wordlm.py uses dropout %g and clip %g; the workload asks for dropout %g and clip %g"
                 % (SCRIPT_DROPOUT, SCRIPT_CLIP, a.dropout, a.clip))
    script = os.path.join(a.peers, "wordlm", "torch_wordlm.py")
    cmd = [sys.executable, script, "--threads", str(a.threads), "--vocab", str(a.vocab), "--seconds", str(a.seconds)]
    for k in shape:
        if getattr(a, k) is not None:
            cmd += ["--" + k, str(getattr(a, k))]
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads))
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)  # its stderr goes to ours (the run's log)
    lines = [l for l in r.stdout.splitlines() if l.strip().startswith("{")]
    if r.returncode != 0 or not lines:
        sys.exit("%s exited with status %d; stdout: %s" % (script, r.returncode, r.stdout.strip()[-500:] or "(empty)"))
    d = ast.literal_eval(lines[-1].strip())
    if d.get("vocab") != a.vocab or d.get("threads") != a.threads:
        sys.exit("%s ran vocab %s threads %s, asked for %d and %d" % (script, d.get("vocab"), d.get("threads"), a.vocab, a.threads))
    print(json.dumps({
        "peer": "pytorch-cpu", "workload": a.workload, "threads": a.threads,
        "tokens_per_s": d["tokens_per_s"], "ms_per_iter": d["ms_per_step"], "iters": d["steps"], "calls_per_rep": 1,
        "script": "peers/wordlm/torch_wordlm.py",
    }), flush=True)


if __name__ == "__main__":
    main()
