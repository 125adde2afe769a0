"""results/transfer.md as a list of sections (`lossbench.analysis.transfer_sections`), on planted studies."""

from __future__ import annotations

from test_claims import grid

from lossbench.analysis import claims, transfer_sections, transfer_tables


def compared(tmp_path) -> transfer_sections.Compared:
    """Three planted studies compared as `compare` would, without their stores."""
    frames = {"phantom": grid(bce=0.6, cce=0.8), "calibrated": grid(bce=0.7, cce=0.75), "real": grid(bce=0.9, cce=0.7)}
    info = {"study_name": "s-0", "cap": 6, "epochs": 8, "steps": 1000}
    loaded = {
        role: (transfer_tables.expand(f, {}), f, info | {"study_name": f"{role}-0"}) for role, f in frames.items()
    }
    tables = {role: claims.rates(f) for role, f in frames.items()}
    rows = transfer_tables.pairing_rows(loaded["real"][0], tables)
    found = claims.claims_for(frames["phantom"], 6)
    again = transfer_tables.retest(found, frames["real"], loaded["real"][0], 6)
    conc = transfer_tables.conclusion_rows(found, again, tables["phantom"], tables["real"], rows, {})
    rho = {"phantom": (0.5, 0.1, 0.9), "calibrated": (0.6, 0.2, 0.95)}
    learnt = rows[rows["real class"].str.startswith("always")]
    roles = {"phantom": "cmr", "calibrated": "cmr_realistic", "real": "acdc50"}
    return transfer_sections.Compared(
        tmp_path, roles, 64, loaded, tables, rows, rho, rho, learnt, (0.7, 0.3, 0.9), conc
    )


def test_the_sections_come_in_their_order(tmp_path):
    c = compared(tmp_path)
    titles = [line for section in transfer_sections.SECTIONS[:4] for line in section(c) if line.startswith("#")]
    assert titles == [
        "# Does the phantom's answer hold on real hearts?",
        "## Rank correlation",
        "## Per pairing",
        "## Every phantom conclusion, on real hearts",
    ]
    assert c.sides == ["phantom", "calibrated"]


def test_the_rank_section_quotes_each_correlation(tmp_path):
    lines = transfer_sections.rank_section(compared(tmp_path))
    assert any(
        line.startswith(
            "- **built-in phantom** (`cmr`) vs real hearts: all 5 trainings **0.50** (95 % CI 0.10 to 0.90); "
        )
        for line in lines
    )


def test_the_weighting_table_leaves_out_the_budget_studies_that_did_not_run(tmp_path, capsys):
    frames = transfer_sections.budget_frames(compared(tmp_path))
    assert list(frames) == [
        "built-in phantom, 8 epochs (1,000 steps)",
        "calibrated phantom, 8 epochs (1,000 steps)",
        "50 ACDC patients, 8 epochs (1,000 steps)",
    ]
    assert "transfer: no cmr_long study" in capsys.readouterr().out


def test_the_readme_block_counts_the_classes(tmp_path):
    c = compared(tmp_path)
    c.conc.loc[:, "stated in the README"] = "yes"
    lines = transfer_sections.findings_lines(c)
    assert lines[0].startswith("On 50 real ACDC patients (`acdc50`; [results/transfer.md](transfer.md)): ")
    assert lines[-1].startswith("- Convergence classes of the 5 phantom pairings the real run covers: ")
