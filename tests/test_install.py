"""The installs the README gives resolve to exactly one TensorFlow, on Python 3.11 and 3.12.

``tensorflow`` and ``tensorflow-cpu`` are two distributions of the same ``tensorflow/`` package:
installed together, one overwrites the other's files and removing either breaks the other. Each
test asks pip what it *would* install (``--dry-run --report``, nothing is downloaded but metadata)
for a fresh environment (``--ignore-installed``). They need the package index, as ``make setup`` does.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def would_install(python: str, extras: str, tmp_path: Path) -> dict[str, str]:
    report = tmp_path / f"report-{extras}.json"
    done = subprocess.run(
        [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report)]
        + [f"{ROOT}[{extras}]"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    items = json.loads(report.read_text())["install"]
    return {re.sub(r"[-_.]+", "-", i["metadata"]["name"]).lower(): i["metadata"]["version"] for i in items}


def tensorflows(names: dict[str, str]) -> list[str]:
    return sorted(n for n in names if n in ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly"))


@pytest.mark.slow
def test_the_gpu_install_gives_one_tensorflow_with_its_cuda_libraries(tmp_path):
    names = would_install(sys.executable, "gpu", tmp_path)
    assert tensorflows(names) == ["tensorflow"]
    assert any(n.startswith("nvidia-cudnn") for n in names)  # tensorflow[and-cuda]


@pytest.mark.slow
def test_the_cpu_install_gives_one_tensorflow(tmp_path):
    names = would_install(sys.executable, "cpu,dev", tmp_path)
    assert tensorflows(names) == ["tensorflow-cpu"]


@pytest.mark.slow
def test_the_base_install_has_no_tensorflow(tmp_path):
    assert tensorflows(would_install(sys.executable, "dev", tmp_path)) == []


BLOCK_TENSORFLOW = """
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ImportError("no tensorflow here")
sys.meta_path.insert(0, Absent())
from lossbench.runtime import configure
configure(1)
"""


def test_without_tensorflow_lossbench_says_in_one_line_which_extra_to_install():
    done = subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "lossbench: error: TensorFlow is not installed - pip install -e '.[cpu]' (or '.[gpu]' on an NVIDIA GPU); "
        "make setup does it"
    )


def python312() -> str | None:
    """A Python 3.12 interpreter on this machine (PATH, then pyenv's versions), or None."""
    candidates = [shutil.which("python3.12"), *sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))]
    for candidate in filter(None, candidates):
        if subprocess.run([str(candidate), "--version"], capture_output=True).returncode == 0:
            return str(candidate)
    return None


@pytest.mark.slow
@pytest.mark.skipif(python312() is None, reason="no Python 3.12 interpreter on this machine")
def test_python_312_resolves_the_whole_install(tmp_path):
    names = would_install(python312(), "cpu,dev", tmp_path)
    assert tensorflows(names) == ["tensorflow-cpu"]
    assert {"keras", "optuna", "mlflow", "hydra-core"} <= set(names)


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_after_setup_gpu_a_reinstall_keeps_tensorflow_for_the_gpu(tmp_path):
    """`make setup-gpu` marks the venv (.tensorflow = gpu): a later install for `make sweep` / `make test`
    (pyproject.toml changed) asks for [gpu], never puts tensorflow-cpu over tensorflow."""
    venv = tmp_path / "venv"
    venv.mkdir()

    def planned(target: str) -> str:
        done = subprocess.run(
            ["make", "-n", "-W", "pyproject.toml", f"{venv}/{target}", f"VENV={venv}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    assert "'.[cpu]'" in planned(".installed-run") and "'.[cpu,dev]'" in planned(".installed")
    (venv / ".tensorflow").write_text("gpu\n")
    assert "'.[gpu]'" in planned(".installed-run") and "cpu" not in planned(".installed-run")
    assert "'.[gpu,dev]'" in planned(".installed") and "'.[cpu" not in planned(".installed")
