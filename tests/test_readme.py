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
