#!/usr/bin/python3
"""PyTorch golden data for bidirectional / variable-length / PyTorch-style recurrent layers (issue 11).

Writes, into --out:
  * one JSON file per case: nn.RNN/GRU/LSTM x num_layers 1,2 x uni/bidirectional on a padded batch with
    random lengths packed by pack_padded_sequence(enforce_sorted=False), an nn.Linear head and
    loss = sum(head(out) * G * mask); plus an nn.Embedding -> nn.LSTM(2 layers) -> nn.Linear case;
  * safetensors files of a few state_dicts (F64, F32, one F16), written by the small writer below
    (byte-identical to what the safetensors library writes), and state-dicts.json describing them.

Everything is float64 and seeded; running it twice gives identical bytes.  It checks its own data:
an independent per-sequence re-implementation of the cells (forward and autograd gradients) must agree
with torch.nn, padding must be zero, h_n must be the state at each sequence's last valid step, and
torch.autograd.gradcheck passes on tiny packed bidirectional stacks.

Usage (Debian's python3-torch 1.13, i.e. /usr/bin/python3):
    python3 tools/golden/pytorch_layers.py --out Autograd.Tests/Golden/PyTorch
"""

import argparse
import hashlib
import json
import os
import struct
import sys

try:
    import numpy as np
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    from torch.nn.utils import stateless
except ImportError as e:  # pragma: no cover
    sys.exit(f"{e}: needs PyTorch and numpy (Debian: apt-get install python3-torch; run with /usr/bin/python3)")

F, H, B, T, OUT = 3, 4, 3, 5, 2          # input size, hidden size, batch, steps, head output size
VOCAB, EMBED = 7, 3                      # embedding case
KINDS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
GENERATOR = f"PyTorch {torch.__version__} autograd, float64; see tools/golden/pytorch_layers.py"
LOSS = "sum(head(output) * G * mask), mask[b,t] = 1 if t < lengths[b] else 0"

torch.set_default_dtype(torch.float64)
torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------------------------------------- helpers

def tensor_json(t):
    """{"shape": [...], "data": [...]}, row-major; floats print with repr (shortest exact round trip)."""
    t = t.detach().contiguous()
    if not t.is_floating_point():   # ids stay integers
        return {"shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}
    return {"shape": list(t.shape), "data": [float(v) for v in t.to(torch.float64).reshape(-1).tolist()]}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(obj, allow_nan=False))
        f.write("\n")


def random_lengths(gen, need_one):
    """Lengths in 1..T: at least one T, at least one shorter, neither ascending nor descending order."""
    while True:
        ls = torch.randint(1, T + 1, (B,), generator=gen).tolist()
        if max(ls) != T or min(ls) == T:
            continue
        if ls == sorted(ls) or ls == sorted(ls, reverse=True):
            continue
        if need_one and 1 not in ls:
            continue
        return ls


def mask_for(lengths, steps):
    return torch.tensor([[1.0 if t < n else 0.0 for t in range(steps)] for n in lengths])


def run_rnn(rnn, x, lengths, state):
    """Packed forward of a batch_first module; returns (out padded to T, h_n, c_n or None)."""
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    y, hn = rnn(packed, state)
    out, out_lengths = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
    assert out_lengths.tolist() == list(lengths)
    if isinstance(hn, tuple):
        return out, hn[0], hn[1]
    return out, hn, None


# ------------------------------------------------------------- independent reference (for self-checks)

def ref_cell(kind, p, sfx, x, h, c):
    """One step of PyTorch's cell, written out from the documentation. x: (in,), h, c: (H,)."""
    gi = p["weight_ih" + sfx] @ x + p["bias_ih" + sfx]
    gh = p["weight_hh" + sfx] @ h + p["bias_hh" + sfx]
    if kind == "rnn":
        return torch.tanh(gi + gh), None
    if kind == "gru":   # rows r, z, n; b_hn sits inside the reset product
        r = torch.sigmoid(gi[0:H] + gh[0:H])
        z = torch.sigmoid(gi[H:2 * H] + gh[H:2 * H])
        n = torch.tanh(gi[2 * H:] + r * gh[2 * H:])
        return (1 - z) * n + z * h, None
    g = gi + gh         # lstm rows i, f, g, o
    i, f_, gg, o = torch.sigmoid(g[0:H]), torch.sigmoid(g[H:2 * H]), torch.tanh(g[2 * H:3 * H]), torch.sigmoid(g[3 * H:])
    c2 = f_ * c + i * gg
    return o * torch.tanh(c2), c2


