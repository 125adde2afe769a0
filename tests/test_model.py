"""The model group: thread 2's U-Net, its batch-norm variant and a user's own builder, with one-line errors."""

import keras
import numpy as np
import pytest

from lossbench.errors import UserError
from lossbench.trial.audit import audit_pairing
from lossbench.trial.losses import CategoricalCrossentropy
from lossbench.trial.model import build_model, builder, check_unet, logits_layer, unet


def test_unet_gives_logits_from_a_linear_layer_named_logits():
    net = unet((32, 32, 1), 4, base=2)
    assert net.output_shape == (None, 32, 32, 4)
    assert net.layers[-1].name == "logits" and net.layers[-1].activation.__name__ == "linear"


def test_unet_bn_normalises_every_convolution():
    plain, normed = unet((32, 32, 1), 4, base=2), unet((32, 32, 1), 4, base=2, batch_norm=True)
    convs = [layer for layer in plain.layers if isinstance(layer, keras.layers.Conv2D)]
    norms = [layer for layer in normed.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == len(convs) - 1  # all 3x3 convolutions; not the 1x1 logits
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in plain.layers)


@pytest.mark.parametrize("size", [40, 24])
def test_image_size_must_divide_by_two_to_the_depth(size):
    with pytest.raises(UserError, match=rf"data.image_size={size} is not divisible by 2\*\*model.depth = 16"):
        unet((size, size, 1), 4, base=2, depth=4)


def test_a_custom_builder_gets_the_activation_appended():
    model = build_model({"_target_": "builders.tiny", "width": 3}, 16, 4, "softmax")
    assert model.output_shape == (None, 16, 16, 4)
    assert model.layers[-1].name == "softmax" and logits_layer(model).name == "logits"
    out = np.asarray(model.predict(np.zeros((1, 16, 16, 1), np.float32), verbose=0))
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-5)


def test_a_last_linear_layer_not_named_logits_is_the_logits_layer():
    model = build_model({"_target_": "builders.unnamed_last"}, 8, 4, "sigmoid")
    assert logits_layer(model).name == "head"


def test_a_builder_that_ends_in_its_own_softmax_is_read_at_its_logits_layer():
    model = build_model({"_target_": "builders.softmax_after_logits"}, 8, 4, "linear")
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 1)).astype(np.float32)
    raw = keras.Model(model.input, logits_layer(model).output)
    np.testing.assert_array_equal(model.predict(x, verbose=0), raw.predict(x, verbose=0))


def test_the_audit_scales_a_custom_logits_layer():
    keras.utils.set_random_seed(0)
    loss = CategoricalCrossentropy()
    model = build_model({"_target_": "builders.unnamed_last"}, 8, 4, "softmax")
    model.compile(loss=loss)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[np.random.default_rng(1).integers(0, 4, (2, 8, 8))]
    assert audit_pairing(model, loss, x, y).tag == "nominal"  # CE on a Keras softmax: nominal either way


@pytest.mark.parametrize(
    ("builder", "message"),
    [
        (
            "builders.relu_last",
            "its logits layer 'head' is a Conv2D with activation relu - end the model with a linear Conv2D",
        ),
        ("builders.wrong_classes", r"its logits have shape \(None, 8, 8, 5\), the data needs \(None, 8, 8, 4\)"),
        ("builders.downsampled", r"its logits have shape \(None, 4, 4, 4\), the data needs \(None, 8, 8, 4\)"),
        ("builders.raises", "failed: RuntimeError: the encoder needs 3 channels - fix the builder or its options"),
        ("builders.not_a_model", "returned a list, not a keras.Model"),
        ("builders.NOT_CALLABLE", "builders has no function NOT_CALLABLE - fix model._target_"),
        ("builders.missing", "builders has no function missing"),
        ("no_such_package.models.build", "cannot import no_such_package.models .* put its folder on PYTHONPATH"),
        ("just_a_name", "is not package.module.function"),
    ],
)
def test_a_bad_builder_is_one_line(builder, message):
    with pytest.raises(UserError, match=message) as error:
        build_model({"_target_": builder}, 8, 4, "softmax")
    assert "\n" not in str(error.value)


def test_a_model_without_target_is_the_unet_with_an_activation():
    model = build_model({"base": 2}, 32, 4, "sigmoid")
    assert model.layers[-1].name == "sigmoid" and model.output_shape == (None, 32, 32, 4)


def test_the_model_group_instantiates_a_partial_builder(compose_cfg):
    for option, batch_norm in (("unet", False), ("unet_bn", True)):
        target, build = builder(compose_cfg([f"model={option}"]).model)
        assert target == "lossbench.trial.model.unet" and build.func is unet
        assert build.keywords == {"base": 8, "depth": 4, "batch_norm": batch_norm}  # name is not passed


def test_a_custom_target_is_called_with_the_shape_and_its_options(compose_cfg):
    cfg = compose_cfg(["model=custom", "model._target_=builders.tiny", "+model.width=3"])
    model = build_model(cfg.model, (16, 16, 1), 4, "softmax")
    assert model.get_layer(index=1).filters == 3 and model.output_shape == (None, 16, 16, 4)


@pytest.mark.parametrize("spec", ["examples.my_models:residual_unet", "lossbench.trial.model:unet"])
def test_the_old_builder_key_is_refused_naming_the_new_one(spec):
    with pytest.raises(UserError) as error:
        build_model({"builder": spec}, 32, 4, "softmax")
    dotted = spec.replace(":", ".")
    assert str(error.value).startswith(
        f"model.builder={spec} is no longer read - name the builder as model._target_={dotted}"
    )
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("sides", "base", "depth", "says"),
    [
        ([48, 40], 8, 4, "data.image_size=[48, 40] is not divisible by 2**model.depth = 16"),
        ([40], 8, 4, "data.image_size=40 is not divisible by 2**model.depth = 16"),
        ([64], 8, 7, "model.depth=7 is out of range - use 1 to 6"),
        ([64], 0, 4, "model.base=0 is out of range"),
        ([64], 8, "4", "model.depth=4 is out of range"),  # not an integer
    ],
)
def test_the_unet_size_check_is_one_line(sides, base, depth, says):
    with pytest.raises(UserError) as error:
        check_unet(sides, base, depth)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_the_unet_size_check_passes_what_builds():
    check_unet([48, 64], 8, 4)
    check_unet([64], 1, 6)


def test_the_model_module_loads_without_keras():
    """`lossbench.sweep.validate` calls `check_unet` before TensorFlow loads."""
    import subprocess
    import sys

    code = "import sys, lossbench.trial.model; print('keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_a_trial_given_a_swept_depth_is_refused_only_when_its_images_cannot_be_halved_so_often():
    """The sweep's check caps the depth at 6; a trial (`unet`) refuses a too-deep net as not divisible."""
    check_unet([1024], 8, 7, max_depth=None)
    with pytest.raises(UserError, match="data.image_size=48 is not divisible by 2\\*\\*model.depth = 512"):
        check_unet([48], 8, 9, max_depth=None)
