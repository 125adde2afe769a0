"""The extension recipes (docs/extending.md, linked from the README), followed as a new user would: add a loss in
three files, bring your own model."""

import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, tiny

from lossbench.registry import option_word

README = (ROOT / "docs" / "extending.md").read_text()


def section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else len(README)]


def blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of ``language`` in ``text``, dedented."""
    found = re.findall(rf"^( *)```{language}\n(.*?)^\1```", text, re.S | re.M)
    return ["\n".join(line[len(indent) :] for line in body.splitlines()) + "\n" for indent, body in found]


def run(cwd, args, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(cwd))
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_add_a_loss_in_three_files(tmp_path):
    recipe = section("Add a loss in three files")
    (code,), (yaml,) = blocks(recipe, "python"), blocks(recipe, "yaml")
    repo = tmp_path / "repo"
    for folder in ("lossbench", "conf", "sweeps"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = code.splitlines()[0].removeprefix("# ").strip()  # the block names its file
    (repo / path).write_text(code)
    init = repo / "lossbench" / "trial" / "losses" / "__init__.py"
    export = re.search(r"`(from lossbench\.trial\.losses\.\w+ import \w+)`", recipe).group(1)
    init.write_text(init.read_text() + f"\n{export}\n")
    name = re.search(r"^name: (\w+)$", yaml, re.M).group(1)
    (repo / "conf" / "loss" / f"{name}.yaml").write_text(yaml)

    doctest = run(repo, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--doctest-modules", path])
    assert doctest.returncode == 0, doctest.stdout + doctest.stderr
    for weighting in ("none", "median_frequency"):
        done = run(
            repo,
            [
                sys.executable,
                "-m",
                "lossbench.train",
                f"loss={name}",
                f"class_weighting={weighting}",
                *tiny(tmp_path / "results"),
            ],
        )
        assert done.returncode == 0, done.stdout + done.stderr
        said = option_word("class_weighting", weighting)
        assert f"{name} · softmax · {said}" in done.stdout and "audit nominal" in done.stdout


@pytest.mark.slow
def test_bring_your_own_model(tmp_path):
    command = next(
        line for line in blocks(section("Bring your own model"), "bash")[0].splitlines() if "lossbench.train" in line
    )
    args = command.replace("python", sys.executable, 1).split()
    overrides = [o for o in tiny(tmp_path / "results") if not o.startswith("model.")]
    done = run(ROOT, [*args, *overrides])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit nominal" in done.stdout
    assert (tmp_path / "results" / "mlflow.db").exists()
