"""Class-weighting schemes on a known label histogram, worked out by hand.

Two 5x10 images, 100 pixels, counts [90, 5, 3, 2]: image A holds every class
(40 background, 5 + 3 + 2 foreground), image B is all background. Shares are
[0.90, 0.05, 0.03, 0.02].

At the end: what the weights do to the soft Dice of a degenerate net on
realistic cardiac label maps (per-class weights, not per-pixel ones).
"""

from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from lossbench.registry import load_option
from lossbench.trial import weighting
from lossbench.trial.losses.dice import soft_dice
from lossbench.trial.weighting import (
    effective_number,
    inverse_frequency,
    median_frequency,
    none,
)


def class_weights(labels, num_classes: int, name: str):
    """The weights scheme ``name`` (``conf/class_weighting/<name>.yaml``) gives ``labels``."""
    return load_option("class_weighting", name)(labels, num_classes)


SHARES = np.array([0.90, 0.05, 0.03, 0.02])


@pytest.fixture
def labels():
    a = np.array([1] * 5 + [2] * 3 + [3] * 2 + [0] * 40, np.uint8).reshape(5, 10)
    b = np.zeros((5, 10), np.uint8)
    out = np.stack([a, b])
    assert np.bincount(out.ravel()).tolist() == [90, 5, 3, 2]
    return out


def mean_weight_per_pixel(weights):
    return float(np.sum(SHARES * weights))


def test_none_returns_none(labels):
    assert none(labels, 4) is None
    assert class_weights(labels, 4, name="none") is None


def test_inverse_frequency_by_hand(labels):
    # w_c = 1 / share_c, scaled by 1 / sum(share * w) = 1 / 4
    expected = [1 / 3.6, 5.0, 25 / 3, 12.5]
    np.testing.assert_allclose(inverse_frequency(labels, 4), expected, rtol=1e-9)
    assert mean_weight_per_pixel(inverse_frequency(labels, 4)) == pytest.approx(1.0)


def test_median_frequency_uses_the_images_where_the_class_appears(labels):
    # freq = pixels of c / pixels of the images holding c:
    # background 90/100, RV 5/50, myocardium 3/50, LV 2/50 -> [0.9, 0.1, 0.06, 0.04]
    # median 0.08; median / freq = [4/45, 0.8, 4/3, 2]; sum(share * w) = 0.2
    expected = [4 / 9, 4.0, 20 / 3, 10.0]
    np.testing.assert_allclose(median_frequency(labels, 4), expected, rtol=1e-9)
    assert mean_weight_per_pixel(median_frequency(labels, 4)) == pytest.approx(1.0)


def test_median_frequency_differs_from_inverse_frequency(labels):
    # with freq over *all* images median/freq is proportional to 1/share (= inverse frequency);
    # Eigen & Fergus's per-image frequency gives the background relatively more weight
    med, inv = median_frequency(labels, 4), inverse_frequency(labels, 4)
    assert med[0] / med[3] == pytest.approx((4 / 9) / 10)
    assert inv[0] / inv[3] == pytest.approx((1 / 3.6) / 12.5)


def test_effective_number_by_hand(labels):
    beta = 0.9
    raw = np.array([0.1 / (1 - 0.9**90), 0.1 / (1 - 0.9**5), 0.1 / (1 - 0.9**3), 0.1 / (1 - 0.9**2)])
    expected = raw / np.sum(SHARES * raw)
    np.testing.assert_allclose(effective_number(labels, 4, beta=beta), expected, rtol=1e-9)
    assert expected[3] == pytest.approx(0.1 / 0.19 / np.sum(SHARES * raw))
    assert mean_weight_per_pixel(effective_number(labels, 4, beta=beta)) == pytest.approx(1.0)


def test_effective_number_with_beta_near_zero_gives_equal_weights(labels):
    np.testing.assert_allclose(effective_number(labels, 4, beta=1e-9), [1.0, 1.0, 1.0, 1.0], rtol=1e-6)


def test_effective_number_with_beta_near_one_approaches_inverse_frequency(labels):
    np.testing.assert_allclose(effective_number(labels, 4, beta=1 - 1e-9), inverse_frequency(labels, 4), rtol=1e-4)


@pytest.mark.parametrize("name", ["inverse_frequency", "median_frequency", "effective_number"])
def test_every_scheme_keeps_mean_weight_one_and_favours_rare_classes(labels, name):
    weights = class_weights(labels, 4, name=name)
    assert weights.shape == (4,)
    assert mean_weight_per_pixel(weights) == pytest.approx(1.0)
    assert list(np.argsort(weights)) == [0, 1, 2, 3]  # rarer class, larger weight


@pytest.mark.parametrize("name", ["inverse_frequency", "median_frequency", "effective_number"])
def test_a_class_absent_from_training_gets_weight_zero(labels, name):
    weights = class_weights(labels, 5, name=name)
    assert weights[4] == 0.0
    assert np.isfinite(weights).all()
    assert float(np.sum(np.append(SHARES, 0.0) * weights)) == pytest.approx(1.0)


def test_every_scheme_has_a_config_and_every_config_a_scheme():
    conf = Path(__file__).resolve().parents[1] / "conf" / "class_weighting"
    schemes = {
        name
        for name, obj in vars(weighting).items()
        if isinstance(obj, type) and issubclass(obj, weighting.Weighting) and obj is not weighting.Weighting
    }
    targets = {OmegaConf.load(p)["_target_"].rsplit(".", 1)[1] for p in conf.glob("*.yaml")}
    assert targets == schemes


