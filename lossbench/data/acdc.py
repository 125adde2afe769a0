"""Load ACDC cardiac MRI (Bernard et al., IEEE TMI 2018) as 2-D short-axis slices.

Two layouts are detected under ``root`` (searched recursively, so the
``training/`` and ``testing/`` folders of the original download both work):

- ``nifti``: the original download, ``patientNNN/patientNNN_frameFF.nii.gz``
  with its label ``patientNNN_frameFF_gt.nii.gz`` (arrays H x W x slices).
  ``_4d.nii.gz`` files are ignored; frames without a ``_gt`` file are skipped
  and counted in ``info["unlabelled_frames"]``.
- ``h5``: the preprocessed volumes of SSL4MIS/WSL4MIS, ``patientNNN_frameFF.h5``
  with datasets ``image`` and ``label`` (slices x H x W).

Every file is read and checked before anything is returned; any problem raises
a one-line `DataError` naming the file and the fix. Slices are prepared by
`lossbench.data.prepare` (clip 1st-99th percentile, scale to 0-1, centre crop
to a square, resize) and split by patient, never by slice. With ``cache_dir``
the prepared arrays are kept in an ``.npz`` keyed by the files (path, size,
mtime), the image size, the frames, the square mode and the patient split.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lossbench.data import SegmentationData, prepare, split_by_subject
from lossbench.data.volumes import one_line, read_frame
from lossbench.errors import DataError

CLASS_NAMES = ["background", "rv", "myocardium", "lv"]
NIFTI_FILE = re.compile(r"^patient(\d+)_frame(\d+)(_gt)?\.nii(\.gz)?$")
H5_FILE = re.compile(r"^patient(\d+)_frame(\d+)\.h5$")
PATIENTS = re.compile(r"(?:patient)?(\d+)(?:\s*-\s*(?:patient)?(\d+))?")
CACHE_VERSION = 1


@dataclass(frozen=True)
class Frame:
    """One labelled cardiac phase of one patient; ``label`` is None when it sits in ``image`` (h5)."""

    patient: str
    number: int
    image: Path
    label: Path | None


def load(
    root: str | list[str],
    image_size: int,
    split: dict | None = None,
    fractions=(0.7, 0.15, 0.15),
    seed: int = 0,
    frames: str = "all",
    cache_dir: str | None = None,
    num_classes: int = 4,
    square: str = "crop",
) -> SegmentationData:
    """Load ACDC from ``root`` (a folder, or a list of folders read as one set, e.g. the sample and the
    extra training patients); ``frames`` is "all", "ed" or "es"; ``split`` maps train/val/test to patients."""
    roots = [str(r) for r in root] if _is_listlike(root) else [str(root)]
    if not roots:
        raise DataError("data.root is an empty list - name at least one ACDC folder")
    root = roots[0] if len(roots) == 1 else " + ".join(roots)
    prepare.check_options(image_size, square, root)
    layout, found, unlabelled = gather_frames(roots)
    chosen = select_frames(found, frames, root)
    assignment = assign_patients(sorted({f.patient for f in chosen}), split, fractions, seed, root)
    chosen = [f for f in chosen if any(f.patient in members for members in assignment.values())]
    class_names = CLASS_NAMES[:num_classes] + [f"class_{i}" for i in range(4, num_classes)]

    key = cache_key(chosen, image_size, frames, num_classes, square, assignment)
    cache = Path(cache_dir) / f"acdc-{key}.npz" if cache_dir else None
    stored = read_cache(cache, assignment, class_names)
    if stored is not None:
        return stored
    images, labels, subjects = prepare_frames(chosen, num_classes, image_size, square)
    info = {
        "dataset": "acdc",
        "layout": layout,
        "root": roots[0] if len(roots) == 1 else roots,
        "frames": frames,
        "patients": len({f.patient for f in chosen}),
        "frame_files": len(chosen),
        "slices": len(labels),
        "unlabelled_frames": unlabelled,
        "image_size": image_size,
        "square": square,
        "normalisation": "per slice: clip 1st-99th percentile, scale to 0-1",
        "assignment": assignment,
    }
    if cache is not None:
        write_cache(cache, cache_dir, images, labels, subjects, info)
    return prepare.assemble(images, labels, subjects, assignment, class_names, info | {"cached": False})


def gather_frames(roots: list[str]) -> tuple[str, list[Frame], int]:
    """`find_frames` over every root, read as one set: one layout, each patient's frame in one root only."""
    layout, found, unlabelled = None, [], 0
    for folder in roots:
        if not Path(folder).is_dir():
            raise DataError(
                f"{folder}: ACDC folder not found - set data.root to the folder holding patientNNN/ or patientNNN_frameFF.h5"
            )
        kind, frames_here, skipped = find_frames(Path(folder))
        if layout not in (None, kind):
            raise DataError(
                f"{folder}: holds {kind} frames, the other roots {layout} - list folders of one layout in data.root"
            )
        clash = {(f.patient, f.number) for f in found} & {(f.patient, f.number) for f in frames_here}
        if clash:
            patient, number = sorted(clash)[0]
            raise DataError(
                f"{folder}: {patient} frame {number:02d} is also in another data.root folder - list each patient's folder once"
            )
        layout, found, unlabelled = (
            kind,
            sorted(found + frames_here, key=lambda f: (f.patient, f.number)),
            unlabelled + skipped,
        )
    return layout, found, unlabelled


