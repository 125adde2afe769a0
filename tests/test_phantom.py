"""Tests of the built-in synthetic cardiac MRI (lossbench.data.phantom)."""

from pathlib import Path

import numpy as np
import pytest

from lossbench.data import phantom
from lossbench.errors import DataError

ACDC = Path(__file__).resolve().parents[2] / "shared" / "data" / "acdc-sample" / "h5"
COUNTS = {"train": 8, "val": 3, "test": 3}


@pytest.fixture(scope="module")
def data():
    return phantom.load(COUNTS, slices_per_subject=10, image_size=64, seed=0)


@pytest.fixture(scope="module")
def many_labels():
    """Labels of 60 subjects at the defaults, for statistics."""
    return phantom.generate(60, 10, 64, seed=3)[1]


def neighbours(labels):
    """The four 4-neighbour label maps of every pixel (edges padded with background)."""
    p = np.pad(labels, ((0, 0), (1, 1), (1, 1)))
    return [p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]]


def test_shapes_and_dtypes(data):
    assert data.class_names == ["background", "rv", "myocardium", "lv"]
    for name, n_subjects in COUNTS.items():
        split = getattr(data, name)
        assert split.images.shape == (n_subjects * 10, 64, 64, 1)
        assert split.images.dtype == np.float32
        assert split.labels.shape == (n_subjects * 10, 64, 64)
        assert split.labels.dtype == np.uint8
        assert split.subjects.shape == (n_subjects * 10,)


def test_values_in_range(data):
    for split in (data.train, data.val, data.test):
        assert np.isfinite(split.images).all()
        assert split.images.min() >= 0.0 and split.images.max() <= 1.0
        assert split.labels.max() <= 3
        # Normalised per slice: every slice reaches 1 at its 99th percentile.
        assert np.allclose(split.images.max(axis=(1, 2, 3)), 1.0)


def test_same_seed_gives_identical_arrays(data):
    again = phantom.load(COUNTS, slices_per_subject=10, image_size=64, seed=0)
    assert again.train.images.tobytes() == data.train.images.tobytes()
    assert again.test.labels.tobytes() == data.test.labels.tobytes()
    assert list(again.val.subjects) == list(data.val.subjects)


def test_different_seed_gives_different_arrays(data):
    other = phantom.load(COUNTS, slices_per_subject=10, image_size=64, seed=1)
    assert not np.array_equal(other.train.images, data.train.images)
    assert not np.array_equal(other.train.labels, data.train.labels)


def test_split_by_subject(data):
    groups = [set(s.subjects) for s in (data.train, data.val, data.test)]
    assert [len(g) for g in groups] == [8, 3, 3]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert all(name.startswith("phantom") and len(name) == 10 for g in groups for name in g)


def test_fractions_split_a_total():
    d = phantom.load(12, slices_per_subject=2, image_size=32, seed=0, fractions=(0.5, 0.25, 0.25))
    assert [len(set(s.subjects)) for s in (d.train, d.val, d.test)] == [6, 3, 3]


@pytest.mark.parametrize("counts", [{"train": 2, "val": 0, "test": 1}, {"train": 2, "val": 1}])
def test_bad_counts_raise(counts):
    with pytest.raises(DataError):
        phantom.load(counts, slices_per_subject=2, image_size=64, seed=0)


def test_class_shares_like_short_axis_cmr(many_labels):
    shares = np.bincount(many_labels.ravel(), minlength=4) / many_labels.size
    assert 0.90 < shares[0] < 0.98
    assert (shares[1:] > 0.003).all()


def test_every_class_in_train(data):
    assert (data.class_shares("train") > 0).all()


def test_myocardium_surrounds_lv(many_labels):
    lv = many_labels == 3
    leak = np.zeros_like(lv)
    for n in neighbours(many_labels):
        leak |= lv & (n != 3) & (n != 2)
    assert lv.any(axis=(1, 2)).all()
    assert (~leak.any(axis=(1, 2))).mean() > 0.95


def test_rv_touches_myocardium(many_labels):
    rv = many_labels == 1
    touch = np.zeros_like(rv)
    for n in neighbours(many_labels):
        touch |= rv & (n == 2)
    has_rv = rv.any(axis=(1, 2))
    assert has_rv.mean() > 0.6
    assert touch.any(axis=(1, 2))[has_rv].mean() > 0.95


def test_heart_shrinks_towards_apex():
    rng = np.random.default_rng(0)
    for _ in range(5):
        _, labels = phantom.make_subject(rng, 10, 64)
        heart = (labels > 0).sum(axis=(1, 2))
        assert heart[0] > 2 * heart[-1] > 0


@pytest.mark.skipif(not ACDC.is_dir(), reason="ACDC sample not at ../shared/data/acdc-sample")
def test_shares_within_factor_1_5_of_acdc(many_labels):
    h5py = pytest.importorskip("h5py")
    counts = np.zeros(4)
    for file in sorted(ACDC.glob("*.h5")):
        with h5py.File(file, "r") as h5:
            counts += np.bincount(h5["label"][:].ravel(), minlength=4)[:4]
    real = counts / counts.sum()
    ours = np.bincount(many_labels.ravel(), minlength=4) / many_labels.size
    ratio = ours / real
    assert ((ratio > 1 / 1.5) & (ratio < 1.5)).all(), ratio


def test_realism_knobs_at_their_defaults_draw_the_original_phantom():
    plain = phantom.generate(3, 6, 48, seed=5)
    spelled = phantom.generate(3, 6, 48, seed=5, realism=dict(phantom.REALISM))
    assert all(np.array_equal(a, b) for a, b in zip(plain, spelled, strict=True))


def test_realism_knobs_change_what_they_name():
    knobs = {"apex_cap": True, "clutter": 3, "blood_tone": 0.6, "wall_scale": 1.3, "rv_end": [0.6, 1.1]}
    images, labels, _ = phantom.generate(12, 10, 64, seed=1, realism=knobs)
    _, plain_labels, _ = phantom.generate(12, 10, 64, seed=1)
    no_lv = lambda lab: np.mean([not (s == phantom.LV).any() for s in lab])  # noqa: E731
    assert no_lv(plain_labels) == 0 and no_lv(labels) > 0.02  # apical slices without a cavity
    assert (labels == phantom.MYOCARDIUM).mean() > (plain_labels == phantom.MYOCARDIUM).mean()  # thicker wall
    blood = images[..., 0][(labels == phantom.LV) | (labels == phantom.RV)]
    assert np.median(blood) < 0.8  # darker blood than the original's ~0.9
    with pytest.raises(DataError, match="no knob 'contrast'"):
        phantom.load(COUNTS, 2, 32, 0, realism={"contrast": 1})
