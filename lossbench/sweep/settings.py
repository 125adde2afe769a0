"""The settings that do not come from a file of ``conf/``: seeds, the experiment's name, keys added with
``+``, the sweep file's grid. Each is checked before anything is stored (`lossbench.sweep.validate.check`),
so that a typo is one line and exit 2, never a traceback, a study poisoned by a bad seed, or a setting
silently ignored.
"""

from __future__ import annotations

import re

from omegaconf import DictConfig, ListConfig, OmegaConf

from lossbench.errors import UserError

# sections lossbench reads key by key: a key added there with "+" is read by nobody. The options' own
# sections (model, data, loss, ...) pass their keys on to the object they build (e.g. +model.alpha).
READ_BY_LOSSBENCH = ("trainer", "sweep", "tracking", "paths")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_seeds(seeds, where: str = "sweep.seeds") -> None:
    """Seeds are a non-empty list of distinct non-negative integers (``None``: the space's own)."""
    if seeds is None:
        return
    values = list(seeds) if isinstance(seeds, list | tuple | ListConfig) else [seeds]
    example = f"e.g. {where}=[0,1,2]"
    if not values:
        raise UserError(f"{where}=[] holds no seed - give at least one, {example}")
    for seed in values:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise UserError(f"{where}: {seed!r} is not a non-negative integer seed - {example}")
    if len(set(values)) != len(values):
        raise UserError(f"{where}={values} repeats a seed - list each seed once, {example}")


def check_name(cfg: DictConfig) -> None:
    """``name`` becomes a folder under paths.results and the MLflow experiment's prefix: one plain name."""
    name = str(cfg.get("name", ""))
    if not NAME.match(name) or ".." in name:
        raise UserError(
            f"name={name!r} is not a folder name - use letters, digits, '-', '_' and '.', e.g. name=my-sweep"
        )


def check_added(cfg: DictConfig, overrides) -> None:
    """A key added with ``+`` (or ``++``) where lossbench reads every key itself is refused, with the known ones."""
    for override in overrides or ():
        text = str(override)
        if not text.startswith("+"):
            continue
        key = text.lstrip("+").partition("=")[0]
        section = key.split(".")[0]
        if key == "experiment" or ("." in key and section not in READ_BY_LOSSBENCH):
            continue
        if "." not in key:
            known = "name and the groups " + ", ".join(k for k in cfg if k != "name")
            raise UserError(f"+{key}: lossbench reads no setting '{key}' - the top level holds {known}")
        node = OmegaConf.select(cfg, section)
        known = sorted(k for k in (node or {}) if k != key.split(".", 1)[1])
        raise UserError(
            f"+{key}: {section} has no setting '{key.split('.', 1)[1]}', so nothing would read it - "
            f"check its spelling; {section} holds {', '.join(known)}"
        )


def check_grid(sp) -> None:
    """Every key of the sweep file's grid lists at least one value."""
    for key, values in dict(sp.get("grid") or {}).items():
        if values is None or (isinstance(values, list | ListConfig) and len(values) == 0):
            raise UserError(f"sweep file grid: {key} lists no value - give at least one, or remove the key")
    check_seeds(list(sp.get("seeds") or []) or None, "sweep file seeds")


def check(cfg: DictConfig, overrides=(), sp=None) -> None:
    """Every check of this module; the first problem raises `UserError`."""
    check_name(cfg)
    check_added(cfg, overrides)
    check_seeds(OmegaConf.select(cfg, "sweep.seeds", default=None))
    if sp is not None:
        check_grid(sp)
