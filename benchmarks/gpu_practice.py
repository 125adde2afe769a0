"""Practice scale on one GPU (issue 26): the acdc50_gpu sweep, then trials per hour at two scales.

    LOSSBENCH_GPU_OUT=$OUT python benchmarks/gpu_practice.py --deadline 500
    LOSSBENCH_GPU_OUT=$OUT python benchmarks/gpu_practice.py --resume gpu-run-1   # a second run goes on
    python benchmarks/gpu_practice.py --rehearse --out /tmp/practice      # on a CPU: the same steps, tiny

Everything runs with ``tracking=none``; the output folder gets at most 7 files (what the device brings
back), each written as soon as its step ends:

1. ``devices.txt``: ``nvidia-smi -L``, what JAX sees, and the device's float32 matmul peak (measured);
   ``gpu_usage.csv``: ``nvidia-smi`` sampled every second for the whole run (utilisation, memory, power);
2. ``+experiment=acdc50_gpu`` (21 pairings x 3 seeds, 128 px, U-Net base 32 with batch normalisation,
   Keras on JAX) with ``sweep.workers_per_gpu=--workers``, stopped at 70 % of the deadline if not done:
   ``records.jsonl`` (every epoch of every trial, and the device its weights lived on) and
   ``optuna.journal`` (a later run resumes it);
3. ``throughput.csv``: with the time left, trials per hour of ``sweep.workers_per_gpu`` x ``sweep.pack`` on
   an 8-trial, 4-epoch slice at cmr scale and at acdc50_gpu scale, the most telling settings first;
   ``practice.json``: the acdc50_gpu trials' achieved FLOP/s against the measured peak.

The packed data (``python -m tools.pack_acdc --size 128``) and the wheels travel with the repository
(`benchmarks/gpu_offline.sh`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLICES = {  # 8 trials each: two losses x two activations x two optimizers (cmr) or weightings (acdc50_gpu)
    "cmr": "grid:\n  loss: [categorical_crossentropy, dice]\n  activation: [softmax, sigmoid]\n"
    "  optimizer: [sgd_thread2, adam]\nseeds: [0]\n",
    "acdc50_gpu": "grid:\n  loss: [categorical_crossentropy, dice]\n  activation: [softmax, sigmoid]\n"
    "  class_weighting: [none, median_frequency]\nseeds: [0]\n",
}
SETTINGS = [(4, 1), (1, 1), (8, 1), (2, 1), (4, 4), (4, 16), (1, 16), (8, 4)]  # (workers per GPU, pack)
REHEARSAL = ["model.base=8", "trainer.epochs=2"]
LOG: list[Path] = []  # the output folder's log.txt


def sweep(experiment: str, extra: list[str], out: Path, env: dict, timeout: float) -> tuple[float, bool]:
    """One sweep command; seconds taken and whether it finished (a timeout leaves a resumable journal)."""
    cmd = [sys.executable, "-m", "lossbench.sweep", f"+experiment={experiment}", "tracking=none"]
    cmd += ["sweep.report=false", f"paths.results={out}", *extra]
    started = time.perf_counter()
    with open(LOG[0], "a") as log:
        log.write(f"\n$ {' '.join(cmd[1:])}\n")
        log.flush()
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            finished = process.wait(timeout=max(timeout, 1)) == 0
        except subprocess.TimeoutExpired:  # Ctrl-C: the workers stop after their epoch, the journal stays whole
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            finished = False
    return time.perf_counter() - started, finished


def results(folder: Path) -> list[dict]:
    """The ``result`` records of a sweep folder, with the device of their ``start``."""
    path = folder / "records.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line for line in lines if line["event"] == "result"]


def devices(out: Path, env: dict) -> tuple[float, str]:
    """``devices.txt``; the measured float32 matmul peak in FLOP/s (0: not measured) and JAX's platform."""
    from gpu_check import nvidia_smi_list  # benchmarks/ is on the path: this script's own folder

    smi = nvidia_smi_list()
    probe = (
        "import time, jax, jax.numpy as jnp\n"
        "print('jax', jax.__version__, jax.devices()); print('platform', jax.devices()[0].platform)\n"
        "n = 8192 if jax.devices()[0].platform == 'gpu' else 1024\n"
        "a = jnp.ones((n, n), jnp.float32); f = jax.jit(lambda a: a @ a); f(a).block_until_ready()\n"
        "t = time.perf_counter(); [f(a).block_until_ready() for _ in range(10)]\n"
        "print('peak', 2 * n**3 * 10 / (time.perf_counter() - t))\n"
    )
    seen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    text = (seen.stdout or seen.stderr).strip()
    (out / "devices.txt").write_text(f"nvidia-smi -L:\n{smi or '(no NVIDIA GPU)'}\n\njax sees:\n{text}\n")
    values = dict(line.split(maxsplit=1) for line in text.splitlines() if line.startswith(("peak ", "platform ")))
    return float(values.get("peak", 0.0)), values.get("platform", "none")


