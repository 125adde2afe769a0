"""Which GPU each sweep worker trains on: one worker per GPU slot, each seeing only its own GPU.

``sweep.gpus`` is ``auto`` (every visible GPU), a count (the first N) or a list of GPU indices;
``sweep.workers_per_gpu`` puts several workers on one GPU (a 48x48 U-Net uses a sliver of it).
With no GPU (or ``sweep.gpus=0``) nothing changes: ``sweep.n_workers`` CPU workers, as before.

A worker's GPU is fixed by `pin` *before* TensorFlow, Keras or JAX is imported in its process:
``CUDA_VISIBLE_DEVICES`` names its GPU only, TensorFlow grows its memory as needed
(``TF_FORCE_GPU_ALLOW_GROWTH``) instead of taking the whole GPU, and JAX does not preallocate 75 %
of it (``XLA_PYTHON_CLIENT_PREALLOCATE``), so several workers share one GPU.

The sweep's parent process builds a model to check the config before any worker starts; on a GPU
machine TensorFlow would take the memory of every GPU it sees for the rest of the sweep. So the parent
hides the GPUs from itself first (`hide_from_parent`), and its workers are started with them visible
again (`unhidden`); `worker_gpus` is what the workers may use.
"""

from __future__ import annotations

import contextlib
import os
import subprocess

from lossbench.errors import UserError

_HIDDEN: dict[str, str | None] = {}  # the parent's settings before `hide_from_parent` (empty: nothing hidden)
HIDDEN_VARIABLES = ("CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS")
FRAMEWORKS = ("tensorflow", "jax")
_LOADED_BEFORE_HIDING: list[str] = []  # frameworks already imported when the GPUs were hidden (too late for them)


def hide_from_parent() -> None:
    """Hide every GPU from this process before it imports a framework; its workers will see them (`unhidden`).

    Checked by ``tests/test_devices.py``.
    """
    if _HIDDEN:
        return
    _LOADED_BEFORE_HIDING[:] = loaded_frameworks()
    _HIDDEN.update({name: os.environ.get(name) for name in HIDDEN_VARIABLES})
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"


def loaded_frameworks() -> list[str]:
    """The GPU frameworks this process has imported."""
    import sys

    return [name for name in FRAMEWORKS if name in sys.modules]


def check_parent() -> None:
    """Refuse to start workers from a parent that loaded TensorFlow or JAX while it could see the GPUs:
    that framework may hold every GPU's memory for the whole sweep. A parent that loaded none, or hid
    the GPUs (`hide_from_parent`) before loading one, passes."""
    loaded = loaded_frameworks()
    early = _LOADED_BEFORE_HIDING if _HIDDEN else loaded
    if loaded and early:
        raise RuntimeError(
            f"the sweep's parent loaded {', '.join(early)} with the GPUs visible - call devices.hide_from_parent "
            "before importing it"
        )


def hidden() -> bool:
    """This process hid the GPUs from itself (`hide_from_parent`)."""
    return bool(_HIDDEN)


def worker_gpus() -> list[str]:
    """The GPUs the workers may use: `visible_gpus` as it was before the parent hid them."""
    if not _HIDDEN:
        return visible_gpus()
    with unhidden():
        return visible_gpus()


@contextlib.contextmanager
def unhidden():
    """The parent's GPU settings as they were before `hide_from_parent`, for starting workers (their environment)."""
    if not _HIDDEN:
        yield
        return
    now = {name: os.environ.get(name) for name in HIDDEN_VARIABLES}
    _set(_HIDDEN)
    try:
        yield
    finally:
        _set(now)


def _set(values: dict) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def visible_gpus() -> list[str]:
    """GPU indices this process may use, without importing a framework.

    ``CUDA_VISIBLE_DEVICES`` when set (empty or ``-1``: none), else what ``nvidia-smi`` lists
    (none when it is missing or fails: a CPU machine).
    """
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip() and g.strip() != "-1"]
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []


def resolve(setting, available: list[str]) -> list[str]:
    """The GPUs ``sweep.gpus`` asks for, checked against ``available``.

    >>> resolve("auto", ["0", "1"]), resolve(1, ["0", "1"]), resolve([1], ["0", "1"]), resolve(0, ["0"])
    (['0', '1'], ['0'], ['1'], [])
    >>> resolve("auto", [])
    []
    """
    usage = "use auto, a count (e.g. 2) or a list of GPU indices (e.g. [0,2])"
    if setting is None or str(setting) == "auto":
        return list(available)
    if isinstance(setting, bool) or (isinstance(setting, str) and not setting.isdigit()):
        raise UserError(f"sweep.gpus={setting!r} - {usage}")
    if isinstance(setting, (int, str)):
        count = int(setting)
        if count > len(available):
            raise UserError(
                f"sweep.gpus={count} but {len(available)} GPU(s) are visible ({', '.join(available) or 'none'}) - "
                f"use sweep.gpus=auto or at most {len(available)}"
            )
        return list(available[:count])
    try:
        wanted = [str(g) for g in setting]
    except TypeError:
        raise UserError(f"sweep.gpus={setting!r} - {usage}") from None
    missing = [g for g in wanted if g not in available]
    if missing:
        raise UserError(
            f"sweep.gpus lists GPU {', '.join(missing)} but the visible GPUs are {', '.join(available) or 'none'} - "
            "list visible ones (nvidia-smi) or use sweep.gpus=auto"
        )
    return wanted


def slots(gpus: list[str], workers_per_gpu: int, n_workers: int) -> list[str | None]:
    """One entry per worker: its GPU, or None for a CPU worker.

    With GPUs there are ``len(gpus) * workers_per_gpu`` workers, spread round-robin so the first
    workers land on different GPUs; without, ``n_workers`` CPU workers.

    >>> slots(["0", "1"], 2, n_workers=1)
    ['0', '1', '0', '1']
    >>> slots([], 4, n_workers=2)
    [None, None]
    """
    if int(workers_per_gpu) < 1:
        raise UserError(f"sweep.workers_per_gpu={workers_per_gpu} - use 1 or more")
    if not gpus:
        return [None] * int(n_workers)
    return [gpu for _ in range(int(workers_per_gpu)) for gpu in gpus]


def pin(gpu: str | None) -> None:
    """Make ``gpu`` the only GPU this process sees (None: leave a CPU worker as it is). Call before any framework."""
    if gpu is None:
        return
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
    os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
    os.environ["LOSSBENCH_GPU"] = str(gpu)


def device() -> str:
    """What this process trains on, for the run's ``device`` tag: ``gpu:<index>`` or ``cpu``."""
    gpu = os.environ.get("LOSSBENCH_GPU")
    return f"gpu:{gpu}" if gpu is not None else "cpu"


# what one CPU worker of the cmr sweep holds (resident, 48 px, TensorFlow 2.21 CPU): 1.06-1.08 GB measured with
# ps on the 2-core machine of docs/speed.md while `lossbench.reproduce +experiment=cmr` ran two workers
WORKER_BYTES = int(1.1 * 2**30)


def capacity() -> tuple[int, int]:
    """(cores this process may use, bytes of memory available now) on this machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    available = 0
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    return cores, available


def cap_workers(asked: int, cores: int | None = None, available: int | None = None) -> tuple[int, str]:
    """CPU workers this machine can run at once: no more than its cores, nor than its free memory holds
    (`WORKER_BYTES` each); with the line that says so when ``asked`` is more (else "").

    >>> cap_workers(64, cores=2, available=24 * 2**30)[0]
    2
    >>> cap_workers(4, cores=16, available=3 * 2**30)
    (2, 'sweep.n_workers=4 is more than this machine runs at once (16 cores, 3.0 GiB free at 1.1 GiB a worker): running 2 workers - set sweep.n_workers=2 to silence this')
    >>> cap_workers(2, cores=2, available=24 * 2**30)
    (2, '')
    """
    found_cores, found_memory = capacity()
    cores = found_cores if cores is None else cores
    available = found_memory if available is None else available
    by_memory = max(1, available // WORKER_BYTES) if available else asked
    cap = max(1, min(int(asked), cores, by_memory))
    if cap >= int(asked):
        return int(asked), ""
    return cap, (
        f"sweep.n_workers={asked} is more than this machine runs at once ({cores} cores, "
        f"{available / 2**30:.1f} GiB free at {WORKER_BYTES / 2**30:.1f} GiB a worker): running {cap} workers - "
        f"set sweep.n_workers={cap} to silence this"
    )