# --- the degenerate net: every background pixel labelled as one foreground class -------------


def cardiac_labels():
    """Three 64x64 short-axis slices: RV block, myocardium ring around the LV; the apex has no RV."""
    labels = np.zeros((3, 64, 64), np.int64)
    for image, (rv, outer, inner) in enumerate([((8, 10), 12, 8), ((6, 10), 11, 7), (None, 8, 4)]):
        if rv:
            labels[image, 20 : 20 + rv[0], 10 : 10 + rv[1]] = 1
        labels[image, 24 : 24 + outer, 24 : 24 + outer] = 2
        gap = (outer - inner) // 2
        labels[image, 24 + gap : 24 + gap + inner, 24 + gap : 24 + gap + inner] = 3
    return labels


def one_hot(labels):
    return np.eye(4, dtype=np.float32)[labels]


def old_per_pixel_dice(y, p, weights):
    """The former weighting: every pixel's tp/fp/fn times the weight of its true class."""
    w = (y @ np.asarray(weights, np.float64))[..., None]
    tp, fp, fn = (np.sum(w * a, axis=(0, 1, 2)) for a in (y * p, (1 - y) * p, y * (1 - p)))
    dice = (2 * tp + 1e-5) / (2 * tp + fp + fn + 1e-5)
    return 1 - np.mean(dice[1:])


def test_cardiac_labels_have_realistic_shares():
    shares = np.bincount(cardiac_labels().ravel(), minlength=4) / cardiac_labels().size
    assert 0.94 < shares[0] < 0.97
    assert all(0.008 < share < 0.025 for share in shares[1:])


@pytest.mark.parametrize("scheme", [inverse_frequency, median_frequency])
def test_class_weights_never_make_the_degenerate_net_cheap(scheme):
    labels = cardiac_labels()
    y = one_hot(labels)
    weights = scheme(labels, 4)
    rescaled = weights[1:] / weights[1:].mean()  # the foreground weights average 1
    unweighted, weighted, old = [], [], []
    for c in (1, 2, 3):  # the class that absorbs the background
        p = one_hot(np.where(labels == 0, c, labels))  # every foreground pixel right
        unweighted.append(float(soft_dice(y, p)))
        weighted.append(float(soft_dice(y, p, class_weights=weights)))
        old.append(old_per_pixel_dice(y.astype(np.float64), p.astype(np.float64), weights))
    # the perfect prediction costs 0, so each value is the gap to it
    assert float(soft_dice(y, y)) == pytest.approx(0.0, abs=1e-6)
    assert float(soft_dice(y, y, class_weights=weights)) == pytest.approx(0.0, abs=1e-6)
    assert old_per_pixel_dice(y, y, weights) == pytest.approx(0.0, abs=1e-9)
    assert all(0.31 < gap < 0.33 for gap in unweighted)
    # per class: the absorbing class's whole term is scaled by its weight, nothing else changes
    np.testing.assert_allclose(weighted, rescaled * unweighted, rtol=1e-5)
    # on average over the absorbing class there is no shrink: a weighted mean of the unweighted gaps
    assert min(unweighted) <= np.mean(weighted) <= max(unweighted)
    assert np.mean(weighted) == pytest.approx(np.mean(unweighted), rel=0.01)
    # the old per-pixel weights made background false positives almost free: gap below half
    assert all(o < 0.5 * u for o, u in zip(old, unweighted, strict=True))
    if scheme is inverse_frequency:  # w_c n_c is the same for every class: 1/9
        assert old == pytest.approx([1 / 9] * 3, abs=1e-4)


def test_void_pixels_count_in_no_class_frequency():
    """A void label (255) changes no weight: the weights equal those of the labelled pixels alone."""
    from lossbench.data import VOID
    from lossbench.trial.weighting import effective_number, inverse_frequency, median_frequency

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (4, 6, 6)).astype(np.uint8)
    voided = labels.copy()
    voided[:, :, :2] = VOID  # a void border: the pixels under it are removed from every count
    kept = labels[:, :, 2:]
    for scheme in (inverse_frequency, effective_number, median_frequency):
        np.testing.assert_allclose(scheme(voided, 3), scheme(kept, 3), err_msg=scheme.__name__)
    assert len(median_frequency(voided, 3)) == 3


def test_a_scheme_refuses_an_option_it_does_not_declare():
    from lossbench.trial.weighting import EffectiveNumber, MedianFrequency

    with pytest.raises(TypeError, match="MedianFrequency takes no option 'beta'; its options: none"):
        MedianFrequency("median_frequency", beta=0.5)
    with pytest.raises(TypeError, match="EffectiveNumber takes no option 'weights'; its options: beta"):
        EffectiveNumber("effective_number", weights=[1, 2])
    assert EffectiveNumber("effective_number").options == {"beta": 0.9999}


@pytest.mark.parametrize("beta", [0.0, 1.0, 1.5, -0.1])
def test_effective_number_refuses_a_beta_outside_0_1(beta):
    from lossbench.trial.weighting import EffectiveNumber

    with pytest.raises(ValueError, match=r"class_weighting.beta=.* is not in \(0, 1\)"):
        EffectiveNumber("effective_number", beta=beta)
