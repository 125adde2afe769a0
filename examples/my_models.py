"""Example model builders for ``model=custom`` (README, "Bring your own model").

    python -m lossbench.train model=custom model._target_=examples.my_models.residual_unet
    python -m lossbench.sweep +experiment=cmr model=custom model._target_=examples.my_models.mobilenet_unet \
        data.image_size=64

A builder is called as ``build(input_shape=(H, W, 1), num_classes=C, **options)``
(options: any ``+model.KEY=VALUE``) and returns a ``keras.Model`` whose last
layer is a linear ``Conv2D`` giving (H, W, C) logits, named ``logits``.
lossbench adds the activation under test and checks the shape.
"""

from __future__ import annotations

import keras
from keras import layers


def _residual_block(x, filters: int, name: str):
    shortcut = x if x.shape[-1] == filters else layers.Conv2D(filters, 1, name=f"{name}_proj")(x)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv1")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(x)
    return layers.ReLU(name=f"{name}_relu")(layers.Add(name=f"{name}_add")([x, shortcut]))


def residual_unet(input_shape, num_classes: int, width: int = 8, levels: int = 3) -> keras.Model:
    """A small hand-written residual encoder-decoder: ``levels`` 2x down-samplings, skips, ``logits``."""
    inputs = keras.Input(input_shape, name="image")
    x, skips = inputs, []
    for level in range(levels):
        x = _residual_block(x, width * 2**level, f"enc{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"enc{level}_pool")(x)
    x = _residual_block(x, width * 2**levels, "middle")
    for level in reversed(range(levels)):
        x = layers.Conv2DTranspose(width * 2**level, 2, strides=2, name=f"dec{level}_up")(x)
        x = layers.Concatenate(name=f"dec{level}_concat")([x, skips[level]])
        x = _residual_block(x, width * 2**level, f"dec{level}")
    logits = layers.Conv2D(num_classes, 1, name="logits")(x)  # linear: lossbench adds the activation
    return keras.Model(inputs, logits, name="residual_unet")


def mobilenet_unet(input_shape, num_classes: int, alpha: float = 0.35) -> keras.Model:
    """A U-Net on a MobileNetV2 encoder (``keras.applications``, ``weights=None``: nothing is downloaded).

    MobileNetV2 wants 3 channels and sides >= 32 divisible by 32: the grey
    image is repeated to 3 channels; the encoder's features at 1/2 ... 1/16
    are the skips, the decoder up-samples back to full size.
    """
    inputs = keras.Input(input_shape, name="image")
    rgb = layers.Concatenate(name="to_rgb")([inputs, inputs, inputs])
    encoder = keras.applications.MobileNetV2(
        input_shape=(*input_shape[:2], 3), alpha=alpha, include_top=False, weights=None
    )
    names = [
        "block_1_expand_relu",
        "block_3_expand_relu",
        "block_6_expand_relu",
        "block_13_expand_relu",
        "block_16_project",
    ]  # 1/2, 1/4, 1/8, 1/16, 1/32
    features = keras.Model(encoder.input, [encoder.get_layer(n).output for n in names], name="encoder")(rgb)
    x = features[-1]
    for level, skip in reversed(list(enumerate(features[:-1]))):
        x = layers.UpSampling2D(2, name=f"dec{level}_up")(x)
        x = layers.Concatenate(name=f"dec{level}_concat")([x, skip])
        x = layers.Conv2D(max(8, skip.shape[-1]), 3, padding="same", activation="relu", name=f"dec{level}_conv")(x)
    x = layers.UpSampling2D(2, name="full_up")(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="full_conv")(x)
    logits = layers.Conv2D(num_classes, 1, name="logits")(x)
    return keras.Model(inputs, logits, name=f"mobilenet_unet_a{alpha}")
