"""bench/device_check.sh and its verdict (bench/device_summary.py): a case that did not run as labelled (failed,
fell back to eager, recompiled, skipped CUDA graphs) or a call cut short by its timeout fails the check, the
paper is priced at the configured precision with bf16 beside, and on a CPU the whole chain runs."""

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import device_summary  # noqa: E402  (bench/ is no package)


def measured(**kw) -> dict:
    """One compiled case as bench_train.py records it, ran as labelled unless `kw` says otherwise."""
    return {
        "key": "group16+compiled",
        "case": "(d) engine compiled, seed group of 16, fp32",
        "k": 16,
        "precision": "fp32",
        "images_per_s": 100_000.0,
        "eval_images_per_s": 300_000.0,
        "eval_batch_size": 1000,
        "step_compiled": True,
        "eval_compiled": True,
        "graphs": 4,
        "graphs_expected": 4,
        "cudagraph_skips": 0,
        "fallbacks": [],
        **kw,
    }


def summary(tmp_path, cases, capsys, bench_exit=0, cuda=True):
    path = tmp_path / "check.json"
    path.write_text(json.dumps({"device": "H100", "cuda": cuda, "torch": "2.11", "subset": 8272, "cases": cases}))
    rc = device_summary.main([str(path), "--bench-exit", str(bench_exit), "--limit-s", "320"])
    return rc, capsys.readouterr().out


@pytest.mark.parametrize(
    "change,says",
    [
        ({"fallbacks": ["torch.compile could not capture the evaluation (Unsupported: x)"]}, "fell back to eager"),
        ({"graphs": 6}, "6 graphs compiled, 4 expected (one per batch shape)"),
        ({"cudagraph_skips": 2}, "CUDA graphs skipped 2×"),
    ],
)
def test_a_case_that_did_not_run_as_labelled_fails_the_check_and_is_not_priced(tmp_path, capsys, change, says):
    rc, out = summary(tmp_path, [measured(**change)], capsys)
    assert rc == 1 and says in out.split("## Not as labelled")[1]
    assert "fp32: no sound seed group was measured, so no price" in out


def test_a_failed_case_and_a_timeout_fail_the_check_and_the_summary_still_prints(tmp_path, capsys):
    failed = {"key": "fp64", "case": "(e) engine eager, one run, fp64", "error": "RuntimeError: CUDA error: boom"}
    rc, out = summary(tmp_path, [measured(), failed], capsys, bench_exit=124)
    assert rc == 1 and "failed: RuntimeError: CUDA error: boom" in out
    assert "cut by the timeout (320.0 s)" in out and "## The paper scale's cost" in out


def test_the_paper_is_priced_at_the_configured_precision_with_bf16_beside(tmp_path, capsys):
    bf16 = measured(key="group16-bf16+compiled", case="(d) bf16", precision="bf16", images_per_s=250_000.0)
    tf32 = measured(key="group16+tf32+compiled", case="(d) tf32", precision="fp32+tf32", images_per_s=200_000.0)
    rc, out = summary(tmp_path, [measured(), bf16, tf32], capsys)
    assert rc == 0 and "Every case ran as labelled." in out
    cost = device_summary.paper_cost.cost(device_summary.paper_cost.scale_config("paper", 16))
    fp32_hours = device_summary.paper_cost.hours(cost, 100_000, 300_000)
    bf16_hours = device_summary.paper_cost.hours(cost, 250_000, 300_000)
    assert f"- fp32: {fp32_hours:,.2f} hours" in out and f"- bf16: {bf16_hours:,.2f} hours" in out
    assert fp32_hours > bf16_hours  # float32, the configured dtype, is not priced at a faster precision's pace
    assert "configured precision: fp32" in out and "fp32+tf32:" not in out.split("## The paper")[1]


def test_a_cpu_records_no_cuda_graph_skips_against_a_case(tmp_path, capsys):
    rc, _ = summary(tmp_path, [measured(cudagraph_skips=3)], capsys, cuda=False)
    assert rc == 0


def device_check(tmp_path, cases: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "bench/device_check.sh", str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHON": sys.executable, "SUBSET": "208", "CASES": cases, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_the_device_check_runs_its_whole_chain_on_a_cpu(tmp_path):
    """208 images: a full minibatch of 128 and a short one of 80, as 50,000 leaves; the compiled seed group's
    step is two graphs (its evaluation stays eager on a CPU), and its timed epoch begins at a milestone."""
    done = device_check(tmp_path, "conventional group2+compiled group2-bf16", LIMIT_S="700", CASE_S="100")
    report = (tmp_path / "device_check.md").read_text()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    checks = report.split("## Checks")[1].splitlines()
    compiled = next(line for line in checks if line.startswith("| (d) engine compiled, seed group of 2"))
    assert "| 2 (2) |" in compiled and compiled.endswith("| ok |")
    assert "- fp32: " in report and "- bf16: " in report and "Every case ran as labelled." in report


@pytest.mark.slow
def test_a_device_check_cut_by_its_timeout_still_prints_its_summary_and_fails(tmp_path):
    done = device_check(tmp_path, "group2 fp32", LIMIT_S="8", CASE_S="4")
    report = (tmp_path / "device_check.md").read_text()
    assert done.returncode == 1
    assert "cut by the timeout (8.0 s)" in report and "## The paper scale's cost" in report
