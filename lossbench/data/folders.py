"""Load any 2-D segmentation data set kept as an image folder and a mask folder.

Layout: ``root/<images>/NAME.png|.jpg|.jpeg|.tif|.tiff|.npy`` and
``root/<masks>/NAME.png|.npy``; an image and its mask are paired by file stem
(``NAME``), so they may differ in format.

Images keep their channels: RGB, RGBA (alpha dropped), grey 8- or 16-bit or
float (modes L, I;16, I, F) and ``.npy`` arrays H x W or H x W x C. The channel
count is read from the first image and every other image must match; images
come out as (N, H, W, C) float32, normalised per channel (`prepare`).

Masks hold integer class ids 0..num_classes-1: a single-channel PNG (mode L, I
or I;16, or a palette PNG whose indices are the ids) or an integer ``.npy`` of
shape H x W. Pixels equal to ``ignore_index`` (the data set's "no label") become
`VOID` (255); any other value outside the classes is an error. ``background`` is
the background class, or None when every class counts (street scenes).

``image_size`` is one int S (``square``: crop, pad or resize to a square, then
S x S; padded labels are `VOID` when the data set has void, else 0) or
[H, W] (resized straight to H x W).

Without ``split``, slices are split by subject with seeded ``fractions``:
``subject_pattern`` is a regular expression whose first group, searched in the
stem, is the subject id (e.g. ``r"^(case\\d+)_"``); without it every file is
its own subject. With ``split`` (the data set's own split, see
`lossbench.data.split`) the listed files are used as listed, files no split
lists are left out (``info["unused_files"]`` counts them), and subjects
(``subject_pattern``'s group or the stem) only group slices for per-subject
averaging. Every file is read and checked before anything is returned; problems
raise a one-line `DataError` naming the file and the fix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from lossbench.data import VOID, SegmentationData, prepare
from lossbench.data.split import resolve, seeded, subjects_by_stem
from lossbench.errors import DataError

IMAGE_SUFFIXES = (".png", ".npy", ".jpg", ".jpeg", ".tif", ".tiff")
MASK_SUFFIXES = (".png", ".npy")
GREY_MODES = ("L", "I", "I;16", "I;16B", "I;16L", "F", "1")


def load(
    root: str,
    num_classes: int,
    image_size,
    images: str = "images",
    masks: str = "masks",
    subject_pattern: str | None = None,
    fractions=(0.7, 0.15, 0.15),
    seed: int = 0,
    class_names: list | None = None,
    square: str = "crop",
    ignore_index: int | None = None,
    background: int | None = 0,
    split: dict | None = None,
) -> SegmentationData:
    """Load ``root/images`` and ``root/masks``, split by ``split`` or by subject with ``seed`` and ``fractions``."""
    prepare.check_options(image_size, square, root)
    names = check_classes(root, num_classes, class_names, ignore_index, background)
    if square == "pad" and not prepare.is_pair(image_size) and ignore_index is None and background is None:
        raise DataError(
            f"{root}: square=pad needs a label for the padding, and this data set has neither a background class "
            "nor a void label - set data.ignore_index, or use data.square=crop or resize"
        )
    image_files, mask_files = find_files(Path(root), images, masks, paired=split is None)
    stems, subject_of, assignment, described = choose(
        split, root, image_files, mask_files, subject_pattern, fractions, seed
    )
    listed = set(stems)
    unused = sum(stem not in listed for stem in image_files) + sum(stem not in listed for stem in mask_files)
    images_out, labels_out, channels = read_all(
        stems, image_files, mask_files, num_classes, ignore_index, image_size, square, background
    )
    info = describe(root, stems, subject_of, image_size, square, channels, ignore_index, background, unused)
    info["assignment"] = assignment
    if described is not None:
        info["split"] = described
    subjects = np.array([subject_of[stem] for stem in stems])
    keys = None if split is None else np.array(stems)  # a user's split lists files, not subjects
    return prepare.assemble(
        images_out,
        labels_out,
        subjects,
        assignment,
        names,
        info,
        keys,
        background=background,
        ignore_index=ignore_index,
    )


def describe(root, stems, subject_of, image_size, square, channels, ignore_index, background, unused) -> dict:
    """The data set's ``info``: where it came from, how many files and subjects, how it was prepared."""
    return {
        "dataset": "folders",
        "root": str(root),
        "files": len(stems),
        "subjects": len(set(subject_of.values())),
        "image_size": list(prepare.size_of(image_size)) if prepare.is_pair(image_size) else image_size,
        "square": "resize" if prepare.is_pair(image_size) else square,
        "channels": channels,
        "normalisation": "per slice: clip 1st-99th percentile, scale to 0-1"
        + (" (per channel)" if channels > 1 else ""),
        "ignore_index": ignore_index,
        "background": background,
        "unused_files": unused,
    }


