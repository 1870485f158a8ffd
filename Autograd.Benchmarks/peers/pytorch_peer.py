#!/usr/bin/env python3
"""PyTorch peer for the workloads of shared/docs/benchmarks.md.

Does the same work as the C# TorchSharp peers in Autograd.Benchmarks:

* Char-LM training step (CharLm/TorchFusedCharLm.cs, CharLm/TorchComposedCharLm.cs): one recurrent
  layer on a one-hot float32 input (B, T, V), a dense projection hidden -> vocab, cross-entropy
  averaged over all B*T positions, plain SGD (lr 0.01); every step starts from zero state.
  - fused:    torch.nn.RNN/GRU/LSTM(batch_first=True) + nn.Linear + F.cross_entropy + optim.SGD.
  - composed: the same cells from torch primitive ops in a Python loop over time: the input
              projection of all steps is one matmul before the loop, split into steps with unbind;
              the gates of h are one fused matmul per step; GRU applies the reset gate *before* the
              hidden matmul (candidate = tanh(x_c + (r*h) @ W_hh)), as the seed does.
* MATMUL (Micro/MatMulBenchmarks.cs): C = A(256x512) @ B(512x1024), backward of sum(C) w.r.t. A and B.
* SCALAR (Micro/ScalarGraphBenchmarks.cs): 100,000 scalar ops cycling add, mul, tanh, where add/mul
  take an earlier tanh output (or a leaf) picked pseudo-randomly as second operand; one backward.

The batch is random (fixed seed) like the C# peers' but not the same characters (.NET's Random is
not reproduced here); only timing is compared, and the first loss should be close to ln V = 4.17.

Timing: warm-up steps for at least --warmup-seconds and at least 3 steps, then --iterations timed
steps; the median and the minimum are reported. Python only: the library and its tests never need it.
Run it through run-pytorch.sh, which clears OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE so that OpenBLAS
picks its best kernel, and sets the BLAS thread count to match --threads.
"""

import argparse
import ctypes
import datetime
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from torch import nn

SIZES = {  # V, B, T, H (benchmarks.md)
    "S": (65, 1, 256, 32),
    "M": (65, 32, 64, 256),
    "L": (65, 64, 128, 512),
}
CELLS = ("rnn", "gru", "lstm")
VARIANTS = ("fused", "composed")
WORKLOADS = ("charlm", "matmul", "scalar")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def make_batch(v, b, t):
    """One-hot input (B, T, V) float32 and targets (B*T) int64: a random stream cut so targets are inputs shifted by one."""
    g = torch.Generator().manual_seed(1234)
    stream = torch.randint(0, v, (b * t + 1,), generator=g)
    ids = stream[:-1].reshape(b, t)
    targets = stream[1:].clone()
    return F.one_hot(ids, v).to(torch.float32), targets


class FusedCharLm:
    """torch.nn.RNN/GRU/LSTM(batch_first) + nn.Linear + F.cross_entropy + SGD(lr 0.01)."""

    def __init__(self, cell, v, b, t, h):
        torch.manual_seed(1)
        module = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        kwargs = {"nonlinearity": "tanh"} if cell == "rnn" else {}
        self.recurrent = module(v, h, num_layers=1, bias=True, batch_first=True, **kwargs)
        self.projection = nn.Linear(h, v)
        self.sgd = torch.optim.SGD(list(self.recurrent.parameters()) + list(self.projection.parameters()), lr=0.01)
        self.input, self.targets = make_batch(v, b, t)
        self.bt, self.v = b * t, v

    def step(self):
        self.sgd.zero_grad()
        hidden, _ = self.recurrent(self.input)                                 # (B, T, H), zero initial state
        logits = self.projection(hidden).reshape(self.bt, self.v)
        loss = F.cross_entropy(logits, self.targets)
        loss.backward()
        self.sgd.step()
        return loss.item()


