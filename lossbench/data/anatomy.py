"""The anatomy of the synthetic cardiac phantom (`lossbench.data.phantom`), drawn from its generators.

`surroundings` draws the body around the heart (fat, lungs, liver, spine, aorta), `heart` the
ventricles, myocardium, papillary muscles and epicardial fat, `paint_heart` and `blood` paint them
with the subject's `tones`. Each function takes its draws from ``rng`` in a fixed order, and the
realism knobs' extra draws from their own generator (``extra``), so the phantom stays byte-identical.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

# What separates the phantom from real hearts, one knob each (results/transfer.md measures them on
# 50 ACDC patients). These defaults draw the original phantom, byte for byte; `conf/data/cmr_realistic.yaml`
# sets the values calibrated against ACDC. Extra random draws come from their own generator, so a
# knob left at its default changes nothing else.
REALISM = {
    "blood_tone": 0.9,  # blood-pool intensity; real blood is darker than epicardial/subcutaneous fat
    "blood_texture": 0.0,  # flow inhomogeneity inside the blood pools (relative amplitude)
    "clutter": 0,  # bright background blobs (stomach, bowel, vessels) per subject
    "wall_scale": 1.0,  # myocardial wall thickness factor
    "radius_scale": 1.0,  # LV cavity radius factor
    "apex_cap": False,  # apical slices: a solid myocardial cap with no LV cavity, then no heart
    "rv_end": (0.8, 1.2),  # the RV is gone below t = uniform(rv_end): a lower range drops it sooner
}


def ellipse(x, y, cx, cy, ax, ay, angle=0.0):
    """Boolean mask of the ellipse centred at (cx, cy) with semi-axes (ax, ay), rotated by ``angle``.

    Written as a quadratic form so that only the cross term is computed at full (S, H, W) size.
    """
    dx, dy = x - cx, y - cy
    c, s = np.cos(angle), np.sin(angle)
    ia, ib = 1.0 / ax**2, 1.0 / ay**2
    rows = (s * s * ia + c * c * ib) * dy * dy
    cols = (c * c * ia + s * s * ib) * dx * dx
    return rows + cols + (2.0 * c * s * (ia - ib) * dx) * dy < 1.0


def heart(rng, x, y, t, real=REALISM, extra=None):
    """Per-slice masks (rv, rv_wall, myo, lv, papillary, fat) of one subject's heart.

    ``x``, ``y`` are (1, H, W) coordinates in [-1, 1]; ``t`` is (S, 1, 1), 0 at the base, 1 at the apex.
    ``extra`` draws what the realism knobs add (None when every knob is at its default).
    """
    # An ellipsoid's cross-section: shrinks slowly, then fast near the apex.
    taper = np.sqrt(1.0 - (0.9 * t) ** 2)
    drift = rng.normal(0.0, 0.03, size=2)
    cx = rng.uniform(-0.08, 0.1) + drift[0] * t
    cy = rng.uniform(-0.1, 0.08) + drift[1] * t
    radius = rng.uniform(0.16, 0.2) * taper * real["radius_scale"]
    wall = rng.uniform(0.045, 0.06) * (0.75 + 0.25 * taper) * real["wall_scale"]
    stretch = rng.uniform(0.0, 0.12)  # LV ellipticity
    tilt = rng.uniform(0.0, np.pi)  # orientation of the LV's long axis
    lv = ellipse(x, y, cx, cy, radius * (1 + stretch), radius * (1 - stretch), tilt)
    epi_x, epi_y = (radius + wall) * (1 + stretch), (radius + wall) * (1 - stretch)
    epi = ellipse(x, y, cx, cy, epi_x, epi_y, tilt)
    myo = epi & ~lv
    if real["apex_cap"]:  # the cavity closes before the apex (a solid cap), and the last slices miss the heart
        cavity_end, heart_end = extra.uniform(0.85, 1.0), extra.uniform(0.95, 1.1)
        lv &= t <= cavity_end
        myo = epi & ~lv & (t <= heart_end)

    # The RV lies on the image left of the LV (the patient's right), wrapped around the septum.
    side = np.pi + rng.uniform(-0.45, 0.25)
    epi_r = radius + wall
    rv_end = rng.uniform(0.8, 1.2)  # the RV is gone below t = rv_end
    if tuple(real["rv_end"]) != REALISM["rv_end"]:
        rv_end = extra.uniform(*real["rv_end"])
    rv_size = np.clip(1.0 - t / rv_end, 0.0, 1.0) ** 0.5
    depth = rng.uniform(0.55, 0.8) * epi_r * rv_size + 1e-6
    breadth = rng.uniform(1.05, 1.3) * epi_r * np.maximum(rv_size, 0.3)
    rcx = cx + np.cos(side) * epi_r * 0.95
    rcy = cy + np.sin(side) * epi_r * 0.95
    rv_outer = ellipse(x, y, rcx, rcy, depth, breadth, side)
    rv = rv_outer & ~epi
    wall_grow = 0.035
    rv_wall = ellipse(x, y, rcx, rcy, depth + wall_grow, breadth + wall_grow, side) & ~rv & ~epi
    rv_wall &= rv_size > 0

    # Papillary muscles: dark blobs inside the cavity that keep the LV label (ACDC convention).
    papillary = np.zeros_like(lv)
    for angle in rng.uniform(0, 2 * np.pi) + np.array([0.0, rng.uniform(1.8, 2.6)]):
        px = cx + np.cos(angle) * radius * 0.65
        py = cy + np.sin(angle) * radius * 0.65
        papillary |= ellipse(x, y, px, py, radius * 0.22, radius * 0.22)

    # Epicardial fat: a bright band along part of the epicardium, a cue the real images also give.
    arc_start, arc_len = rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.4) * np.pi
    arc = (np.arctan2(y - cy, x - cx) - arc_start) % (2 * np.pi) < arc_len
    fat = ellipse(x, y, cx, cy, epi_x + 0.04, epi_y + 0.04, tilt) & arc
    fat &= ~epi & ~rv_outer & ~rv_wall
    return rv, rv_wall, myo, lv, papillary & lv, fat


def tones(rng: np.random.Generator, real: dict) -> dict:
    """The base intensity of each tissue, jittered per subject."""
    tone = {
        "tissue": 0.3,
        "fat": 0.8,
        "lung": 0.06,
        "liver": 0.45,
        "spine": 0.55,
        "blood": real["blood_tone"],
        "myo": 0.25,
    }
    return {k: v * rng.uniform(0.85, 1.15) for k, v in tone.items()}


def surroundings(rng: np.random.Generator, x, y, t, tone: dict):
    """The surrounding anatomy (background label), fixed per subject except lungs and liver: image, body inside."""
    bx, by = rng.uniform(-0.05, 0.05), rng.uniform(0.0, 0.08)
    bax, bay, btilt = rng.uniform(0.75, 0.92), rng.uniform(0.82, 0.95), rng.uniform(-0.15, 0.15)
    body = ellipse(x, y, bx, by, bax, bay, btilt)
    inner = ellipse(x, y, bx, by, bax - rng.uniform(0.05, 0.09), bay - rng.uniform(0.05, 0.09), btilt)
    lung_scale = 1.0 - 0.5 * t
    lungs = ellipse(x, y, -0.42, -0.15, 0.24 * lung_scale, 0.36 * lung_scale, 0.2)
    lungs |= ellipse(x, y, 0.45, -0.2, 0.24 * lung_scale, 0.38 * lung_scale, -0.2)
    liver = ellipse(x, y, -0.3, 0.5, 0.45 * (0.5 + 0.6 * t), 0.28 * (0.5 + 0.6 * t), -0.3)
    spine = ellipse(x, y, bx + 0.02, by + bay - 0.25, 0.09, 0.08)
    aorta = ellipse(x, y, bx + 0.2, by + bay - 0.38, 0.06, 0.06)

    freq = rng.uniform(1.5, 5.0, size=(4, 2)) * np.pi
    phase = rng.uniform(0, 2 * np.pi, size=4)
    texture = 1.0 + 0.08 * sum(np.cos(f[0] * x + f[1] * y + p) for f, p in zip(freq, phase, strict=True))

    image = np.where(inner, tone["tissue"] * texture, np.where(body, tone["fat"], 0.0))
    image = np.where(lungs & inner, tone["lung"], image)
    image = np.where(liver & inner, tone["liver"] * texture, image)
    image = np.where(spine, tone["spine"], image)
    return np.where(aorta, tone["blood"], image), inner


def paint_heart(image, parts, inner, tone: dict, real: dict, extra: np.random.Generator, x, y):
    """Clutter outside the heart (``extra``'s blobs), the epicardial fat and the muscle."""
    rv, rv_wall, myo, lv, papillary, epi_fat = parts
    heart = rv | rv_wall | myo | lv | epi_fat
    for _ in range(int(real["clutter"])):  # bright blobs outside the heart that look like blood or fat
        blob = ellipse(
            x, y, *extra.uniform(-0.6, 0.6, size=2), *extra.uniform(0.04, 0.12, size=2), extra.uniform(0, np.pi)
        )
        image = np.where(blob & inner & ~heart, extra.uniform(0.6, 1.05) * tone["blood"], image)
    image = np.where(epi_fat, tone["fat"] * 0.9, image)
    return np.where(rv_wall | myo | papillary, tone["myo"], image)


def blood(image, rng: np.random.Generator, lv_pool, rv, tone: dict, real: dict, extra, image_size: int):
    """The blood pools: the LV cavity (papillary muscles excepted) and the RV, a little darker."""
    blood = tone["blood"]
    if real["blood_texture"]:  # slow-flow inhomogeneity: a smooth random field over the blood pools
        field = gaussian_filter(
            extra.standard_normal((1, image_size, image_size)), sigma=(0, image_size / 16, image_size / 16)
        )
        blood = tone["blood"] * (1.0 + real["blood_texture"] * field / max(field.std(), 1e-6))
    image = np.where(lv_pool, blood, image)
    return np.where(rv, blood * rng.uniform(0.85, 1.0), image)
