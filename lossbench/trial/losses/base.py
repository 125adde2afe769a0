"""`SegmentationLoss`: the one base class of lossbench's losses, as Keras's ``LossFunctionWrapper``.

A loss is a pure function ``fn(y_true, y_pred, from_logits, **options)`` plus a
subclass that names it, its options with their defaults, and its traits:

    class Jaccard(SegmentationLoss):
        fn = staticmethod(jaccard)
        family = "dice"
        options = {"smooth": 1e-5, "include_background": False}

The constructor takes ``from_logits``, ``class_weights``, the options (unknown
ones are refused), Keras's ``name``, ``reduction`` and ``dtype``, and
``ignore_index`` (``None``: every pixel is labelled);
``get_config`` is ``super().get_config()`` plus all of them, so
``from_config(get_config())`` rebuilds the same loss.

Traits (class attributes, readable before building one):

- ``sparse_labels``: wants integer label maps (N, H, W) instead of one-hot ones;
- ``per_channel``: every channel is its own yes/no problem (chance 0.5 per channel);
- ``supports_class_weights``: accepts ``class_weights``; a loss that does not
  refuses them in its constructor with `InvalidPairing` (``no_weights_reason``);
- ``family``: ``"cross_entropy"`` (per-pixel losses) or ``"dice"`` (overlap losses);
- ``supports_void``: accepts ``ignore_index``; a loss that does not refuses it
  in its constructor with `InvalidPairing` (``no_void_reason``).

Void pixels (``ignore_index`` not ``None``; `valid_pixels`): in sparse labels
the pixels labelled ``ignore_index`` (lossbench uses 255), in one-hot labels
the pixels whose row is all zeros. Each loss then equals itself on the
labelled pixels alone, in value and gradient; void pixels get gradient 0.
With ``ignore_index=None`` no mask is computed: the loss runs the same ops as
without the option.

>>> from lossbench.trial.losses import Jaccard
>>> loss = Jaccard(smooth=0.0)
>>> round(float(loss([[[[1.0, 0.0], [0.0, 1.0]]]], [[[[1.0, 0.0], [0.5, 0.5]]]])), 4)
0.5
>>> Jaccard.from_config(loss.get_config()).get_config() == loss.get_config()
True
>>> Jaccard(ignore_index=255).get_config()["ignore_index"]
255
>>> Jaccard(alpha=0.3)
Traceback (most recent call last):
...
TypeError: Jaccard takes no option 'alpha'; its options: smooth, include_background
"""

from __future__ import annotations

import keras
from keras import ops

from lossbench.errors import InvalidPairing
from lossbench.trial import keras_internals


def valid_pixels(y_true, ignore_index, sparse=False):
    """The labelled pixels as 0/1 floats (N, H, W), or ``None`` when ``ignore_index`` is ``None``.

    Sparse labels (N, H, W): ``label != ignore_index``. One-hot labels
    (N, H, W, C): a row that is not all zeros (``ignore_index`` only switches
    the mask on).

    >>> ops.convert_to_numpy(valid_pixels([[0, 255, 2]], 255, sparse=True)).tolist()
    [[1.0, 0.0, 1.0]]
    >>> ops.convert_to_numpy(valid_pixels([[[0.0, 1.0], [0.0, 0.0]]], 255)).tolist()
    [[1.0, 0.0]]
    >>> valid_pixels([[0, 1]], None) is None
    True
    """
    if ignore_index is None:
        return None
    if sparse:
        return ops.cast(ops.not_equal(ops.convert_to_tensor(y_true), ignore_index), "float32")
    return ops.cast(ops.max(ops.convert_to_tensor(y_true), axis=-1) > 0, "float32")


class SegmentationLoss(keras.losses.Loss):
    """A lossbench loss: calls ``fn`` with ``from_logits``, its options and (if supported) the class weights."""

    fn = None
    options: dict = {}
    sparse_labels, per_channel, supports_class_weights, family = False, False, True, "cross_entropy"
    supports_void = True
    no_weights_reason, no_weights_fix = "takes no class weights", "use class_weighting=none"
    no_void_reason, no_void_fix = "cannot leave void pixels out", "use a loss that can"

    def __init__(
        self,
        from_logits=False,
        class_weights=None,
        name=None,
        reduction="sum_over_batch_size",
        dtype=None,
        ignore_index=None,
        **options,
    ):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} takes no option {unknown[0]!r}; its options: "
                + (", ".join(self.options) or "none")
            )
        if class_weights is not None and not self.supports_class_weights:
            raise InvalidPairing(f"{name or self.default_name()} {self.no_weights_reason} - {self.no_weights_fix}")
        if ignore_index is not None and not self.supports_void:
            raise InvalidPairing(f"{name or self.default_name()} {self.no_void_reason} - {self.no_void_fix}")
        super().__init__(name=name or self.default_name(), reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self.ignore_index = None if ignore_index is None else int(ignore_index)
        self.kwargs = {key: type(default)(options.get(key, default)) for key, default in self.options.items()}

    @classmethod
    def default_name(cls) -> str:
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in cls.__name__).lstrip("_")

    def __getattr__(self, key):  # the options read as attributes: loss.smooth, loss.gamma
        kwargs = self.__dict__.get("kwargs", {})
        if key in kwargs:
            return kwargs[key]
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    def call(self, y_true, y_pred):
        weights = {"class_weights": self.class_weights} if self.supports_class_weights else {}
        void = {} if self.ignore_index is None else {"ignore_index": self.ignore_index}
        return type(self).fn(y_true, y_pred, from_logits=self.from_logits, **self.kwargs, **weights, **void)

    def get_config(self):
        return {
            **super().get_config(),
            "dtype": keras_internals.dtype_policy_name(self),
            "from_logits": self.from_logits,
            "class_weights": self.class_weights,
            "ignore_index": self.ignore_index,
            **self.kwargs,
        }
