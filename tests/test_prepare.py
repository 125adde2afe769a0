"""`lossbench.data.prepare`: slices scaled, squared and resized; one-line errors for bad options."""

from __future__ import annotations

import numpy as np
import pytest

from lossbench.data import prepare
from lossbench.errors import DataError


def test_normalise_slice_clips_the_percentiles_to_zero_one():
    image = np.arange(100, dtype=np.float64).reshape(10, 10)
    out = prepare.normalise_slice(image)
    assert out.dtype == np.float32 and out.min() == 0.0 and out.max() == 1.0
    assert not prepare.normalise_slice(np.full((4, 4), 7.0)).any()  # a flat slice is all zeros


def test_to_square_crops_or_pads_centred():
    array = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(prepare.to_square(array, "crop"), array[:, :3])
    padded = prepare.to_square(array, "pad", fill=-1)
    assert padded.shape == (4, 4) and (padded[-1] == -1).all()
    assert prepare.to_square(array, "resize") is array


def test_sizes_are_one_side_or_a_pair():
    assert prepare.size_of(48) == (48, 48) and prepare.size_of([48, 64]) == (48, 64)
    assert prepare.is_pair([48, 64]) and not prepare.is_pair(48) and not prepare.is_pair("48")


def test_prepare_pair_resizes_the_image_and_keeps_the_labels_integer():
    rng = np.random.default_rng(0)
    image, label = rng.random((40, 60)), rng.integers(0, 4, (40, 60)).astype(np.uint8)
    out_image, out_label = prepare.prepare_pair(image, label, 32, "crop")
    assert out_image.shape[:2] == out_label.shape == (32, 32)
    assert set(np.unique(out_label)) <= {0, 1, 2, 3}


def test_an_empty_split_is_one_line():
    with pytest.raises(DataError, match="root: the val split has no subjects - add patients") as error:
        prepare.check_assignment({"train": ["a"], "val": [], "test": ["b"]}, "root", "add patients")
    assert "\n" not in str(error.value)
