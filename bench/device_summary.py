"""The verdict of bench/device_check.sh, from the JSON bench_train.py wrote case by case:

    python bench/device_summary.py OUT/device_check.json [--bench-exit RC] [--limit-s S]

Per case: training and evaluation images/s, the evaluation's share of an epoch at CIFAR's sizes (50,000 images
trained and evaluated, 10,000 evaluated), and whether the compiled step and evaluation ran as compiled: the graphs
torch compiled against one per batch shape (more is a recompile), CUDA graphs skipped, fallbacks to eager. Then
the paper scale's hours on this device at the configured precision's fastest seed group (config.yaml's train:
dtype, bf16, tf32), bf16 beside. Exits 1 when a case failed, fell back, recompiled or skipped CUDA graphs, or the
call was cut short.
"""

from __future__ import annotations

import argparse
import json
import sys

import paper_cost

PAPER_TRAIN, PAPER_TEST = paper_cost.CIFAR_TRAIN, paper_cost.CIFAR_TEST


def problems(c: dict, cuda: bool) -> list[str]:
    """What is wrong with one measured case (empty: it ran as labelled)."""
    if "error" in c:
        return [f"failed: {c['error'].splitlines()[0][:160]}"]
    if "skipped" in c or "graphs" not in c:
        return []
    found = [f"fell back to eager ({f})" for f in c["fallbacks"]]
    if c["graphs"] != c["graphs_expected"]:
        found.append(f"{c['graphs']} graphs compiled, {c['graphs_expected']} expected (one per batch shape)")
    if cuda and c["step_compiled"] and c["cudagraph_skips"]:
        found.append(f"CUDA graphs skipped {c['cudagraph_skips']}×")
    return found


def eval_share(c: dict) -> float:
    """The evaluation's share of an epoch at CIFAR's sizes, from the case's two throughputs."""
    train = PAPER_TRAIN / c["images_per_s"]
    evaluation = (PAPER_TRAIN + PAPER_TEST) / c["eval_images_per_s"]
    return evaluation / (train + evaluation)


def configured_precision(config: dict) -> str:
    """The precision label bench_train.py gives a case trained as config.yaml's `train:` says."""
    train = config["train"]
    if train["dtype"] == "float64":
        return "fp64"
    return "bf16" if train.get("bf16") else "fp32+tf32" if train.get("tf32") else "fp32"


def price(cases: list[dict], precision: str, cuda: bool) -> str:
    """The paper scale's hours at the fastest sound seed group of `precision`, or why there is none."""
    groups = [c for c in cases if c.get("k", 1) > 1 and c.get("precision") == precision and "eval_images_per_s" in c]
    groups = [c for c in groups if not problems(c, cuda)]
    if not groups:
        return f"{precision}: no sound seed group was measured, so no price"
    best = max(groups, key=lambda c: c["images_per_s"])
    config = paper_cost.scale_config("paper", best["k"])
    c = paper_cost.cost(config)
    h = paper_cost.hours(c, best["images_per_s"], best["eval_images_per_s"])
    return (
        f"{precision}: {h:,.2f} hours for the paper scale ({c['jobs']} jobs of up to {best['k']} runs), at "
        f"{best['case']}: {best['images_per_s']:,.0f} images/s training, {best['eval_images_per_s']:,.0f} evaluating"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json")
    ap.add_argument("--bench-exit", type=int, default=0, help="bench_train.py's exit status (124: the timeout)")
    ap.add_argument("--limit-s", type=float, default=None, help="the timeout bench_train.py ran under")
    args = ap.parse_args(argv)
    failed = []
    try:
        measured = json.load(open(args.json))
    except (OSError, ValueError) as error:  # bench_train.py writes it after its first case
        measured = {"device": "?", "torch": "?", "subset": 0, "cases": []}
        failed.append(f"no case was measured ({type(error).__name__}: {error})")
    cases, cuda = measured["cases"], measured.get("cuda", False)
    print(f"\n## Checks ({measured['device']}, torch {measured['torch']}, {measured['subset']:,} images)\n")
    print(
        "| case | train images/s | eval images/s (batch) | eval share of an epoch | graphs (expected) "
        "| CUDA graph skips | verdict |\n|---|---:|---:|---:|---:|---:|---|"
    )
    for c in cases:
        found = problems(c, cuda)
        failed += [f"{c['case']}: {p}" for p in found]
        if "images_per_s" not in c:
            print(f"| {c['case']} | | | | | | {'; '.join(found) or 'skipped: ' + c.get('skipped', '')} |")
            continue
        evaluation = (
            f"{c['eval_images_per_s']:,.0f} ({c['eval_batch_size']}{', compiled' if c['eval_compiled'] else ''})"
            if "eval_images_per_s" in c
            else "—"
        )
        share = f"{eval_share(c):.0%}" if "eval_images_per_s" in c else "—"
        graphs = f"{c['graphs']} ({c['graphs_expected']})" if "graphs" in c else "—"
        skips = c.get("cudagraph_skips", "—") if cuda else "—"
        print(
            f"| {c['case']} | {c['images_per_s']:,.0f} | {evaluation} | {share} | {graphs} | {skips} | "
            f"{'; '.join(found) or 'ok'} |"
        )
    if args.bench_exit:
        cut = args.bench_exit in (124, 137)
        failed.append(
            f"bench_train.py was cut by the timeout ({args.limit_s or '?'} s): the cases after the last above are "
            "missing"
            if cut
            else f"bench_train.py exited {args.bench_exit}"
        )
    configured = configured_precision(paper_cost.scale_config("paper"))
    print(f"\n## The paper scale's cost (configured precision: {configured})\n")
    for precision in dict.fromkeys((configured, "bf16")):
        print(f"- {price(cases, precision, cuda)}")
    if failed:
        print("\n## Not as labelled\n")
        print("\n".join(f"- {f}" for f in failed))
        return 1
    print("\nEvery case ran as labelled.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
