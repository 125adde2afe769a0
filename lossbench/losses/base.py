"""`SegmentationLoss`: the one base class of lossbench's losses, as Keras's ``LossFunctionWrapper``.

A loss is a pure function ``fn(y_true, y_pred, from_logits, **options)`` plus a
subclass that names it, its options with their defaults, and its traits:

    class Jaccard(SegmentationLoss):
        fn = staticmethod(jaccard)
        family = "dice"
        options = {"smooth": 1e-5, "include_background": False}

The constructor takes ``from_logits``, ``class_weights``, the options (unknown
ones are refused), and Keras's ``name``, ``reduction`` and ``dtype``;
``get_config`` is ``super().get_config()`` plus all of them, so
``from_config(get_config())`` rebuilds the same loss.

Traits (class attributes, readable before building one):

- ``sparse_labels``: wants integer label maps (N, H, W) instead of one-hot ones;
- ``per_channel``: every channel is its own yes/no problem (chance 0.5 per channel);
- ``supports_class_weights``: accepts ``class_weights``; a loss that does not
  refuses them in its constructor with `InvalidPairing` (``no_weights_reason``);
- ``family``: ``"cross_entropy"`` (per-pixel losses) or ``"dice"`` (overlap losses).

>>> from lossbench.losses import Jaccard
>>> loss = Jaccard(smooth=0.0)
>>> round(float(loss([[[[1.0, 0.0], [0.0, 1.0]]]], [[[[1.0, 0.0], [0.5, 0.5]]]])), 4)
0.5
>>> Jaccard.from_config(loss.get_config()).get_config() == loss.get_config()
True
>>> Jaccard(alpha=0.3)
Traceback (most recent call last):
...
TypeError: Jaccard takes no option 'alpha'; its options: smooth, include_background
"""

from __future__ import annotations

import keras

from lossbench.errors import InvalidPairing


class SegmentationLoss(keras.losses.Loss):
    """A lossbench loss: calls ``fn`` with ``from_logits``, its options and (if supported) the class weights."""

    fn = None
    options: dict = {}
    sparse_labels, per_channel, supports_class_weights, family = False, False, True, "cross_entropy"
    no_weights_reason, no_weights_fix = "takes no class weights", "use class_weighting=none"

    def __init__(
        self, from_logits=False, class_weights=None, name=None, reduction="sum_over_batch_size", dtype=None, **options
    ):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} takes no option {unknown[0]!r}; its options: "
                + (", ".join(self.options) or "none")
            )
        if class_weights is not None and not self.supports_class_weights:
            raise InvalidPairing(f"{name or self.default_name()} {self.no_weights_reason} - {self.no_weights_fix}")
        super().__init__(name=name or self.default_name(), reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
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
        return type(self).fn(y_true, y_pred, from_logits=self.from_logits, **self.kwargs, **weights)

    def get_config(self):
        return {
            **super().get_config(),
            "dtype": self._dtype_policy.name,
            "from_logits": self.from_logits,
            "class_weights": self.class_weights,
            **self.kwargs,
        }
