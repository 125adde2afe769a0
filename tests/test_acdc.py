"""ACDC loader: the real sample (both layouts) and one generated bad file per failure."""

from pathlib import Path

import h5py
import nibabel
import numpy as np
import pytest

from lossbench.data import acdc
from lossbench.errors import DataError

SAMPLE = Path(__file__).parents[2] / "shared/data/acdc-sample"
EXPLICIT = {"train": [1, 2, 3, 4, 5, 6], "val": [7, 8], "test": [9, 10]}
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f"ACDC sample not found at {SAMPLE}")


@pytest.fixture(scope="module")
def h5_data():
    return acdc.load(str(SAMPLE / "h5"), image_size=64)


@needs_sample
def test_h5_layout_shapes_dtypes_and_labels(h5_data):
    assert h5_data.info["layout"] == "h5"
    assert h5_data.info["patients"] == 10 and h5_data.info["frame_files"] == 20
    assert h5_data.class_names == ["background", "rv", "myocardium", "lv"]
    for split in (h5_data.train, h5_data.val, h5_data.test):
        assert split.images.shape[1:] == (64, 64, 1) and split.images.dtype == np.float32
        assert split.labels.shape == split.images.shape[:3] and split.labels.dtype == np.uint8
        assert set(np.unique(split.labels)) <= {0, 1, 2, 3}
        assert 0.0 <= split.images.min() and split.images.max() <= 1.0
    assert sum(len(s) for s in (h5_data.train, h5_data.val, h5_data.test)) == h5_data.info["slices"]


@needs_sample
def test_split_is_by_patient_and_background_dominates(h5_data):
    train, val, test = (set(s.subjects.tolist()) for s in (h5_data.train, h5_data.val, h5_data.test))
    assert not (train & val or train & test or val & test)
    assert len(train | val | test) == 10
    for name in ("train", "val", "test"):
        assert h5_data.class_shares(name)[0] > 0.9
        assert h5_data.info[f"{name}_class_shares"]["background"] > 0.9


@needs_sample
def test_explicit_split_on_h5():
    data = acdc.load(
        str(SAMPLE / "h5"), image_size=32, split={"train": "1-6", "val": [7, "patient008"], "test": [9, 10]}
    )
    for name, patients in EXPLICIT.items():
        assert set(getattr(data, name).subjects.tolist()) == {f"patient{i:03d}" for i in patients}
    assert data.info["assignment"]["val"] == ["patient007", "patient008"]


@needs_sample
def test_nifti_layout_matches_h5_for_the_same_patients():
    split = {"train": [1], "val": [2], "test": [3]}
    nifti = acdc.load(str(SAMPLE / "nifti"), image_size=64, split=split)
    h5 = acdc.load(str(SAMPLE / "h5"), image_size=64, split=split)
    assert nifti.info["layout"] == "nifti" and nifti.info["patients"] == 3
    for name in ("train", "val", "test"):
        assert np.array_equal(getattr(nifti, name).labels, getattr(h5, name).labels)
        np.testing.assert_allclose(getattr(nifti, name).images, getattr(h5, name).images, atol=1e-6)
    assert set(np.unique(nifti.train.labels)) == {0, 1, 2, 3}


@needs_sample
def test_end_diastole_only_keeps_one_frame_per_patient(h5_data):
    ed = acdc.load(str(SAMPLE / "h5"), image_size=32, frames="ed")
    assert ed.info["frame_files"] == 10
    assert ed.info["slices"] < h5_data.info["slices"]


@needs_sample
def test_second_load_reads_the_cache(tmp_path, monkeypatch):
    first = acdc.load(str(SAMPLE / "h5"), image_size=32, cache_dir=str(tmp_path))
    assert first.info["cached"] is False
    assert len(list(tmp_path.glob("acdc-*.npz"))) == 1

    def no_reading(*args):
        raise AssertionError("source files were read despite the cache")

    monkeypatch.setattr(acdc, "read_frame", no_reading)
    second = acdc.load(str(SAMPLE / "h5"), image_size=32, cache_dir=str(tmp_path))
    assert second.info["cached"] is True
    for name in ("train", "val", "test"):
        assert np.array_equal(getattr(first, name).images, getattr(second, name).images)
        assert np.array_equal(getattr(first, name).labels, getattr(second, name).labels)
    with pytest.raises(AssertionError, match="despite the cache"):  # another size is another key
        acdc.load(str(SAMPLE / "h5"), image_size=48, cache_dir=str(tmp_path))