def prepare_frames(chosen: list[Frame], num_classes: int, image_size, square: str):
    """Every slice of the chosen frames, read and prepared: images, labels and their patients."""
    images, labels, subjects = [], [], []
    for frame in chosen:
        volume, mask = read_frame(frame, num_classes)
        for image_slice, label_slice in zip(volume, mask, strict=True):
            image, label = prepare.prepare_pair(image_slice, label_slice, image_size, square)
            images.append(image)
            labels.append(label)
            subjects.append(frame.patient)
    return np.stack(images), np.stack(labels), np.array(subjects)


def read_cache(cache: Path | None, assignment: dict, class_names: list) -> SegmentationData | None:
    """The prepared arrays kept under ``cache``, or None (no cache, or a broken file: rebuilt)."""
    if cache is None or not cache.exists():
        return None
    try:
        with np.load(cache, allow_pickle=False) as stored:
            info = json.loads(str(stored["info"])) | {"cached": True}
            return prepare.assemble(
                stored["images"], stored["labels"], stored["subjects"], assignment, class_names, info
            )
    except (OSError, ValueError, KeyError):
        return None  # a broken cache file is rebuilt


def write_cache(cache: Path, cache_dir: str, images, labels, subjects, info: dict) -> None:
    """Keep the prepared arrays under ``cache`` (written aside, then moved in place)."""
    partial = cache.with_name(f"{cache.stem}.{os.getpid()}.partial")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as handle:
            np.savez(handle, images=images, labels=labels, subjects=subjects, info=json.dumps(info))
        os.replace(partial, cache)
    except OSError as error:
        raise DataError(
            f"{cache_dir}: cannot write the cache ({one_line(error)}) - make it writable or unset data.cache_dir"
        ) from error


def find_frames(root: Path) -> tuple[str, list[Frame], int]:
    """Return the layout, the labelled frames sorted by patient and frame, and the count of unlabelled ones."""
    images: dict[tuple[str, int], Path] = {}
    labels: dict[tuple[str, int], Path] = {}
    h5: dict[tuple[str, int], Path] = {}
    for path in sorted(root.rglob("patient*")):
        nifti_match, h5_match = NIFTI_FILE.match(path.name), H5_FILE.match(path.name)
        match = nifti_match or h5_match
        if not match or not path.is_file():
            continue
        key = (f"patient{int(match[1]):03d}", int(match[2]))
        table = h5 if h5_match else labels if match[3] else images
        if key in table:
            raise DataError(f"{path}: duplicate of {table[key]} - keep one copy of each frame under {root}")
        table[key] = path
    if (images or labels) and h5:
        raise DataError(f"{root}: holds both NIfTI and h5 frames - point data.root at one of the two folders")
    if h5:
        return "h5", [Frame(p, n, path, None) for (p, n), path in sorted(h5.items())], 0
    for key, path in labels.items():
        if key not in images:
            raise DataError(
                f"{path}: label has no image {path.name.replace('_gt', '')} - add the image or remove the label"
            )
    if not images:
        raise DataError(
            f"{root}: no ACDC frames found (patientNNN/patientNNN_frameFF.nii.gz + _gt, "
            "or patientNNN_frameFF.h5 volumes) - point data.root at the ACDC training folder"
        )
    paired = [Frame(p, n, path, labels[(p, n)]) for (p, n), path in sorted(images.items()) if (p, n) in labels]
    if not paired:
        raise DataError(
            f"{root}: none of the {len(images)} NIfTI frames has a _gt label file - use the labelled ACDC training set"
        )
    return "nifti", paired, len(images) - len(paired)


