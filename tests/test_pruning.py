"""Does pruning change an answer (`lossbench.analysis.pruning`): two real journal studies compared."""

from __future__ import annotations

import optuna
from omegaconf import OmegaConf

from lossbench.analysis import pruning
from lossbench.sweep import work
from lossbench.sweep.study import StudyInfo


def study(tmp_path, name: str, pruned: bool) -> StudyInfo:
    """Two seeds of one pairing; with pruning the second is cut after epoch 2 (it converged run to the end)."""
    info = StudyInfo(
        name=name, study_name=name, storage=str(tmp_path / f"{name}.journal"), folder=str(tmp_path), tracking_uri=""
    )
    s = optuna.create_study(study_name=name, storage=work.storage(info))
    dist = {"loss": optuna.distributions.CategoricalDistribution(["dice"])}
    for seed in (0, 1):
        cut = pruned and seed == 1
        attrs = {
            "seed": seed,
            "state": "pruned" if cut else "complete",
            "verdict": "degenerate" if cut else "converged",
        }
        s.add_trial(
            optuna.trial.create_trial(
                params={"loss": "dice"},
                distributions=dist,
                value=0.8,
                user_attrs=attrs | {"pruned_at": 2 if cut else 0, "seconds": 2.0 if cut else 8.0, "test_dice": 0.8},
            )
        )
    return info


def test_a_false_prune_is_counted_and_written(tmp_path, capsys):
    cfg = OmegaConf.create({"name": "planted", "trainer": {"epochs": 8}, "sweep": {"warmup_epochs": 2}})
    pruning.write(cfg, study(tmp_path, "on", True), study(tmp_path, "off", False))
    text = (tmp_path / "pruning.md").read_text()
    assert text.startswith("# Pruning on `planted`: does it change an answer?")
    assert "| 2 | 1 | **1** | 1 | 10 / 16 (38% fewer) | 10 / 16 | 38% |" in text
    assert "| dice | 1 | 2 | degenerate | converged | 0.800 |" in text
    assert "1 false prunes of 1 pruned" in capsys.readouterr().out