class ComposedCharLm:
    """The cells from torch primitive ops in a Python loop over time (TorchComposedCharLm.cs)."""

    def __init__(self, cell, v, b, t, h):
        torch.manual_seed(1)
        self.cell, self.v, self.b, self.t, self.h = cell, v, b, t, h
        gates = GATES[cell]
        k = 1.0 / math.sqrt(h)

        def uniform(*shape):
            return nn.Parameter(torch.empty(*shape).uniform_(-k, k))

        self.wx = uniform(v, gates * h)
        # GRU: h feeds r and u through W_h (H, 2H); the candidate uses (r*h) @ W_hh (H, H).
        self.wh = uniform(h, (2 if cell == "gru" else gates) * h)
        self.whh = uniform(h, h) if cell == "gru" else None
        self.bias = uniform(gates * h)
        self.wv = uniform(h, v)
        self.bv = uniform(v)
        params = [self.wx, self.wh, self.bias, self.wv, self.bv] + ([self.whh] if self.whh is not None else [])
        self.sgd = torch.optim.SGD(params, lr=0.01)
        self.input, self.targets = make_batch(v, b, t)

    def step(self):
        self.sgd.zero_grad()
        b, t, hs, v = self.b, self.t, self.h, self.v
        h = torch.zeros(b, hs)
        c = torch.zeros(b, hs) if self.cell == "lstm" else None
        projected = (self.input.reshape(b * t, v).mm(self.wx) + self.bias).reshape(b, t, -1)  # (B, T, G*H)
        # unbind, not select per step: select's backward builds a zero (B, T, G*H) gradient per step.
        xs = projected.unbind(1)
        outputs = []
        for x in xs:                                                           # x: (B, G*H)
            if self.cell == "rnn":
                h = (x + h.mm(self.wh)).tanh()
            elif self.cell == "gru":
                xr, xu, xc = x.chunk(3, 1)
                hr, hu = h.mm(self.wh).chunk(2, 1)
                r = (xr + hr).sigmoid()
                u = (xu + hu).sigmoid()
                candidate = (xc + (r * h).mm(self.whh)).tanh()
                h = u * h + (1 - u) * candidate
            else:
                f, i, g, o = (x + h.mm(self.wh)).chunk(4, 1)
                c = f.sigmoid() * c + i.sigmoid() * g.tanh()
                h = o.sigmoid() * c.tanh()
            outputs.append(h)
        hidden = torch.stack(outputs, 1).reshape(b * t, hs)                    # (B*T, H)
        logits = hidden.mm(self.wv) + self.bv                                  # (B*T, V)
        loss = F.cross_entropy(logits, self.targets)
        loss.backward()
        self.sgd.step()
        return loss.item()


class MatMul:
    """C = A(256x512) @ B(512x1024), backward of sum(C); gradients set to None first (fresh buffers)."""

    def __init__(self):
        torch.manual_seed(7)
        self.a = torch.randn(256, 512, requires_grad=True)
        self.b = torch.randn(512, 1024, requires_grad=True)

    def step(self):
        self.a.grad = None
        self.b.grad = None
        self.a.matmul(self.b).sum().backward()
        return self.a.grad[0, 0].item() + self.b.grad[0, 0].item()


