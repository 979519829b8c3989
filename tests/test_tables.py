"""Tables from runs: statistics over seeds, diverged runs, the paper's values, three formats (their claims:
test_scorecard.py)."""

import math

import pandas as pd
import pytest

from plainres import tables
from plainres.published import with_paper


def runs_frame(rows):
    return pd.DataFrame(
        [
            {
                "net": n,
                "depth": d,
                "status": s,
                "L": l,
                "C": l + 0.001,
                "E": e,
                "L_before": 2.3,
                "reg_before": rb,
                "reg": 0.0005,
            }
            for n, d, s, l, e, rb in rows
        ]
    )


def test_summary_counts_seeds_and_diverged_runs_apart():
    runs = runs_frame(
        [
            ("plain", 20, "finished", 0.1, 0.2, 5e-4),
            ("plain", 20, "finished", 0.3, 0.4, 5e-4),
            ("plain", 20, "diverged", math.nan, math.nan, 5e-4),
        ]
    )
    s = tables.summarise(runs, ["L", "E"])
    row = s[s.quantity == "L"].iloc[0]
    assert row["mean"] == pytest.approx(0.2) and row["sd"] == pytest.approx(math.sqrt(0.02))
    assert row["n"] == 2 and row["diverged"] == 1
    assert tables.cell_text(row) == "0.2 ± 0.14 (n=2), 1 diverged"


def test_paper_values_attach_to_their_depth_and_quantity_only():
    runs = runs_frame([("plain", 20, "finished", 0.07, 0.12, 5e-4), ("residual", 8, "finished", 0.1, 0.2, 2e-6)])
    s = with_paper(tables.summarise(runs, ["L", "C", "E"]), "yt_table1")
    got = {(r.net, r.depth, r.quantity): r.paper for r in s.itertuples()}
    assert got[("plain", 20, "L")] == 0.07227 and got[("plain", 20, "E")] == 0.1263
    assert math.isnan(got[("residual", 8, "L")])
    t4 = with_paper(tables.summarise(runs, ["L_before", "reg_before", "L", "reg"]), "yt_table4")
    got4 = {(r.net, r.depth, r.quantity): r.paper for r in t4.itertuples()}
    assert got4[("plain", 20, "reg_before")] == 0.0005393 and got4[("plain", 20, "L")] == 0.07227
    assert got4[("plain", 20, "reg")] == 0.0007743
    unpublished = with_paper(tables.summarise(runs, ["E"]), "a_target_the_papers_give_no_numbers_for")
    assert unpublished.paper.isna().all() and len(unpublished) == 2


def test_tables_are_written_in_three_formats_that_parse(tmp_path):
    runs = runs_frame(
        [
            ("plain", 20, "finished", 0.07, 0.12, 5e-4),
            ("plain", 20, "finished", 0.08, 0.13, 5e-4),
            ("residual", 20, "finished", 0.04, 0.11, 2e-6),
            ("residual", 20, "finished", 0.05, 0.1, 2e-6),
        ]
    )
    s = with_paper(tables.summarise(runs, ["L", "E"]), "yt_table1")
    table = tables.wide(s, ["L", "E"])
    tables.write(tmp_path / "t", s, table, "caption here", {"scale": "paper"})
    back = tables.read_summary(tmp_path / "t.csv")
    assert back.shape == s.shape and list(back.columns) == list(s.columns)
    md = (tmp_path / "t.md").read_text()
    assert md.splitlines()[0].startswith("| depth | plain L | plain L paper") and "caption here" in md
    ragged = tables.wide(
        with_paper(
            tables.summarise(
                runs_frame(
                    [("plain", 20, "finished", 0.07, 0.12, 5e-4), ("residual", 32, "finished", 0.04, 0.11, 2e-6)]
                ),
                ["L"],
            ),
            "yt_table1",
        ),
        ["L"],
    )
    assert ragged.loc[ragged.depth == 32, "plain L"].item() == "—"
    tex = (tmp_path / "t.tex").read_text()
    assert r"\begin{tabular}" in tex and tex.count(r"\\") == 2  # the header and one depth row
    assert "±" not in tex and tex.count(r"$\pm$") == 4  # L and E of both nets, n=2 each
