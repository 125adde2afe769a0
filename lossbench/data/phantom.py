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

from lossbench.data import SegmentationData, Split, anatomy, split_by_subject
from lossbench.data.anatomy import REALISM
from lossbench.errors import DataError

CLASS_NAMES = ["background", "rv", "myocardium", "lv"]
BACKGROUND, RV, MYOCARDIUM, LV = range(4)


def make_subject(
    rng: np.random.Generator,
    slices: int,
    image_size: int,
    realism: Mapping | None = None,
    extra: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one subject: images (S, H, W) float32 in 0-1 and labels (S, H, W) uint8, base to apex.

    ``realism`` overrides entries of `REALISM`; ``extra`` is the generator for what they add.
    The draws from ``rng`` come in one fixed order: tones, surroundings, heart, blood, acquisition.
    """
    real = check_realism(realism)
    extra = extra if extra is not None else np.random.default_rng(0)
    coords = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size * 2.0 - 1.0
    y, x = coords[None, :, None], coords[None, None, :]
    # Position of each slice along the long axis: 0 at the base, 1 at the apex.
    t = np.linspace(0.0, 1.0, slices, dtype=np.float32)[:, None, None]
    tone = anatomy.tones(rng, real)
    image, inner = anatomy.surroundings(rng, x, y, t, tone)
    rv, rv_wall, myo, lv, papillary, epi_fat = anatomy.heart(rng, x, y, t, real, extra)
    image = anatomy.paint_heart(image, (rv, rv_wall, myo, lv, papillary, epi_fat), inner, tone, real, extra, x, y)
    image = anatomy.blood(image, rng, lv & ~papillary, rv, tone, real, extra, image_size)
    labels = np.zeros(image.shape, dtype=np.uint8)
    labels[rv] = RV
    labels[myo] = MYOCARDIUM
    labels[lv] = LV
    return _acquire(image, rng, x, y, image_size), labels


def _acquire(image, rng: np.random.Generator, x, y, image_size: int) -> np.ndarray:
    """The scanner's part: a smooth bias field, blur, Rician noise, then each slice scaled to 0-1."""
    coef = rng.normal(0.0, 0.15, size=5)
    bias = np.exp(coef[0] * x + coef[1] * y + coef[2] * x * x + coef[3] * y * y + coef[4] * x * y)
    sigma_px = 0.6 * image_size / 64  # the same physical blur at every resolution
    image = gaussian_filter((image * bias).astype(np.float32), sigma=(0, sigma_px, sigma_px))
    noise = rng.uniform(0.02, 0.05)
    real = image + noise * rng.standard_normal(image.shape, dtype=np.float32)
    imag = noise * rng.standard_normal(image.shape, dtype=np.float32)
    image = np.sqrt(real * real + imag * imag)  # magnitude image: Rician noise

    top = np.percentile(image.reshape(len(image), -1), 99, axis=1)[:, None, None]
    return np.clip(image / np.maximum(top, 1e-6), 0.0, 1.0).astype(np.float32)


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
