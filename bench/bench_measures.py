"""Cost of every measurement of issue 5 on one depth-20 net, per unit of work, on this machine.

    python bench/bench_measures.py                 # GPU if present, else CPU
    python bench/bench_measures.py --device cpu

Prints a Markdown table: each measure, its unit of work, and seconds per unit (median of --repeats
after one warm-up), so the cost of any scale follows by multiplication (e.g. Fig 3 at paper scale
is 50,000 images per net). Nets are freshly initialised: the cost does not depend on the weights.
  Table 3 / Fig 7   weight statistics of p and t = T(r) (all weights, |w| ≥ 0.25, ID entries)
  Fig 3             layer cushion of layer 10, per 1,000 images
  Fig 10            the closed-form ∂L/∂a⁽ᴸ⁾ of one minibatch of 128 (what training adds per step)
  Fig 12            σ⁽ˡ⁾ of all 19 layers on one minibatch of 128, simplified and fully-fledged
  §4 cushion        interlayer cushion of block 5, per 100 images with 64 probes
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time

import torch

from plainres.init import initialise
from plainres.measures.cushion import interlayer_cushion, layer_cushion
from plainres.measures.gradflow import layer_flow_fractions
from plainres.measures.weights import parameter_vector, plain_view, weight_statistics
from plainres.models import build_model
from plainres.step import final_activation_grad
from plainres.train import pick_device


def seconds(fn, device, repeats: int) -> float:
    def once():
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    once()  # warm-up
    return statistics.median(once() for _ in range(repeats))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    g = torch.Generator().manual_seed(0)

    def net(arch, kind, init):
        return initialise(build_model(arch, kind, 20).double(), init, 0).to(device)

    plain, residual = net("simplified", "plain", "kwi"), net("simplified", "residual", "hmwi")
    full = {kind: net("fully-fledged", kind, "kwi") for kind in ("plain", "residual")}
    images = torch.randn(1000, 3, 32, 32, generator=g, dtype=torch.float64).to(device)
    labels = torch.randint(10, (1000,), generator=g).to(device)
    logits = torch.randn(1, 128, 10, generator=g).to(device)
    fc = residual.fc.weight.detach().float()[None]

    def table3():
        for kind, model in (("plain", plain), ("residual", residual)):
            view = plain_view(
                {"arch": "simplified", "net": kind, "depth": 20}, {k: v.cpu() for k, v in model.state_dict().items()}
            )
            weight_statistics(*parameter_vector(view))

    cases = [
        ("Table 3 / Fig 7: weight statistics", "p and t of one seed", table3),
        ("Fig 3: layer cushion, layer 10", "1,000 images, one net", lambda: layer_cushion(residual, 10, images)),
        (
            "Fig 10: ∂L/∂a⁽ᴸ⁾ in closed form",
            "one minibatch of 128",
            lambda: final_activation_grad(logits, labels[None, :128], fc),
        ),
        (
            "Fig 12: σ⁽ˡ⁾, simplified",
            "one minibatch of 128, one net",
            lambda: layer_flow_fractions(residual, images[:128], labels[:128]),
        ),
        (
            "Fig 12: σ⁽ˡ⁾, fully-fledged",
            "one minibatch of 128, one net",
            lambda: layer_flow_fractions(full["residual"], images[:128], labels[:128]),
        ),
        (
            "§4: interlayer cushion, block 5",
            "100 images × 64 probes, one net",
            lambda: interlayer_cushion(full["residual"], 5, images[:100], probes=64),
        ),
    ]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(
        f"{datetime.date.today()} · {name} · torch {torch.__version__} · Python {platform.python_version()} · float64\n"
    )
    print("| measure | unit of work | seconds |\n|---|---|---:|")
    for label, unit, fn in cases:
        print(f"| {label} | {unit} | {seconds(fn, device, args.repeats):.3g} |", flush=True)


if __name__ == "__main__":
    main()