class ScalarGraph:
    """100,000 scalar ops cycling add, mul, tanh with branching operands, then one backward."""

    OPS = 100_000
    LEAVES = (0.3, -0.7, 0.5, 0.1)

    def __init__(self):
        rng = random.Random(11)
        n = len(self.LEAVES)
        self.picks = [rng.randrange(n + i // 3) for i in range(self.OPS)]  # tanh outputs created before op i
        self.leaves = [torch.tensor(x, requires_grad=True) for x in self.LEAVES]

    def step(self):
        for leaf in self.leaves:
            leaf.grad = None
        pool = list(self.leaves)
        picks = self.picks
        current = self.leaves[0]
        for i in range(self.OPS):
            k = i % 3
            if k == 0:
                current = current + pool[picks[i]]
            elif k == 1:
                current = current * pool[picks[i]]
            else:
                current = current.tanh()
                pool.append(current)
        current.backward()
        return self.leaves[0].grad.item()


def measure(step, warmup_seconds, iterations):
    """Warm-up for warmup_seconds and at least 3 steps, then time `iterations` steps (seconds each)."""
    first = step()
    warmup_steps, start = 1, time.perf_counter()
    while warmup_steps < 3 or time.perf_counter() - start < warmup_seconds:
        step()
        warmup_steps += 1
    times, last = [], None
    for _ in range(iterations):
        t0 = time.perf_counter()
        last = step()
        times.append(time.perf_counter() - t0)
    return first, last, warmup_steps, times


def openblas_info():
    """The loaded BLAS library and, if it is OpenBLAS, the kernel it chose at run time (e.g. SkylakeX, Haswell)."""
    info = {"library": None, "core": None, "threads": None}
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})
    except OSError:
        return info
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        info["library"] = os.path.realpath(path)
        if hasattr(lib, "openblas_get_corename"):
            lib.openblas_get_corename.restype = ctypes.c_char_p
            info["core"] = lib.openblas_get_corename().decode()
            info["threads"] = lib.openblas_get_num_threads()
            if hasattr(lib, "openblas_get_config"):
                lib.openblas_get_config.restype = ctypes.c_char_p
                info["config"] = lib.openblas_get_config().decode()
            break
    return info


