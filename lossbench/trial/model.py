"""The network of a trial: a builder that returns logits, plus the activation under test.

``conf/model/<name>.yaml`` names its builder as Hydra does, ``_target_: package.module.function``
with ``_partial_: true``, and its options; instantiated, it gives the builder with every key but
``name`` bound, and the trial calls it with the data's shape:

    builder(input_shape=(H, W, C_in), num_classes=C) -> keras.Model

``C_in`` is the data's channel count (1 for the cardiac data, 3 for RGB).

The model it returns must end in a *linear* ``Conv2D`` / ``Dense`` (no
activation) that gives the logits, ``(None, H, W, C)``; name it ``logits`` if
it is not the last layer. lossbench appends the activation under test
(`lossbench.trial.activations`) and checks the output shape against the data. The
audit scales that layer's weights to give the logits a unit spread, which is
only a rescaling of the logits when the layer is linear in its weights, hence
the check.

Built in: `unet` (thread 2's U-Net, ``model=unet``) and the same net with batch
normalisation after every convolution (``model=unet_bn``, as nnU-Net
normalises). ``model=custom model._target_=my_package.my_module.build`` takes
your own. Keras is imported only to build: `check_unet` runs before TensorFlow loads
(`lossbench.sweep.validate`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from lossbench.errors import UserError

if TYPE_CHECKING:
    import keras

UNET = "lossbench.trial.model.unet"  # the builder of model=unet and model=unet_bn
MAX_DEPTH = 6


def linear_layers() -> tuple:
    """The layer types whose output can be the logits: linear in their weights."""
    import keras

    return (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.Dense)


def check_unet(sides, base, depth, max_depth: int | None = MAX_DEPTH) -> None:
    """`unet`'s options against the image sides (H and W): one-line `UserError` when they cannot build.

    ``max_depth``: the sweep's check refuses deeper nets before anything is stored; a trial given a
    swept depth (``max_depth=None``) is refused only when its images cannot be halved that often.

    >>> check_unet([48, 64], 8, 4)
    >>> check_unet([40], 8, 4)
    Traceback (most recent call last):
    lossbench.errors.UserError: data.image_size=40 is not divisible by 2**model.depth = 16 - use a multiple of 16 or a smaller model.depth
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= (max_depth or depth):
        raise UserError(
            f"model.depth={depth} is out of range - use 1 to {MAX_DEPTH} down-sampling levels (4 is the thread's)"
        )
    if isinstance(base, bool) or not isinstance(base, int) or base < 1:
        raise UserError(f"model.base={base} is out of range - use 1 or more filters (16 is the thread's width)")
    sides = list(sides)
    for side in sides:
        if side % 2**depth:
            raise UserError(
                f"data.image_size={side if len(set(sides)) == 1 else sides} is not divisible by "
                f"2**model.depth = {2**depth} - use a multiple of {2**depth} or a smaller model.depth"
            )


def builder_refusal(spec) -> UserError:
    """The one line that refuses the old ``model.builder=package.module:function`` and names the new key."""
    dotted = str(spec).replace(":", ".")
    return UserError(
        f"model.builder={spec} is no longer read - name the builder as model._target_={dotted} "
        "(conf/model/*.yaml: _target_ with _partial_: true)"
    )


def _double_conv(x, filters: int, name: str, batch_norm: bool):
    import keras

    for i in (1, 2):
        x = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            use_bias=not batch_norm,
            activation=None if batch_norm else "relu",
            name=f"{name}_conv{i}",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{name}_bn{i}")(x)
            x = keras.layers.ReLU(name=f"{name}_relu{i}")(x)
    return x


def unet(input_shape, num_classes: int, base: int = 16, depth: int = 4, batch_norm: bool = False) -> keras.Model:
    """Thread 2's U-Net, mapping (H, W, C_in) images to (H, W, C) logits.

    Four down blocks (two 3x3 ReLU convolutions, 2x2 max-pool), a bottleneck,
    four up blocks (2x2 up-sampling, concatenation with the skip, two 3x3 ReLU
    convolutions) and a 1x1 convolution with no activation named ``logits``.
    Filters are ``base * [1, 2, 4, 8, 16]``: ``base=16`` is the thread's
    network. ``batch_norm`` puts a BatchNormalization between each convolution
    (then without bias) and its ReLU. ``H`` and ``W`` must be divisible by ``2**depth`` (`check_unet`).
    """
    import keras

    base, depth = int(base), int(depth)
    check_unet([int(input_shape[0]), int(input_shape[1])], base, depth, max_depth=None)
    inputs = keras.Input(tuple(input_shape), name="image")
    skips, x = [], inputs
    for level in range(depth):
        x = _double_conv(x, base * 2**level, f"down{level}", batch_norm)
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"down{level}_pool")(x)
    x = _double_conv(x, base * 2**depth, "bottleneck", batch_norm)
    for level in reversed(range(depth)):
        x = keras.layers.UpSampling2D(2, name=f"up{level}_upsample")(x)
        x = keras.layers.Concatenate(name=f"up{level}_concat")([x, skips[level]])
        x = _double_conv(x, base * 2**level, f"up{level}", batch_norm)
    logits = keras.layers.Conv2D(num_classes, 1, padding="same", name="logits")(x)
    return keras.Model(inputs, logits, name=f"unet{'_bn' if batch_norm else ''}_base{base}")


