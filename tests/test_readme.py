"""The README's findings are the committed findings.md files, verbatim."""

from tools import readme


def test_readme_findings_blocks_match_the_committed_results():
    assert readme.main(["--check"]) == 0, "run python -m tools.readme"


def test_render_copies_a_findings_file_and_fixes_its_links(tmp_path):
    (tmp_path / "results" / "x").mkdir(parents=True)
    (tmp_path / "results" / "x" / "findings.md").write_text("- a [link](summary.md)\n")
    text = "intro\n<!-- findings: results/x/findings.md -->\nold\n<!-- /findings -->\nend\n"
    out = readme.render(text, tmp_path)
    assert (
        out
        == "intro\n<!-- findings: results/x/findings.md -->\n- a [link](results/x/summary.md)\n<!-- /findings -->\nend\n"
    )


def test_the_readme_is_read_in_a_minute_and_its_answer_is_generated():
    text = (readme.ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    assert text.index("## The answer") < text.index("## Your own data")  # the answer before the how-to
    assert "<!-- answer -->\n| question | answer | data | how sure |" in text


def test_the_answer_takes_only_claims_two_seed_sets_confirmed(tmp_path):
    from tools import answer

    (tmp_path / "results" / "a").mkdir(parents=True)
    (tmp_path / "results" / "b").mkdir(parents=True)
    both = "**In one line each (each confirmed by both seed sets; x):** dice+softmax | none | adam wins. The rest"
    (tmp_path / "results" / "a" / "findings.md").write_text(both)
    one = "**In one line each (one seed set: no second seed set has checked these yet):** a wins. The rest"
    (tmp_path / "results" / "b" / "findings.md").write_text(one)
    assert "soft Dice · softmax · unweighted · Adam 1e-3 wins" in answer.row(
        "q", "results/a/findings.md", "d", tmp_path
    )
    assert "rest on one seed set" in answer.row("q", "results/b/findings.md", "d", tmp_path)
    assert "not run yet" in answer.row("q", "results/c/findings.md", "d", tmp_path)
    use = "**Use / avoid** (classes both seed sets confirm): use (converged in every seed): x; avoid (never converged): y."
    (tmp_path / "results" / "b" / "findings.md").write_text(one + "\n\n" + use + "\n")
    assert "| q | Use (converged in every seed): x; avoid (never converged): y | d | both seed sets" in answer.row(
        "q", "results/b/findings.md", "d", tmp_path
    )
    (tmp_path / "results" / "a" / "findings.md").write_text(
        both + "\n\n" + use.replace("both seed sets confirm", "one seed set")
    )
    assert "use (converged" not in answer.row("q", "results/a/findings.md", "d", tmp_path)


def test_a_claim_that_holds_on_real_hearts_needs_both_seed_sets_of_the_real_run(tmp_path):
    from tools import answer

    (tmp_path / "results").mkdir()
    key = "optimizer: adam (all pairings pooled) vs sgd_thread2 (all pairings pooled) (rate)"
    (tmp_path / "results" / "transfer-findings.md").write_text(f"On 50 hearts:\n\n- {key}: **holds** (figures)\n")
    one = answer.row("q", "results/transfer-findings.md", "d", tmp_path)
    assert "rests on one seed set" in one and "Adam" not in one  # no second seed set of acdc50: no claim
    (tmp_path / "results" / answer.REAL).mkdir()
    csv = tmp_path / "results" / answer.REAL / "reproducibility.csv"
    csv.write_text(f'conclusion,seeds A,seeds B,agree\n"{key}",higher,higher,yes\n')
    both = answer.row("q", "results/transfer-findings.md", "d", tmp_path)
    assert "these hold on real hearts: optimizer: Adam 1e-3" not in both  # the section name is not said
    assert "these hold on real hearts: Adam 1e-3 (all pairings pooled) vs SGD 1e-4 (thread 2)" in both
    assert both.endswith("both data sets, both seed sets ([transfer-findings](results/transfer-findings.md)) |")
    csv.write_text(f'conclusion,seeds A,seeds B,agree\n"{key}",higher,undecided,no\n')
    assert "rests on one seed set" in answer.row("q", "results/transfer-findings.md", "d", tmp_path)
