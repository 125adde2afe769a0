"""The MLflow dashboard in a real browser: a tiny sweep, `mlflow server`, headless Chromium."""

from __future__ import annotations

import html

import pytest
from mlflow.tracking import MlflowClient
from test_sweep import child_runs, sweep

from lossbench.screenshot import find_chromium, free_port, render, runs_page, serve_mlflow

GRID = """grid:
  loss: [categorical_crossentropy, dice]
seeds: [0]
"""


@pytest.mark.slow
def test_dashboard_shows_every_pairing_and_saves_a_screenshot(tmp_path):
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does)")
    result = sweep(tmp_path, GRID)  # tiny(): 1 epoch, 32x32, tracking.plots=false
    assert result.returncode == 0, result.stdout + result.stderr
    _, children = child_runs(tmp_path)
    names = sorted(run.info.run_name for run in children)
    assert len(names) == 2 and names[0].startswith("categorical_crossentropy+"), names
    assert names[1].startswith("dice+") and all(name.endswith("| seed 0") for name in names), names

    results = tmp_path / "results"
    store = f"sqlite:///{results}/mlflow.db"
    page = runs_page(MlflowClient(store), children[0].info.experiment_id)
    png = tmp_path / "dashboard.png"
    with serve_mlflow(store, results / "mlartifacts", free_port()) as url:
        assert url.startswith("http://127.0.0.1:")
        dom = html.unescape(render(url + page, png, width=1800, height=1000))

    assert "Training runs" in dom and "Group by: pairing" in dom, dom[-3000:]
    for name in names:  # the rendered table, not the REST API
        assert name in dom, f"{name!r} is not on the page"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