def choose(split, root, image_files, mask_files, subject_pattern, fractions, seed):
    """The stems to load (sorted), their subjects, the assignment of every split and the split's description.

    Without ``split`` the assignment lists subjects (seeded fractions), with it the listed stems.
    """
    if split is None:
        stems = sorted(image_files)
        subject_of = subjects_by_stem(stems, image_files, subject_pattern, root)
        return stems, subject_of, seeded(subject_of, fractions, seed, root), None
    frames, described = resolve(split, root, image_files, mask_files)
    stems = sorted(stem for members in frames.values() for stem in members)
    subject_of = subjects_by_stem(stems, image_files, subject_pattern, root)
    return stems, subject_of, {name: sorted(members) for name, members in frames.items()}, described


def check_classes(root: str, num_classes, class_names, ignore_index, background) -> list[str]:
    """Check num_classes, ignore_index, background and class_names; return the class names."""
    if ignore_index is not None and (not isinstance(ignore_index, int) or isinstance(ignore_index, bool)):
        raise DataError(f"{root}: ignore_index {ignore_index!r} is not an integer or null - set data.ignore_index")
    top = 256 if ignore_index is None else 255  # with void, label 255 is VOID
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or not 2 <= num_classes <= top:
        why = " (255 is void when data.ignore_index is set)" if ignore_index is not None else ""
        raise DataError(
            f"{root}: num_classes {num_classes!r} is not an integer in 2..{top}{why} - set data.num_classes"
        )
    if ignore_index is not None and 0 <= ignore_index < num_classes:
        raise DataError(
            f"{root}: ignore_index {ignore_index} is a class id (0..{num_classes - 1}) "
            f"- set data.ignore_index to the mask value of unlabelled pixels, or null"
        )
    if background is not None and (
        not isinstance(background, int) or isinstance(background, bool) or not 0 <= background < num_classes
    ):
        raise DataError(
            f"{root}: background {background!r} is not a class id (0..{num_classes - 1}) "
            f"- set data.background to the background class, or null when every class counts"
        )
    if class_names:
        names = list(class_names)
    else:
        names = [f"class_{i}" for i in range(num_classes)]
        if background is not None:
            names[background] = "background"
    if len(names) != num_classes:
        raise DataError(f"{root}: {len(names)} class_names for num_classes {num_classes} - give one name per class")
    return names


def find_files(root: Path, images: str, masks: str, paired: bool) -> tuple[dict[str, Path], dict[str, Path]]:
    """Stem -> path of the image and mask files; ``paired``: every image needs a mask and every mask an image."""
    for folder, setting in ((root / images, "data.loader.images"), (root / masks, "data.loader.masks")):
        if not folder.is_dir():
            raise DataError(f"{folder}: folder not found - create it or set {setting}")
    image_files = list_files(root / images, "data.loader.images", IMAGE_SUFFIXES)
    mask_files = list_files(root / masks, "data.loader.masks", MASK_SUFFIXES)
    if paired:
        for stem, path in image_files.items():
            if stem not in mask_files:
                raise DataError(
                    f"{path}: no mask named {stem}.png or {stem}.npy in {root / masks} - add the mask or remove the image"
                )
        for stem, path in mask_files.items():
            if stem not in image_files:
                raise DataError(
                    f"{path}: no image named {stem}.png or {stem}.npy in {root / images} "
                    f"- add the image or remove the mask"
                )
    return image_files, mask_files


