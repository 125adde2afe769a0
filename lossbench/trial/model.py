"""The network of a trial: a builder that returns logits, plus the activation under test.

``conf/model/<name>.yaml`` names a ``builder`` (``package.module:function``)
and its options; every key but ``name`` and ``builder`` is passed to it:

    builder(input_shape=(H, W, C_in), num_classes=C, **options) -> keras.Model

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
normalises). ``model=custom model.builder=my_package.my_module:build`` takes
your own.
"""

from __future__ import annotations

import importlib

import keras

from lossbench.errors import UserError

LINEAR_LAYERS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, keras.layers.Dense)


def _double_conv(x, filters: int, name: str, batch_norm: bool):
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
    (then without bias) and its ReLU. ``H`` and ``W`` must be divisible by ``2**depth``.
    """
    if int(base) < 1 or int(depth) < 1:
        raise UserError(f"model.base={base}, model.depth={depth}: both must be at least 1")
    for size in {int(input_shape[0]), int(input_shape[1])}:
        if size % (2**depth):
            raise UserError(
                f"data.image_size={size} is not divisible by 2**model.depth = {2**depth} - "
                f"use a multiple of {2**depth} or a smaller model.depth"
            )
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


def load_builder(spec: str):
    """The function ``package.module:function`` names; a one-line error when it cannot be found."""
    module_name, _, attr = str(spec).partition(":")
    if not module_name or not attr:
        raise UserError(
            f"model.builder={spec!r} is not package.module:function - e.g. model.builder=lossbench.trial.model:unet"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UserError(
            f"model.builder={spec}: cannot import {module_name} ({error}) - "
            "put its folder on PYTHONPATH or fix model.builder"
        ) from None
    if not callable(getattr(module, attr, None)):
        raise UserError(f"model.builder={spec}: {module_name} has no function {attr} - fix model.builder")
    return getattr(module, attr)


def logits_layer(model: keras.Model):
    """The linear layer whose output is the logits (the one the audit scales)."""
    return model.get_layer(getattr(model, "logits_name", "logits"))


def _find_logits(net: keras.Model, spec: str):
    names = [layer.name for layer in net.layers]
    layer = net.get_layer("logits") if "logits" in names else net.layers[-1]
    activation = getattr(getattr(layer, "activation", None), "__name__", "")
    if not isinstance(layer, LINEAR_LAYERS) or activation != "linear":
        kind = type(layer).__name__ + (f" with activation {activation}" if activation else "")
        raise UserError(
            f"model.builder={spec}: its logits layer {layer.name!r} is a {kind} - end the model "
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


def build_model(model_cfg, image_size, num_classes: int, activation) -> keras.Model:
    """The trial's network: ``model_cfg.builder`` with its options, then ``activation`` on its logits.

    ``image_size`` is the data's (H, W, C_in), or a side / [H, W] for a grey input (`input_shape_of`);
    ``activation`` is an `lossbench.trial.activations.Activation` (or its option name).
    Raises `UserError` (one line) when the builder is missing, fails, or its
    output does not match ``(None, H, W, num_classes)``.
    """
    from omegaconf import OmegaConf

    if isinstance(activation, str):
        from lossbench.trial.activations import load

        activation = load(activation)
    options = OmegaConf.to_container(model_cfg, resolve=True) if not isinstance(model_cfg, dict) else dict(model_cfg)
    spec = options.pop("builder", None) or "lossbench.trial.model:unet"
    options.pop("name", None)
    builder = load_builder(spec)
    try:
        shape = input_shape_of(image_size)
        net = builder(input_shape=shape, num_classes=int(num_classes), **options)
    except UserError:
        raise
    except Exception as error:
        first = " ".join(str(error).split())[:200]
        raise UserError(
            f"model.builder={spec} failed: {type(error).__name__}: {first} - fix the builder or its options (model.*)"
        ) from None
    if not isinstance(net, keras.Model):
        raise UserError(f"model.builder={spec} returned a {type(net).__name__}, not a keras.Model - return one")
    layer = _find_logits(net, spec)
    want = (None, shape[0], shape[1], int(num_classes))
    got = tuple(layer.output.shape)
    if got != want:
        raise UserError(
            f"model.builder={spec}: its logits have shape {got}, the data needs {want} "
            "(image height, width, data.num_classes) - fix the builder"
        )
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


def build_unet(
    image_size: int, num_classes: int, base: int = 16, depth: int = 4, activation="softmax", batch_norm: bool = False
) -> keras.Model:
    """`unet` with ``activation`` (an option name or an `Activation`) on top: the trial's default network."""
    return build_model({"base": base, "depth": depth, "batch_norm": batch_norm}, image_size, num_classes, activation)
