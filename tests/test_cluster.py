"""Many machines, for real: a PostgreSQL study, an MLflow server on PostgreSQL, three workers (one playing a
second host), one SIGKILLed at a stage of its trial (training, after logging, after telling Optuna). Every point completes exactly once; the killed trial is found by
its stopped heartbeat and rerun; MLflow has one FINISHED run per point; an artifact logged by the second
"host" downloads through the server; the password is nowhere in the stores or the outputs.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient
from test_sweep import GOOD_GRID, sweep_args

from lossbench.sweep import work
from tools.screenshot import free_port, serve_mlflow

pytestmark = pytest.mark.slow
PASSWORD = "s3cret-lossbench-pw"
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def as_postgres(*args, **kwargs):
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, **kwargs)


@contextlib.contextmanager
def postgres():
    """A throw-away PostgreSQL server on 127.0.0.1 with password (scram) authentication; yields its port."""
    if not PG_BIN or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql; .ci/run does)")
    pytest.importorskip("psycopg")
    bin_dir = Path(PG_BIN[-1])
    root = Path(tempfile.mkdtemp(prefix="lossbench-pg-"))
    root.chmod(0o755)  # initdb runs as postgres; pytest's own tmp folders are 0700
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    (root / "pw").write_text(PASSWORD + "\n")
    port = free_port()
    as_postgres(
        str(bin_dir / "initdb"),
        "-D",
        str(root / "data"),
        "-U",
        "lossbench",
        "--auth=scram-sha-256",
        f"--pwfile={root / 'pw'}",
    )
    as_postgres(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(root / "data"),
        "-l",
        str(root / "log"),
        "-w",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
        "start",
    )
    try:
        import psycopg

        with psycopg.connect(f"postgresql://lossbench:{PASSWORD}@127.0.0.1:{port}/postgres", autocommit=True) as db:
            db.execute("CREATE DATABASE optuna")
            db.execute("CREATE DATABASE mlflow")
        yield port
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            as_postgres(str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("stage", ["training", "logged", "told"])
def test_three_workers_on_two_hosts_share_one_study_exactly_once_with_one_killed(tmp_path, stage):
    with postgres() as port:
        storage = f"postgresql://lossbench:{PASSWORD}@127.0.0.1:{port}/optuna"
        backend = f"postgresql+psycopg://lossbench:{PASSWORD}@127.0.0.1:{port}/mlflow"
        with serve_mlflow(backend, tmp_path / "artifacts", free_port()) as url:
            args = sweep_args(
                tmp_path,
                GOOD_GRID,
                "trainer.epochs=4",
                f"sweep.storage={storage}",
                f"tracking.uri={url}",
                "sweep.heartbeat_seconds=2",
            )
            marker = tmp_path / "killed"
            envs = [{}, {"LOSSBENCH_HOST": "fake-b"}, {"LOSSBENCH_FAULT": f"{stage}:{marker}"}]
            procs = []
            for i, extra in enumerate(envs):
                env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra)
                log = open(tmp_path / f"worker{i}.log", "w")  # noqa: SIM115 (closed with the process)
                procs.append((subprocess.Popen(args, cwd=tmp_path, env=env, stdout=log, stderr=log), log))
                time.sleep(1.0)
            codes = []
            for proc, log in procs:
                codes.append(proc.wait(timeout=900))
                log.close()
            outputs = "".join((tmp_path / f"worker{i}.log").read_text() for i in range(3))
            assert codes[2] == -signal.SIGKILL and marker.exists(), outputs[-3000:]
            assert codes[:2] == [0, 0], outputs[-3000:]

            info = type("Info", (), {"storage": storage, "study_name": None, "heartbeat_seconds": 2})()
            (summary,) = optuna.get_all_study_summaries(work.storage(info))
            study = optuna.load_study(study_name=summary.study_name, storage=work.storage(info))
            trials = study.get_trials()
            done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
            keys = sorted(tuple(sorted(work.params(t).items())) for t in done)
            assert len(done) == 4 and len(set(keys)) == 4, [(t.state, t.user_attrs) for t in trials]
            killed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
            if stage == "told":  # Optuna had the result before the kill: nothing to rerun
                assert killed == [] and len(trials) == 4
            else:
                assert [t.user_attrs.get("state") for t in killed] == ["killed"]  # found by its heartbeat
                assert tuple(sorted(work.params(killed[0]).items())) in keys  # ... and its point rerun
            hosts = {t.user_attrs["worker"].split(":")[0] for t in done}
            assert "fake-b" in hosts and socket.gethostname() in hosts

            client = MlflowClient(url)
            (experiment,) = [e for e in client.search_experiments() if e.name.startswith("tiny-")]
            runs = client.search_runs([experiment.experiment_id])
            children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
            assert sorted(r.info.status for r in children) == ["FINISHED"] * 4
            assert len([r for r in runs if r.data.tags.get("kind") == "sweep"]) == 1
            from_b = next(t for t in done if t.user_attrs["worker"].startswith("fake-b:"))
            config = client.download_artifacts(from_b.user_attrs["mlflow_run_id"], "config.yaml", str(tmp_path))
            assert "loss:" in Path(config).read_text()
            assert list((tmp_path / "artifacts").rglob("config.yaml"))  # the server's artifact root

            # the password: not printed, not a param or tag, not in a study attribute, not in results/
            assert PASSWORD not in outputs
            for run in runs:
                assert PASSWORD not in str(run.data.params) + str(run.data.tags)
            assert PASSWORD not in str(study.user_attrs) + str([t.user_attrs for t in trials])
            for path in (tmp_path / "results").rglob("*"):
                if path.is_file():
                    assert PASSWORD.encode() not in path.read_bytes(), path


def test_parents_on_many_machines_writing_one_tag_at_once_do_not_break_its_unique_key():
    """MLflow's SQL store selects, then inserts a tag: six writers of one new tag race for its key (CI saw
    ``tag_pk`` break when two hosts' parents wrote the sweep's note). `retrying_client` takes the race."""
    from lossbench.sweep.tracking.runs import retrying_client

    def race(factory, uri: str, run: str) -> tuple[list[str], dict]:
        errors, barrier = [], threading.Barrier(6)

        def write():
            client = factory(uri)
            for k in range(20):
                barrier.wait()
                try:
                    client.set_tag(run, f"note{k}", "the sweep's recommendation")
                except Exception as error:  # what the plain client raises: MLflow's wrapped UniqueViolation
                    errors.append(str(error))

        threads = [threading.Thread(target=write) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return errors, MlflowClient(uri).get_run(run).data.tags

    with postgres() as port:
        uri = f"postgresql+psycopg://lossbench:{PASSWORD}@127.0.0.1:{port}/mlflow"
        client = MlflowClient(uri)
        experiment = client.create_experiment("race")
        plain, _ = race(MlflowClient, uri, client.create_run(experiment).info.run_id)
        assert any("unique constraint" in e for e in plain), "the race no longer happens: is the retry still needed?"
        errors, tags = race(retrying_client, uri, client.create_run(experiment).info.run_id)
        assert errors == []
        assert all(tags[f"note{k}"] == "the sweep's recommendation" for k in range(20))


def test_the_login_recipe_a_server_that_asks_for_a_login_takes_a_users_sweep_and_refuses_the_rest(tmp_path):
    """docs/running.md's recipe, command for command: `tools.mlflow_auth serve` (admin password and secret from
    the environment), `add-user`, then a sweep with the user's login; no login or a wrong one is one line."""
    pytest.importorskip("flask_wtf")
    import urllib.request

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets = {"MLFLOW_ADMIN_PASSWORD": "adm1n-" + PASSWORD, "MLFLOW_FLASK_SERVER_SECRET_KEY": "k3y-" + PASSWORD}
    serve = [sys.executable, "-m", "tools.mlflow_auth", "serve", "--port", str(port), "--workers", "1"]
    serve += [
        "--backend-store-uri",
        f"sqlite:///{tmp_path}/mlflow.db",
        "--artifacts-destination",
        str(tmp_path / "art"),
    ]
    serve += ["--auth-dir", str(tmp_path / "auth")]
    root = Path(__file__).resolve().parents[1]
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed with the server)
    server = subprocess.Popen(
        serve, cwd=root, env=dict(os.environ, **secrets), stdout=log, stderr=log, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2):
                break
            assert time.monotonic() < deadline, "no answer on /health"
            time.sleep(1)
        assert oct((tmp_path / "auth" / "basic_auth.ini").stat().st_mode)[-3:] == "600"
        env = dict(os.environ, **secrets, MLFLOW_NEW_USER_PASSWORD="al1ce-pw-" + PASSWORD)
        added = subprocess.run(
            [sys.executable, "-m", "tools.mlflow_auth", "add-user", "alice", "--url", url],
            cwd=root, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert added.returncode == 0 and "user alice created" in added.stdout, added.stderr

        args = sweep_args(tmp_path, "grid:\n  loss: [dice]\nseeds: [0]\n", f"tracking.uri={url}")
        base = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_")}
        for login, says in [({}, "refuses no login (401)"), ({"MLFLOW_TRACKING_USERNAME": "alice",
                             "MLFLOW_TRACKING_PASSWORD": "wrong"}, "refuses the login of alice (401)")]:  # fmt: skip
            refused = subprocess.run(args, cwd=tmp_path, env=dict(base, **login), capture_output=True, text=True)
            assert refused.returncode == 2 and says in refused.stderr, refused.stderr[-1500:]
            assert "Traceback" not in refused.stderr
        login = {"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "al1ce-pw-" + PASSWORD}
        done = subprocess.run(args, cwd=tmp_path, env=dict(base, **login), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
        with pytest.MonkeyPatch.context() as patch:
            for key, value in login.items():
                patch.setenv(key, value)
            runs = MlflowClient(url).search_runs(
                [e.experiment_id for e in MlflowClient(url).search_experiments() if e.name.startswith("tiny-")]
            )
        assert any(r.data.tags.get("verdict") for r in runs)  # the trial's run, logged with alice's login
        assert PASSWORD not in done.stdout + done.stderr
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