def ref_stack(kind, p, num_layers, dirs, x, lengths, h0, c0):
    """Per-sequence, unpadded loop. Returns out (B,T,dirs*H) zero-padded, h_n, c_n (L*dirs,B,H)."""
    outs, hns, cns = [], [], []
    for b, n in enumerate(lengths):
        seq = [x[b, t] for t in range(n)]
        hb, cb = [], []
        for layer in range(num_layers):
            per_dir = []
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                k = layer * dirs + d
                h = h0[k, b] if h0 is not None else torch.zeros(H)
                c = c0[k, b] if c0 is not None else torch.zeros(H)
                order = range(n) if d == 0 else range(n - 1, -1, -1)
                ys = [None] * n
                for t in order:
                    h, c = ref_cell(kind, p, sfx, seq[t], h, c)
                    ys[t] = h
                per_dir.append(ys)
                hb.append(h)
                cb.append(c)
            seq = [torch.cat([per_dir[d][t] for d in range(dirs)]) for t in range(n)]
        pad = [torch.zeros(dirs * H)] * (x.shape[1] - n)
        outs.append(torch.stack(seq + pad))
        hns.append(torch.stack(hb))
        cns.append(torch.stack(cb) if kind == "lstm" else None)
    out = torch.stack(outs)
    hn = torch.stack(hns, dim=1)
    cn = torch.stack(cns, dim=1) if kind == "lstm" else None
    return out, hn, cn


def close(a, b, what, tol=1e-12):
    err = (a - b).abs().max().item() if a.numel() else 0.0
    scale = max(1.0, b.abs().max().item() if b.numel() else 0.0)
    assert err <= tol * scale, f"{what}: max abs difference {err}"


# ------------------------------------------------------------------------------------------ layer cases