# --- generated bad data -------------------------------------------------------------------


def volume(slices=2, size=(12, 10), label_value=3):
    image = np.random.default_rng(0).random((slices, *size)).astype(np.float32)
    label = np.zeros((slices, *size), np.uint8)
    label[:, 4:8, 3:7] = label_value
    return image, label


def write_h5(folder, patient, frame=1, image=None, label=None):
    default_image, default_label = volume()
    path = folder / f"patient{patient:03d}_frame{frame:02d}.h5"
    with h5py.File(path, "w") as handle:
        handle["image"] = default_image if image is None else image
        if label is not False:
            handle["label"] = default_label if label is None else label
    return path


def write_nifti(folder, patient, frame=1, image=None, label=None):
    default_image, default_label = volume()
    folder = folder / f"patient{patient:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"patient{patient:03d}_frame{frame:02d}"
    for array, suffix in (
        (default_image if image is None else image, ".nii.gz"),
        (default_label if label is None else label, "_gt.nii.gz"),
    ):
        nibabel.save(nibabel.Nifti1Image(np.transpose(array, (1, 2, 0)), np.eye(4)), f"{stem}{suffix}")
    return stem


def h5_root(tmp_path, patients=3):
    tmp_path.mkdir(parents=True, exist_ok=True)
    for patient in range(1, patients + 1):
        write_h5(tmp_path, patient)
    return tmp_path


