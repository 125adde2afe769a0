"""Sweep files into points, overrides and study names (`lossbench.sweep.space`), checked by hand; no training."""

from __future__ import annotations

import optuna
import pytest
from omegaconf import OmegaConf, open_dict

from lossbench.errors import UserError
from lossbench.sweep import space, work

optuna.logging.set_verbosity(optuna.logging.WARNING)


def write(tmp_path, text: str, name: str = "mine.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def make(**sections):
    """A space as `load_space` returns it (seeds always set)."""
    return OmegaConf.create({"seeds": [0]} | sections)


GRID_AND_TRIALS = make(
    grid={"loss": ["dice", "focal"], "optimizer.learning_rate": [0.001, 0.01]},
    trials=[
        {"name": "a", "overrides": ["activation=sigmoid", "+data.reshape_mismatch=true"]},
        {"name": "b"},
    ],
    seeds=[0, 5],
)


# --- load_space ----------------------------------------------------------------------------------


def test_load_space_reads_a_file_and_defaults_the_seeds(tmp_path):
    sp = space.load_space(write(tmp_path, "grid:\n  loss: [dice, focal]\n"))
    assert OmegaConf.to_container(sp) == {"grid": {"loss": ["dice", "focal"]}, "seeds": [0]}


def test_load_space_seeds_argument_replaces_the_files_seeds(tmp_path):
    path = write(tmp_path, "grid:\n  loss: [dice]\nseeds: [0, 1, 2]\n")
    assert list(space.load_space(path).seeds) == [0, 1, 2]
    assert list(space.load_space(path, seeds=[7, 8]).seeds) == [7, 8]
    assert list(space.load_space(path, seeds=(4,)).seeds) == [4]


def test_load_space_reads_a_named_sweep_from_sweeps():
    sp = space.load_space("cmr")
    assert list(sp.grid) == ["loss", "activation", "class_weighting", "optimizer"]
    assert list(sp.seeds) == [0, 1, 2]


def test_load_space_unknown_key_is_a_one_line_error_naming_it(tmp_path):
    path = write(tmp_path, "grid:\n  loss: [dice]\nseed: [1]\n")  # `seed`, not `seeds`
    with pytest.raises(UserError) as err:
        space.load_space(path)
    message = str(err.value)
    assert "\n" not in message
    assert "unknown key 'seed'" in message and "use grid, trials, sample or seeds" in message
    assert message.startswith(path)


def test_load_space_missing_file_lists_the_known_sweeps(tmp_path):
    with pytest.raises(UserError) as err:
        space.load_space("no_such_sweep")
    message = str(err.value)
    known = sorted(p.stem for p in space.SWEEPS_DIR.glob("*.yaml"))
    assert {"cmr", "thread1", "thread2"} <= set(known)
    assert "\n" not in message
    assert "no sweep file" in message and "no_such_sweep.yaml" in message
    assert message.endswith("set sweep.space to one of: " + ", ".join(known))
    with pytest.raises(UserError, match="no sweep file"):
        space.load_space(str(tmp_path / "absent.yaml"))


def test_load_space_without_a_name_says_how_to_give_one():
    for empty in ("", None):
        with pytest.raises(UserError, match=r"no search space: add \+experiment=cmr"):
            space.load_space(empty)


# --- points, param_keys, only_params ---------------------------------------------------------------


def test_points_are_trials_x_grid_x_seeds_in_order():
    pts = space.points(GRID_AND_TRIALS)
    assert len(pts) == 2 * 4 * 2  # trials x (2 x 2 grid) x seeds
    assert pts[:3] == [
        {"loss": "dice", "optimizer.learning_rate": 0.001, "trials": "a", "seed": 0},
        {"loss": "dice", "optimizer.learning_rate": 0.001, "trials": "a", "seed": 5},
        {"loss": "dice", "optimizer.learning_rate": 0.01, "trials": "a", "seed": 0},
    ]
    assert pts[-1] == {"loss": "focal", "optimizer.learning_rate": 0.01, "trials": "b", "seed": 5}
    assert len({tuple(sorted(p.items())) for p in pts}) == 16  # no point twice


def test_points_of_a_grid_only_or_seeds_only_space():
    assert space.points(make(grid={"loss": ["dice", "focal", "tversky"]}, seeds=[1, 2])) == [
        {"loss": loss, "seed": seed} for loss in ("dice", "focal", "tversky") for seed in (1, 2)
    ]
    assert space.points(make(seeds=[3, 4])) == [{"seed": 3}, {"seed": 4}]
    assert space.points(make(grid={"loss": []})) == []


def test_points_of_a_real_sweep_file():
    assert len(space.points(space.load_space("cmr"))) == 5 * 2 * 2 * 2 * 3
    thread1 = space.load_space("thread1")
    assert len(space.points(thread1)) == 24 * 3
    assert len(space.points(space.load_space("thread1", seeds=[0]))) == 24


def test_param_keys_and_only_params():
    assert space.param_keys(GRID_AND_TRIALS) == {"loss", "optimizer.learning_rate", "trials", "seed"}
    sampled = make(sample={"optimizer.learning_rate": {"low": 1e-4, "high": 1e-2}, "loss": ["dice"]})
    assert space.param_keys(sampled) == {"optimizer.learning_rate", "loss", "seed"}  # no `trials`
    point = {"trials": "a", "loss": "dice", "activation": "sigmoid", "seed": 1, "optimizer.learning_rate": 0.01}
    assert space.only_params(point, GRID_AND_TRIALS) == {
        "trials": "a",
        "loss": "dice",
        "seed": 1,
        "optimizer.learning_rate": 0.01,
    }
    assert space.only_params(point, make(trials=[{"name": "a"}])) == {"trials": "a", "seed": 1}


# --- overrides -----------------------------------------------------------------------------------


def test_overrides_of_grid_values_trials_and_the_seed():
    params = {"loss": "dice", "optimizer.learning_rate": 0.001, "trials": "a", "seed": 3}
    assert space.overrides(params, GRID_AND_TRIALS) == [
        "loss=dice",
        "optimizer.learning_rate=0.001",
        "activation=sigmoid",
        "+data.reshape_mismatch=true",
        "trainer.seed=3",
    ]
    # a trial without overrides adds none
    assert space.overrides({"trials": "b", "seed": 0}, GRID_AND_TRIALS) == ["trainer.seed=0"]


def test_overrides_of_a_thread1_point_compose_to_its_config(compose_cfg):
    sp = space.load_space("thread1")
    ov = space.overrides({"trials": "bce+softmax_untagged@3e-3", "seed": 4}, sp)
    assert ov == [
        "loss=binary_crossentropy",
        "activation=softmax_untagged",
        "optimizer.learning_rate=3.0e-3",
        "trainer.seed=4",
    ]
    cfg = compose_cfg(["+experiment=thread1", *ov])
    assert (cfg.loss.name, cfg.activation.name, cfg.trainer.seed) == ("binary_crossentropy", "softmax_untagged", 4)
    assert cfg.optimizer.learning_rate == pytest.approx(3e-3)


# --- aliases -------------------------------------------------------------------------------------


def test_aliases_parse_stands_for_of_the_weighting_sweep():
    found = space.aliases(space.load_space("weighting"))
    ce = [
        ("sparse_categorical_crossentropy", "softmax"),
        ("categorical_crossentropy", "sigmoid"),
        ("sparse_categorical_crossentropy", "sigmoid"),
    ]
    assert found["categorical_ce|none|adam"] == ce
    assert found["categorical_ce|median_frequency|adam"] == ce  # the YAML anchor
    assert found["binary_ce|none|adam"] == [("binary_crossentropy", "softmax")]
    assert found["dice_ce+softmax|none|adam"] == []
    assert len(found) == 6
    assert space.aliases(make(grid={"loss": ["dice"]})) == {}


@pytest.mark.parametrize("entry", ["dice", "dice+", "+softmax"])
def test_aliases_malformed_entry_is_a_one_line_error(tmp_path, entry):
    path = write(
        tmp_path, f"trials:\n  - name: t1\n    overrides: [loss=dice]\n    stands_for: [dice+softmax, '{entry}']\n"
    )
    with pytest.raises(UserError) as err:
        space.aliases(space.load_space(path))
    message = str(err.value)
    assert message == f"trial t1: stands_for entry {entry!r} is not loss+activation - fix the sweep file"


# --- point_key -----------------------------------------------------------------------------------


def test_point_key_is_stable_under_key_order_and_leaves_out_keys_not_asked_for():
    a = {"loss": "dice", "seed": 1, "trials": "x", "optimizer.learning_rate": 0.003}
    b = {"optimizer.learning_rate": 0.05, "trials": "x", "seed": 1, "loss": "dice"}
    on = {"loss", "seed", "trials"}
    assert space.point_key(a, on) == space.point_key(b, on) == '{"loss": "dice", "seed": 1, "trials": "x"}'
    assert space.point_key(a) != space.point_key(b)  # every key by default: floats count
    assert space.keys_of([a, {"extra": 1}]) == set(a) | {"extra"} and space.keys_of([]) is None
    assert space.point_key(a) != space.point_key(a | {"seed": 2})
    assert space.point_key(a) != space.point_key(a | {"loss": "focal"})
    assert space.point_key({"batch_norm": True}) == '{"batch_norm": true}'  # a bool is not a float


def test_point_keys_tell_every_point_of_a_sweep_apart():
    sp = space.load_space("thread1")
    pts = space.points(sp)
    assert len({space.point_key(p) for p in pts}) == len(pts)


def test_point_keys_tell_apart_grid_points_that_differ_in_a_float():
    sp = make(grid={"optimizer.learning_rate": [1e-3, 1e-2]})
    study = optuna.create_study()
    assert work.sync_queue(study, space.points(sp)) == 2
    assert work.sync_queue(study, space.points(sp)) == 0


def test_a_trial_with_a_sampled_value_covers_its_grid_point():
    study = optuna.create_study()
    work.sync_queue(study, [{"loss": "dice", "seed": 0}])
    trial = work.take_waiting(study)
    trial.suggest_categorical("loss", ["dice"])
    trial.suggest_int("seed", 0, 1)
    trial.suggest_float("optimizer.learning_rate", 1e-4, 1e-2, log=True)  # sampled: not part of the point
    study.tell(trial, 0.5)
    assert work.sync_queue(study, [{"loss": "dice", "seed": 0}]) == 0


# --- suggest -------------------------------------------------------------------------------------


def test_suggest_returns_the_enqueued_point_of_a_grid_and_trials_space():
    study = optuna.create_study()
    point = {"loss": "focal", "optimizer.learning_rate": 0.01, "trials": "b", "seed": 123456}
    study.enqueue_trial(point)
    trial = study.ask()
    assert space.suggest(trial, GRID_AND_TRIALS) == point
    dist = trial.distributions
    assert dist["seed"] == optuna.distributions.IntDistribution(0, space.MAX_SEED)  # adaptive seeds fit
    assert dist["trials"] == optuna.distributions.CategoricalDistribution(["a", "b"])
    assert dist["loss"] == optuna.distributions.CategoricalDistribution(["dice", "focal"])


def test_suggest_samples_a_pure_sample_space_within_its_bounds_and_seed_list():
    sp = make(
        sample={"optimizer.learning_rate": {"low": 1e-4, "high": 1e-2, "log": True}, "loss": ["dice", "tversky"]},
        seeds=[3, 4],
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial({"optimizer.learning_rate": 0.005, "loss": "tversky", "seed": 4})
    first = study.ask()
    assert space.suggest(first, sp) == {"optimizer.learning_rate": 0.005, "loss": "tversky", "seed": 4}
    assert first.distributions["optimizer.learning_rate"] == optuna.distributions.FloatDistribution(
        1e-4, 1e-2, log=True
    )
    seeds = []
    for _ in range(10):
        trial = study.ask()
        drawn = space.suggest(trial, sp)
        assert set(drawn) == {"optimizer.learning_rate", "loss", "seed"}
        assert 1e-4 <= drawn["optimizer.learning_rate"] <= 1e-2 and drawn["loss"] in ("dice", "tversky")
        assert "seed" not in trial.distributions and trial.user_attrs["seed"] == drawn["seed"]  # not a parameter
        seeds.append(drawn["seed"])
    assert seeds == [4, 3] * 5  # the seed list in turn, by trial number (1, 2, ...)


def test_an_enqueued_seed_is_a_user_attribute_not_a_parameter():
    study = optuna.create_study()
    work.sync_queue(study, [{"loss": "dice", "seed": 7}])
    trial = work.take_waiting(study)
    assert space.suggest(trial, make(grid={"loss": ["dice"]})) == {"loss": "dice", "seed": 7}
    study.tell(trial, 0.5)
    (done,) = study.get_trials()
    assert done.params == {"loss": "dice"} and done.user_attrs["seed"] == 7
    assert work.params(done) == {"loss": "dice", "seed": 7}


# --- config_hash ---------------------------------------------------------------------------------


@pytest.fixture
def cmr_hash(compose_cfg):
    sp = space.load_space("cmr")
    return lambda *overrides: space.config_hash(compose_cfg(["+experiment=cmr", *overrides]), sp)


def test_config_hash_is_short_hex_and_stable(cmr_hash):
    h = cmr_hash()
    assert len(h) == 8 and int(h, 16) >= 0
    assert cmr_hash() == h


@pytest.mark.parametrize(
    "override",
    [
        "trainer.seed=9",
        "trainer.threads=2",
        "sweep.n_workers=4",
        "sweep.max_seeds=12",
        "paths.results=/tmp/elsewhere",
        "tracking.plots=false",
        "loss=dice",  # swept groups of sweeps/cmr.yaml
        "activation=sigmoid",
        "optimizer=sgd",
        "optimizer.learning_rate=0.01",
    ],
)
def test_config_hash_ignores_what_does_not_name_a_study(cmr_hash, override):
    assert cmr_hash(override) == cmr_hash()


@pytest.mark.parametrize(
    "override", ["trainer.epochs=9", "data.image_size=32", "trainer.batch_size=8", "model.batch_norm=true"]
)
def test_config_hash_changes_with_what_is_not_swept(cmr_hash, override):
    assert cmr_hash(override) != cmr_hash()


def with_model(cfg, **keys):
    """``cfg`` with its model's builder (``builder``, or Hydra's ``_target_``/``_partial_``) replaced by ``keys``."""
    cfg = cfg.copy()
    with open_dict(cfg):
        for key in ("builder", "_target_", "_partial_"):
            cfg.model.pop(key, None)
        cfg.model.update(keys)
    return cfg


def test_config_hash_leaves_out_settings_added_later_at_their_old_value(compose_cfg):
    sp = space.load_space("cmr")
    cfg = with_model(compose_cfg(["+experiment=cmr", "model.batch_norm=false"]), builder="lossbench.trial.model:unet")
    now = space.config_hash(cfg, sp)
    old = with_model(cfg)
    with open_dict(old):  # a config from before the two settings existed
        del old.model["batch_norm"]
    assert space.config_hash(old, sp) == now
    assert ("model", "batch_norm", False) in space.SINCE_ADDED
    assert space.config_hash(with_model(cfg, builder="examples.my_models:tiny"), sp) != now


@pytest.mark.parametrize("builder", ["lossbench.trial.model:unet", "examples.my_models:tiny"])
def test_config_hash_names_a_hydra_target_model_as_its_builder(compose_cfg, builder):
    """``_target_: a.b.c`` with ``_partial_: true`` is the model ``builder: a.b:c`` was: the same study."""
    sp = space.load_space("cmr")
    cfg = compose_cfg(["+experiment=cmr"])
    module, _, function = builder.partition(":")
    as_target = with_model(cfg, _target_=f"{module}.{function}", _partial_=True)
    assert space.config_hash(as_target, sp) == space.config_hash(with_model(cfg, builder=builder), sp)
    assert space.config_hash(with_model(cfg, _target_=f"{module}.other", _partial_=True), sp) != space.config_hash(
        as_target, sp
    )


def test_config_hash_drops_what_the_trials_override(compose_cfg):
    sp = space.load_space("thread1")
    base = space.config_hash(compose_cfg(["+experiment=thread1"]), sp)
    # thread1's trials set loss, activation and optimizer.learning_rate: their base values do not name the study
    assert space.config_hash(compose_cfg(["+experiment=thread1", "optimizer.learning_rate=0.01"]), sp) == base
    assert space.config_hash(compose_cfg(["+experiment=thread1", "loss=dice"]), sp) == base
    # but the optimizer itself is not swept there
    assert space.config_hash(compose_cfg(["+experiment=thread1", "optimizer=sgd"]), sp) != base
    # without the space's trials, the learning rate names the study
    seeds_only = make(seeds=[0, 1, 2])
    assert space.config_hash(
        compose_cfg(["+experiment=thread1", "optimizer.learning_rate=0.01"]), seeds_only
    ) != space.config_hash(compose_cfg(["+experiment=thread1"]), seeds_only)
