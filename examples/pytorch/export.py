"""The PyTorch side of examples/pytorch-roundtrip.mjs.

  python3 export.py export DIR   save seeded nn.LSTM / nn.GRU weights as safetensors in DIR,
                                 run them on a fixed input, print everything as JSON
  python3 export.py check DIR    reload what rnnkit wrote back (DIR/rnnkit-*.safetensors),
                                 check it against PyTorch's own SGD step and outputs

safetensors is written and read by hand (this Python may not have the `safetensors`
package): an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
shape and byte range, then the raw little-endian float32 data.
"""
import json
import struct
import sys
from pathlib import Path

import torch

# The modules: (name, constructor). rnnkit infers the cell, layers and directions from the
# tensors (4 gate blocks: LSTM; 3: PyTorch's GRU), so nothing but the file is passed on.
MODULES = [
    ("lstm", lambda: torch.nn.LSTM(input_size=3, hidden_size=5, num_layers=2, bidirectional=True)),
    ("gru", lambda: torch.nn.GRU(input_size=3, hidden_size=4)),
]
STEPS, BATCH, INPUT = 6, 2, 3
LR = 0.1  # the SGD step rnnkit takes on the loss sum(y * dy)
TOLERANCE = 1e-5  # float32 both sides; the summation orders differ


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        values = t.detach().contiguous().to(torch.float32).flatten().tolist()
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: dtype {info['dtype']}"
        begin, end = info["data_offsets"]
        values = struct.unpack(f"<{(end - begin) // 4}f", data[begin:end])
        tensors[name] = torch.tensor(values, dtype=torch.float32).reshape(info["shape"])
    return tensors


def flat(t):
    return t.detach().flatten().tolist()


def run(module, x):
    out = module(x)
    y, state = out
    hn, cn = state if isinstance(state, tuple) else (state, None)
    return y, hn, cn


def inputs():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(STEPS, BATCH, INPUT, generator=g)  # time-major, as rnnkit (batch_first=False)
    return x, g


def export(out_dir):
    x, g = inputs()
    result = {"steps": STEPS, "batch": BATCH, "x": flat(x), "lr": LR, "modules": []}
    for k, (name, make) in enumerate(MODULES):
        torch.manual_seed(k)
        module = make()
        save_safetensors(out_dir / f"torch-{name}.safetensors", module.state_dict())
        with torch.no_grad():
            y, hn, cn = run(module, x)
        dy = torch.randn(y.shape, generator=g)  # the loss sum(y * dy) rnnkit takes a step on
        result["modules"].append({
            "name": name, "file": f"torch-{name}.safetensors", "module": repr(module),
            "y": flat(y), "hn": flat(hn), "cn": flat(cn) if cn is not None else None, "dy": flat(dy),
        })
    (out_dir / "torch-io.json").write_text(json.dumps(result))
    print(json.dumps(result))


def check(out_dir):
    given = json.loads((out_dir / "torch-io.json").read_text())
    from_rnnkit = json.loads((out_dir / "rnnkit-outputs.json").read_text())
    x = torch.tensor(given["x"]).reshape(STEPS, BATCH, INPUT)
    ok = True
    for k, (name, make) in enumerate(MODULES):
        mine = given["modules"][k]
        # PyTorch's own step: the weights as saved, the loss sum(y * dy), plain SGD.
        module = make()
        module.load_state_dict(load_safetensors(out_dir / mine["file"]))
        y, _, _ = run(module, x)
        (y * torch.tensor(mine["dy"]).reshape(y.shape)).sum().backward()
        with torch.no_grad():
            expected = {n: p - LR * p.grad for n, p in module.named_parameters()}
        # rnnkit's file must load into a fresh module as it is (strict: every name, every shape).
        reloaded = make()
        back = load_safetensors(out_dir / f"rnnkit-{name}.safetensors")
        reloaded.load_state_dict(back, strict=True)
        step_diff = max((back[n] - expected[n]).abs().max().item() for n in expected)
        with torch.no_grad():
            y2, hn2, cn2 = run(reloaded, x)
        theirs = from_rnnkit[name]
        out_diff = max(
            (y2.flatten() - torch.tensor(theirs["y"])).abs().max().item(),
            (hn2.flatten() - torch.tensor(theirs["hn"])).abs().max().item(),
            (cn2.flatten() - torch.tensor(theirs["cn"])).abs().max().item() if cn2 is not None else 0.0,
        )
        good = step_diff <= TOLERANCE and out_diff <= TOLERANCE
        ok = ok and good
        print(f"pytorch: {name}: rnnkit's weights after its SGD step differ from PyTorch's by {step_diff:.1e}; "
              f"outputs of the reloaded module differ from rnnkit's by {out_diff:.1e} {'ok' if good else 'FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("export", "check"):
        sys.exit("usage: export.py export|check DIR")
    {"export": export, "check": check}[sys.argv[1]](Path(sys.argv[2]))
