"""Process set-up that must happen before TensorFlow runs its first op, and what the machine is.

`configure(threads, deterministic)` is called by every entry point before
TensorFlow is first imported. ``deterministic=True`` (``trainer.deterministic``)
does three things: it turns oneDNN's reordered kernels off
(``TF_ENABLE_ONEDNN_OPTS=0``), pins TensorFlow to ``threads`` threads (1 when
0 is given) and turns on op determinism. Then the same seed gives the same
numbers on the same machine, build and thread count; another CPU (another
instruction set) can still round differently, so across machines answers are
reproducible only statistically - which is what the report's rates and
intervals are for. `machine()` records what decides that, on every run.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
import time
import warnings

# Keras repeats "from_logits=True but the output was produced by a Softmax" once per trace; the
# audit records what Keras really computed for every trial, so the console need not.
warnings.filterwarnings("ignore", category=UserWarning, module=r"keras\..*")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported anywhere

# instruction-set extensions that change which kernels (and roundings) oneDNN picks
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def configure(threads: int = 0, deterministic: bool = False, backend: str = "tensorflow") -> None:
    """Choose Keras's backend, set its threads (0 keeps the default) and, if asked, bit-for-bit determinism.

    ``backend`` is ``trainer.backend``: ``tensorflow`` or ``jax``. It must be chosen before Keras is
    imported; on JAX, one thread is XLA's single-threaded CPU client, and the TensorFlow settings
    do not apply (JAX's CPU kernels are deterministic).
    """
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise RuntimeError(f"trainer.backend={backend} must be set before Keras is imported")
    os.environ["KERAS_BACKEND"] = backend
    if backend == "jax":
        if "JAX_PLATFORMS" not in os.environ and "jax" not in sys.modules:
            from lossbench.devices import visible_gpus

            if not visible_gpus():  # a CPU machine: JAX need not probe for TPUs and GPUs (and say so)
                os.environ["JAX_PLATFORMS"] = "cpu"
        if threads == 1 and "jax" not in sys.modules:
            flags = os.environ.get("XLA_FLAGS", "")
            os.environ["XLA_FLAGS"] = (
                f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".strip()
            )
        if deterministic:
            os.environ["LOSSBENCH_DETERMINISTIC"] = "1"
        try:
            import jax  # noqa: F401
        except ImportError:
            from lossbench.errors import UserError, exit_with

            exit_with(UserError("trainer.backend=jax but JAX is not installed - pip install -e '.[jax]'"))
        return
    if deterministic:
        if "tensorflow" in sys.modules and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
            raise RuntimeError("trainer.deterministic must be set before TensorFlow is imported")
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
        threads = threads or 1
    tf = quiet_import()

    tf.get_logger().setLevel("ERROR")  # retracing notices are about Keras internals, not the user
    if threads > 0:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already ran an op in this process: its threads are fixed
            pass
    if deterministic:
        tf.config.experimental.enable_op_determinism()
        os.environ["LOSSBENCH_DETERMINISTIC"] = "1"  # inherited by spawned workers, read by `machine`


def configure_from(cfg) -> None:
    """`configure` with a composed config's ``trainer.threads``, ``trainer.deterministic``, ``trainer.backend``."""
    trainer = cfg.trainer
    configure(
        int(trainer.threads), bool(trainer.get("deterministic", False)), str(trainer.get("backend", "tensorflow"))
    )


def quiet_import():
    """Import TensorFlow with its C++ start-up lines (absl, oneDNN notices) kept off the console."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow
    except ImportError:
        tensorflow = None
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    if tensorflow is None:  # said after stderr is back
        from lossbench.errors import UserError, exit_with

        exit_with(
            UserError(
                "TensorFlow is not installed - pip install -e '.[cpu]' (or '.[gpu]' on an NVIDIA GPU); make setup does it"
            )
        )
    return tensorflow


def machine() -> dict:
    """CPU model, its relevant instruction-set flags, oneDNN on/off, threads and determinism."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    facts = {
        "cpu": model,
        "cpu_count": str(os.cpu_count()),
        "isa": " ".join(f for f in ISA_FLAGS if f in flags) or "-",
        "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "op_determinism": "on" if os.environ.get("LOSSBENCH_DETERMINISTIC") == "1" else "off",
    }
    if facts["backend"] == "jax":
        import jax

        flags = os.environ.get("XLA_FLAGS", "")
        facts["jax_threads"] = "1" if "intra_op_parallelism_threads=1" in flags else "default"
        facts["gpus"] = str(sum(device.platform == "gpu" for device in jax.devices()))
        return facts
    tf = quiet_import()
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1" if platform.machine() in ("x86_64", "AMD64") else "0")
    return facts | {
        "onednn": "on" if onednn not in ("0", "false", "False") else "off",
        "tf_threads": f"{tf.config.threading.get_intra_op_parallelism_threads()}/"
        f"{tf.config.threading.get_inter_op_parallelism_threads()}",
        "gpus": str(len(tf.config.list_physical_devices("GPU"))),
    }


def machine_tags() -> dict:
    """`machine` as MLflow tags (``machine/*``) plus the ``device`` the trial trains on."""
    from lossbench.devices import device

    return {f"machine/{k}": v for k, v in machine().items()} | {"device": device()}


def version(*distributions: str) -> str:
    """The installed version of the first of ``distributions`` present (read from metadata: nothing imported)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    for name in distributions:
        try:
            return installed(name)
        except PackageNotFoundError:
            continue
    return "not installed"


# what a store says when another process writes at the same moment: SQLite's lock, and the insert
# race of "select, then insert" (MLflow's set_tag on SQL) that PostgreSQL/MySQL/SQLite each report
TRANSIENT = (
    "is locked",
    "unique constraint",
    "duplicate entry",
    "could not serialize access",
    "deadlock detected",
)


def transient(error: BaseException) -> bool:
    """Whether ``error`` is another writer's moment (worth a second try), not a problem of its own."""
    text = str(error).lower()
    return any(mark in text for mark in TRANSIENT)


def retry(fn, attempts: int = 6, pause: float = 0.5):
    """Call ``fn``; when it fails for a `transient` reason, wait a moment longer each time and call again.

    A second try of a raced insert finds the row the other writer made and updates it.
    """
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as error:  # sqlalchemy/mlflow wrap the driver's errors; the text is what is common
            if not transient(error) or attempt == attempts - 1:
                raise
            time.sleep(pause * (attempt + 1))


class Retrying:
    """``target`` whose every method call is `retry`-ed: a store client shared with other writers."""

    def __init__(self, target):
        self._target = target

    def __getattr__(self, name: str):
        value = getattr(self._target, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args, **kwargs):
            return retry(lambda: value(*args, **kwargs))

        return call


class replaced:
    """``with replaced(path) as tmp:`` write ``tmp`` (beside ``path``, same suffix); on success it takes
    ``path``'s place in one rename, so a reader, or a run killed midway, never sees half a file."""

    def __init__(self, path):
        from pathlib import Path

        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.stem}.tmp-{os.getpid()}{self.path.suffix}")

    def __enter__(self):
        return self.tmp

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            os.replace(self.tmp, self.path)
        elif self.tmp.exists():
            self.tmp.unlink()


def write_text(path, text: str) -> None:
    """``path.write_text(text)``, all or nothing (`replaced`)."""
    with replaced(path) as tmp:
        tmp.write_text(text)
