"""Load any 2-D segmentation data set kept as an image folder and a mask folder.

Layout: ``root/<images>/NAME.png|.npy`` and ``root/<masks>/NAME.png|.npy``;
an image and its mask are paired by file stem (``NAME``), so they may differ in
format. Masks hold integer class ids 0..num_classes-1: a single-channel PNG
(mode L, I or I;16, or a palette PNG whose indices are the ids) or an integer
``.npy`` of shape H x W. Colour images are converted to grey.

Slices are split by subject: ``subject_pattern`` is a regular expression whose
first group, searched in the stem, is the subject id (e.g. ``r"^(case\\d+)_"``);
without it every file is its own subject. Preparation is shared with ACDC
(`lossbench.data.prepare`). Every file is read and checked before anything is
returned; problems raise a one-line `DataError` naming the file and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from lossbench.data import SegmentationData, prepare, split_by_subject
from lossbench.errors import DataError

SUFFIXES = (".png", ".npy")
GREY_MODES = ("L", "I", "I;16", "F", "1")


def load(
    root: str,
    num_classes: int,
    image_size: int,
    images: str = "images",
    masks: str = "masks",
    subject_pattern: str | None = None,
    fractions=(0.7, 0.15, 0.15),
    seed: int = 0,
    class_names: list | None = None,
    square: str = "crop",
) -> SegmentationData:
    """Load ``root/images`` and ``root/masks``, split by subject with ``seed`` and ``fractions``."""
    prepare.check_options(image_size, square, root)
    if not isinstance(num_classes, int) or not 2 <= num_classes <= 256:
        raise DataError(f"{root}: num_classes {num_classes!r} is not an integer in 2..256 - set data.num_classes")
    names = list(class_names) if class_names else ["background"] + [f"class_{i}" for i in range(1, num_classes)]
    if len(names) != num_classes:
        raise DataError(f"{root}: {len(names)} class_names for num_classes {num_classes} - give one name per class")
    for folder, setting in ((Path(root) / images, "data.loader.images"), (Path(root) / masks, "data.loader.masks")):
        if not folder.is_dir():
            raise DataError(f"{folder}: folder not found - create it or set {setting}")
    image_files = list_files(Path(root) / images, "data.loader.images")
    mask_files = list_files(Path(root) / masks, "data.loader.masks")
    for stem, path in image_files.items():
        if stem not in mask_files:
            raise DataError(
                f"{path}: no mask named {stem}.png or {stem}.npy in {Path(root) / masks} - add the mask or remove the image"
            )
    for stem, path in mask_files.items():
        if stem not in image_files:
            raise DataError(
                f"{path}: no image named {stem}.png or {stem}.npy in {Path(root) / images} - add the image or remove the mask"
            )

    stems = sorted(image_files)
    subject_of = subjects_by_stem(stems, image_files, subject_pattern, root)
    train, val, test = split_by_subject(list(subject_of.values()), tuple(fractions), seed)
    assignment = {"train": sorted(train), "val": sorted(val), "test": sorted(test)}
    count = len(set(subject_of.values()))
    prepare.check_assignment(
        assignment,
        root,
        f"{count} subjects are too few for fractions {tuple(fractions)}; add data or check data.subject_pattern",
    )

    prepared_images, prepared_labels = [], []
    for stem in stems:
        image = read_file(image_files[stem], mask=False)
        label = prepare.check_pair(
            image, read_file(mask_files[stem], mask=True), num_classes, str(image_files[stem]), str(mask_files[stem])
        )
        image, label = prepare.prepare_pair(image, label, image_size, square)
        prepared_images.append(image)
        prepared_labels.append(label)
    info = {
        "dataset": "folders",
        "root": str(root),
        "files": len(stems),
        "subjects": count,
        "image_size": image_size,
        "square": square,
        "normalisation": "per slice: clip 1st-99th percentile, scale to 0-1",
        "assignment": assignment,
    }
    subjects = np.array([subject_of[stem] for stem in stems])
    return prepare.assemble(np.stack(prepared_images), np.stack(prepared_labels), subjects, assignment, names, info)


def list_files(folder: Path, setting: str) -> dict[str, Path]:
    """Map stem to path for the .png and .npy files of ``folder`` (other files are ignored)."""
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES or path.name.startswith(".") or not path.is_file():
            continue
        if path.stem in files:
            raise DataError(f"{path}: same name as {files[path.stem].name} - keep one file per stem")
        files[path.stem] = path
    if not files:
        raise DataError(f"{folder}: no .png or .npy files - put the data there or set {setting}")
    return files


def subjects_by_stem(stems: list[str], files: dict[str, Path], pattern: str | None, root: str) -> dict[str, str]:
    """The subject of every stem: the first group of ``pattern``, or the stem itself."""
    if not pattern:
        return {stem: stem for stem in stems}
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise DataError(
            f"{root}: subject_pattern {pattern!r} is not a valid regex ({error}) - fix data.subject_pattern"
        ) from error
    if regex.groups < 1:
        raise DataError(f"{root}: subject_pattern {pattern!r} has no (group) - wrap the subject id in parentheses")
    subjects = {}
    for stem in stems:
        match = regex.search(stem)
        if not match or not match.group(1):
            raise DataError(
                f"{files[stem]}: name does not match subject_pattern {pattern!r} - rename the file or fix data.subject_pattern"
            )
        subjects[stem] = match.group(1)
    return subjects


def read_file(path: Path, mask: bool) -> np.ndarray:
    """Read one PNG or .npy as an H x W array (grey image, or integer class ids for a mask)."""
    try:
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
        else:
            with Image.open(path) as picture:
                picture.load()
                if mask or picture.mode in GREY_MODES:
                    array = np.asarray(picture)  # for a palette mask: the indices are the class ids
                else:
                    array = np.asarray(picture.convert("L"))
    except Exception as error:
        message = " ".join(f"{type(error).__name__}: {error}".split())[:200]
        raise DataError(f"{path}: cannot read file ({message}) - re-export it as PNG or .npy") from error
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        what = "masks as single-channel class-id PNG (mode L or P) or H x W .npy" if mask else "images as H x W"
        raise DataError(f"{path}: array of shape {array.shape} is not H x W - save {what}")
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{path}: {array.dtype} array is not numeric - save numbers")
    return array
