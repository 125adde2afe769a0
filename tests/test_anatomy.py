"""`lossbench.data.anatomy`: the phantom's shapes, drawn from a generator in a fixed order."""

from __future__ import annotations

import numpy as np

from lossbench.data import anatomy

COORDS = (np.arange(32, dtype=np.float32) + 0.5) / 32 * 2.0 - 1.0
Y, X = COORDS[None, :, None], COORDS[None, None, :]
T = np.linspace(0.0, 1.0, 4, dtype=np.float32)[:, None, None]


def test_an_ellipse_is_a_centred_mask():
    mask = anatomy.ellipse(X, Y, 0.0, 0.0, 0.5, 0.25)
    assert mask.shape == (1, 32, 32) and mask[0, 16, 16] and not mask[0, 0, 0]
    assert mask[0, 16].sum() > mask[0, :, 16].sum()  # wider than tall


def test_the_heart_parts_do_not_overlap_and_shrink_to_the_apex():
    rng = np.random.default_rng(0)
    rv, rv_wall, myo, lv, papillary, fat = anatomy.heart(rng, X, Y, T, anatomy.REALISM, np.random.default_rng(1))
    assert not (rv & myo).any() and not (rv & lv).any() and not (myo & lv).any()
    assert (papillary <= lv).all() and lv[0].sum() > lv[-1].sum()


def test_the_same_generator_draws_the_same_subject():
    first = anatomy.tones(np.random.default_rng(3), anatomy.REALISM)
    assert first == anatomy.tones(np.random.default_rng(3), anatomy.REALISM)
    image, inner = anatomy.surroundings(np.random.default_rng(3), X, Y, T, first)
    again, _ = anatomy.surroundings(np.random.default_rng(3), X, Y, T, first)
    np.testing.assert_array_equal(image, again)
    assert image.shape == (4, 32, 32) and inner.any()
