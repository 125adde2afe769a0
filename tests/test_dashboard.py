"""The dashboards in a real browser: a tiny sweep, `mlflow server` and optuna-dashboard, headless Chromium."""

from __future__ import annotations

import contextlib
import html
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from test_sweep import child_runs, study_of, sweep

from lossbench.sweep import optuna_store
from tools.screenshot import PICTURE_HOST, find_chromium, free_port, render, runs_page, serve_mlflow

GRID = """grid:
  loss: [categorical_crossentropy, dice]
  optimizer: [adam, sgd_seed]
seeds: [0, 1]
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    if find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run does)")
    tmp_path = tmp_path_factory.mktemp("dashboard")
    result = sweep(tmp_path, GRID, "trainer.epochs=2")  # tiny(): 32x32, tracking.plots=false
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MLflow (make mlflow): the answer, one run per pairing, once the report is written: " in result.stdout
    assert (
        "http://127.0.0.1:5000/#/experiments/" in result.stdout and "viewStateShareKey=lossbench-seeds" in result.stdout
    )
    return tmp_path


@pytest.mark.slow
def test_mlflow_opens_on_one_run_per_pairing_and_the_per_seed_views_draw_every_run(swept, tmp_path):
    _, children = child_runs(swept)
    groups = sorted({run.data.tags["group"] for run in children})
    assert len(children) == 8 and len(groups) == 4
    results = swept / "results"
    store = f"sqlite:///{results}/mlflow.db"
    client = MlflowClient(store)
    experiment = children[0].info.experiment_id
    pairings = client.search_runs([experiment], "tags.kind = 'pairing'")
    assert len(pairings) == 4 and all(run.data.metrics["seeds"] == 2 for run in pairings)
    png = tmp_path / "dashboard.png"
    # served where the screenshot tool serves it (tools/screenshot.py: no Assistant panel over the runs)
    with serve_mlflow(store, results / "mlartifacts", free_port(), host=PICTURE_HOST) as url:
        assert url.startswith(f"http://{PICTURE_HOST}:")
        dom = html.unescape(
            render(
                url + runs_page(client, experiment),
                png,
                width=1800,
                height=1000,
                budget_ms=40000,
                expect="converged_share",
            )
        )
        seeds = runs_page(client, experiment, "lossbench-seeds")
        seeds = html.unescape(render(url + seeds, budget_ms=40000, expect="Group: "))
        choices = runs_page(client, experiment, "lossbench-choices")
        choices = html.unescape(render(url + choices, budget_ms=30000, expect="Parallel Coordinates"))
        table = runs_page(client, experiment, "lossbench-table")
        table = re.sub(r"<[^>]+>", " ", html.unescape(render(url + table, budget_ms=30000, expect="converged_share")))

    shown = re.sub(r"<[^>]+>", "", dom)  # the page's text, without its markup
    assert "lossbench: the answer, one run per pairing" in dom and "4 matching runs" in shown, dom[-3000:]
    for chart in ("converged_share", "test/foreground_dice", "val/foreground_dice", "val/loss_over_chance"):
        assert chart in dom, f"no {chart} chart"
    assert "CE · softmax · unweighted · SGD 1e-4 (thread 2)" in dom  # full names, in words
    # the answer as a table: every name in full, in the answer's order (rank 1 first)
    by_rank = [r.info.run_name for r in sorted(pairings, key=lambda r: r.data.metrics["rank"])]
    assert all(name in table for name in by_rank) and "rank" in table, table[-3000:]
    assert [table.index(name) for name in by_rank] == sorted(table.index(name) for name in by_rank)
    assert "Group by: group" in seeds and seeds.count("Group: ") >= 4  # every pairing group, with its run count
    assert "Parallel Coordinates" in choices and "does not support aggregated" not in choices
    assert "MLflow Assistant" not in dom and "Request error" not in shown  # the page's own requests are allowed
    # one line per pairing, drawn at once (not nested under a closed parent), its axes the choices in words
    assert "4 matching runs" in re.sub(r"<[^>]+>", "", choices) and "choice/loss" in choices
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    parent = [r for r in client.search_runs([experiment]) if r.data.tags.get("kind") == "sweep"]
    note = parent[0].data.tags["mlflow.note.content"]
    assert note.startswith("**Use** ") and "4 pairings, one run each" in note and "from 8 trial runs" in note
    assert all(run.data.tags["mlflow.note.content"].startswith(run.data.tags["verdict"]) for run in children)


@contextlib.contextmanager
def optuna_dashboard(journal: Path, port: int):
    command = [
        str(Path(sys.executable).with_name("optuna-dashboard")),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        str(journal),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/api/studies", timeout=2):
                break
            time.sleep(0.5)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)


@pytest.mark.slow
def test_optuna_dashboard_shows_the_named_objective_and_no_seed_parameter(swept, tmp_path):
    study = study_of(swept)
    assert study.metric_names == ["val_foreground_dice"]
    assert all("seed" not in t.params and "seed" in t.user_attrs for t in study.get_trials())
    png = tmp_path / "optuna-dashboard.png"
    with optuna_dashboard(swept / "results" / "tiny" / "optuna.journal", free_port()) as url:
        dom = html.unescape(
            render(
                f"{url}/dashboard/studies/{optuna_store.study_id(study)}",
                png,
                width=1600,
                height=1000,
                expect="val_foreground_dice",
            )
        )
    assert study.study_name in dom and "val_foreground_dice" in dom, dom[-3000:]
    assert png.stat().st_size > 10_000
