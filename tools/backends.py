"""The audit of every loss x activation on Keras's TensorFlow and JAX backends: does a pairing train the same?

    python -m tools.backends            # results/backends/summary.md and audit.csv, ~3 min on a CPU

Keras's cross-entropies read the logits behind a Keras softmax/sigmoid, but only on the TensorFlow
backend (FACTS #2, #14): there, binary CE on a softmax trains C independent sigmoids on the logits. On
JAX the same config computes the loss on the probabilities it is given. This runs `audit_pairing`
(the trial's own audit, on its compiled pass) for every option of ``conf/loss`` x ``conf/activation``
on a small U-Net, once per backend, each in a process of its own (a process has one backend), and
tabulates where the two backends train different things.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import warnings
from pathlib import Path

BACKENDS = ("tensorflow", "jax")
COMMAND = "python -m tools.backends"


def audit_all(backend: str) -> list[dict]:
    """Audit every loss x activation on ``backend`` (this process's only backend)."""
    from lossbench.runtime import configure

    configure(1, False, backend)
    import keras
    import numpy as np
    from hydra.utils import instantiate

    from lossbench.config import compose
    from lossbench.errors import UserError
    from lossbench.sweep.validate import options
    from lossbench.trial.audit import audit_pairing
    from lossbench.trial.model import build_model
    from lossbench.trial.passes import compiled_pass
    from lossbench.trial.targets import encode, label_encoding

    rng = np.random.default_rng(0)
    x = rng.random((2, 32, 32, 1)).astype(np.float32)
    labels = rng.integers(0, 4, (2, 32, 32))
    rows = []
    for loss_name in options("loss"):
        for activation in options("activation"):
            cfg = compose([f"loss={loss_name}", f"activation={activation}", "data.image_size=32", "model.base=4"])
            row = {"loss": loss_name, "activation": activation, "backend": backend}
            try:
                loss = instantiate(cfg.loss, class_weights=None)
                keras.backend.clear_session(free_memory=False)
                keras.utils.set_random_seed(0)
                model = build_model(cfg.model, 32, 4, instantiate(cfg.activation))
                model.compile(loss=loss)
                y = encode(labels, label_encoding(cfg, loss), 4)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    audit = audit_pairing(model, loss, x, y, compiled_pass(model, loss))
                row |= {"tag": audit.tag, "keras_loss": audit.keras_loss, "nominal_loss": audit.nominal_loss}
                row["reason"] = audit.reason if audit.tag == "invalid" else ""
            except (UserError, ValueError, TypeError) as error:
                from lossbench.trial.audit import first_line

                row |= {"tag": "invalid", "keras_loss": float("nan"), "nominal_loss": float("nan")}
                row["reason"] = first_line(error)
            rows.append(row)
    return rows


def versions() -> dict:
    from lossbench.runtime import version

    return {"keras": version("keras"), "tensorflow": version("tensorflow", "tensorflow-cpu"), "jax": version("jax")}


def said(loss: str, activation: str) -> str:
    """A table's loss and activation cells in words (``audit.csv`` keeps the config names).

    >>> said("binary_crossentropy", "softmax")
    'BCE | softmax'
    """
    from lossbench.registry import option_word

    return f"{option_word('loss', loss)} | {option_word('activation', activation)}"


def write(rows: list[dict], folder: Path) -> Path:
    """``audit.csv`` (one row per loss x activation x backend) and ``summary.md`` (names in words)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "audit.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    by = {(r["loss"], r["activation"], r["backend"]): r for r in rows}
    pairs = sorted({(r["loss"], r["activation"]) for r in rows})
    differ = [p for p in pairs if by[(*p, "tensorflow")]["tag"] != by[(*p, "jax")]["tag"]]
    valid = [p for p in pairs if "invalid" not in (by[(*p, "tensorflow")]["tag"], by[(*p, "jax")]["tag"])]
    counts = {b: {} for b in BACKENDS}
    for r in rows:
        counts[r["backend"]][r["tag"]] = counts[r["backend"]].get(r["tag"], 0) + 1
    v = versions()
    lines = [
        "# The same config on Keras's TensorFlow and JAX backends: what each really trains",
        "",
        f"Command: `{COMMAND}` (this file and `audit.csv`). Keras {v['keras']}, TensorFlow "
        f"{v['tensorflow']}, JAX {v['jax']}; CPU.",
        "",
        "Every loss in `conf/loss/` with every activation in `conf/activation/` (no class weights), audited "
        "as a trial audits itself: the loss Keras computes on the compiled path (a `tf.function` on "
        "TensorFlow, `jax.jit` on JAX) against the loss's formula applied to the model's output as plain "
        "numbers, on one batch of a small U-Net whose logits are scaled to unit spread. `nominal`: the "
        "pairing trains what it says; `logits_substituted`: Keras computed the loss from the logits behind "
        "the activation; `invalid`: the loss cannot be computed for these labels.",
        "",
        f"**{len(differ)} of {len(pairs)} pairings train something different on the two backends** "
        f"({len(valid)} are valid on both). Tags per backend: "
        + "; ".join(f"{b}: " + ", ".join(f"{k} {n}" for k, n in sorted(counts[b].items())) for b in BACKENDS)
        + ".",
        "",
    ]
    if differ:
        lines += [
            "## Where the backends differ",
            "",
            "Loss values are each backend's own (compiled / formula on the output); the two backends draw",
            "different initial weights from the same seed, so compare within a backend, not across.",
            "",
            "| loss | activation | TensorFlow | compiled / formula | JAX | compiled / formula |",
            "|---|---|---|---|---|---|",
        ]
        for loss, activation in differ:
            t, j = by[(loss, activation, "tensorflow")], by[(loss, activation, "jax")]
            lines.append(
                f"| {said(loss, activation)} | {t['tag']} | {t['keras_loss']:.4g} / {t['nominal_loss']:.4g} "
                f"| {j['tag']} | {j['keras_loss']:.4g} / {j['nominal_loss']:.4g} |"
            )
        lines += [
            "",
            "On TensorFlow these cross-entropies train on the logits behind Keras's own softmax/sigmoid "
            "(e.g. binary CE on a softmax trains one sigmoid per class); on JAX they train on the "
            "probabilities (binary CE on softmax outputs, with Keras's clipping at 1e-7). A result from "
            "one backend is a result about *that* pairing: a sweep records `machine/backend` on every run.",
            "",
        ]
    lines += ["## Every pairing", "", "| loss | activation | TensorFlow | JAX |", "|---|---|---|---|"]
    for loss, activation in pairs:
        t, j = by[(loss, activation, "tensorflow")], by[(loss, activation, "jax")]
        mark = " **differs**" if (loss, activation) in differ else ""
        lines.append(f"| {said(loss, activation)} | {t['tag']} | {j['tag']}{mark} |")
    path = folder / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=BACKENDS, help="audit on this backend only and print JSON (internal)")
    parser.add_argument("--out", default="results/backends", help="folder for summary.md and audit.csv")
    args = parser.parse_args()
    if args.backend:
        print(json.dumps(audit_all(args.backend)))
        return
    rows = []
    for backend in BACKENDS:
        done = subprocess.run(
            [sys.executable, "-m", "tools.backends", "--backend", backend], capture_output=True, text=True
        )
        if done.returncode:
            sys.exit(f"lossbench: error: the {backend} audit failed: {done.stderr.strip().splitlines()[-1:]}")
        rows += json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{backend}: {len(rows)} audits so far", flush=True)
    print(write(rows, Path(args.out)))


if __name__ == "__main__":
    main()
