"""Thread 2's U-Net, with its width set by ``base`` and its last activation chosen by config.

Four down blocks (two 3x3 ReLU convolutions, 2x2 max-pool), a bottleneck, four
up blocks (2x2 up-sampling, concatenation with the skip, two 3x3 ReLU
convolutions) and a 1x1 convolution with no activation; the output activation
from the `activation` config group is applied on top of those logits.
Filters are ``base * [1, 2, 4, 8, 16]``: ``base=16`` is the thread's network.
"""

from __future__ import annotations

import keras

from lossbench.activations import apply_activation


def _double_conv(x, filters: int, name: str):
    for i in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{i}")(x)
    return x


def build_unet(
    image_size: int,
    num_classes: int,
    base: int = 16,
    depth: int = 4,
    activation: str = "softmax",
) -> keras.Model:
    """Return the U-Net mapping (H, W, 1) images to (H, W, C) outputs.

    ``image_size`` must be divisible by ``2**depth``.
    """
    if image_size % (2**depth):
        raise ValueError(f"image_size {image_size} must be divisible by 2**depth = {2**depth}")
    inputs = keras.Input((image_size, image_size, 1), name="image")
    skips, x = [], inputs
    for level in range(depth):
        x = _double_conv(x, base * 2**level, f"down{level}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"down{level}_pool")(x)
    x = _double_conv(x, base * 2**depth, "bottleneck")
    for level in reversed(range(depth)):
        x = keras.layers.UpSampling2D(2, name=f"up{level}_upsample")(x)
        x = keras.layers.Concatenate(name=f"up{level}_concat")([x, skips[level]])
        x = _double_conv(x, base * 2**level, f"up{level}")
    logits = keras.layers.Conv2D(num_classes, 1, padding="same", name="logits")(x)
    outputs = apply_activation(activation, logits)
    return keras.Model(inputs, outputs, name=f"unet_base{base}_{activation}")
