"""Built-in synthetic cardiac MRI: short-axis slices labelled like ACDC.

Every subject is a stack of slices from the base of the heart to the apex.
Labels follow the ACDC convention: 0 background, 1 right ventricle (RV),
2 myocardium, 3 left ventricle (LV). A bright LV blood pool sits inside a dark
myocardial ring; the RV is a bright crescent against the septum. Around the
heart lie the body outline, a bright subcutaneous fat ring, dark lungs, a grey
liver, the spine and the aorta, all labelled background, so the background is
not trivially dark. Heart size, position, rotation, ellipticity and wall
thickness vary per subject; the heart shrinks towards the apex and the RV may
vanish there. A smooth multiplicative bias field, a slight blur and Rician
noise finish the image.

The heart is small in the field of view, as in real CMR: at the defaults
(64 x 64, 10 slices) the class shares are close to those of the ACDC sample
(background about 95 %); see ``benchmarks/bench_data.py``.

Normalisation: each slice is divided by its own 99th percentile and clipped to
0-1, the preprocessing of the published ACDC h5 files.

The output depends only on the data seed: subject ``i`` is drawn from
``SeedSequence([seed, i])``, so the same arguments give byte-identical arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.ndimage import gaussian_filter

from lossbench.data import SegmentationData, Split, split_by_subject
from lossbench.errors import DataError

CLASS_NAMES = ["background", "rv", "myocardium", "lv"]
BACKGROUND, RV, MYOCARDIUM, LV = range(4)

# What separates the phantom from real hearts, one knob each (results/transfer.md measures them on
# 50 ACDC patients). These defaults draw the original phantom, byte for byte; `conf/data/cmr_real.yaml`
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


def _ellipse(x, y, cx, cy, ax, ay, angle=0.0):
    """Boolean mask of the ellipse centred at (cx, cy) with semi-axes (ax, ay), rotated by ``angle``.

    Written as a quadratic form so that only the cross term is computed at full (S, H, W) size.
    """
    dx, dy = x - cx, y - cy
    c, s = np.cos(angle), np.sin(angle)
    ia, ib = 1.0 / ax**2, 1.0 / ay**2
    rows = (s * s * ia + c * c * ib) * dy * dy
    cols = (c * c * ia + s * s * ib) * dx * dx
    return rows + cols + (2.0 * c * s * (ia - ib) * dx) * dy < 1.0


def _heart(rng, x, y, t, real=REALISM, extra=None):
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
    lv = _ellipse(x, y, cx, cy, radius * (1 + stretch), radius * (1 - stretch), tilt)
    epi_x, epi_y = (radius + wall) * (1 + stretch), (radius + wall) * (1 - stretch)
    epi = _ellipse(x, y, cx, cy, epi_x, epi_y, tilt)
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
    rv_outer = _ellipse(x, y, rcx, rcy, depth, breadth, side)
    rv = rv_outer & ~epi
    wall_grow = 0.035
    rv_wall = _ellipse(x, y, rcx, rcy, depth + wall_grow, breadth + wall_grow, side) & ~rv & ~epi
    rv_wall &= rv_size > 0

    # Papillary muscles: dark blobs inside the cavity that keep the LV label (ACDC convention).
    papillary = np.zeros_like(lv)
    for angle in rng.uniform(0, 2 * np.pi) + np.array([0.0, rng.uniform(1.8, 2.6)]):
        px = cx + np.cos(angle) * radius * 0.65
        py = cy + np.sin(angle) * radius * 0.65
        papillary |= _ellipse(x, y, px, py, radius * 0.22, radius * 0.22)

    # Epicardial fat: a bright band along part of the epicardium, a cue the real images also give.
    arc_start, arc_len = rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.4) * np.pi
    arc = (np.arctan2(y - cy, x - cx) - arc_start) % (2 * np.pi) < arc_len
    fat = _ellipse(x, y, cx, cy, epi_x + 0.04, epi_y + 0.04, tilt) & arc
    fat &= ~epi & ~rv_outer & ~rv_wall
    return rv, rv_wall, myo, lv, papillary & lv, fat


def make_subject(
    rng: np.random.Generator,
    slices: int,
    image_size: int,
    realism: Mapping | None = None,
    extra: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one subject: images (S, H, W) float32 in 0-1 and labels (S, H, W) uint8, base to apex.

    ``realism`` overrides entries of `REALISM`; ``extra`` is the generator for what they add.
    """
    real = check_realism(realism)
    extra = extra if extra is not None else np.random.default_rng(0)
    coords = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size * 2.0 - 1.0
    y, x = coords[None, :, None], coords[None, None, :]
    # Position of each slice along the long axis: 0 at the base, 1 at the apex.
    t = np.linspace(0.0, 1.0, slices, dtype=np.float32)[:, None, None]

    tone = {  # base intensity of each tissue, jittered per subject
        "tissue": 0.3,
        "fat": 0.8,
        "lung": 0.06,
        "liver": 0.45,
        "spine": 0.55,
        "blood": real["blood_tone"],
        "myo": 0.25,
    }
    tone = {k: v * rng.uniform(0.85, 1.15) for k, v in tone.items()}

    # Surrounding anatomy (background label), fixed per subject except lungs and liver.
    bx, by = rng.uniform(-0.05, 0.05), rng.uniform(0.0, 0.08)
    bax, bay, btilt = rng.uniform(0.75, 0.92), rng.uniform(0.82, 0.95), rng.uniform(-0.15, 0.15)
    body = _ellipse(x, y, bx, by, bax, bay, btilt)
    inner = _ellipse(x, y, bx, by, bax - rng.uniform(0.05, 0.09), bay - rng.uniform(0.05, 0.09), btilt)
    lung_scale = 1.0 - 0.5 * t
    lungs = _ellipse(x, y, -0.42, -0.15, 0.24 * lung_scale, 0.36 * lung_scale, 0.2)
    lungs |= _ellipse(x, y, 0.45, -0.2, 0.24 * lung_scale, 0.38 * lung_scale, -0.2)
    liver = _ellipse(x, y, -0.3, 0.5, 0.45 * (0.5 + 0.6 * t), 0.28 * (0.5 + 0.6 * t), -0.3)
    spine = _ellipse(x, y, bx + 0.02, by + bay - 0.25, 0.09, 0.08)
    aorta = _ellipse(x, y, bx + 0.2, by + bay - 0.38, 0.06, 0.06)

    freq = rng.uniform(1.5, 5.0, size=(4, 2)) * np.pi
    phase = rng.uniform(0, 2 * np.pi, size=4)
    texture = 1.0 + 0.08 * sum(np.cos(f[0] * x + f[1] * y + p) for f, p in zip(freq, phase, strict=True))

    image = np.where(inner, tone["tissue"] * texture, np.where(body, tone["fat"], 0.0))
    image = np.where(lungs & inner, tone["lung"], image)
    image = np.where(liver & inner, tone["liver"] * texture, image)
    image = np.where(spine, tone["spine"], image)
    image = np.where(aorta, tone["blood"], image)

    rv, rv_wall, myo, lv, papillary, epi_fat = _heart(rng, x, y, t, real, extra)
    heart = rv | rv_wall | myo | lv | epi_fat
    for _ in range(int(real["clutter"])):  # bright blobs outside the heart that look like blood or fat
        blob = _ellipse(
            x, y, *extra.uniform(-0.6, 0.6, size=2), *extra.uniform(0.04, 0.12, size=2), extra.uniform(0, np.pi)
        )
        image = np.where(blob & inner & ~heart, extra.uniform(0.6, 1.05) * tone["blood"], image)
    image = np.where(epi_fat, tone["fat"] * 0.9, image)
    image = np.where(rv_wall | myo | papillary, tone["myo"], image)
    blood = tone["blood"]
    if real["blood_texture"]:  # slow-flow inhomogeneity: a smooth random field over the blood pools
        field = gaussian_filter(
            extra.standard_normal((1, image_size, image_size)), sigma=(0, image_size / 16, image_size / 16)
        )
        blood = tone["blood"] * (1.0 + real["blood_texture"] * field / max(field.std(), 1e-6))
    image = np.where(lv & ~papillary, blood, image)
    image = np.where(rv, blood * rng.uniform(0.85, 1.0), image)
    labels = np.zeros(image.shape, dtype=np.uint8)
    labels[rv] = RV
    labels[myo] = MYOCARDIUM
    labels[lv] = LV

    coef = rng.normal(0.0, 0.15, size=5)
    bias = np.exp(coef[0] * x + coef[1] * y + coef[2] * x * x + coef[3] * y * y + coef[4] * x * y)
    sigma_px = 0.6 * image_size / 64  # the same physical blur at every resolution
    image = gaussian_filter((image * bias).astype(np.float32), sigma=(0, sigma_px, sigma_px))
    noise = rng.uniform(0.02, 0.05)
    real = image + noise * rng.standard_normal(image.shape, dtype=np.float32)
    imag = noise * rng.standard_normal(image.shape, dtype=np.float32)
    image = np.sqrt(real * real + imag * imag)  # magnitude image: Rician noise

    top = np.percentile(image.reshape(len(image), -1), 99, axis=1)[:, None, None]
    image = np.clip(image / np.maximum(top, 1e-6), 0.0, 1.0).astype(np.float32)
    return image, labels


