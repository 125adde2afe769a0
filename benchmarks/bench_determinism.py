"""What `trainer.deterministic=true` costs, and what is bit-identical on this machine.

    python benchmarks/bench_determinism.py      # or: make bench-determinism

Trains one cmr trial (Dice + softmax, Adam, seed 0, one TensorFlow thread, the
cmr experiment's 48x48 budget) twice with the default settings (oneDNN on) and
twice with ``trainer.deterministic=true`` (oneDNN off, op determinism), each
in a fresh process, and prints the fit time and whether the two runs of a mode
gave the same validation curve to the last bit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

CODE = """
import json, sys
from hydra import compose, initialize_config_dir
from lossbench.runtime import configure
overrides = sys.argv[2:]
with initialize_config_dir(config_dir=sys.argv[1], version_base="1.3"):
    cfg = compose("config", overrides=overrides)
configure(int(cfg.trainer.threads), bool(cfg.trainer.deterministic))
from lossbench.trial.run import run_trial
result = run_trial(cfg)
print(json.dumps({"fit": result.seconds["fit"], "val_loss": result.curves["val/loss"],
                  "dice": result.final["test/foreground_dice"]}))
"""


def trial(deterministic: bool, results: str) -> dict:
    conf = str(Path(__file__).resolve().parents[1] / "conf")
    args = [
        "+experiment=cmr",
        "loss=dice",
        "activation=softmax",
        "optimizer=adam",
        "trainer.threads=1",
        f"trainer.deterministic={str(deterministic).lower()}",
        f"paths.results={results}",
    ]
    out = subprocess.run([sys.executable, "-c", CODE, conf, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        runs = {mode: [trial(mode, tmp) for _ in range(2)] for mode in (False, True)}
    for mode, (a, b) in runs.items():
        same = a["val_loss"] == b["val_loss"]
        print(
            f"deterministic={str(mode).lower():5s}: fit {a['fit']:.1f} s and {b['fit']:.1f} s; two runs "
            f"{'bit-identical' if same else 'DIFFER'} (last val loss {a['val_loss'][-1]!r} vs {b['val_loss'][-1]!r}; "
            f"test Dice {a['dice']:.4f} vs {b['dice']:.4f})"
        )
    off, on = runs[False][0], runs[True][0]
    cost = (sum(r["fit"] for r in runs[True]) / sum(r["fit"] for r in runs[False]) - 1) * 100
    print(
        f"cost of deterministic: {cost:+.0f} % fit time; default vs deterministic curves "
        f"{'identical' if off['val_loss'] == on['val_loss'] else 'differ'} "
        f"(last val loss {off['val_loss'][-1]:.6f} vs {on['val_loss'][-1]:.6f})"
    )
    from lossbench.runtime import machine

    facts = machine()
    rows = [
        f"| {'`trainer.deterministic=true`' if mode else 'default (oneDNN on)'} | {a['fit']:.1f} s, {b['fit']:.1f} s "
        f"| {'yes' if a['val_loss'] == b['val_loss'] else '**no**'} | {a['dice']:.4f} / {b['dice']:.4f} |"
        for mode, (a, b) in runs.items()
    ]
    Path(__file__).resolve().parents[1].joinpath("results", "determinism.md").write_text(
        "\n".join(
            [
                f"One cmr trial (Dice + softmax, Adam, seed 0, one TensorFlow thread) run twice per mode on "
                f"{facts['cpu']} ({facts['isa']}), each in a fresh process (`make bench-determinism`):",
                "",
                "| mode | fit time, two runs | the two runs' curves bit-identical | test Dice, two runs |",
                "|---|---|---|---|",
                *rows,
                "",
                f"`trainer.deterministic=true` costs {cost:+.0f} % fit time here; its curves "
                f"{'equal' if off['val_loss'] == on['val_loss'] else 'differ from'} the default's (last validation loss "
                f"{off['val_loss'][-1]:.6f} vs {on['val_loss'][-1]:.6f}): oneDNN's kernels round differently.",
                "",
            ]
        )
    )