def watch_gpu(out: Path):
    """``nvidia-smi`` sampling into gpu_usage.csv in the background (None where there is no nvidia-smi)."""
    fields = "timestamp,utilization.gpu,memory.used,memory.total,power.draw"
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        return subprocess.Popen(
            ["nvidia-smi", f"--query-gpu={fields}", "--format=csv", "-l", "1"],
            stdout=open(out / "gpu_usage.csv", "w"),
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None


def achieved(records: list[dict], experiment: str, peak: float, rehearse: bool) -> dict:
    """The acdc50_gpu trials' training FLOP/s (convolutions x 3, `bench_overhead.training_flops`) over peak."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_overhead import training_flops
    from hydra.utils import instantiate

    from lossbench import config
    from lossbench.trial.model import build_model

    cfg = config.compose([f"+experiment={experiment}", *(REHEARSAL if rehearse else [])])
    size = int(cfg.data.image_size)
    model = build_model(cfg.model, (size, size, 1), 4, instantiate(cfg.activation))
    rates = []
    for r in records:
        epochs = len(next(iter(r["curves"].values()), [])) or int(cfg.trainer.epochs)
        fit = r["seconds"].get("fit", 0.0)
        if fit > 0:
            rates.append(training_flops(model, 646, epochs) / fit)  # 646 training slices (35 patients)
    rates.sort()
    median = rates[len(rates) // 2] if rates else 0.0
    return {
        "trials": len(rates),
        "median_flops_per_s": median,
        "peak_flops_per_s": peak,
        "fraction_of_peak": median / peak if peak else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("LOSSBENCH_GPU_OUT", "results/gpu/run"))
    parser.add_argument("--deadline", type=float, default=500, help="seconds for everything (default 500)")
    parser.add_argument("--workers", type=int, default=4, help="sweep.workers_per_gpu of the acdc50_gpu sweep")
    parser.add_argument("--rehearse", action="store_true", help="CPU rehearsal: base 8, 2 epochs, 2 trials")
    parser.add_argument("--resume", help="a folder an earlier run brought back: its sweep goes on from there")
    args = parser.parse_args()
    started, out = time.perf_counter(), Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gpu-practice-"))  # the sweeps' folders: only 7 files go to out
    LOG.append(out / "log.txt")
    env = os.environ | {"PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}".rstrip(os.pathsep)}
    env |= {"JAX_COMPILATION_CACHE_DIR": str(work / "jax-cache"), "KERAS_BACKEND": "jax"}
    os.environ |= {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}  # this process only counts FLOPs: no GPU
    left = lambda: args.deadline - (time.perf_counter() - started)  # noqa: E731
    watcher = watch_gpu(out)
    peak, platform = devices(out, env)
    gpu = platform == "gpu"
    workers = [f"sweep.workers_per_gpu={args.workers}"] if gpu else ["sweep.n_workers=1"]
    tiny = REHEARSAL if args.rehearse else []
    if args.rehearse:
        space = work / "two.yaml"
        space.write_text(
            SLICES["acdc50_gpu"]
            .replace("[categorical_crossentropy, dice]", "[dice]")
            .replace("[softmax, sigmoid]", "[softmax]")
        )
        tiny = [*tiny, f"sweep.space={space}"]
    if args.resume:  # the journal and records an earlier run brought back: finished trials are not run again
        (work / "sweeps" / "acdc50_gpu").mkdir(parents=True)
        for name in ("records.jsonl", "optuna.journal"):
            shutil.copy(Path(args.resume) / name, work / "sweeps" / "acdc50_gpu" / name)
    seconds, finished = sweep("acdc50_gpu", [*workers, *tiny], work / "sweeps", env, left() * 0.7)
    for name in ("records.jsonl", "optuna.journal"):
        if (work / "sweeps" / "acdc50_gpu" / name).exists():
            shutil.copy(work / "sweeps" / "acdc50_gpu" / name, out / name)
    done = results(work / "sweeps" / "acdc50_gpu")
    summary = {
        "acdc50_gpu": {
            "trials_done": len(done),
            "seconds": round(seconds, 1),
            "finished": finished,
            "workers_per_gpu": args.workers if gpu else None,
            "trained_on": sorted({r.get("trained_on", "") for r in done}),
        }
    }
    summary["achieved"] = achieved(done, "acdc50_gpu", peak, args.rehearse)
    (out / "practice.json").write_text(json.dumps(summary, indent=1))
    rows = ["scale,workers_per_gpu,pack,trials,seconds,trials_per_hour,finished,trained_on"]
    for scale in ("cmr", "acdc50_gpu"):
        for per_gpu, pack in SETTINGS[: 2 if args.rehearse else len(SETTINGS)]:
            if left() < 40:
                break
            space = work / f"slice-{scale}.yaml"
            space.write_text(SLICES[scale])
            folder = work / "slices" / f"{scale}-{per_gpu}-{pack}"
            extra = [f"sweep.space={space}", "trainer.epochs=4", "sweep.max_seeds=0", "sweep.pruner=none"]
            extra += ["trainer.backend=jax"]
            extra += [f"sweep.workers_per_gpu={per_gpu}" if gpu else f"sweep.n_workers={min(per_gpu, 2)}"]
            extra += [f"sweep.pack={pack}", *(REHEARSAL[:1] if args.rehearse else [])]
            spent, ok = sweep(scale, extra, folder, env, min(left() - 20, 150))
            got = results(folder / scale)
            rows.append(
                f"{scale},{per_gpu},{pack},{len(got)},{spent:.1f},{len(got) * 3600 / spent:.0f},{ok},"
                f"{' '.join(sorted({r.get('trained_on', '') for r in got}))}"
            )
            (out / "throughput.csv").write_text("\n".join(rows) + "\n")
    if watcher is not None:
        watcher.terminate()
    print(json.dumps(summary, indent=1))
    print("\n".join(rows))
    print(f"{time.perf_counter() - started:.0f} s in all; files in {out}")


if __name__ == "__main__":
    main()
