"""The packed ACDC file (`lossbench.data.packed`, `python -m tools.pack_acdc`): what travels to a GPU machine
reads back as what the h5 loader makes, and a wrong or missing file is one line."""

from pathlib import Path

import numpy as np
import pytest
from test_acdc import SAMPLE, h5_root

from lossbench.data import acdc, packed
from lossbench.errors import DataError
from tools import pack_acdc

TRAIN = Path(__file__).parents[2] / "shared/data/acdc-train"
STEP = 0.5 / packed.SCALE + 1e-7  # the most a stored image value may be off


def same(a, b) -> None:
    """Two `SegmentationData`: the same slices, labels, patients and split; images within half a step."""
    assert a.class_names == b.class_names and a.info["assignment"] == b.info["assignment"]
    for name in ("train", "val", "test"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.images.shape == y.images.shape and x.images.dtype == y.images.dtype == np.float32
        assert np.array_equal(x.labels, y.labels) and np.array_equal(x.subjects, y.subjects)
        assert float(np.abs(x.images - y.images).max()) <= STEP
    assert a.info["train_class_shares"] == b.info["train_class_shares"]


def test_a_packed_file_reads_back_what_the_loader_made(tmp_path):
    root = h5_root(tmp_path / "h5", patients=5)
    split = {"train": [1, 2, 3], "val": [4], "test": [5]}
    out = tmp_path / "packed.npz"
    assert pack_acdc.main(["--root", str(root), "--size", "16", "--out", str(out)]) == 0
    same(packed.load(str(out), 16, split=split), acdc.load(str(root), 16, split=split))
    seeded = packed.load(str(out), 16, seed=3)  # no split: the loader's seeded fractions, the same patients
    assert seeded.info["assignment"] == acdc.load(str(root), 16, seed=3).info["assignment"]


def test_a_missing_wrong_or_broken_file_is_one_line(tmp_path):
    root = h5_root(tmp_path / "h5", patients=3)
    out = tmp_path / "packed.npz"
    pack_acdc.main(["--root", str(root), "--size", "16", "--out", str(out)])
    cases = [
        (tmp_path / "none.npz", 16, 4, "not found - write it with `python -m tools.pack_acdc"),
        (out, 32, 4, "holds 16x16 slices, data.image_size is 32 - set data.image_size=16"),
        (out, 16, 3, "holds 4 classes, data.num_classes is 3"),
    ]
    broken = tmp_path / "broken.npz"
    broken.write_bytes(out.read_bytes()[:1000])
    cases.append((broken, 16, 4, "not a packed data file"))
    for file, size, classes, message in cases:
        with pytest.raises(DataError) as caught:
            packed.load(str(file), size, num_classes=classes)
        assert message in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(DataError, match="outside 0-1"):
        packed.write(tmp_path / "x.npz", np.full((1, 2, 2), 1.5, np.float32), np.zeros((1, 2, 2)), ["p"], {})
    assert pack_acdc.main(["--root", str(tmp_path / "nowhere"), "--out", str(tmp_path / "y.npz")]) == 2


@pytest.mark.skipif(
    not (TRAIN / "h5").is_dir() or not (SAMPLE / "h5").is_dir(),
    reason="ACDC patients 011-050 not at ../shared/data/acdc-train (or the sample missing)",
)
def test_the_gpu_experiment_trains_on_the_fifty_patients_of_acdc50_at_128_px(tmp_path):
    """``+experiment=acdc50_gpu`` composed as a sweep composes it, its file packed by the tool: the same
    50 patients, 35/5/10 split and slices as ``data=acdc`` reading the h5 files at 128 px."""
    from hydra.utils import instantiate

    from lossbench import config

    out = tmp_path / "acdc50-128.npz"
    assert pack_acdc.main(["--size", "128", "--out", str(out)]) == 0
    cfg = config.compose(["+experiment=acdc50_gpu", f"data.file={out}"])
    assert (cfg.data.image_size, cfg.model.base, cfg.trainer.backend) == (128, 32, "jax")
    from_file = instantiate(cfg.data.loader)
    split = dict(cfg.data.loader.split)
    from_h5 = acdc.load([str(SAMPLE / "h5"), str(TRAIN / "h5")], 128, split={k: list(v) for k, v in split.items()})
    same(from_file, from_h5)
    assert [len(from_file.info["assignment"][k]) for k in ("train", "val", "test")] == [35, 5, 10]
    assert out.stat().st_size < 40 * 2**20  # travels with the wheels within the device's 64 MiB
