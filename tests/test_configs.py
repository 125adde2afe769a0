"""Every YAML of every config group composes and instantiates (the config groups are the registry)."""

from pathlib import Path

import hydra.utils
import keras
import numpy as np
import pytest
from conftest import ACDC_SAMPLE, CAMVID, CONF
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf

from lossbench.data import VOID, SegmentationData
from lossbench.errors import InvalidPairing
from lossbench.trial.activations import Activation
from lossbench.trial.model import build_model, logits_layer
from lossbench.trial.stages import build_optimizer
from lossbench.trial.weighting import Weighting

CONF_DIR = Path(CONF)


def options(group):
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def make_folders(root: Path) -> Path:
    """Six 16x16 .npy image/mask pairs with labels 0, 1, 2."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        np.save(root / "images" / f"case{i}.npy", rng.random((16, 16)).astype(np.float32))
        mask = np.zeros((16, 16), np.int64)
        mask[2:6, 2:6], mask[9:14, 8:12] = 1, 2
        np.save(root / "masks" / f"case{i}.npy", mask)
    return root


def data_overrides(name: str, tmp_path: Path) -> list[str]:
    """The overrides that make ``data=name`` load in a second (a new data config needs an entry here)."""
    common = [f"data={name}", "data.image_size=32", f"paths.results={tmp_path / 'results'}"]
    if name in ("cmr_synthetic", "cmr_realistic"):
        return common + [
            "data.loader.n_subjects.train=3",
            "data.loader.n_subjects.val=1",
            "data.loader.n_subjects.test=1",
            "data.loader.slices_per_subject=2",
        ]
    if name == "shapes":
        return common + ["data.loader.n_images.train=3", "data.loader.n_images.val=1", "data.loader.n_images.test=1"]
    if name == "acdc":
        if not (ACDC_SAMPLE / "h5").is_dir():
            pytest.skip(f"ACDC sample not found at {ACDC_SAMPLE}")
        return common + [f"data.root={ACDC_SAMPLE / 'h5'}"]
    if name == "acdc_packed":
        if not (ACDC_SAMPLE / "h5").is_dir():
            pytest.skip(f"ACDC sample not found at {ACDC_SAMPLE}")
        from tools import pack_acdc

        packed = tmp_path / "acdc-32.npz"
        assert pack_acdc.main(["--root", str(ACDC_SAMPLE / "h5"), "--size", "32", "--out", str(packed)]) == 0
        return common + [f"data.file={packed}"]
    if name == "folders":
        return common + [f"data.root={make_folders(tmp_path / 'folders')}", "data.num_classes=3"]
    if name == "camvid":
        if not (CAMVID / "train.txt").is_file():
            pytest.skip(f"CamVid not found at {CAMVID}")
        return common + [f"data.root={CAMVID}"]
    raise AssertionError(f"no tiny overrides for conf/data/{name}.yaml - add them to data_overrides")


def test_every_group_has_options():
    groups = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir())
    assert groups == [
        "activation",
        "class_weighting",
        "data",
        "experiment",
        "loss",
        "model",
        "optimizer",
        "paths",
        "sweep",
        "tracking",
        "trainer",
    ]
    assert all(options(group) for group in groups)


def test_default_config_resolves_completely(compose_cfg):
    cfg = compose_cfg()
    resolved = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    assert resolved["name"] == "trial"
    assert resolved["loss"]["name"] == "categorical_crossentropy" and resolved["activation"]["name"] == "softmax"
    assert resolved["tracking"]["uri"] == "sqlite:///results/mlflow.db"
    assert "experiment" not in resolved


@pytest.mark.parametrize("name", options("loss"))
def test_loss_instantiates_to_a_keras_loss(compose_cfg, name):
    cfg = compose_cfg([f"loss={name}"])
    assert cfg.loss.name == name
    loss = hydra.utils.instantiate(cfg.loss, class_weights=None)
    assert isinstance(loss, keras.losses.Loss)
    assert loss.from_logits is False  # follows activation=softmax: probabilities
    labels = np.array([[[0, 1], [2, 3]]])
    y = labels if loss.sparse_labels else np.eye(4, dtype=np.float32)[labels]
    p = np.full((1, 2, 2, 4), 0.25, np.float32)
    assert np.isfinite(float(loss(y, p)))


@pytest.mark.parametrize("name", options("loss"))
def test_loss_takes_class_weights_and_follows_logits_out(compose_cfg, name):
    cfg = compose_cfg([f"loss={name}", "activation=linear"])
    if not hydra.utils.get_class(cfg.loss._target_).supports_class_weights:
        with pytest.raises(hydra.errors.InstantiationException) as refused:
            hydra.utils.instantiate(cfg.loss, class_weights=[0.5, 1.0, 2.0, 4.0])
        assert isinstance(refused.value.__cause__, InvalidPairing)
        assert "class_weighting=none" in str(refused.value.__cause__)
        loss = hydra.utils.instantiate(cfg.loss, class_weights=None)
    else:
        loss = hydra.utils.instantiate(cfg.loss, class_weights=[0.5, 1.0, 2.0, 4.0])
        assert list(loss.class_weights) == [0.5, 1.0, 2.0, 4.0]
    assert loss.from_logits is True
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()


@pytest.mark.parametrize("name", options("activation"))
def test_activation_config_names_a_known_activation(compose_cfg, name):
    cfg = compose_cfg([f"activation={name}"])
    assert cfg.activation.name == name
    assert isinstance(cfg.activation.logits_out, bool)
    assert cfg.activation.logits_out == (name == "linear")
    activation = hydra.utils.instantiate(cfg.activation)
    assert isinstance(activation, Activation)
    assert (activation.name, activation.logits_out) == (name, cfg.activation.logits_out)
    outputs = activation(keras.Input((4, 4, 3)))
    assert tuple(outputs.shape) == (None, 4, 4, 3)


@pytest.mark.parametrize("name", options("class_weighting"))
def test_class_weighting_config_computes_weights(compose_cfg, name):
    cfg = compose_cfg([f"class_weighting={name}"])
    assert cfg.class_weighting.name == name
    labels = np.array([[[0, 0, 0, 1], [0, 0, 2, 3]]])
    scheme = hydra.utils.instantiate(cfg.class_weighting)
    assert isinstance(scheme, Weighting) and scheme.name == name
    weights = scheme(labels, 4)
    if name == "none":
        assert weights is None
    else:
        assert weights.shape == (4,) and weights[0] < weights[1]
        assert float(np.sum(np.bincount(labels.ravel()) / labels.size * weights)) == pytest.approx(1.0)


@pytest.mark.parametrize("name", options("optimizer"))
def test_optimizer_instantiates_to_a_keras_optimizer(compose_cfg, name):
    cfg = compose_cfg([f"optimizer={name}"])
    assert cfg.optimizer.name == name
    optimizer = build_optimizer(cfg.optimizer)
    assert isinstance(optimizer, keras.optimizers.Optimizer)
    assert cfg.optimizer.label and cfg.optimizer.label != name  # reports name it in words
    assert float(optimizer.learning_rate) == pytest.approx(cfg.optimizer.learning_rate)


def test_thread2_optimizer_is_sgd_1e4_momentum_09(compose_cfg):
    optimizer = build_optimizer(compose_cfg(["optimizer=sgd_seed"]).optimizer)
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.learning_rate) == pytest.approx(1e-4) and optimizer.momentum == pytest.approx(0.9)


@pytest.mark.parametrize("name", options("data"))
def test_data_loader_instantiates(compose_cfg, tmp_path, name):
    cfg = compose_cfg(data_overrides(name, tmp_path))
    assert cfg.data.name == name
    data = hydra.utils.instantiate(cfg.data.loader)
    assert isinstance(data, SegmentationData)
    assert data.num_classes == cfg.data.num_classes
    if cfg.data.class_names is not None:
        assert list(data.class_names) == list(cfg.data.class_names)
    for split in (data.train, data.val, data.test):
        assert len(split) > 0
        assert split.images.shape[1:] == (32, 32, data.channels) and split.images.dtype == np.float32
        assert split.labels.shape == split.images.shape[:3]
        labelled = split.labels[split.labels != VOID] if data.ignore_index is not None else split.labels
        assert int(labelled.max()) < data.num_classes
    if not (data.info.get("dataset") == "folders" and cfg.data.loader.get("split")):  # a given split may share
        assert not set(data.train.subjects) & set(data.test.subjects)  # a subject (CamVid's sequence 0016E5)


@pytest.mark.parametrize("name", ["acdc", "folders"])
def test_data_root_is_required(compose_cfg, name):
    cfg = compose_cfg([f"data={name}"])
    assert OmegaConf.is_missing(cfg.data, "root")


@pytest.mark.parametrize("name", options("model"))
def test_model_config_builds(compose_cfg, name):
    extra = ["model._target_=lossbench.trial.model.unet", "+model.base=2"] if name == "custom" else []
    cfg = compose_cfg([f"model={name}", "data.image_size=32", *extra])
    model = build_model(cfg.model, cfg.data.image_size, cfg.data.num_classes, hydra.utils.instantiate(cfg.activation))
    assert model.output_shape == (None, 32, 32, 4)
    assert logits_layer(model).name == "logits"
    assert any("_bn" in layer.name for layer in model.layers) == (name == "unet_bn")


@pytest.mark.parametrize("group", ["paths", "sweep", "tracking", "trainer"])
def test_other_groups_compose(compose_cfg, group):
    for name in options(group):
        cfg = compose_cfg([f"{group}={name}"])
        assert OmegaConf.to_container(cfg[group], resolve=True)


def test_trainer_and_tracking_values(compose_cfg, tmp_path):
    cfg = compose_cfg([f"paths.results={tmp_path}"])
    assert cfg.trainer.epochs >= 1 and cfg.trainer.batch_size >= 1
    assert cfg.tracking.uri == f"sqlite:///{tmp_path}/mlflow.db"
    assert cfg.tracking.artifacts == f"{tmp_path}/mlartifacts"
    assert cfg.data.loader.image_size == cfg.data.image_size  # interpolated, not copied


@pytest.mark.parametrize("name", options("experiment"))
def test_experiment_header_is_on_line_1(name):
    lines = (CONF_DIR / "experiment" / f"{name}.yaml").read_text().splitlines()
    assert lines[0] == "# @package _global_"
    assert lines[1].startswith("# python -m lossbench.")


@pytest.mark.parametrize("name", options("experiment"))
def test_experiment_composes_at_top_level(compose_cfg, name):
    cfg = compose_cfg([f"+experiment={name}"])
    assert "experiment" not in cfg  # a broken header would nest everything under experiment.
    assert cfg.name == name
    assert (CONF_DIR.parent / "sweeps" / f"{cfg.sweep.space}.yaml").is_file()


def test_cmr_experiment_values(compose_cfg):
    cfg = compose_cfg(["+experiment=cmr"])
    assert cfg.name == "cmr" and cfg.sweep.space == "cmr"
    assert cfg.loss.name == "categorical_crossentropy"  # groups it does not touch keep their defaults


@pytest.mark.parametrize("name", options("experiment"))
def test_experiment_values_land_where_the_file_says(compose_cfg, name):
    delta = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "experiment" / f"{name}.yaml"))
    cfg = OmegaConf.to_container(compose_cfg([f"+experiment={name}"]))

    def check(node, composed, path):
        for key, value in node.items():
            if key == "defaults":
                continue
            assert key in composed, f"{path}{key}"
            if isinstance(value, dict):
                check(value, composed[key], f"{path}{key}.")
            else:
                assert composed[key] == value, f"{path}{key}"

    check(delta, cfg, "")


def test_experiment_needs_the_plus(compose_cfg):
    with pytest.raises(ConfigCompositionException):
        compose_cfg(["experiment=cmr"])


def test_unknown_option_is_rejected_by_hydra(compose_cfg):
    with pytest.raises(MissingConfigException) as caught:
        compose_cfg(["loss=no_such"])
    message = str(caught.value)
    assert "Could not find 'loss/no_such'" in message
    for name in options("loss"):
        assert name in message
