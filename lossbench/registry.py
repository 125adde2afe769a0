"""The registry: ``conf/`` is the list of every option; this module is the one place that reads it.

A *choice group* (loss, activation, class weighting, optimizer) is what a pairing is made of; every
group, the model included, extends the same way: a class (or builder) in the package, a YAML in
``conf/<group>/`` whose ``_target_`` names it, and a test. Everything that needs the conf path, the
groups, a group's options, an option instantiated outside a composed config, or a pairing's label
asks here.
"""

from __future__ import annotations

import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout: conf/, sweeps/, results/
CONF_DIR = ROOT / "conf"
SWEEPS_DIR = ROOT / "sweeps"

CHOICES = ("loss", "activation", "class_weighting", "optimizer")  # the groups a pairing is made of
CONFIG_GROUPS = ("data", "model", *CHOICES, "trainer", "tracking", "paths")  # every group a sweep may vary
# what members of one pack (`lossbench.trial.pack`) may differ in, besides the seed
PACK_FREE = ("loss", "activation", "class_weighting", "data.label_encoding", "data.reshape_mismatch")


def options(group: str) -> list[str]:
    """The options of ``group``: the files of ``conf/<group>/``."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def option_config(group: str, name: str):
    """``conf/<group>/<name>.yaml`` (over the option its ``defaults`` names, for an alias); a ValueError naming the
    options."""
    from omegaconf import OmegaConf

    path = CONF_DIR / group / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"unknown {group} {name!r}; known: {options(group)}")
    own = OmegaConf.load(path)
    parents = [str(d) for d in own.pop("defaults", None) or [] if str(d) != "_self_"]  # an alias: its option first
    return OmegaConf.merge(*(option_config(group, p) for p in parents), own) if parents else own


def load_option(group: str, name: str):
    """The object ``conf/<group>/<name>.yaml`` instantiates, for code outside a composed config."""
    from hydra.utils import instantiate

    return instantiate(option_config(group, name))


def pairing_name(cfg) -> str:
    """``loss+activation | weighting | optimizer | seed N``: the name of a trial's run in MLflow."""
    return (
        f"{cfg.loss.name}+{cfg.activation.name} | {cfg.class_weighting.name} | "
        f"{cfg.optimizer.name} | seed {cfg.trainer.seed}"
    )


def _given(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def pairing_label(pairing: dict) -> str:
    """``loss+activation | weighting | optimizer`` (or the name of an explicit trial): a pairing in reports."""
    if pairing.get("trials") and not pairing.get("loss"):
        return str(pairing["trials"])
    rate = pairing.get("learning_rate")
    core = (
        f"{pairing.get('loss', '-')}+{pairing.get('activation', '-')} | "
        f"{pairing.get('class_weighting', '-')} | {pairing.get('optimizer', '-')}"
        + (f" lr {float(rate):g}" if _given(rate) else "")
    )
    return f"{pairing['trials']}: {core}" if pairing.get("trials") else core
