"""A picture of the MLflow dashboard (reports, tests/test_dashboard.py): serve a sweep's store on
127.0.0.1, open its comparison view in headless Chromium (Debian's ``chromium``, plain subprocess).

    python -m tools.screenshot [--store sqlite:///results/mlflow.db] [--experiment cmr-XXXX] [--out PNG]
    python -m tools.screenshot --list http://127.0.0.1:5000     (make mlflow: every experiment's views)

MLflow folds trials under the sweep's parent run (unfolding lives in browser storage only), so the page
opens as an MLflow shared view grouping them by pairing (experiment tag mlflow.sharedViewState.lossbench).
"""

import argparse
import contextlib
import html
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from mlflow.tracking import MlflowClient

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable on PATH, or None."""
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


@contextlib.contextmanager
def serve_mlflow(store_uri: str, artifacts_dir, port: int, timeout: float = 120.0, host: str = "127.0.0.1"):
    """``mlflow server`` for ``store_uri`` on ``host``:``port``; yields its URL, stops it after."""
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--workers",
        "1",
        "--host",
        host,
        "--allowed-hosts",  # the one address it serves, and the page's own requests from it
        f"{host}:{port},{host}",
        "--cors-allowed-origins",
        f"http://{host}:{port}",
        "--port",
        str(port),
        "--backend-store-uri",
        store_uri,
        "--artifacts-destination",
        str(artifacts_dir),
    ]
    env = dict(
        os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"
    )  # else a job runner + 7 huey processes
    url = f"http://{host}:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen(command, stdout=log, stderr=log, env=env, start_new_session=True)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(
                        f"mlflow server: no answer on {url}/health in {timeout:.0f} s"
                        f" (exit code {server.returncode}):\n{log.read()[-2000:]}"
                    )
                with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
                time.sleep(0.5)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(server.pid, signal.SIGTERM)  # the server's own group: uvicorn too
                server.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)  # whatever ignored SIGTERM
            server.wait()


def render(
    url: str, png_path=None, width: int = 1400, height: int = 900, budget_ms: int = 15000, expect: str | None = None
) -> str:
    """Load ``url`` in headless Chromium; return the DOM after ``budget_ms`` ms of virtual time.

    With ``expect``, a page that has not drawn that text yet (a busy machine: the UI's requests still in
    flight when the budget ran out) is loaded again with twice the budget, up to three loads in all.
    """
    if (chromium := find_chromium()) is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    for attempt in range(3):
        dom = _chromium_dom(chromium, url, png_path, width, height, budget_ms * 2**attempt)
        if expect is None or expect in html.unescape(dom):
            break
    return dom


def _chromium_dom(chromium: str, url: str, png_path, width: int, height: int, budget_ms: int) -> str:
    with tempfile.TemporaryDirectory(prefix="lossbench-chromium-") as profile:
        args = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            f"--window-size={width},{height}",
            f"--virtual-time-budget={budget_ms}",
        ]
        if png_path is not None:
            Path(png_path).parent.mkdir(parents=True, exist_ok=True)
            args.append(f"--screenshot={Path(png_path).resolve()}")
        done = subprocess.run([*args, url], capture_output=True, text=True, timeout=120 + budget_ms / 1000)
    if done.returncode != 0 or (png_path is not None and not Path(png_path).exists()):
        raise RuntimeError(f"chromium failed on {url} ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


# what each view shows once MLflow has drawn it (then every run of the page is loaded: the answer view
# holds one run per pairing, fewer than the 100 a page loads)
PICTURE_HOST = "127.0.0.2"
DRAWN = {
    "lossbench": "converged_share",
    "lossbench-table": "converged_share",
    "lossbench-seeds": "Group: ",
    "lossbench-choices": "Parallel Coordinates",
}


def runs_page(client, experiment_id: str, view: str = "lossbench") -> str:
    """Store lossbench's comparison views on the experiment (`lossbench.sweep.tracking.views.write_view`); one's page."""
    from lossbench.sweep.tracking.views import write_view

    return write_view(experiment_id, client)[view]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.screenshot", description="Save a PNG of a sweep's MLflow runs page."
    )
    parser.add_argument("--store", default="sqlite:///results/mlflow.db", help="MLflow store URI")
    parser.add_argument("--experiment", help="experiment name (default: the newest cmr-*)")
    parser.add_argument(
        "--out",
        default=str(Path(tempfile.gettempdir()) / "lossbench-mlflow.png"),
        help="the PNG (default: in the temporary folder; results/ only when asked)",
    )
    parser.add_argument("--view", default="lossbench", choices=sorted(DRAWN))
    parser.add_argument("--list", metavar="UI_URL", help="print every experiment's view URLs at UI_URL, then exit")
    args = parser.parse_args(argv)
    db = Path(args.store.removeprefix("sqlite:///"))
    if args.store.startswith("sqlite:///") and not db.exists():
        sys.exit(f"lossbench: error: no MLflow store {db} - run a sweep first")
    client = MlflowClient(args.store)
    if args.list:
        from lossbench.sweep.tracking.views import write_view

        for experiment in client.search_experiments(order_by=["name"]):
            if experiment.name != "Default":
                pages = write_view(experiment.experiment_id, client)
                print(f"{experiment.name:32s} " + "   ".join(args.list.rstrip("/") + p for p in pages.values()))
        return
    experiment = (
        client.get_experiment_by_name(args.experiment)
        if args.experiment
        else next(
            iter(client.search_experiments(filter_string="name LIKE 'cmr-%'", order_by=["creation_time DESC"])), None
        )
    )
    if experiment is None:
        sys.exit(f"lossbench: error: no experiment {args.experiment or 'cmr-*'} in {args.store}")
    page = runs_page(client, experiment.experiment_id, args.view)
    # MLflow 3.17's UI opens its Assistant panel (a third of the page) on a first visit to localhost or
    # 127.0.0.1 only; 127.0.0.2 is the same loopback machine, so the picture shows the runs
    with serve_mlflow(args.store, db.parent / "mlartifacts", free_port(), host=PICTURE_HOST) as url:
        render(url + page, args.out, width=1800, height=1000, expect=DRAWN[args.view])
    print(f"{args.out}: {experiment.name} ({url}{page})")


if __name__ == "__main__":
    main()
