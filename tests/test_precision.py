"""`trainer.precision`: mixed precision keeps the activation, the loss and the audit in float32.

Under ``mixed_bfloat16`` the network computes in bfloat16 but its logits are cast to float32 before
the activation, so a Keras softmax still hands the cross-entropy its (float32) logits: the pairing
trains what it trains in float32, and the verdicts agree. bfloat16 runs on this CPU; float16 is
for GPUs and is not tried here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import CONF, ROOT, tiny

CODE = """
import json, sys
from hydra import compose, initialize_config_dir
from lossbench.runtime import configure
with initialize_config_dir(config_dir=sys.argv[1], version_base="1.3"):
    cfg = compose("config", overrides=sys.argv[2:])
configure(1)
import keras
from lossbench.trial.run import run_trial
from lossbench.trial.model import build_model
result = run_trial(cfg)
keras.mixed_precision.set_global_policy(cfg.trainer.precision)
model = build_model(cfg.model, cfg.data.image_size, 4, "softmax")
print(json.dumps({"verdict": result.verdict, "audit": result.audit.tag, "dice": result.objective,
                  "logits_dtype": str(model.get_layer("logits").compute_dtype),
                  "output_dtype": str(model.output.dtype)}))
"""


def run(tmp_path, loss: str, precision: str) -> dict:
    args = [*tiny(tmp_path / precision), f"loss={loss}", "activation=softmax", "optimizer=adam", "trainer.epochs=4"]
    args.append(f"trainer.precision={precision}")
    out = subprocess.run(
        [sys.executable, "-c", CODE, CONF, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize(
    "loss, audit", [("categorical_crossentropy", "nominal"), ("binary_crossentropy", "logits_substituted")]
)
def test_bfloat16_gives_the_verdicts_and_audit_of_float32(tmp_path, loss, audit):
    full, half = run(tmp_path, loss, "float32"), run(tmp_path, loss, "mixed_bfloat16")
    assert half["logits_dtype"] == "bfloat16" and half["output_dtype"] == "float32"
    assert full["output_dtype"] == "float32"
    assert full["audit"] == half["audit"] == audit  # the logits shortcut fires the same way
    assert full["verdict"] == half["verdict"]
    assert abs(full["dice"] - half["dice"]) < 0.15  # same training, bfloat16's 8-bit mantissa