def list_files(folder: Path, setting: str, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """Map stem to path for the files of ``folder`` with one of ``suffixes`` (other files are ignored)."""
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES and suffix not in suffixes:
            raise DataError(f"{path}: masks are read from .png or .npy only, not {suffix} - save the mask as PNG")
        if suffix not in suffixes:
            continue
        if path.stem in files:
            raise DataError(f"{path}: same name as {files[path.stem].name} - keep one file per stem")
        files[path.stem] = path
    if not files:
        others = "" if suffixes == MASK_SUFFIXES else " (nor .jpg, .jpeg, .tif, .tiff)"
        raise DataError(f"{folder}: no .png or .npy files{others} - put the data there or set {setting}")
    return files


def read_all(stems, image_files, mask_files, num_classes, ignore_index, image_size, square, background=0):
    """Read, check and prepare every pair; return images (N, H, W[, C]), labels (N, H, W) and the channel count."""
    fill = (background or 0) if ignore_index is None else VOID  # padding: void where there is a void label
    first, out_images, out_labels = None, [], []
    for stem in stems:
        image = read_file(image_files[stem], mask=False)
        channels = 1 if image.ndim == 2 else image.shape[-1]
        first = first or (image_files[stem].name, channels)
        if channels != first[1]:
            raise DataError(
                f"{image_files[stem]}: {plural(channels)} where the first image ({first[0]}) has {first[1]} "
                f"- convert it or remove it"
            )
        label = read_file(mask_files[stem], mask=True)
        prepare.check_grid(image, label, str(image_files[stem]), str(mask_files[stem]), channels=image.ndim == 3)
        label = class_ids(label, num_classes, ignore_index, str(mask_files[stem]))
        image, label = prepare.prepare_pair(image, label, image_size, square, fill)
        out_images.append(image)
        out_labels.append(label)
    return np.stack(out_images), np.stack(out_labels), first[1]


def plural(channels: int) -> str:
    return f"{channels} channel" + ("" if channels == 1 else "s")


def class_ids(label: np.ndarray, num_classes: int, ignore_index: int | None, name: str) -> np.ndarray:
    """The labels as uint8 class ids, ``ignore_index`` pixels as `VOID`; any other value is a `DataError`."""
    values = label.astype(np.int64)  # whole numbers (checked)
    bad = (values < 0) | (values >= num_classes)
    void = values == ignore_index if ignore_index is not None else None
    if void is not None:
        bad &= ~void
    if bad.any():
        found, counts = np.unique(values[bad], return_counts=True)
        value = int(found[np.argmax(counts)])
        others = [str(int(v)) for v in found if v != value]
        also = f" (also {', '.join(others[:3])}{', ...' if len(others) > 3 else ''})" if others else ""
        fix = "data.num_classes" if value >= num_classes else "fix the mask"
        raise DataError(
            f"{name}: label value {value}{also} is not a class id (0..{num_classes - 1}) "
            f"- set data.ignore_index={value} if it marks unlabelled pixels, or {fix}"
        )
    if void is not None:
        values[void] = VOID
    return values.astype(np.uint8)


def read_file(path: Path, mask: bool) -> np.ndarray:
    """Read one image (H x W grey or H x W x C) or mask (H x W integer class ids) file."""
    try:
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
        else:
            with Image.open(path) as picture:
                picture.load()
                array = np.asarray(picture) if mask else image_array(picture)  # palette mask: indices are the ids
    except Exception as error:
        message = " ".join(f"{type(error).__name__}: {error}".split())[:200]
        raise DataError(f"{path}: cannot read file ({message}) - re-export it as PNG or .npy") from error
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if mask and array.ndim != 2:
        what = "masks as single-channel class-id PNG (mode L or P) or H x W .npy"
        raise DataError(f"{path}: array of shape {array.shape} is not H x W - save {what}")
    if not mask and (array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[0] <= 4 < array.shape[-1])):
        raise DataError(f"{path}: array of shape {array.shape} is not H x W or H x W x C - save images channels last")
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{path}: {array.dtype} array is not numeric - save numbers")
    return array


def image_array(picture: Image.Image) -> np.ndarray:
    """The pixels of an opened image: grey as H x W, colour as H x W x 3 (alpha dropped)."""
    mode = picture.mode
    if mode in GREY_MODES or mode.startswith("I;16"):
        return np.asarray(picture)
    if mode in ("LA", "La"):
        return np.asarray(picture)[..., 0]
    if mode == "RGB":
        return np.asarray(picture)
    if mode in ("RGBA", "RGBa", "RGBX"):
        return np.asarray(picture)[..., :3]
    if mode in ("P", "PA"):
        return np.asarray(picture.convert("RGBA"))[..., :3]
    return np.asarray(picture.convert("RGB"))