def check_realism(realism: Mapping | None) -> dict:
    """`REALISM` with ``realism``'s entries; an unknown key is a one-line DataError."""
    realism = dict(realism or {})
    unknown = sorted(set(realism) - set(REALISM))
    if unknown:
        raise DataError(f"phantom realism has no knob {unknown[0]!r} - use one of {sorted(REALISM)}")
    return REALISM | realism


def generate(
    n_subjects_total: int, slices_per_subject: int, image_size: int, seed: int, realism: Mapping | None = None
):
    """All subjects stacked: images (N*S, H, W, 1), labels (N*S, H, W), subjects (N*S,) like ``phantom007``."""
    images, labels, subjects = [], [], []
    for i in range(n_subjects_total):
        rng = np.random.default_rng(np.random.SeedSequence([seed, i]))
        extra = np.random.default_rng(np.random.SeedSequence([seed, i, 1]))
        img, lab = make_subject(rng, slices_per_subject, image_size, realism, extra)
        images.append(img)
        labels.append(lab)
        subjects += [f"phantom{i:03d}"] * slices_per_subject
    return np.concatenate(images)[..., None], np.concatenate(labels), np.array(subjects)


def load(
    n_subjects: Mapping | int,
    slices_per_subject: int,
    image_size: int,
    seed: int,
    fractions: tuple[float, float, float] | None = None,
    realism: Mapping | None = None,
) -> SegmentationData:
    """The phantom as train/val/test, split by subject.

    ``n_subjects`` is ``{"train": n, "val": n, "test": n}`` (exact counts), or a total
    number of subjects that ``fractions`` cuts with `split_by_subject`.
    """
    if isinstance(n_subjects, Mapping):
        missing = {"train", "val", "test"} - set(n_subjects)
        if missing:
            raise DataError(f"phantom n_subjects lacks {sorted(missing)} - give train, val and test counts")
        counts = [int(n_subjects[k]) for k in ("train", "val", "test")]
        total = sum(counts)
    else:
        total, counts = int(n_subjects), None
        if fractions is None:
            raise DataError(
                "phantom n_subjects is a number but fractions is missing - give both, or a train/val/test mapping"
            )
    if total < 3 or (counts and min(counts) < 1):
        raise DataError(f"phantom needs at least one subject per split, got {n_subjects} - raise the counts")
    if slices_per_subject < 1 or image_size < 32:
        raise DataError(
            f"phantom slices_per_subject={slices_per_subject}, image_size={image_size} - use >= 1 and >= 32"
        )

    real = check_realism(realism)
    images, labels, subjects = generate(total, slices_per_subject, image_size, seed, realism)
    names = [f"phantom{i:03d}" for i in range(total)]
    if counts:
        groups = [
            names[: counts[0]],
            names[counts[0] : counts[0] + counts[1]],
            names[counts[0] + counts[1] :],
        ]
    else:
        groups = split_by_subject(names, tuple(fractions), seed)

    def pick(group):
        keep = np.isin(subjects, group)
        return Split(images[keep], labels[keep], subjects[keep])

    info = {
        "source": "phantom",
        "seed": seed,
        "image_size": image_size,
        "slices_per_subject": slices_per_subject,
        "normalisation": "per slice: divided by the 99th percentile, clipped to 0-1",
    }
    if real != REALISM:
        info["realism"] = {k: v for k, v in real.items() if v != REALISM[k]}
    return SegmentationData(*(pick(g) for g in groups), class_names=list(CLASS_NAMES), info=info)
