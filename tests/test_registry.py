"""The registry: one place for the conf path, the choice groups, options and the pairing's names."""

from __future__ import annotations

import math

import pytest
from omegaconf import OmegaConf

from lossbench import registry
from lossbench.config import compose


def test_the_options_are_the_files_of_the_group():
    assert "softmax" in registry.options("activation")
    assert registry.options("loss") == sorted(p.stem for p in (registry.CONF_DIR / "loss").glob("*.yaml"))
    assert set(registry.CHOICES) <= set(registry.CONFIG_GROUPS)
    assert (registry.SWEEPS_DIR / "cmr.yaml").exists()


def test_an_unknown_option_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown activation 'nope'; known: .*softmax"):
        registry.option_config("activation", "nope")


def test_load_option_instantiates_what_the_yaml_names():
    act = registry.load_option("activation", "sigmoid")
    assert act.name == "sigmoid"
    scheme = registry.load_option("class_weighting", "none")
    assert callable(scheme)


def test_sgd_seed_is_an_alias_of_sgd_thread2_that_keeps_its_name():
    """Recorded studies name thread 2's optimizer sgd_seed; it composes exactly as sgd_thread2."""
    old, new = compose(["optimizer=sgd_seed"]).optimizer, compose(["optimizer=sgd_thread2"]).optimizer
    assert old.name == "sgd_seed" and new.name == "sgd_thread2"
    assert {k: v for k, v in old.items() if k != "name"} == {k: v for k, v in new.items() if k != "name"}
    alias = registry.option_config("optimizer", "sgd_seed")  # read outside Hydra, as the reports read labels
    assert alias.name == "sgd_seed" and alias.label == new.label and "defaults" not in alias


def test_pairing_name_and_label():
    cfg = OmegaConf.create(
        {
            "loss": {"name": "dice"},
            "activation": {"name": "softmax"},
            "class_weighting": {"name": "none"},
            "optimizer": {"name": "adam"},
            "trainer": {"seed": 3},
        }
    )
    assert registry.pairing_name(cfg) == "soft Dice · softmax · unweighted · Adam 1e-3 · seed 3"
    pairing = {"loss": "dice", "activation": "softmax", "class_weighting": "none", "optimizer": "adam"}
    assert registry.pairing_label(pairing) == "dice+softmax | none | adam"
    assert registry.pairing_label(pairing | {"learning_rate": 0.003}) == "dice+softmax | none | adam lr 0.003"
    assert registry.pairing_label(pairing | {"learning_rate": math.nan}) == "dice+softmax | none | adam"
    assert registry.pairing_label({"trials": "thread 2 as posted"}) == "thread 2 as posted"
    assert registry.pairing_label(pairing | {"trials": "a"}) == "a: dice+softmax | none | adam"


def test_the_short_label_says_every_option_in_words():
    pairing = {"loss": "categorical_crossentropy", "activation": "softmax", "class_weighting": "median_frequency"}
    assert registry.short_label(pairing | {"optimizer": "adam"}) == "CE · softmax · median-freq · Adam 1e-3"
    assert registry.short_label(pairing | {"optimizer": "sgd_thread2"}).endswith("SGD 1e-4 (thread 2)")
    assert registry.short_label(pairing | {"optimizer": "sgd_seed"}).endswith("SGD 1e-4 (thread 2)")  # the alias
    assert registry.short_label(pairing | {"optimizer": "adam", "learning_rate": 0.003}).endswith("Adam 3e-3")
    assert registry.short_label({"trials": "thread 2 as posted"}) == "thread 2 as posted"
    assert registry.option_word("loss", "my_own_loss") == "my_own_loss"  # an option not in WORDS: its name
    assert registry.option_word("optimizer", "gone", 0.1) == "gone lr 1e-1"  # not in conf/ any more


def test_an_alias_speaks_of_the_option_it_names():
    from lossbench.registry import aliases, canonical

    assert aliases()["sgd_seed"] == "sgd_thread2"
    assert canonical("class of dice+softmax | none | sgd_seed") == "class of dice+softmax | none | sgd_thread2"
    assert canonical("adam vs sgd_seeds") == "adam vs sgd_seeds"  # a whole name only
