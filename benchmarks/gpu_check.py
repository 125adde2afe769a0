"""make gpu-check: does the GPU path really run, and what does it buy? One short script, < 4 min on one GPU.

    python benchmarks/gpu_check.py [--backend jax|tensorflow] [--out results/gpu]
    LOSSBENCH_GPU_OUT=$OUT python benchmarks/gpu_check.py      # the folder may also come from the environment

1. the devices (``nvidia-smi -L`` and what the backend sees);
2. one cmr trial (categorical CE + softmax, Adam, seed 0) on the GPU and on the CPU: verdicts and Dice;
3. an 8-trial, 4-epoch cmr slice with 1 and 4 workers per GPU (one shared ``JAX_COMPILATION_CACHE_DIR``):
   trials per hour;
4. ``+experiment=thread2_full`` (256 px phantom, U-Net base 16) for 2 epochs: the time per epoch, and so
   per 30-epoch trial.

Everything runs with ``tracking=none`` (no MLflow needed) and writes at most 5 files to the output
folder. On a machine without a GPU it runs on the CPU and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLICE = """grid:
  loss: [categorical_crossentropy, binary_crossentropy]
  activation: [softmax, sigmoid]
  optimizer: [adam, sgd_thread2]
seeds: [0]
"""


def run(cmd: list[str], env: dict, timeout: int) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        sys.exit(f"gpu-check: {' '.join(cmd[:4])} ... failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, done


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "records.jsonl").read_text().splitlines()]


def nvidia_smi_list() -> str:
    """``nvidia-smi -L``'s lines ("" where there is no nvidia-smi or it does not answer)."""
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def devices(backend: str, env: dict) -> str:
    smi = nvidia_smi_list()
    probe = (
        "import jax; print('jax', jax.__version__, jax.devices())"
        if backend == "jax"
        else "import tensorflow as tf; print('tensorflow', tf.__version__, tf.config.list_physical_devices())"
    )
    seen = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    return f"nvidia-smi -L:\n{smi or '(no NVIDIA GPU)'}\n\n{backend} sees:\n{(seen.stdout or seen.stderr).strip()}\n"


def trial(backend: str, env: dict, tmp: Path, where: str) -> dict:
    folder = tmp / f"trial-{where.split()[0]}"
    seconds, _ = run(
        [sys.executable, "-m", "lossbench.train", "+experiment=cmr", "loss=categorical_crossentropy"]
        + ["activation=softmax", "optimizer=adam", "tracking=none", f"trainer.backend={backend}"]
        + [f"paths.results={folder}"],
        env,
        timeout=600,
    )
    result = next(r for r in records(folder / "cmr") if r["event"] == "result")
    start = next(r for r in records(folder / "cmr") if r["event"] == "start")
    final = result["final"]
    return {
        "where": where,
        "device": start["tags"].get("device"),
        "trained_on": result.get("trained_on", ""),  # where the weights lived, as the backend reports it
        "gpus_seen": start["tags"].get("machine/gpus"),
        "verdict": result["verdict"],
        "test_foreground_dice": final.get("test/foreground_dice"),
        "test_dice": {k.split("/")[-1]: v for k, v in final.items() if k.startswith("test/dice/")},
        "audit": result["audit"].get("audit"),
        "seconds": round(seconds, 1),
        "trial_seconds": {k: round(v, 2) for k, v in result["seconds"].items()},
    }


def throughput(backend: str, env: dict, tmp: Path, per_gpu: int, gpus: bool) -> dict:
    space = tmp / "slice.yaml"
    space.write_text(SLICE)
    count = per_gpu if gpus else min(per_gpu, os.cpu_count() or 1)  # a CPU gets at most one worker a core
    workers = [f"sweep.workers_per_gpu={per_gpu}"] if gpus else [f"sweep.n_workers={count}"]
    seconds, _ = run(
        [sys.executable, "-m", "lossbench.sweep", "+experiment=cmr", f"sweep.space={space}", "trainer.epochs=4"]
        + ["sweep.max_seeds=0", "sweep.report=false", "sweep.prune_stalled=false", "tracking=none"]
        + [f"trainer.backend={backend}", f"paths.results={tmp}/slice-{per_gpu}", *workers],
        env | {"JAX_COMPILATION_CACHE_DIR": str(tmp / "jax-cache")},
        timeout=600,
    )
    done = [r for r in records(Path(tmp) / f"slice-{per_gpu}" / "cmr") if r["event"] == "result"]
    return {
        "workers_per_gpu" if gpus else "cpu_workers": count,
        "trials": len(done),
        "seconds": round(seconds, 1),
    } | {
        "trials_per_hour": round(len(done) * 3600 / seconds),
        "devices": sorted(
            {
                r.get("tags", {}).get("device", "")
                for r in records(Path(tmp) / f"slice-{per_gpu}" / "cmr")
                if r["event"] == "start"
            }
        ),
    }


