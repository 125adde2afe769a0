"""The committed results belong to the current configs: each summary names the study its config names.

A study's name is the experiment plus a hash of the config that is not swept
(`lossbench.sweep.space.config_hash`). If a change to conf/ or to the hash renames a
study, ``python -m lossbench.report +experiment=X`` no longer finds the stores
behind results/X/ - this test says so before the results go stale.
"""

import re
from pathlib import Path

import pytest

from lossbench.sweep import space

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml"))
COMMITTED = {p.parent.name: p for p in (ROOT / "results").glob("*/summary.md")}


@pytest.mark.parametrize("name", [e for e in EXPERIMENTS if e in COMMITTED])
def test_committed_summary_names_the_study_of_the_current_config(compose_cfg, name):
    cfg = compose_cfg([f"+experiment={name}"])
    found = re.search(r"^- study `([\w-]+)-([0-9a-f]{8})`", COMMITTED[name].read_text(), re.M)
    assert found, f"results/{name}/summary.md names no study"
    assert found.group(1) == cfg.name == name
    sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
    assert space.config_hash(cfg, sp) == found.group(2), (
        f"conf/ now names another study than results/{name}/ - rerun the sweep or list the new setting "
        "in space.SINCE_ADDED at the value that reproduces the old runs"
    )


def test_most_experiments_have_committed_results():
    assert len([e for e in EXPERIMENTS if e in COMMITTED]) >= 6
