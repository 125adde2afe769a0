"""How `lossbench.data.folders` splits its files into train / validation / test.

``subjects_by_stem`` names the subject of every file (the first group of
``subject_pattern``, or the stem). Without a split, `seeded` cuts the subjects
with seeded fractions (never a subject across two splits). With the data set's
own split, `resolve` takes the files as listed.

``split`` maps exactly ``train``, ``val`` and ``test`` to an entry, each one of:

- a list of file stems, or of paths whose stem is taken (``a/b/NAME.png`` -> ``NAME``);
- a string: the path of a text file with one stem or path per line (blank
  lines and lines starting with ``#`` are ignored; a line ``IMAGE MASK``, as in
  SegNet's lists, counts by its first path); a relative path is looked up in
  the data root first, then in the working directory;
- a mapping ``{file: PATH, part: [a, b]}``: the lines of that file from
  fraction ``a`` to fraction ``b``, in file order (``part: [0, 0.5]`` is the
  first half, ``[0.5, 1]`` the second; the same rounding at the shared
  boundary, so the two halves neither overlap nor leave a line out).

`resolve` returns the stems of every split, in listed order, after checking
that every stem has an image and a mask, that no split is empty and that no
stem is listed twice; each problem is a one-line `DataError` naming the entry
and the fix.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from lossbench.data import prepare, split_by_subject
from lossbench.errors import DataError

SPLITS = ("train", "val", "test")
SUFFIXES = (".png", ".npy", ".jpg", ".jpeg", ".tif", ".tiff")  # stripped from listed paths
FIX = "fix data.loader.split"


def resolve(
    split, root: str, image_files: dict[str, Path], mask_files: dict[str, Path]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The stems of every split and a description of every entry (for ``info``)."""
    if not isinstance(split, Mapping) or sorted(str(key) for key in split) != sorted(SPLITS):
        keys = sorted(str(key) for key in split) if isinstance(split, Mapping) else repr(split)
        raise DataError(
            f"{root}: split {keys} must map exactly train, val and test to a list of stems, "
            f"a text file or {{file, part}} - {FIX}"
        )
    known = set(image_files) | set(mask_files)
    frames: dict[str, list[str]] = {}
    described: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in SPLITS:
        described[name], items = entry_items(split[name], name, root)
        stems = []
        for text, place in items:
            stem = to_stem(text, known)
            if stem in seen:
                where = "twice in" if seen[stem] == name else f"in both split.{seen[stem]} and"
                raise DataError(f"{root}: {stem} is listed {where} split.{name} ({place}) - list each file once")
            missing = [kind for kind, files in (("image", image_files), ("mask", mask_files)) if stem not in files]
            if missing:
                raise DataError(
                    f"{root}: split.{name} ({place}) names {stem}, which has no {' and no '.join(missing)} file "
                    f"- add the {' and '.join(missing)} or {FIX}"
                )
            seen[stem] = name
            stems.append(stem)
        if not stems:
            raise DataError(
                f"{root}: split.{name} ({described[name]}) lists no files - list at least one file or {FIX}"
            )
        frames[name] = stems
    return frames, described


def entry_items(entry, name: str, root: str) -> tuple[str, list[tuple[str, str]]]:
    """One split entry as (description, [(text, place), ...]), place naming the list item or file line."""
    if entry is None:
        return "null", []
    if isinstance(entry, str):
        path = find_text(entry, name, root)
        return str(path), read_lines(path)
    if isinstance(entry, Mapping):
        return part_items(entry, name, root)
    if isinstance(entry, Sequence) and not isinstance(entry, bytes):
        for index, item in enumerate(entry):
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                raise DataError(f"{root}: split.{name} item {index + 1} {item!r} is not a stem or path - {FIX}")
        return f"list of {len(entry)}", [(str(item), f"item {index + 1}") for index, item in enumerate(entry)]
    raise DataError(f"{root}: split.{name} {entry!r} is not a list of stems, a text file or {{file, part}} - {FIX}")


def part_items(entry: Mapping, name: str, root: str) -> tuple[str, list[tuple[str, str]]]:
    """The lines of ``entry["file"]`` from fraction ``part[0]`` to ``part[1]``, in file order."""
    keys = sorted(str(key) for key in entry)
    if "file" not in keys or not set(keys) <= {"file", "part"} or not isinstance(entry["file"], str):
        raise DataError(f"{root}: split.{name} {keys} is not {{file: PATH, part: [from, to]}} - {FIX}")
    part = entry.get("part", [0, 1])
    numbers = list(part) if isinstance(part, Sequence) and not isinstance(part, str) else []
    if (
        len(numbers) != 2
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in numbers)
        or not 0 <= numbers[0] < numbers[1] <= 1
    ):
        raise DataError(f"{root}: split.{name} part {part!r} is not [from, to] with 0 <= from < to <= 1 - {FIX}")
    path = find_text(entry["file"], name, root)
    lines = read_lines(path)
    first, last = (math.floor(x * len(lines) + 0.5) for x in numbers)  # half up, the same at a shared boundary
    return f"{path} part [{numbers[0]:g}, {numbers[1]:g}]", lines[first:last]


def find_text(text: str, name: str, root: str) -> Path:
    """The split file ``text``: as given when absolute, else under ``root``, else under the working directory."""
    path = Path(text).expanduser()
    candidates = [path] if path.is_absolute() else [Path(root) / path, Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    places = str(path) if path.is_absolute() else f"{root} nor in {Path.cwd()}"
    raise DataError(f"{text}: split.{name} text file not found in {places} - {FIX}")


def read_lines(path: Path) -> list[tuple[str, str]]:
    """The entries of a split file: (line, "PATH line N"), without blank lines and # comments."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        message = " ".join(f"{type(error).__name__}: {error}".split())[:200]
        raise DataError(f"{path}: cannot read the split file ({message}) - save it as UTF-8 text") from error
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            entries.append((line, f"{path} line {number}"))
    return entries


def to_stem(text: str, known: set[str]) -> str:
    """The file stem an entry names: itself if a known stem, else the stem of its (first) path."""
    text = text.strip()
    if text in known or not text:
        return text
    text = text.split()[0]  # "IMAGE MASK" lines: the image
    name = PurePosixPath(text.replace("\\", "/")).name
    stem, suffix = os.path.splitext(name)
    return stem if suffix.lower() in SUFFIXES and name not in known else name


def seeded(subject_of: dict[str, str], fractions, seed: int, root: str) -> dict[str, list[str]]:
    """Cut the subjects into train / val / test with ``seed`` and ``fractions``."""
    train, val, test = split_by_subject(list(subject_of.values()), tuple(fractions), seed)
    assignment = {"train": sorted(train), "val": sorted(val), "test": sorted(test)}
    count = len(set(subject_of.values()))
    prepare.check_assignment(
        assignment,
        root,
        f"{count} subjects are too few for fractions {tuple(fractions)}; add data or check data.subject_pattern",
    )
    return assignment


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