def raises(root, *fragments, **kwargs):
    with pytest.raises(DataError) as caught:
        acdc.load(str(root), image_size=16, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and " - " in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_generated_layouts_load(tmp_path):
    assert acdc.load(str(h5_root(tmp_path / "h5")), image_size=16).info["layout"] == "h5"
    for patient in (1, 2, 3):
        write_nifti(tmp_path / "nifti" / "training", patient)
    (tmp_path / "nifti" / "training" / "patient001" / "patient001_4d.nii.gz").write_bytes(b"ignored")
    data = acdc.load(str(tmp_path / "nifti"), image_size=16)
    assert data.info["layout"] == "nifti" and data.info["slices"] == 6


def test_missing_root_and_no_files(tmp_path):
    raises(tmp_path / "absent", "absent", "data.root")
    (tmp_path / "notes.txt").write_text("nothing here")
    raises(tmp_path, str(tmp_path), "no ACDC frames")


def test_truncated_nifti(tmp_path):
    image, label = volume(slices=4, size=(64, 64))
    for patient in (1, 2, 3):
        write_nifti(tmp_path, patient, image=image, label=label)
    broken = tmp_path / "patient002" / "patient002_frame01.nii.gz"
    whole = broken.read_bytes()
    broken.write_bytes(whole[:60])
    raises(tmp_path, "patient002_frame01.nii.gz", "cannot read NIfTI")
    broken.write_bytes(whole[: len(whole) // 2])  # header intact, voxel data cut
    raises(tmp_path, "patient002_frame01.nii.gz", "cannot read NIfTI", "EOFError")


def test_truncated_and_incomplete_h5(tmp_path):
    broken = write_h5(h5_root(tmp_path), 2)
    broken.write_bytes(broken.read_bytes()[:500])
    raises(tmp_path, "patient002_frame01.h5", "cannot read h5")
    write_h5(tmp_path, 2, label=False)
    raises(tmp_path, "patient002_frame01.h5", "'label'")


def test_shape_mismatch(tmp_path):
    image, _ = volume()
    write_h5(h5_root(tmp_path / "h5"), 3, image=image[:, :, :9])
    raises(tmp_path / "h5", "patient003_frame01.h5", "differs from image shape")
    for patient in (1, 2, 3):
        write_nifti(tmp_path / "nifti", patient, label=volume(size=(12, 11))[1] if patient == 2 else None)
    raises(tmp_path / "nifti", "patient002_frame01_gt.nii.gz", "(12, 11, 2) differs from image shape (12, 10, 2)")


def test_label_value_too_high_and_nan_image(tmp_path):
    write_h5(h5_root(tmp_path / "labels"), 2, label=volume(label_value=7)[1])
    raises(tmp_path / "labels", "patient002_frame01.h5", "label value 7 >= num_classes 4")
    image, _ = volume()
    image[0, 0, 0] = np.nan
    for patient in (1, 2, 3):
        write_nifti(tmp_path / "nan", patient, image=image if patient == 1 else None)
    raises(tmp_path / "nan", "patient001_frame01.nii.gz", "NaN")


def test_empty_split_and_bad_split(tmp_path):
    raises(h5_root(tmp_path / "two", patients=2), "two", "split has no subjects")
    root = h5_root(tmp_path / "three")
    raises(root, "three", "val split has no subjects", split={"train": [1, 2, 3], "val": [], "test": []})
    raises(root, "patient009", split={"train": [1], "val": [2], "test": [9]})
    raises(root, "patient001", "both", split={"train": [1], "val": [1], "test": [3]})
    raises(root, "data.frames", frames="mid")


def test_label_without_image_and_mixed_layouts(tmp_path):
    for patient in (1, 2, 3):
        write_nifti(tmp_path, patient)
    (tmp_path / "patient003" / "patient003_frame01.nii.gz").unlink()
    raises(tmp_path, "patient003_frame01_gt.nii.gz", "has no image")
    write_nifti(tmp_path, 3)
    write_h5(tmp_path, 4)
    raises(tmp_path, "both NIfTI and h5")


TRAIN = Path(__file__).parents[2] / "shared/data/acdc-train"


def test_several_roots_read_as_one_set_and_clashes_are_refused(tmp_path):
    for name in "abc":
        (tmp_path / name).mkdir()
    for patient in (1, 2):
        write_h5(tmp_path / "a", patient)
    for patient in (3, 4):
        write_h5(tmp_path / "b", patient)
    data = acdc.load(
        [str(tmp_path / "a"), str(tmp_path / "b")], image_size=16, split={"train": [1, 2], "val": 3, "test": 4}
    )
    assert data.info["patients"] == 4 and data.info["root"] == [str(tmp_path / "a"), str(tmp_path / "b")]
    write_h5(tmp_path / "c", 2)
    with pytest.raises(DataError, match="patient002 frame 01 is also in another data.root folder"):
        acdc.load([str(tmp_path / "a"), str(tmp_path / "c")], image_size=16)
    with pytest.raises(DataError, match="empty list"):
        acdc.load([], image_size=16)


@pytest.mark.skipif(
    not (TRAIN / "h5").is_dir() or not (SAMPLE / "h5").is_dir(),
    reason="ACDC patients 011-050 not at ../shared/data/acdc-train (or the sample missing)",
)
def test_fifty_patients_load_with_the_acdc50_split():
    """The real-hearts experiment's data: 50 patients, the fixed 35/5/10 split of conf/experiment/acdc50.yaml."""
    from omegaconf import OmegaConf

    split = OmegaConf.to_container(
        OmegaConf.load(Path(__file__).parents[1] / "conf/experiment/acdc50.yaml").data.loader.split
    )
    data = acdc.load([str(SAMPLE / "h5"), str(TRAIN / "h5")], image_size=32, split=split)
    assert data.info["patients"] == 50 and data.info["frame_files"] == 100
    assert [len(data.info["assignment"][k]) for k in ("train", "val", "test")] == [35, 5, 10]
    assert set(np.unique(data.test.labels)) == {0, 1, 2, 3}
    assert 0.93 < data.info["train_class_shares"]["background"] < 0.97
