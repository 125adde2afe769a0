"""`lossbench.data.volumes`: one ACDC frame read from NIfTI or h5, checked, or a one-line error."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ACDC_SAMPLE

from lossbench.data.acdc import Frame
from lossbench.data.volumes import one_line, read_frame, read_h5
from lossbench.errors import DataError

needs_sample = pytest.mark.skipif(not ACDC_SAMPLE.is_dir(), reason="the ACDC sample is not here")


@needs_sample
def test_a_nifti_and_an_h5_frame_read_as_slices():
    nifti = ACDC_SAMPLE / "nifti" / "patient001"
    image, label = read_frame(
        Frame("patient001", 1, nifti / "patient001_frame01.nii.gz", nifti / "patient001_frame01_gt.nii.gz"), 4
    )
    assert image.dtype == np.float32 and image.shape == label.shape and image.ndim == 3
    h5_image, h5_label = read_frame(Frame("patient001", 1, ACDC_SAMPLE / "h5" / "patient001_frame01.h5", None), 4)
    assert h5_image.ndim == 3 and h5_image.shape == h5_label.shape and set(np.unique(h5_label)) <= {0, 1, 2, 3}


def test_an_h5_file_without_a_label_is_one_line(tmp_path):
    import h5py

    path = tmp_path / "patient001_frame01.h5"
    with h5py.File(path, "w") as handle:
        handle["image"] = np.zeros((2, 8, 8))
    with pytest.raises(DataError, match="no 'label' dataset - store the volume as datasets 'image' and 'label'"):
        read_h5(path)


def test_one_line_is_the_type_and_a_short_message():
    assert one_line(ValueError("bad\n  thing")) == "ValueError: bad thing"
    assert len(one_line(OSError("x" * 500))) == 200