def locate(spec: str):
    """The function ``package.module.function`` names (``model._target_``); a one-line error when it cannot be found."""
    module_name, _, attr = str(spec).rpartition(".")
    if not module_name or not attr:
        raise UserError(f"model._target_={spec!r} is not package.module.function - e.g. model._target_={UNET}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UserError(
            f"model._target_={spec}: cannot import {module_name} ({error}) - "
            "put its folder on PYTHONPATH or fix model._target_"
        ) from None
    if not callable(getattr(module, attr, None)):
        raise UserError(f"model._target_={spec}: {module_name} has no function {attr} - fix model._target_")
    return getattr(module, attr)


def builder(model_cfg):
    """``(target, builder)``: the model config instantiated as a partial, every key but ``name`` bound.

    A config without ``_target_`` builds `unet`; the old ``builder`` key is refused (`builder_refusal`).
    """
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    options = dict(model_cfg) if isinstance(model_cfg, dict) else OmegaConf.to_container(model_cfg, resolve=True)
    if "builder" in options:
        raise builder_refusal(options["builder"])
    options.pop("name", None)
    target = str(options.pop("_target_", None) or UNET)
    locate(target)
    options |= {"_target_": target, "_partial_": True}
    return target, instantiate(options, _convert_="all")


def logits_layer(model: keras.Model):
    """The linear layer whose output is the logits (the one the audit scales)."""
    return model.get_layer(getattr(model, "logits_name", "logits"))


def _find_logits(net: keras.Model, spec: str):
    names = [layer.name for layer in net.layers]
    layer = net.get_layer("logits") if "logits" in names else net.layers[-1]
    activation = getattr(getattr(layer, "activation", None), "__name__", "")
    if not isinstance(layer, linear_layers()) or activation != "linear":
        kind = type(layer).__name__ + (f" with activation {activation}" if activation else "")
        raise UserError(
            f"model._target_={spec}: its logits layer {layer.name!r} is a {kind} - end the model "
            "with a linear Conv2D (activation=None) named 'logits'; lossbench adds the activation "
            "and the audit scales that layer's weights"
        )
    return layer


def input_shape_of(image_size) -> tuple[int, int, int]:
    """(H, W, C_in) from a data shape (H, W, C), a side S (a grey S x S input) or [H, W] (grey).

    >>> input_shape_of(48), input_shape_of([48, 64]), input_shape_of((48, 64, 3))
    ((48, 48, 1), (48, 64, 1), (48, 64, 3))
    """
    if isinstance(image_size, int | float | str):
        return int(image_size), int(image_size), 1
    dims = [int(d) for d in image_size]
    return (dims[0], dims[1], dims[2] if len(dims) > 2 else 1)


def logits_net(model_cfg, shape: tuple, num_classes: int):
    """The builder's network for ``shape`` and its logits layer, checked; one-line `UserError` otherwise."""
    import keras

    spec, build = builder(model_cfg)
    try:
        net = build(input_shape=shape, num_classes=int(num_classes))
    except UserError:
        raise
    except Exception as error:
        first = " ".join(str(error).split())[:200]
        raise UserError(
            f"model._target_={spec} failed: {type(error).__name__}: {first} - fix the builder or its options (model.*)"
        ) from None
    if not isinstance(net, keras.Model):
        raise UserError(f"model._target_={spec} returned a {type(net).__name__}, not a keras.Model - return one")
    layer = _find_logits(net, spec)
    want, got = (None, shape[0], shape[1], int(num_classes)), tuple(layer.output.shape)
    if got != want:
        raise UserError(
            f"model._target_={spec}: its logits have shape {got}, the data needs {want} "
            "(image height, width, data.num_classes) - fix the builder"
        )
    return net, layer


def build_model(model_cfg, image_size, num_classes: int, activation) -> keras.Model:
    """The trial's network: the builder ``model_cfg`` names (`builder`), then ``activation`` on its logits.

    ``image_size`` is the data's (H, W, C_in), or a side / [H, W] for a grey input (`input_shape_of`);
    ``activation`` is an `lossbench.trial.activations.Activation` (or its option name).
    Raises `UserError` (one line) when the builder is missing, fails, or its
    output does not match ``(None, H, W, num_classes)``.
    """
    import keras

    if isinstance(activation, str):
        from lossbench.trial.activations import load

        activation = load(activation)
    net, layer = logits_net(model_cfg, input_shape_of(image_size), num_classes)
    logits, policy = layer.output, keras.mixed_precision.global_policy()
    if policy.compute_dtype != "float32":  # mixed precision: the activation and the loss see float32 logits
        keras.mixed_precision.set_global_policy("float32")
        try:
            logits = keras.layers.Activation("linear", name="logits_float32")(logits)
            output = activation(logits)
        finally:
            keras.mixed_precision.set_global_policy(policy)
    else:
        output = activation(logits)
    model = keras.Model(net.inputs, output, name=f"{net.name}_{activation.name}")
    model.logits_name = layer.name
    return model
