"""Image/mask folder loader and the shared slice preparation, on generated image files (and CamVid when present)."""

from pathlib import Path

import hydra.utils
import numpy as np
import pytest
from omegaconf import OmegaConf
from PIL import Image

from lossbench.data import VOID, folders
from lossbench.data.prepare import normalise_slice, resize_pair, to_square
from lossbench.errors import DataError

PATTERN = r"^(case\d+)_"


def make_folders(root, subjects=6, slices=2, size=(20, 30)):
    """case01_s0.png ... with grey images and L-mode masks holding 0, 1 and 2."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for subject in range(1, subjects + 1):
        for index in range(slices):
            stem = f"case{subject:02d}_s{index}"
            Image.fromarray(rng.integers(0, 255, size, dtype=np.uint8)).save(root / "images" / f"{stem}.png")
            mask = np.zeros(size, np.uint8)
            mask[5:15, 5:12], mask[5:15, 18:25] = 1, 2
            Image.fromarray(mask).save(root / "masks" / f"{stem}.png")
    return root


def raises(root, *fragments, **kwargs):
    options = {"num_classes": 3, "image_size": 16, "subject_pattern": PATTERN} | kwargs
    with pytest.raises(DataError) as caught:
        folders.load(str(root), **options)
    message = str(caught.value)
    assert "\n" not in message and " - " in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_png_folders_load_split_by_subject(tmp_path):
    data = folders.load(str(make_folders(tmp_path)), num_classes=3, image_size=16, subject_pattern=PATTERN)
    assert data.class_names == ["background", "class_1", "class_2"]
    parts = [data.train, data.val, data.test]
    assert sum(len(p) for p in parts) == 12
    subjects = [set(p.subjects.tolist()) for p in parts]
    assert all(subjects) and not (subjects[0] & subjects[1] or subjects[0] & subjects[2] or subjects[1] & subjects[2])
    for part in parts:
        assert part.images.shape[1:] == (16, 16, 1) and part.images.dtype == np.float32
        assert part.labels.dtype == np.uint8 and set(np.unique(part.labels)) == {0, 1, 2}
        assert len(part) == 2 * len(set(part.subjects.tolist()))  # both slices of a subject stay together
    assert data.info["subjects"] == 6 and data.info["train_class_shares"]["background"] > 0.5


def test_without_pattern_each_file_is_a_subject(tmp_path):
    data = folders.load(str(make_folders(tmp_path)), num_classes=3, image_size=16, class_names=["bg", "a", "b"])
    assert data.info["subjects"] == 12 and data.class_names == ["bg", "a", "b"]


def test_npy_images_with_palette_masks_keep_class_ids(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "lab").mkdir()
    mask = np.zeros((16, 16), np.uint8)
    mask[:, 8:] = 2
    for index in range(3):
        np.save(tmp_path / "img" / f"slice{index}.npy", np.linspace(0, 100, 256).reshape(16, 16))
        palette = Image.fromarray(mask, mode=None).convert("P")
        palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
        palette.save(tmp_path / "lab" / f"slice{index}.png")
    data = folders.load(str(tmp_path), num_classes=3, image_size=16, images="img", masks="lab")
    assert np.array_equal(data.train.labels[0], mask)
    assert data.train.images.min() == 0.0 and data.train.images.max() == 1.0


def test_prepare_helpers():
    image = np.arange(200, dtype=np.float32).reshape(10, 20)
    scaled = normalise_slice(image)
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert not normalise_slice(np.full((4, 4), 5.0)).any()
    assert to_square(image).shape == (10, 10) and to_square(image)[0, 0] == image[0, 5]
    padded = to_square(image, "pad")
    assert padded.shape == (20, 20) and padded[:5].sum() == 0 and np.array_equal(padded[5:15], image)
    label = np.zeros((10, 10), np.uint8)
    label[:, 5:] = 3
    small_image, small_label = resize_pair(np.ones((10, 10)), label, 4)
    assert small_image.shape == (4, 4) and np.allclose(small_image, 1.0)
    assert np.array_equal(small_label, np.array([[0, 0, 3, 3]] * 4))


def test_missing_folders_and_no_files(tmp_path):
    raises(tmp_path / "absent", "absent/images", "data.loader.images")
    (tmp_path / "images").mkdir()
    raises(tmp_path, "masks", "data.loader.masks")
    (tmp_path / "masks").mkdir()
    (tmp_path / "images" / "readme.txt").write_text("not an image")
    raises(tmp_path, "images", "no .png or .npy files")


def test_unpaired_files(tmp_path):
    root = make_folders(tmp_path)
    (root / "masks" / "case03_s1.png").rename(root / "masks" / "case03_s9.png")
    raises(root, "case03_s1.png", "no mask named case03_s1")
    (root / "images" / "case03_s1.png").unlink()
    raises(root, "case03_s9.png", "no image named case03_s9")


def test_unreadable_and_mismatched_files(tmp_path):
    root = make_folders(tmp_path)
    (root / "images" / "case02_s0.png").write_bytes(b"\x89PNG not really")
    raises(root, "case02_s0.png", "cannot read file")
    Image.fromarray(np.zeros((20, 31), np.uint8)).save(root / "images" / "case02_s0.png")
    raises(root, "case02_s0.png", "(20, 30) differs from image shape (20, 31)")


def test_bad_label_values_and_colour_masks(tmp_path):
    root = make_folders(tmp_path)
    Image.fromarray(np.full((20, 30), 255, np.uint8)).save(root / "masks" / "case04_s1.png")
    raises(root, "case04_s1.png", "label value 255 is not a class id (0..2)", "data.ignore_index=255")
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(root / "masks" / "case04_s1.png")
    raises(root, "case04_s1.png", "single-channel")


def test_nan_image(tmp_path):
    root = make_folders(tmp_path)
    image = np.zeros((20, 30), np.float32)
    image[3, 3] = np.nan
    (root / "images" / "case05_s0.png").unlink()
    np.save(root / "images" / "case05_s0.npy", image)
    raises(root, "case05_s0.npy", "NaN")


def test_empty_split_bad_pattern_and_class_names(tmp_path):
    root = make_folders(tmp_path, subjects=2)
    raises(root, str(root), "split has no subjects", "data.subject_pattern")
    raises(root, "case01_s0.png", "does not match", subject_pattern=r"^(patient\d+)")
    raises(root, "not a valid regex", subject_pattern="(")
    raises(root, "2 class_names", class_names=["bg", "a"])


CAMVID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "camvid"  # read, never copied


def make_pairs(root, stems, write_image, size=(20, 30), border=None):
    """Masks with classes 0, 1, 2 (``border``: that value on the edge); ``write_image(path_stem, rng)`` per stem."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for stem in stems:
        write_image(root / "images" / stem, rng)
        mask = np.zeros(size, np.uint8)
        mask[5:15, 5:12], mask[5:15, 18:25] = 1, 2
        if border is not None:
            mask[0], mask[-1], mask[:, 0], mask[:, -1] = border, border, border, border
        Image.fromarray(mask).save(root / "masks" / f"{stem}.png")
    return root


