"""Keras on JAX (``trainer.backend=jax``): a trial runs end to end, and the audit says what JAX trains.

FACTS #2's logits shortcut lives in Keras's TensorFlow backend (FACTS #14): on TensorFlow, binary CE on a Keras
softmax trains one sigmoid per class on the logits (``logits_substituted``); on JAX the same config
trains binary CE on the softmax probabilities (``nominal``). `tools.backends` tabulates every
pairing (results/backends/summary.md); these tests pin the two ends of that table on a real trial.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_train import summary_of, train

pytest.importorskip("jax", reason="the JAX backend needs pip install -e '.[jax]'")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend, audit", [("tensorflow", "logits_substituted"), ("jax", "nominal")], ids=["tensorflow", "jax"]
)
def test_binary_ce_on_softmax_trains_differently_on_the_two_backends(tmp_path, backend, audit):
    done = train(tmp_path, "loss=binary_crossentropy", "activation=softmax", f"trainer.backend={backend}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"  audit {audit} | test foreground Dice " in summary_of(done.stdout)
    with sqlite3.connect(tmp_path / "results" / "mlflow.db") as db:
        tags = dict(db.execute("select key, value from tags").fetchall())
    assert tags["machine/backend"] == backend and tags["device"] == "cpu"
    assert ("machine/tf_threads" in tags) == (backend == "tensorflow")


def test_the_published_backend_table_names_its_command_and_the_pairings_that_differ():
    text = (ROOT / "results" / "backends" / "summary.md").read_text()
    assert "Command: `python -m tools.backends`" in text
    differ = [line.split("|")[1:3] for line in text.splitlines() if line.endswith("**differs** |")]
    assert [("BCE", "softmax")] == [(a.strip(), b.strip()) for a, b in differ if a.strip() == "BCE"]  # in words
