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

import os
import platform
import sys
import warnings

# Keras repeats "from_logits=True but the output was produced by a Softmax" once per trace; the
# audit records what Keras really computed for every trial, so the console need not.
warnings.filterwarnings("ignore", category=UserWarning, module=r"keras\..*")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported anywhere

# instruction-set extensions that change which kernels (and roundings) oneDNN picks
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


def configure(threads: int = 0, deterministic: bool = False) -> None:
    """Set TensorFlow's threads (0 keeps its default) and, if asked, bit-for-bit determinism."""
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


def quiet_import():
    """Import TensorFlow with its C++ start-up lines (absl, oneDNN notices) kept off the console."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
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
    tf = quiet_import()

    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1" if platform.machine() in ("x86_64", "AMD64") else "0")
    return {
        "cpu": model,
        "cpu_count": str(os.cpu_count()),
        "isa": " ".join(f for f in ISA_FLAGS if f in flags) or "-",
        "onednn": "on" if onednn not in ("0", "false", "False") else "off",
        "tf_threads": f"{tf.config.threading.get_intra_op_parallelism_threads()}/"
        f"{tf.config.threading.get_inter_op_parallelism_threads()}",
        "op_determinism": "on" if os.environ.get("LOSSBENCH_DETERMINISTIC") == "1" else "off",
        "gpus": str(len(tf.config.list_physical_devices("GPU"))),
    }
