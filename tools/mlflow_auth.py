"""``python -m tools.mlflow_auth``: an MLflow tracking server that asks every client for a login, and its users.

    # on the tracking host: the admin's password and the server's secret from the environment
    export MLFLOW_ADMIN_PASSWORD=... MLFLOW_FLASK_SERVER_SECRET_KEY=...   # the secret: the same on every server
    python -m tools.mlflow_auth serve --backend-store-uri postgresql+psycopg://lossbench:PASSWORD@DBHOST/mlflow \\
        --artifacts-destination /shared/mlartifacts --host 0.0.0.0 --port 5000
    # once per person: their login
    MLFLOW_NEW_USER_PASSWORD=... python -m tools.mlflow_auth add-user alice --url http://MLFLOWHOST:5000
    # every worker: the login in the environment, the sweep as always
    export MLFLOW_TRACKING_USERNAME=alice MLFLOW_TRACKING_PASSWORD=...
    python -m lossbench.sweep +experiment=cmr tracking.uri=http://MLFLOWHOST:5000 sweep.storage=postgresql://...

`serve` writes MLflow's auth config (``basic_auth.ini``, readable by its owner only, beside its user database)
with the admin's password from ``MLFLOW_ADMIN_PASSWORD``, never MLflow's default one, and starts
``mlflow server --app-name basic-auth`` on it (it needs Flask-WTF: ``pip install -e '.[cluster]'``).
`add-user` creates a login through the server's REST API as the admin. ``tests/test_cluster.py`` runs these
very commands: the right login logs a sweep, none or a wrong one is refused.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

ADMIN = "admin"


def need(variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        sys.exit(f"lossbench: error: {variable} is not set - export it first (see python -m tools.mlflow_auth --help)")
    return value


def serve(args: argparse.Namespace) -> None:
    """Write the auth config and replace this process with ``mlflow server --app-name basic-auth``."""
    password = need("MLFLOW_ADMIN_PASSWORD")
    need("MLFLOW_FLASK_SERVER_SECRET_KEY")
    folder = Path(args.auth_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "basic_auth.ini"
    config.touch(mode=0o600)
    config.chmod(0o600)
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{folder / 'basic_auth.db'}\n"
        f"admin_username = {ADMIN}\n"
        f"admin_password = {password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = dict(os.environ, MLFLOW_AUTH_CONFIG_PATH=str(config), MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    mlflow = str(Path(sys.executable).with_name("mlflow"))
    command = [mlflow, "server", "--app-name", "basic-auth", "--host", args.host, "--port", str(args.port)]
    command += ["--backend-store-uri", args.backend_store_uri, "--artifacts-destination", args.artifacts_destination]
    command += ["--workers", str(args.workers)] if args.workers else []
    os.execve(mlflow, command, env)


def add_user(args: argparse.Namespace) -> None:
    """Create the login ``args.name`` (password from ``MLFLOW_NEW_USER_PASSWORD``) as the admin."""
    body = json.dumps({"username": args.name, "password": need("MLFLOW_NEW_USER_PASSWORD")}).encode()
    token = base64.b64encode(f"{ADMIN}:{need('MLFLOW_ADMIN_PASSWORD')}".encode()).decode()
    request = urllib.request.Request(
        args.url.rstrip("/") + "/api/2.0/mlflow/users/create",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30):
            pass
    except urllib.error.HTTPError as error:
        sys.exit(
            f"lossbench: error: the server refused to create {args.name} ({error.code}) - check the admin password"
        )
    print(f"user {args.name} created on {args.url}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.mlflow_auth", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("serve", help="start the tracking server with logins")
    server.add_argument("--backend-store-uri", required=True)
    server.add_argument("--artifacts-destination", required=True)
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=5000)
    server.add_argument("--workers", type=int, help="server processes (default: MLflow's)")
    server.add_argument("--auth-dir", default="mlflow-auth", help="where the auth config and user database go")
    user = commands.add_parser("add-user", help="create a login (password: MLFLOW_NEW_USER_PASSWORD)")
    user.add_argument("name")
    user.add_argument("--url", default="http://127.0.0.1:5000")
    args = parser.parse_args(argv)
    {"serve": serve, "add-user": add_user}[args.command](args)


if __name__ == "__main__":
    main()
