"""Image/mask folder loader and the shared slice preparation, on generated PNG and .npy files."""

import numpy as np
import pytest
from PIL import Image

from lossbench.data import folders
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
    raises(root, "case04_s1.png", "label value 255 >= num_classes 3")
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