def full_size(backend: str, env: dict, tmp: Path) -> dict:
    folder = tmp / "full"
    seconds, _ = run(
        [sys.executable, "-m", "lossbench.train", "+experiment=thread2_full", "loss=sparse_categorical_crossentropy"]
        + ["activation=softmax", "optimizer=adam", "trainer.epochs=2", "tracking=none", f"trainer.backend={backend}"]
        + [f"paths.results={folder}"],
        env,
        timeout=900,
    )
    result = next(r for r in records(folder / "thread2_full") if r["event"] == "result")
    parts = result["seconds"]
    per_epoch = (parts["fit"] + parts.get("validation", 0.0)) / 2
    return {
        "image_size": 256,
        "epochs_run": 2,
        "process_seconds": round(seconds, 1),
        "setup_and_audit_seconds": round(parts["setup"] + parts.get("audit", 0.0), 1),
        "seconds_per_epoch": round(per_epoch, 2),
        "expected_seconds_per_30_epoch_trial": round(parts["setup"] + parts.get("audit", 0.0) + 30 * per_epoch),
        "note": "the first epoch includes compilation, so the per-epoch time is an upper bound",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="jax", choices=("jax", "tensorflow"))
    parser.add_argument("--out", default=os.environ.get("LOSSBENCH_GPU_OUT", "results/gpu"))
    parser.add_argument("--skip-full", action="store_true", help="leave out the 256 px thread2_full timing")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}".rstrip(os.pathsep)}
    cpu_env = env | {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    sys.path.insert(0, str(ROOT))
    from lossbench.devices import visible_gpus

    gpus = visible_gpus()
    started = time.perf_counter()
    (out / "devices.txt").write_text(devices(args.backend, env))
    print((out / "devices.txt").read_text(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trials = [trial(args.backend, env if gpus else cpu_env, tmp, "gpu" if gpus else "cpu (no GPU)")]
        if gpus:
            trials.append(trial(args.backend, cpu_env, tmp, "cpu"))
        (out / "trials.json").write_text(json.dumps(trials, indent=1))
        print(json.dumps(trials, indent=1), flush=True)
        rates = [throughput(args.backend, env, tmp, k, bool(gpus)) for k in (1, 4)]
        lines = ["workers,trials,seconds,trials_per_hour,devices"]
        lines += [
            f"{r.get('workers_per_gpu', r.get('cpu_workers'))},{r['trials']},{r['seconds']},{r['trials_per_hour']},"
            f"{' '.join(r['devices'])}"
            for r in rates
        ]
        (out / "throughput.csv").write_text("\n".join(lines) + "\n")
        print("\n".join(lines), flush=True)
        full = None if args.skip_full else full_size(args.backend, env if gpus else cpu_env, tmp)
        if full:
            (out / "thread2_full.json").write_text(json.dumps(full, indent=1))
            print(json.dumps(full, indent=1), flush=True)
    same = len(trials) == 2 and trials[0]["verdict"] == trials[1]["verdict"]
    on_gpu = [t for t in trials if str(t["trained_on"]).startswith("gpu")]  # never nvidia-smi's word alone
    summary = [
        f"# GPU check ({args.backend} backend): `python benchmarks/gpu_check.py --backend {args.backend}`",
        "",
        "GPU path measured: "
        + (
            "yes (a trial's weights lived on " + on_gpu[0]["trained_on"] + ")"
            if on_gpu
            else "no (no trial ran on a GPU)"
        )
        + f"; {len(gpus)} GPU(s) listed by nvidia-smi; {time.perf_counter() - started:.0f} s in all.",
        "",
        "| trial | planned on | weights lived on | verdict | test foreground Dice | seconds |",
        "|---|---|---|---|---|---|",
        *[
            f"| {t['where']} | {t['device']} | {t['trained_on']} | {t['verdict']} | {t['test_foreground_dice']:.3f} "
            f"| {t['seconds']} |"
            for t in trials
        ],
        "",
        ("GPU and CPU give the same verdict" if same else "GPU and CPU verdicts differ" if len(trials) == 2 else "")
        + (
            f"; Dice differs by {abs(trials[0]['test_foreground_dice'] - trials[1]['test_foreground_dice']):.3f} "
            "(another device rounds differently: FACTS #15)."
            if len(trials) == 2
            else ""
        ),
        "",
        "| workers per GPU | trials | seconds | trials/hour |"
        if gpus
        else "| CPU workers | trials | seconds | trials/hour |",
        "|---|---|---|---|",
        *[
            f"| {r.get('workers_per_gpu', r.get('cpu_workers'))} | {r['trials']} | {r['seconds']} | {r['trials_per_hour']} |"
            for r in rates
        ],
    ]
    if full:
        summary += [
            "",
            f"thread2_full (256 px, base 16): {full['seconds_per_epoch']} s per epoch; a 30-epoch trial "
            f"about {full['expected_seconds_per_30_epoch_trial']} s.",
        ]
    (out / "summary.md").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
