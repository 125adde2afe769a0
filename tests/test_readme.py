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
