"""Tests of the built-in seven-class scenes (lossbench.data.shapes) and the one-hot converters."""

import numpy as np
import pytest

from lossbench.data import shapes
from lossbench.errors import DataError

COUNTS = {"train": 150, "val": 20, "test": 20}


@pytest.fixture(scope="module")
def data():
    return shapes.load(COUNTS, image_size=64, seed=0)


def test_seven_classes_shapes_and_dtypes(data):
    assert data.num_classes == 7
    assert data.class_names[0] == "background"
    for name, n in COUNTS.items():
        split = getattr(data, name)
        assert split.images.shape == (n, 64, 64, 1) and split.images.dtype == np.float32
        assert split.labels.shape == (n, 64, 64) and split.labels.dtype == np.uint8
        assert np.isfinite(split.images).all()
        assert split.images.min() >= 0.0 and split.images.max() <= 1.0
        assert split.labels.max() <= 6


def test_each_image_is_its_own_subject(data):
    subjects = np.concatenate([data.train.subjects, data.val.subjects, data.test.subjects])
    assert len(set(subjects)) == len(subjects) == 190
    assert subjects[0] == "scene0000"


def test_deterministic_by_seed(data):
    again = shapes.load(COUNTS, image_size=64, seed=0)
    other = shapes.load(COUNTS, image_size=64, seed=1)
    assert again.train.images.tobytes() == data.train.images.tobytes()
    assert again.val.labels.tobytes() == data.val.labels.tobytes()
    assert not np.array_equal(other.train.labels, data.train.labels)


def test_strong_imbalance_and_every_class_in_train(data):
    shares = data.class_shares("train")
    assert shares[0] >= 0.8
    assert (shares[1:] > 0).all()
    assert shares[1:].max() > 5 * shares[1:].min()


def test_shapes_do_not_touch(data):
    labels = np.pad(data.train.labels, ((0, 0), (1, 1), (1, 1)))
    centre = labels[:, 1:-1, 1:-1]
    for n in (labels[:, :-2, 1:-1], labels[:, 2:, 1:-1], labels[:, 1:-1, :-2], labels[:, 1:-1, 2:]):
        assert not ((centre > 0) & (n > 0) & (n != centre)).any()


def test_intensities_overlap_so_shape_matters(data):
    images, labels = data.train.images[..., 0], data.train.labels
    low, high = zip(*(np.percentile(images[labels == k], [5, 95]) for k in range(1, 7)), strict=True)
    assert max(low) < min(high)  # one brightness band is shared by all six shape classes


def test_one_hot_hand_computed():
    labels = np.array([[[0, 6], [2, 0]]], dtype=np.uint8)
    onehot = shapes.to_channels_first_one_hot(labels, 7)
    assert onehot.shape == (1, 7, 2, 2) and onehot.dtype == np.float32
    assert onehot[0, :, 0, 1].tolist() == [0, 0, 0, 0, 0, 0, 1]
    assert onehot[0, 2].tolist() == [[0, 0], [1, 0]]
    assert onehot[0, 0].tolist() == [[1, 0], [0, 1]]


def test_one_hot_round_trip_exact(data):
    onehot = shapes.to_channels_first_one_hot(data.val.labels, data.num_classes)
    assert onehot.shape == (20, 7, 64, 64)
    assert np.array_equal(onehot.sum(axis=1), np.ones((20, 64, 64)))
    back = shapes.from_channels_first_one_hot(onehot)
    assert back.dtype == np.uint8
    assert np.array_equal(back, data.val.labels)


def test_converters_reject_bad_input():
    with pytest.raises(DataError):
        shapes.to_channels_first_one_hot(np.full((1, 2, 2), 7), 7)
    with pytest.raises(DataError):
        shapes.from_channels_first_one_hot(np.zeros((7, 2, 2)))
    with pytest.raises(DataError):
        shapes.load({"train": 1, "val": 1}, image_size=64, seed=0)


def test_images_per_subject_groups_consecutive_images_and_knobs_are_checked():
    grouped = shapes.load({"train": 8, "val": 4, "test": 8}, image_size=32, seed=0, images_per_subject=4)
    assert list(np.unique(grouped.test.subjects)) == ["scene0003", "scene0004"]
    easy = shapes.load({"train": 2, "val": 1, "test": 1}, 32, 0, class_brightness=[0.5] * 6, radius=[0.1, 0.1])
    shape_pixels = easy.train.images[..., 0][easy.train.labels > 0]
    assert abs(np.median(shape_pixels) - 0.5) < 0.1
    with pytest.raises(DataError, match="class_brightness"):
        shapes.load(COUNTS, 32, 0, class_brightness=[0.5] * 5)
    with pytest.raises(DataError, match="images_per_subject"):
        shapes.load(COUNTS, 32, 0, images_per_subject=0)


def test_shapes_keeps_thread1_channels_first_labels_and_converts_them():
    a = shapes.load({"train": 3, "val": 1, "test": 1}, 32, seed=1, label_storage="channels_first_one_hot")
    b = shapes.load({"train": 3, "val": 1, "test": 1}, 32, seed=1, label_storage="integer")
    np.testing.assert_array_equal(a.train.labels, b.train.labels)
    assert a.info["label_storage"] == "channels_first_one_hot"
    assert shapes.to_channels_first_one_hot(a.train.labels, 7).shape == (3, 7, 32, 32)