def layer_case(index, kind, num_layers, bidirectional, has_init, need_one):
    seed = 1100 + index
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    dirs = 2 if bidirectional else 1
    rnn = KINDS[kind](F, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    head = nn.Linear(dirs * H, OUT)
    lengths = random_lengths(gen, need_one)
    x = torch.randn(B, T, F, generator=gen).requires_grad_()
    h0 = c0 = None
    if has_init:
        h0 = (0.5 * torch.randn(num_layers * dirs, B, H, generator=gen)).requires_grad_()
        if kind == "lstm":
            c0 = (0.5 * torch.randn(num_layers * dirs, B, H, generator=gen)).requires_grad_()
    G = torch.randn(B, T, OUT, generator=gen)
    mask = mask_for(lengths, T)

    state = None if not has_init else ((h0, c0) if kind == "lstm" else h0)
    out, hn, cn = run_rnn(rnn, x, lengths, state)
    y = head(out)
    loss = (y * G * mask.unsqueeze(-1)).sum()
    loss.backward()

    names = [n for n, _ in rnn.named_parameters()] + ["head.weight", "head.bias"]
    params = dict(rnn.named_parameters())
    params.update({"head.weight": head.weight, "head.bias": head.bias})
    assert list(rnn.state_dict().keys()) == names[:-2]

    # ---- self-checks
    for b, n in enumerate(lengths):
        assert (out[b, n:] == 0).all(), "output past a sequence's length must be zero"
        top = (num_layers - 1) * dirs
        close(hn[top, b], out[b, n - 1, :H], "h_n (forward) = output at last valid step")
        if bidirectional:
            close(hn[top + 1, b], out[b, 0, H:], "h_n (reverse) = reverse output at t=0")
    rp = {k: v.detach().clone().requires_grad_() for k, v in rnn.named_parameters()}
    xr = x.detach().clone().requires_grad_()
    h0r = h0.detach().clone().requires_grad_() if h0 is not None else None
    c0r = c0.detach().clone().requires_grad_() if c0 is not None else None
    ro, rh, rc = ref_stack(kind, rp, num_layers, dirs, xr, lengths, h0r, c0r)
    close(ro, out, f"{kind} reference output")
    close(rh, hn, f"{kind} reference h_n")
    if kind == "lstm":
        close(rc, cn, f"{kind} reference c_n")
    rloss = ((ro @ head.weight.detach().T + head.bias.detach()) * G * mask.unsqueeze(-1)).sum()
    rloss.backward()
    for k in rp:
        close(rp[k].grad, params[k].grad, f"reference gradient {k}", 1e-11)
    close(xr.grad, x.grad, "reference input gradient", 1e-11)
    if h0 is not None:
        close(h0r.grad, h0.grad, "reference h0 gradient", 1e-11)
    if c0 is not None:
        close(c0r.grad, c0.grad, "reference c0 gradient", 1e-11)
    assert (x.grad[mask == 0] == 0).all(), "input gradient past a length must be zero"

    case = {
        "generator": GENERATOR,
        "config": {
            "kind": kind, "numLayers": num_layers, "bidirectional": bidirectional, "batchFirst": True,
            "inputSize": F, "hiddenSize": H, "batchSize": B, "seqLen": T, "headOutputSize": OUT,
            "lengths": lengths, "hasInitialState": has_init, "seed": seed,
        },
        "lossFormula": LOSS,
        "parameterNames": names,
        "parameters": {n: tensor_json(params[n]) for n in names},
        "input": tensor_json(x),
    }
    if h0 is not None:
        case["h0"] = tensor_json(h0)
    if c0 is not None:
        case["c0"] = tensor_json(c0)
    case.update({
        "G": tensor_json(G),
        "mask": tensor_json(mask),
        "output": tensor_json(out),
        "hN": tensor_json(hn),
    })
    if cn is not None:
        case["cN"] = tensor_json(cn)
    case.update({
        "headOutput": tensor_json(y),
        "loss": float(loss.item()),
        "gradients": {n: tensor_json(params[n].grad) for n in names},
        "inputGradient": tensor_json(x.grad),
    })
    if h0 is not None:
        case["h0Gradient"] = tensor_json(h0.grad)
    if c0 is not None:
        case["c0Gradient"] = tensor_json(c0.grad)
    return case, rnn, head


class EmbeddingLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.lstm = nn.LSTM(EMBED, H, num_layers=2, batch_first=True)
        self.head = nn.Linear(H, OUT)


def embedding_case():
    seed = 1200
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = EmbeddingLstm()
    lengths = random_lengths(gen, False)
    while True:
        ids = torch.randint(0, VOCAB, (B, T), generator=gen)
        valid = [ids[b, t].item() for b in range(B) for t in range(lengths[b])]
        # repeats among valid positions, and at least one id that only appears (or not at all) in padding
        if len(set(valid)) < len(valid) and len(set(valid)) < VOCAB:
            break
    G = torch.randn(B, T, OUT, generator=gen)
    mask = mask_for(lengths, T)
    emb = model.embedding(ids)
    out, hn, cn = run_rnn(model.lstm, emb, lengths, None)
    y = model.head(out)
    loss = (y * G * mask.unsqueeze(-1)).sum()
    loss.backward()

    names = list(model.state_dict().keys())
    params = dict(model.named_parameters())
    for b, n in enumerate(lengths):
        assert (out[b, n:] == 0).all()
        close(hn[1, b], out[b, n - 1], "h_n = output at last valid step")
    unused = set(range(VOCAB)) - set(valid)
    for v in unused:
        assert (params["embedding.weight"].grad[v] == 0).all(), "unused id must get zero gradient"
    # embedding gradient = sum over valid positions of d loss / d emb
    e = model.embedding(ids).detach().requires_grad_()
    o2, _, _ = run_rnn(model.lstm, e, lengths, None)
    # autograd.grad, not backward(): a second backward would add into the lstm/head .grad recorded above.
    (ge,) = torch.autograd.grad((model.head(o2) * G * mask.unsqueeze(-1)).sum(), e)
    expect = torch.zeros(VOCAB, EMBED).index_add_(0, ids.reshape(-1), ge.reshape(-1, EMBED))
    close(expect, params["embedding.weight"].grad * 1.0, "embedding gradient = scatter-add", 1e-12)
    # the recorded .grad is exactly one backward pass of the loss (nothing accumulated twice)
    o3, _, _ = run_rnn(model.lstm, model.embedding(ids), lengths, None)
    fresh = torch.autograd.grad((model.head(o3) * G * mask.unsqueeze(-1)).sum(), [params[n] for n in names])
    for n, gr in zip(names, fresh):
        close(gr, params[n].grad, f"gradient of {n} = one pass of the loss", 1e-13)

    case = {
        "generator": GENERATOR,
        "config": {
            "kind": "embedding-lstm-linear", "vocabSize": VOCAB, "embeddingSize": EMBED,
            "recurrentKind": "lstm", "numLayers": 2, "bidirectional": False, "batchFirst": True,
            "hiddenSize": H, "batchSize": B, "seqLen": T, "headOutputSize": OUT,
            "lengths": lengths, "hasInitialState": False, "seed": seed, "unusedIds": sorted(unused),
        },
        "lossFormula": LOSS,
        "parameterNames": names,
        "parameters": {n: tensor_json(params[n]) for n in names},
        "ids": tensor_json(ids),
        "embedded": tensor_json(emb),
        "G": tensor_json(G),
        "mask": tensor_json(mask),
        "output": tensor_json(out),
        "hN": tensor_json(hn),
        "cN": tensor_json(cn),
        "headOutput": tensor_json(y),
        "loss": float(loss.item()),
        "gradients": {n: tensor_json(params[n].grad) for n in names},
    }
    return case, model


# ------------------------------------------------------------------------------------------- gradcheck

def gradchecks():
    """torch.autograd.gradcheck of tiny packed 2-layer bidirectional stacks, w.r.t. input, h0, c0, weights."""
    for kind in KINDS:
        torch.manual_seed(7)
        rnn = KINDS[kind](2, 2, num_layers=2, bidirectional=True, batch_first=True)
        names = [n for n, _ in rnn.named_parameters()]
        lengths = [2, 3]
        x = torch.randn(2, 3, 2, requires_grad=True)
        h0 = torch.randn(4, 2, 2, requires_grad=True)
        c0 = torch.randn(4, 2, 2, requires_grad=True)
        ws = [p.detach().clone().requires_grad_() for p in rnn.parameters()]

        def f(x, h0, c0, *ws):
            state = (h0, c0) if kind == "lstm" else h0
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
            y, hn = stateless.functional_call(rnn, dict(zip(names, ws)), (packed, state))
            out, _ = pad_packed_sequence(y, batch_first=True, total_length=3)
            hn = torch.cat(hn) if isinstance(hn, tuple) else hn
            return out, hn

        assert torch.autograd.gradcheck(f, (x, h0, c0, *ws), eps=1e-6, atol=1e-8, rtol=1e-6)


# ------------------------------------------------------------------------------------------ safetensors

ST_DTYPES = {"F64": ("<f8", torch.float64), "F32": ("<f4", torch.float32), "F16": ("<f2", torch.float16)}


def safetensors_bytes(tensors, dtype, metadata=None):
    """Same bytes as safetensors' serialize(): tensors sorted by (dtype desc, name), data in that order,
    header = compact JSON with "__metadata__" first, padded with spaces to a multiple of 8."""
    np_dtype, torch_dtype = ST_DTYPES[dtype]
    header, blobs, offset, entries = {}, [], 0, []
    if metadata is not None:
        header["__metadata__"] = dict(sorted(metadata.items()))
    for name in sorted(tensors):          # one dtype per file, so the order is by name (byte order)
        t = tensors[name].detach().to(torch_dtype).contiguous()
        raw = t.numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        entries.append((name, t, offset, len(raw)))
        blobs.append(raw)
        offset += len(raw)
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    return struct.pack("<Q", len(hb)) + hb + b"".join(blobs), hb.decode("ascii"), entries


def read_safetensors(data):
    """Independent reader used to check the writer: returns {name: float64 tensor}, metadata."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    meta = header.pop("__metadata__", None)
    out, end = {}, 0
    for name, info in header.items():
        a, b = info["data_offsets"]
        arr = np.frombuffer(body[a:b], dtype=ST_DTYPES[info["dtype"]][0]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float64))
        end = max(end, b)
    assert end == len(body)
    return out, meta


def state_dict_files(outdir, modules):
    files = []
    for stem, module, config, dtypes, metadata in modules:
        sd = module.state_dict()
        for dtype in dtypes:
            fname = f"{stem}-{dtype.lower()}.safetensors"
            data, header, entries = safetensors_bytes(sd, dtype, metadata)
            with open(os.path.join(outdir, fname), "wb") as f:
                f.write(data)
            back, meta = read_safetensors(data)
            assert meta == metadata and set(back) == set(sd)
            for k, v in sd.items():
                expect = v.to(ST_DTYPES[dtype][1]).to(torch.float64)
                assert torch.equal(back[k], expect), f"{fname}: {k} did not round-trip"
                if dtype == "F64":
                    assert torch.equal(back[k], v)
            files.append({
                "file": fname,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "dtype": dtype,
                "headerLength": len(header),
                "header": header,
                "metadata": metadata,
                "module": config,
                "stateDictOrder": list(sd.keys()),
                "tensors": [{
                    "name": name, "dtype": dtype, "shape": list(t.shape), "dataOffsets": [off, off + size],
                    "values": [float(v) for v in t.to(torch.float64).reshape(-1).tolist()],
                } for name, t, off, size in entries],
            })
    return files


# ---------------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder, e.g. Autograd.Tests/Golden/PyTorch")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    gradchecks()

    modules = {}
    index = 0
    for kind in KINDS:
        for num_layers in (1, 2):
            for bidirectional in (False, True):
                has_init = (num_layers == 2) != bidirectional
                need_one = index % 3 == 0       # some cases get a length-1 sequence
                case, rnn, head = layer_case(index, kind, num_layers, bidirectional, has_init, need_one)
                name = f"{kind}-l{num_layers}-{'bi' if bidirectional else 'uni'}"
                write_json(os.path.join(args.out, name + ".json"), case)
                modules[name] = (rnn, case["config"])
                index += 1
    case, emb_model = embedding_case()
    write_json(os.path.join(args.out, "embedding-lstm-l2.json"), case)

    def rnn_config(name):
        c = modules[name][1]
        return {"class": "nn." + {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}[c["kind"]], "inputSize": F,
                "hiddenSize": H, "numLayers": c["numLayers"], "bidirectional": c["bidirectional"],
                "batchFirst": True, "goldenCase": name + ".json"}

    specs = [
        ("state-lstm-l2-bi", modules["lstm-l2-bi"][0], rnn_config("lstm-l2-bi"), ["F64", "F32"], None),
        ("state-gru-l1-uni", modules["gru-l1-uni"][0], rnn_config("gru-l1-uni"), ["F64", "F32", "F16"], None),
        ("state-rnn-l2-uni", modules["rnn-l2-uni"][0], rnn_config("rnn-l2-uni"), ["F64", "F32"], None),
        ("state-embedding-lstm-l2", emb_model,
         {"class": "Embedding(7,3) -> LSTM(3,4,num_layers=2,batch_first) -> Linear(4,2)",
          "prefixes": {"embedding.": "nn.Embedding", "lstm.": "nn.LSTM", "head.": "nn.Linear"},
          "goldenCase": "embedding-lstm-l2.json"}, ["F64", "F32"], {"format": "pt"}),
    ]
    files = state_dict_files(args.out, specs)
    write_json(os.path.join(args.out, "state-dicts.json"), {"generator": GENERATOR, "files": files})
    print(f"wrote {index + 1} cases and {len(files)} safetensors files to {args.out}")


if __name__ == "__main__":
    main()
