"""Settings outside conf/ (`lossbench.sweep.settings`): seeds, name, keys added with "+", the grid, each one line;
and from the command line: exit 2 and nothing created (the issue's cases, as a user types them)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, tiny
from omegaconf import OmegaConf

from lossbench.errors import UserError
from lossbench.sweep import settings

BAD = [
    (["sweep.seeds=[a]"], "sweep.seeds: 'a' is not a non-negative integer seed - e.g. sweep.seeds=[0,1,2]"),
    (["sweep.seeds=[-1]"], "sweep.seeds: -1 is not a non-negative integer seed"),
    (["sweep.seeds=[1.5]"], "sweep.seeds: 1.5 is not a non-negative integer seed"),
    (["sweep.seeds=[]"], "sweep.seeds=[] holds no seed"),
    (["sweep.seeds=[0,0]"], "sweep.seeds=[0, 0] repeats a seed"),
    (["name=a/b"], "name='a/b' is not a folder name"),
    (["name=.."], "name='..' is not a folder name"),
    (["+trainer.foo=1"], "+trainer.foo: trainer has no setting 'foo', so nothing would read it"),
    (["+sweep.seed=3"], "+sweep.seed: sweep has no setting 'seed'"),
    (["+foo=1"], "+foo: lossbench reads no setting 'foo'"),
]


@pytest.mark.parametrize(("overrides", "says"), BAD)
def test_a_bad_setting_is_one_line_naming_it(compose_cfg, overrides, says):
    cfg = compose_cfg(overrides)
    with pytest.raises(UserError) as error:
        settings.check(cfg, overrides)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_good_settings_pass_and_an_options_own_key_goes_to_its_object(compose_cfg):
    overrides = ["sweep.seeds=[0,1,2]", "name=my-sweep.v2", "+model.alpha=0.35", "+experiment=cmr"]
    settings.check(compose_cfg(overrides), overrides)
    settings.check(compose_cfg([]), [])  # seeds null: the space's own


def test_an_empty_grid_value_and_bad_seeds_in_the_sweep_file_are_refused():
    with pytest.raises(UserError, match="sweep file grid: loss lists no value"):
        settings.check_grid(OmegaConf.create({"grid": {"loss": []}, "seeds": [0]}))
    with pytest.raises(UserError, match="sweep file seeds: 'x' is not a non-negative integer seed"):
        settings.check_grid(OmegaConf.create({"grid": {"loss": ["dice"]}, "seeds": ["x"]}))


@pytest.mark.parametrize("bad", ["sweep.seeds=[a]", "+trainer.foo=1", "sweep.seeds=[-1]"])
def test_from_the_command_line_a_bad_setting_exits_2_and_creates_nothing(tmp_path, bad):
    results = tmp_path / "results"
    args = [*tiny(results), "sweep.space=cmr", "name=probe", bad]
    done = subprocess.run(
        [sys.executable, "-m", "lossbench.sweep", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2, done.stdout[-1500:] + done.stderr[-1500:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("lossbench: error:")]
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert not results.exists()  # no store, no folder