def set_blas_threads(n):
    """OpenBLAS keeps its own thread pool; torch.set_num_threads does not size it, so set it directly too."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(lib, "openblas_set_num_threads"):
            lib.openblas_set_num_threads(n)


def parse_list(text, allowed, name):
    items = [s.strip().lower() for s in text.split(",") if s.strip()]
    if items == ["all"]:
        return list(allowed)
    bad = [s for s in items if s not in allowed]
    if bad:
        sys.exit(f"pytorch_peer.py: unknown {name} {', '.join(bad)} (choose from {', '.join(allowed)} or all)")
    return items


def main():
    p = argparse.ArgumentParser(description="PyTorch peer for shared/docs/benchmarks.md (Char-LM step, MATMUL, SCALAR).")
    p.add_argument("--size", default="M", help="S, M, L, a comma list, or all (default M)")
    p.add_argument("--cells", default="all", help="rnn,gru,lstm or all (default all)")
    p.add_argument("--variants", default="all", help="fused,composed or all (default all)")
    p.add_argument("--workloads", default="all", help="charlm,matmul,scalar or all (default all)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads and OpenBLAS threads (default 1)")
    p.add_argument("--warmup-seconds", type=float, default=3.0, help="warm-up per workload, at least 3 steps (default 3)")
    p.add_argument("--iterations", type=int, default=20, help="timed steps per workload (default 20)")
    p.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    args = p.parse_args()

    sizes = [s.upper() for s in parse_list(args.size.lower(), [s.lower() for s in SIZES], "size")]
    cells = parse_list(args.cells, CELLS, "cell")
    variants = parse_list(args.variants, VARIANTS, "variant")
    workloads = parse_list(args.workloads, WORKLOADS, "workload")
    if args.threads < 1 or args.iterations < 1:
        sys.exit("pytorch_peer.py: --threads and --iterations must be at least 1")

    torch.set_num_threads(args.threads)
    set_blas_threads(args.threads)
    blas = openblas_info()
    load_start = os.getloadavg()
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "blas": blas,
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "warmup_seconds": args.warmup_seconds,
        "iterations": args.iterations,
        "loadavg_start": load_start,
    }
    print(f"torch {meta['torch']}, python {meta['python']}, threads {meta['threads']}, "
          f"BLAS {blas['library'] or '?'} (OpenBLAS core {blas['core'] or '?'}, {blas['threads']} threads)")
    env_set = {k: v for k, v in meta["env"].items() if v is not None}
    print(f"env: {env_set or 'none of OPENBLAS_CORETYPE/L2_SIZE/OMP_NUM_THREADS/OPENBLAS_NUM_THREADS set'}")
    if env_set.get("OPENBLAS_CORETYPE") or env_set.get("OPENBLAS_L2_SIZE"):
        print("warning: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set and may force a slower OpenBLAS kernel; "
              "run through run-pytorch.sh to measure PyTorch at its best", file=sys.stderr)
    print(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}", flush=True)

    jobs = []
    if "charlm" in workloads:
        for size in sizes:
            for cell in cells:
                for variant in variants:
                    jobs.append(("charlm", size, cell, variant))
    if "matmul" in workloads:
        jobs.append(("matmul", None, None, None))
    if "scalar" in workloads:
        jobs.append(("scalar", None, None, None))

    results = []
    for kind, size, cell, variant in jobs:
        if kind == "charlm":
            v, b, t, h = SIZES[size]
            model = (FusedCharLm if variant == "fused" else ComposedCharLm)(cell, v, b, t, h)
            name = f"{size} {cell.upper()} {variant}"
        else:
            model = MatMul() if kind == "matmul" else ScalarGraph()
            name = kind.upper()
        first, last, warmup_steps, times = measure(model.step, args.warmup_seconds, args.iterations)
        med, best = statistics.median(times), min(times)
        r = {"workload": kind, "size": size, "cell": cell, "variant": variant, "threads": args.threads,
             "warmup_steps": warmup_steps, "iterations": len(times),
             "median_ms": med * 1e3, "min_ms": best * 1e3, "times_ms": [x * 1e3 for x in times]}
        if kind == "charlm":
            r.update({"V": v, "B": b, "T": t, "H": h, "chars_per_step": b * t,
                      "chars_per_s_median": b * t / med, "chars_per_s_max": b * t / best,
                      "first_loss": first, "last_loss": last})
            line = f"{med * 1e3:10.2f} ms/step (min {best * 1e3:.2f}), {b * t / med:9.0f} chars/s, loss {first:.3f}"
        elif kind == "scalar":
            r.update({"ops": ScalarGraph.OPS, "median_us_per_op": med * 1e6 / ScalarGraph.OPS,
                      "min_us_per_op": best * 1e6 / ScalarGraph.OPS})
            line = f"{med * 1e3:10.2f} ms ({r['median_us_per_op']:.2f} µs/op, min {r['min_us_per_op']:.2f})"
        else:
            gflops = 3 * 2 * 256 * 512 * 1024 / med / 1e9   # forward + two backward GEMMs
            r["gflops_median"] = gflops
            line = f"{med * 1e3:10.2f} ms fwd+bwd (min {best * 1e3:.2f}), {gflops:.0f} GFLOP/s"
        print(f"  {name:<20} {line}  [{warmup_steps} warm-up, {len(times)} timed]", flush=True)
        results.append(r)
        del model

    meta["loadavg_end"] = os.getloadavg()
    print()
    print(f"PyTorch {meta['torch']}, {args.threads} thread(s), OpenBLAS core {blas['core'] or '?'}; "
          f"medians of {args.iterations} steps; load average {load_start[0]:.2f} -> {meta['loadavg_end'][0]:.2f}")
    print()
    print("| workload | variant | median | min | chars/s (median) |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        if r["workload"] == "charlm":
            print(f"| {r['size']} {r['cell'].upper()} | {r['variant']} | {r['median_ms']:.2f} ms | {r['min_ms']:.2f} ms | "
                  f"{r['chars_per_s_median']:.0f} |")
        elif r["workload"] == "matmul":
            print(f"| MATMUL fwd+bwd | - | {r['median_ms']:.2f} ms | {r['min_ms']:.2f} ms | - |")
        else:
            print(f"| SCALAR | - | {r['median_us_per_op']:.2f} µs/op | {r['min_us_per_op']:.2f} µs/op | - |")

    if args.json:
        write_json_atomically(args.json, {"meta": meta, "results": results})
        print(f"\nwrote {args.json}")


def write_json_atomically(path, data):
    """Writes data as JSON to path via a temporary file in the same folder (flushed, fsynced, then
    renamed over path), so that an interrupted run never leaves a truncated file behind."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w") as out:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(out.fileno(), 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
            json.dump(data, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


if __name__ == "__main__":
    main()
