"""Model builders for tests/test_model.py: one that works and one for each way a builder can be wrong."""

import keras
from keras import layers


def tiny(input_shape, num_classes, width=2):
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(width, 3, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, layers.Conv2D(num_classes, 1, name="logits")(x))


def unnamed_last(input_shape, num_classes):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layers.Conv2D(num_classes, 1, name="head")(inputs))


def softmax_after_logits(input_shape, num_classes):
    inputs = keras.Input(input_shape)
    logits = layers.Conv2D(num_classes, 1, name="logits")(inputs)
    return keras.Model(inputs, layers.Softmax()(logits))


def relu_last(input_shape, num_classes):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layers.Conv2D(num_classes, 1, activation="relu", name="head")(inputs))


def wrong_classes(input_shape, num_classes):
    return unnamed_last(input_shape, num_classes + 1)


def downsampled(input_shape, num_classes):
    inputs = keras.Input(input_shape)
    x = layers.MaxPooling2D(2)(inputs)
    return keras.Model(inputs, layers.Conv2D(num_classes, 1, name="logits")(x))


def raises(input_shape, num_classes):
    raise RuntimeError("the encoder needs 3 channels")


def not_a_model(input_shape, num_classes):
    return [input_shape, num_classes]


NOT_CALLABLE = 3