def select_frames(found: list[Frame], frames: str, root: str) -> list[Frame]:
    """Keep all frames, or only end-diastole ("ed") or end-systole ("es") from Info.cfg (else first/last frame)."""
    mode = str(frames).lower()
    if mode == "all":
        return found
    if mode not in ("ed", "es"):
        raise DataError(f"{root}: frames {frames!r} is not all, ed or es - set data.frames")
    keep = []
    for patient in sorted({f.patient for f in found}):
        own = [f for f in found if f.patient == patient]
        info_cfg = own[0].image.parent / "Info.cfg"
        text = info_cfg.read_text(errors="replace") if info_cfg.is_file() else ""
        phase = re.search(rf"^{mode.upper()}\s*:\s*(\d+)", text, re.MULTILINE)
        number = int(phase[1]) if phase else (own[0].number if mode == "ed" else own[-1].number)
        keep += [f for f in own if f.number == number]
    return keep


def assign_patients(patients: list[str], split, fractions, seed: int, root: str) -> dict[str, list[str]]:
    """Resolve an explicit ``split`` (ints, "patient007" or "1-6") or cut the patients with ``split_by_subject``."""
    if split is None:
        train, val, test = split_by_subject(patients, tuple(fractions), seed)
        assignment = {"train": sorted(train), "val": sorted(val), "test": sorted(test)}
        prepare.check_assignment(
            assignment, root, f"{len(patients)} patients are too few for fractions {tuple(fractions)}; add patients"
        )
        return assignment
    if not isinstance(split, Mapping) or sorted(split) != ["test", "train", "val"]:
        raise DataError(f"{root}: split must map exactly train, val and test to patient lists - fix data.split")
    assignment = {}
    for name in ("train", "val", "test"):
        value = split[name]
        items = [value] if isinstance(value, (str, int)) else list(value or [])
        members = []
        for item in items:
            match = PATIENTS.fullmatch(str(item).strip())
            if isinstance(item, bool) or not match:
                raise DataError(
                    f"{root}: split.{name} entry {item!r} is not a patient number, patientNNN or a range like 1-6 - fix data.split"
                )
            first, last = int(match[1]), int(match[2] or match[1])
            members += [f"patient{i:03d}" for i in range(first, last + 1)]
        missing = [m for m in members if m not in patients]
        if missing:
            raise DataError(
                f"{root}: split.{name} names {missing[0]}, which has no labelled frames here - fix data.split or data.root"
            )
        assignment[name] = sorted(set(members))
    prepare.check_assignment(assignment, root, "list at least one patient in data.split")
    return assignment


def cache_key(
    chosen: list[Frame], image_size: int, frames: str, num_classes: int, square: str, assignment: dict
) -> str:
    """Hash of every input that changes the prepared arrays: files (path, size, mtime) and the options."""
    files = []
    for path in sorted({p for f in chosen for p in (f.image, f.label) if p is not None}):
        stat = path.stat()
        files.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
    payload = [CACHE_VERSION, files, image_size, str(frames).lower(), num_classes, square, assignment]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _is_listlike(value) -> bool:
    """An OmegaConf ListConfig (a YAML list in data.root) without importing omegaconf here."""
    return not isinstance(value, (str, bytes, os.PathLike)) and hasattr(value, "__iter__") and hasattr(value, "__len__")