def colour(stem, rng):
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(f"{stem}.png")


WRITERS = {  # format -> (writer, channels)
    "rgb_png": (colour, 3),
    "rgba_png": (lambda s, r: Image.fromarray(r.integers(0, 255, (20, 30, 4), dtype=np.uint8)).save(f"{s}.png"), 3),
    "rgb_jpeg": (lambda s, r: Image.fromarray(r.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(f"{s}.jpg"), 3),
    "grey_jpeg": (lambda s, r: Image.fromarray(r.integers(0, 255, (20, 30), dtype=np.uint8)).save(f"{s}.jpeg"), 1),
    "rgb_tiff": (lambda s, r: Image.fromarray(r.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(f"{s}.tif"), 3),
    "float_tiff": (lambda s, r: Image.fromarray(r.random((20, 30)).astype(np.float32)).save(f"{s}.tiff"), 1),
    "grey16_png": (lambda s, r: Image.fromarray(r.integers(0, 60000, (20, 30), dtype=np.uint16)).save(f"{s}.png"), 1),
    "grey16_tiff": (lambda s, r: Image.fromarray(r.integers(0, 60000, (20, 30), dtype=np.uint16)).save(f"{s}.tif"), 1),
    "npy_hwc": (lambda s, r: np.save(f"{s}.npy", r.random((20, 30, 4)) * [1, 10, 100, 1000]), 4),
    "npy_hw": (lambda s, r: np.save(f"{s}.npy", r.random((20, 30))), 1),
}
STEMS = [f"case{i:02d}_s0" for i in range(1, 7)]


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_images_keep_their_channels(tmp_path, kind):
    writer, channels = WRITERS[kind]
    data = folders.load(str(make_pairs(tmp_path, STEMS, writer)), num_classes=3, image_size=16)
    assert data.channels == channels and data.info["channels"] == channels
    for part in (data.train, data.val, data.test):
        assert part.images.shape[1:] == (16, 16, channels) and part.images.dtype == np.float32
        assert set(np.unique(part.labels)) == {0, 1, 2}
    per_channel = data.train.images.max(axis=(0, 1, 2))  # each channel scaled to 0-1 on its own
    assert (per_channel > 0.7).all() and per_channel.max() <= 1.0 and data.train.images.min() >= 0.0


def test_channel_mismatch_is_one_line(tmp_path):
    root = make_pairs(tmp_path, STEMS, colour)
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(root / "images" / "case04_s0.png")
    raises(root, "case04_s0.png: 1 channel where the first image (case01_s0.png) has 3", "convert it or remove it")


def test_void_becomes_255_and_pads_with_void(tmp_path):
    root = make_pairs(tmp_path, STEMS, colour, border=7)
    data = folders.load(str(root), num_classes=3, image_size=30, ignore_index=7, square="pad")
    labels = np.concatenate([data.train.labels, data.val.labels, data.test.labels])
    assert data.ignore_index == 7 and data.info["ignore_index"] == 7 and data.info["train_void_share"] > 0
    assert set(np.unique(labels)) == {0, 1, 2, VOID}
    assert (labels[:, :5] == VOID).all() and (labels[:, 5] == VOID).all()  # 5 padded rows, then the void border
    assert (labels[:, 6, 1:-1] != VOID).any() and data.train.images[:, :5].max() == 0.0
    plain = folders.load(str(make_pairs(tmp_path / "plain", STEMS, colour)), num_classes=3, image_size=30, square="pad")
    assert plain.ignore_index is None and (plain.train.labels[:, :5] == 0).all()  # without void: padded with 0
    raises(root, "ignore_index 2 is a class id (0..2)", ignore_index=2)
    raises(root, "not an integer in 2..255", ignore_index=300, num_classes=256)


def test_bad_mask_value_names_the_fix(tmp_path):
    root = make_pairs(tmp_path, STEMS, colour, border=255)
    raises(root, "case01_s0.png: label value 255 is not a class id (0..2)", "set data.ignore_index=255 if it marks")
    raises(root, "label value 255 is not a class id", "data.ignore_index=255", ignore_index=9)
    assert folders.load(str(root), num_classes=3, image_size=16, ignore_index=255).info["train_void_share"] > 0


def test_background_null_and_checked(tmp_path):
    root = make_pairs(tmp_path, STEMS, colour)
    data = folders.load(str(root), num_classes=3, image_size=16, background=None)
    assert data.background is None and data.class_names == ["class_0", "class_1", "class_2"]
    assert folders.load(str(root), num_classes=3, image_size=16).background == 0
    raises(root, "background 3 is not a class id (0..2)", "data.background", background=3)


def split_root(tmp_path):
    """Six frames of two sequences plus one unlisted frame and an unpaired image."""
    root = make_pairs(tmp_path, [f"seq{i // 4}_{i:03d}" for i in range(7)], colour)
    colour(root / "images" / "stray", np.random.default_rng(1))
    return root


def test_split_by_list_text_file_and_part(tmp_path, monkeypatch):
    root = split_root(tmp_path)
    (root / "val.txt").write_text("# time order\nseq0_002\n\nseq0_003\nseq1_004\nseq1_005\n")
    (tmp_path / "train_list.txt").write_text("images/seq0_000.png masks/seq0_000.png\nseq0_001.png\n")
    monkeypatch.chdir(tmp_path)  # a relative path not under root: the working directory
    split = {
        "train": "train_list.txt",
        "val": {"file": "val.txt", "part": [0, 0.5]},
        "test": {"file": str(root / "val.txt"), "part": [0.5, 1]},
    }
    data = folders.load(str(root), num_classes=3, image_size=16, split=split, subject_pattern=r"^([^_]+)_")
    assert data.info["assignment"] == {
        "train": ["seq0_000", "seq0_001"],
        "val": ["seq0_002", "seq0_003"],
        "test": ["seq1_004", "seq1_005"],
    }
    assert data.info["unused_files"] == 3 and list(data.train.subjects) == ["seq0", "seq0"]
    assert list(data.val.subjects) == ["seq0", "seq0"]  # a subject may sit in two splits: the user split it
    listed = {"train": ["seq0_000", "x/seq1_006.png"], "val": ["seq0_001"], "test": ["seq1_004"]}
    data = folders.load(str(root), num_classes=3, image_size=16, split=listed)
    assert list(data.train.subjects) == ["seq0_000", "seq1_006"] and len(data.val) == len(data.test) == 1


def test_split_problems_are_one_line(tmp_path):
    root = split_root(tmp_path)
    good = {"train": ["seq0_000"], "val": ["seq0_001"], "test": ["seq0_002"]}
    raises(root, "split.train (item 2) names stray, which has no mask", split=good | {"train": ["seq0_000", "stray"]})
    raises(root, "names nothing, which has no image and no mask", split=good | {"val": ["nothing"]})
    raises(root, "seq0_001 is listed in both split.val and split.test", split=good | {"test": ["seq0_001"]})
    raises(root, "split.test (list of 0) lists no files", split=good | {"test": []})
    (root / "empty.txt").write_text("# nothing yet\n")
    raises(root, "empty.txt) lists no files", split=good | {"test": "empty.txt"})
    raises(root, "missing.txt: split.val text file not found", split=good | {"val": "missing.txt"})
    raises(root, "part [0.5, 0.2] is not [from, to]", split=good | {"val": {"file": "empty.txt", "part": [0.5, 0.2]}})
    raises(root, "must map exactly train, val and test", split={"train": ["seq0_000"]})


def test_rectangular_sizes_and_square_resize(tmp_path):
    root = make_pairs(tmp_path, STEMS, colour)
    data = folders.load(str(root), num_classes=3, image_size=[10, 15], ignore_index=9)
    assert data.train.images.shape[1:] == (10, 15, 3) and data.train.labels.shape[1:] == (10, 15)
    assert data.info["image_size"] == [10, 15] and (data.train.labels != VOID).all()  # no padding
    first = Image.open(root / "masks" / f"{data.train.subjects[0]}.png")
    assert np.array_equal(data.train.labels[0], np.asarray(first.resize((15, 10), Image.NEAREST)))  # no crop
    stretched = folders.load(str(root), num_classes=3, image_size=16, square="resize", subject_pattern=PATTERN)
    assert stretched.train.labels.shape[1:] == (16, 16) and stretched.info["square"] == "resize"
    whole = np.asarray(first.resize((16, 16), Image.NEAREST))  # the whole mask, stretched (no crop)
    assert all(np.array_equal(labels, whole) for labels in stretched.train.labels)
    raises(root, "image_size [10] is not [height, width]", "set data.image_size", image_size=[10])
    raises(root, "image_size [10, 4] is not [height, width]", image_size=[10, 4])


def test_camvid_loads_with_its_own_split():
    if not (CAMVID / "train.txt").is_file():
        pytest.skip(f"CamVid not found at {CAMVID}")
    cfg = OmegaConf.load(Path(__file__).resolve().parents[1] / "conf" / "data" / "camvid.yaml")
    cfg.root = str(CAMVID)
    data = hydra.utils.instantiate(cfg.loader)
    assert (len(data.train), len(data.val), len(data.test)) == (367, 51, 50)
    assert data.channels == 3 and data.train.images.shape[1:] == (48, 64, 3)
    assert data.background is None and data.ignore_index == 11 and data.num_classes == 11
    assert 0.01 < data.info["train_void_share"] < 0.06 and data.info["unused_files"] == 0
    val, test = data.info["assignment"]["val"], data.info["assignment"]["test"]
    assert max(val) < min(test)  # two time-contiguous halves of val.txt
    assert set(data.test.subjects.tolist()) == {"0016E5"}


def test_padding_needs_a_background_or_a_void_label(tmp_path):
    make_folders(tmp_path)
    raises(tmp_path, "square=pad needs a label for the padding", "data.ignore_index", square="pad", background=None)
