"""The registry: ``conf/`` is the list of every option; this module is the one place that reads it.

A *choice group* (loss, activation, class weighting, optimizer) is what a pairing is made of; every
group, the model included, extends the same way: a class (or builder) in the package, a YAML in
``conf/<group>/`` whose ``_target_`` names it, and a test. Everything that needs the conf path, the
groups, a group's options, an option instantiated outside a composed config, or a pairing's label
asks here.
"""

from __future__ import annotations

import math
import re
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


def aliases() -> dict[str, str]:
    """Every option that is an alias (its file names another option in ``defaults``) -> that option,
    e.g. ``sgd_seed`` -> ``sgd_thread2``."""
    from omegaconf import OmegaConf

    out = {}
    for group in CHOICES:
        for path in sorted((CONF_DIR / group).glob("*.yaml")):
            parents = [str(d) for d in OmegaConf.load(path).get("defaults") or [] if str(d) != "_self_"]
            if parents:
                out[path.stem] = parents[0]
    return out


def canonical(key: str) -> str:
    """``key`` (a conclusion, a pairing label) with every alias replaced by the option it names, so that
    studies recorded before a rename and after it speak of one pairing: ``adam vs sgd_seed`` -> ``adam vs
    sgd_thread2``."""
    import re

    for alias, target in aliases().items():
        key = re.sub(rf"\b{re.escape(alias)}\b", target, key)
    return key


def load_option(group: str, name: str):
    """The object ``conf/<group>/<name>.yaml`` instantiates, for code outside a composed config."""
    from hydra.utils import instantiate

    return instantiate(option_config(group, name))


# How people say an option (reports, run names, plots); an option not listed is said by its name, an
# optimizer by its ``label:`` (its learning rate in it).
WORDS = {
    "loss": {
        "binary_crossentropy": "BCE",
        "categorical_crossentropy": "CE",
        "sparse_categorical_crossentropy": "sparse CE",
        "dice": "soft Dice",
        "dice_ce": "Dice+CE",
        "dice_focal": "Dice+focal",
        "focal_tversky": "focal Tversky",
        "generalized_dice": "generalized Dice",
        "keras_dice": "Keras Dice",
        "log_cosh_dice": "log-cosh Dice",
        "lovasz_softmax": "Lovász",
    },
    "activation": {  # thread 1's activations: what each does to what the loss sees
        "softmax_untagged": "hidden softmax",
        "sigmoid_untagged": "hidden sigmoid",
        "depth_softmax_thread1": "depth softmax (answer 1)",
        "depth_softmax_fixed": "depth softmax (fixed)",
        "permute_reshape_softmax": "reshape softmax",
    },
    "class_weighting": {
        "none": "unweighted",
        "median_frequency": "median-freq",
        "inverse_frequency": "inverse-freq",
        "effective_number": "effective-number",
    },
}
SEP = " · "


def option_word(group: str, name: str, rate=None) -> str:
    """How reports say option ``name`` of ``group`` (`WORDS`; an optimizer: its ``label:``, at ``rate``).

    >>> option_word("optimizer", "adam", 0.003), option_word("loss", "focal")
    ('Adam 3e-3', 'focal')
    """
    if group != "optimizer":
        return WORDS.get(group, {}).get(str(name), str(name))
    try:
        label = str(option_config("optimizer", str(name)).get("label") or name)
    except ValueError:  # an optimizer recorded under a name conf/ no longer has
        label = str(name)
    if not _given(rate):
        return label
    said = f"{float(rate):.1e}".replace(".0e", "e").replace("e-0", "e-").replace("e+00", "")
    return re.sub(r"\d+(\.\d+)?e-\d+", said, label, count=1) if re.search(r"\de-\d", label) else f"{label} lr {said}"


def short_label(pairing: dict) -> str:
    """One pairing in words: ``CE · softmax · median-freq · Adam 1e-3`` (the full config is in the run's params).

    >>> short_label({"trials": "ce|none|adam", "loss": "categorical_crossentropy", "activation": "softmax",
    ...              "class_weighting": "none", "optimizer": "adam"})
    'CE · softmax · unweighted · Adam 1e-3'
    """
    if pairing.get("trials") and not pairing.get("loss"):
        return str(pairing["trials"])
    core = SEP.join(
        [
            option_word("loss", pairing.get("loss", "-")),
            option_word("activation", pairing.get("activation", "-")),
            option_word("class_weighting", pairing.get("class_weighting", "-")),
            option_word("optimizer", pairing.get("optimizer", "-"), pairing.get("learning_rate")),
        ]
    )
    return f"{pairing['trials']}: {core}" if names_more(pairing.get("trials")) else core


def names_more(trial_name) -> bool:
    """Whether an explicit trial's name says more than its pairing (``thread2_exact``), unlike a name built
    from the pairing itself (``dice+softmax|none|adam``), which a label would only repeat."""
    return bool(trial_name) and "|" not in str(trial_name)


def choice_words(pairing: dict) -> dict[str, str]:
    """The four choices in words as MLflow params ``choice/<group>`` (the axes of the choices view).

    >>> choice_words({"loss": "sparse_categorical_crossentropy", "activation": "softmax"})["choice/loss"]
    'sparse CE'
    """
    rate = pairing.get("learning_rate")
    return {
        f"choice/{group}": option_word(group, pairing.get(group, "-"), rate if group == "optimizer" else None)
        for group in CHOICES
    }


def pairing_of(cfg) -> dict:
    """A composed config's pairing: its four choices and the rate it trains at."""
    return {g: str(cfg[g].name) for g in CHOICES} | {"learning_rate": cfg.optimizer.get("learning_rate")}


def pairing_name(cfg) -> str:
    """``CE · softmax · median-freq · Adam 1e-3 · seed N``: the name of a trial's run in MLflow (at the rate it ran)."""
    return f"{short_label(pairing_of(cfg))}{SEP}seed {cfg.trainer.seed}"


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
