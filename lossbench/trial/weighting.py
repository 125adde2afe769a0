"""Class-weighting schemes, computed from the training labels.

Every scheme returns one weight per class, scaled so that the mean weight over
the labelled training pixels is 1 (void pixels, any label >= the number of
classes, count nowhere) (``sum_c share_c * w_c = 1``): weighting changes the
balance between classes, not the loss scale or the learning rate. The loss
applies them, never ``fit(class_weight=...)`` (FACTS #5), in the way that makes
sense for its family:

- cross-entropies multiply each pixel's loss by the weight of its true class
  (mean weight 1 per training pixel, as returned here);
- the Dice family scales whole per-class Dice terms, with the weights of the
  classes in the mean rescaled to average 1 (foreground only by default), as
  MONAI's ``DiceLoss(weight=)``: per-pixel weights inside a Dice would make
  false positives on background almost free (`lossbench.trial.losses.dice`);
- generalized Dice and Keras's pooled Dice take no class weights (an invalid
  pairing, one line).
"""

from __future__ import annotations

import numpy as np


def _normalise(weights: np.ndarray, counts: np.ndarray) -> np.ndarray:
    shares = counts / counts.sum()
    return weights / float(np.sum(shares * weights))


def none(labels: np.ndarray, num_classes: int) -> None:
    """No weighting."""
    return None


def inverse_frequency(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``w_c = 1 / share_c`` (a class absent from training gets weight 0)."""
    counts = np.bincount(labels.ravel(), minlength=num_classes)[:num_classes].astype(np.float64)
    weights = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
    return _normalise(weights, counts)


def median_frequency(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Median-frequency balancing (Eigen & Fergus 2015): ``w_c = median(freq) / freq_c``.

    ``freq_c`` is the pixels of class c divided by the labelled pixels of the
    images (slices) in which c appears.
    """
    flat = labels.reshape(len(labels), -1)
    per_image = np.stack([np.bincount(row, minlength=num_classes)[:num_classes] for row in flat])
    counts = per_image.sum(axis=0).astype(np.float64)
    present = per_image > 0
    pixels_where_present = (present * per_image.sum(axis=1, keepdims=True)).sum(axis=0)
    freq = np.where(pixels_where_present > 0, counts / np.maximum(pixels_where_present, 1), 0.0)
    median = np.median(freq[freq > 0])
    weights = np.where(freq > 0, median / np.maximum(freq, 1e-12), 0.0)
    return _normalise(weights, counts)


def effective_number(labels: np.ndarray, num_classes: int, beta: float = 0.9999) -> np.ndarray:
    """Class-balanced weights (Cui et al. 2019): ``w_c = (1 - beta) / (1 - beta ** n_c)``."""
    counts = np.bincount(labels.ravel(), minlength=num_classes)[:num_classes].astype(np.float64)
    effective = 1.0 - np.power(beta, counts)
    weights = np.where(counts > 0, (1.0 - beta) / np.maximum(effective, 1e-12), 0.0)
    return _normalise(weights, counts)


class Weighting:
    """Base class of the ``conf/class_weighting/`` options (``_target_``), as the losses are.

    ``Weighting(name, **options)(labels, num_classes)`` returns one weight per class or ``None``;
    subclasses set ``scheme`` (a function above) and declare ``options`` with their defaults; any
    other option is refused in one line, as a loss refuses it.
    """

    scheme = staticmethod(none)
    options: dict = {}

    def __init__(self, name: str, **options):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} takes no option {unknown[0]!r}; its options: "
                + (", ".join(self.options) or "none")
            )
        self.name = str(name)
        self.options = {key: type(default)(options.get(key, default)) for key, default in type(self).options.items()}

    def __call__(self, labels: np.ndarray, num_classes: int) -> np.ndarray | None:
        return type(self).scheme(labels, num_classes, **self.options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, {self.options})"


class NoWeighting(Weighting):
    scheme = staticmethod(none)


class InverseFrequency(Weighting):
    scheme = staticmethod(inverse_frequency)


class MedianFrequency(Weighting):
    scheme = staticmethod(median_frequency)


class EffectiveNumber(Weighting):
    scheme = staticmethod(effective_number)
    options = {"beta": 0.9999}

    def __init__(self, name: str, **options):
        super().__init__(name, **options)
        if not 0.0 < self.options["beta"] < 1.0:  # 0 is no weighting, 1 divides by zero: neither is this scheme
            raise ValueError(f"class_weighting.beta={self.options['beta']} is not in (0, 1) - e.g. 0.9999")
