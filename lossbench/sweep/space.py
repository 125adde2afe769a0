"""A sweep file (``sweeps/<name>.yaml``) turned into points: the one place a search space is defined.

A sweep file holds any of:

- ``grid:``   keys and values to enumerate (Cartesian). A key without a dot is a
  config group (``loss: [dice, dice_ce]`` -> ``loss=dice``), a dotted key is a
  value (``optimizer.learning_rate: [1e-3, 1e-2]``);
- ``trials:`` explicit override sets, each ``{name: ..., overrides: [...]}``,
  for one-change-at-a-time studies; an optional ``stands_for: [loss+activation, ...]``
  names pairings that train identically to it and were merged into it (`aliases`);
- ``sample:`` values Optuna's sampler draws, ``key: {low, high, log}`` (floats)
  or ``key: [a, b, c]`` (categories);
- ``seeds:``  training seeds; every point runs once per seed.

A point is a dict of Optuna parameter -> value (``trials`` and ``seed`` among
them); `overrides` turns it into Hydra overrides.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from lossbench.errors import UserError

MAX_SEED = 2**31 - 1
from lossbench.registry import SWEEPS_DIR  # noqa: E402


def load_space(name: str, seeds=None) -> DictConfig:
    """Read ``sweeps/<name>.yaml``; ``seeds`` (when given) replaces its seeds."""
    if not name:
        raise UserError("no search space: add +experiment=cmr (or set sweep.space=<file in sweeps/>)")
    path = Path(name) if str(name).endswith((".yaml", ".yml")) else SWEEPS_DIR / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SWEEPS_DIR.glob("*.yaml")))
        raise UserError(f"no sweep file {path} - set sweep.space to one of: {known}")
    try:
        space = OmegaConf.load(path)
    except Exception as error:  # YAML syntax: one line with where it broke
        where = " ".join(str(error).split())[:160]
        raise UserError(f"{path} is not valid YAML ({where}) - fix the file") from None
    if not isinstance(space, DictConfig):
        raise UserError(f"{path} is not a mapping of grid/trials/sample/seeds - fix the file")
    for key in space:
        if key not in ("grid", "trials", "sample", "seeds"):
            raise UserError(f"{path}: unknown key '{key}' - use grid, trials, sample or seeds")
    if seeds is not None:
        space.seeds = list(seeds)
    space.seeds = list(space.get("seeds") or [0])
    return space


def _section(space: DictConfig, key: str):
    node = space.get(key)
    return OmegaConf.to_container(node) if node is not None else {}


def points(space: DictConfig) -> list[dict]:
    """Every enumerated point: grid x trials x seeds (sampled keys are left to Optuna)."""
    grid = _section(space, "grid")
    keys = list(grid)
    combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]
    names = [t["name"] for t in space.get("trials") or []] or [None]
    out = []
    for trial_name, combo, seed in itertools.product(names, combos, space.seeds):
        point = dict(combo)
        if trial_name is not None:
            point["trials"] = trial_name
        point["seed"] = seed
        out.append(point)
    return out


def param_keys(space: DictConfig) -> set[str]:
    """The Optuna parameters of a point of this space (grid keys, ``trials``, sampled keys, ``seed``)."""
    keys = set(_section(space, "grid")) | set(_section(space, "sample")) | {"seed"}
    return keys | ({"trials"} if space.get("trials") else set())


def only_params(point: dict, space: DictConfig) -> dict:
    """``point`` without keys that are not parameters of the space (e.g. a trial's loss name)."""
    keys = param_keys(space)
    return {k: v for k, v in point.items() if k in keys}


def suggest(trial, space: DictConfig) -> dict:
    """Ask ``trial`` for every parameter of the space (fixed for enqueued points); return them."""
    from lossbench.sweep.optuna_store import fixed_params

    params = {}
    for key, values in _section(space, "grid").items():
        params[key] = trial.suggest_categorical(key, values)
    if space.get("trials"):
        params["trials"] = trial.suggest_categorical("trials", [t["name"] for t in space.trials])
    for key, spec in _section(space, "sample").items():
        if isinstance(spec, list):
            params[key] = trial.suggest_categorical(key, spec)
        else:
            params[key] = trial.suggest_float(key, spec["low"], spec["high"], log=spec.get("log", False))
    # the seed is a user attribute of an enqueued trial (a repetition, not a parameter: Optuna's importance
    # leaves it out); a study enqueued before that holds it as a fixed parameter; a pure `sample:` space
    # cycles through its seed list
    if "seed" in trial.user_attrs:
        params["seed"] = int(trial.user_attrs["seed"])
    elif space.get("grid") or space.get("trials") or "seed" in fixed_params(trial):
        params["seed"] = trial.suggest_int("seed", 0, MAX_SEED)
    else:
        params["seed"] = int(list(space.seeds)[trial.number % len(space.seeds)])
        trial.set_user_attr("seed", params["seed"])
    return params


def overrides(params: dict, space: DictConfig) -> list[str]:
    """Hydra overrides of one point."""
    out = []
    for key, value in params.items():
        if key == "seed":
            out.append(f"trainer.seed={value}")
        elif key == "trials":
            chosen = next(t for t in space.trials if t["name"] == value)
            out.extend(str(o) for o in chosen.get("overrides") or [])
        else:
            out.append(f"{key}={value}")
    return out


def aliases(space: DictConfig) -> dict[str, list[tuple[str, str]]]:
    """``{trial name: [(loss, activation), ...]}`` from the ``stands_for`` lists of ``trials:``."""
    out = {}
    for trial in space.get("trials") or []:
        merged = [str(p).split("+", 1) for p in trial.get("stands_for") or []]
        bad = [p for p in merged if len(p) != 2 or not all(p)]
        if bad:
            raise UserError(
                f"trial {trial['name']}: stands_for entry {'+'.join(bad[0])!r} is not loss+activation - fix the sweep file"
            )
        out[str(trial["name"])] = [(loss, act) for loss, act in merged]
    return out


def point_key(params: dict, keys=None) -> str:
    """A stable identity for a point: its values on ``keys`` (default: all of them), in sorted order.

    Enqueued points hold the grid, ``trials`` and seed keys only; a trial of a
    space that also samples has the sampled values besides. Pass the points'
    keys to compare a trial with them.
    """
    return json.dumps({k: v for k, v in params.items() if keys is None or k in keys}, sort_keys=True)


def keys_of(points: list[dict]) -> set[str] | None:
    """The keys of enqueued points (``None`` when there are none: compare on every key)."""
    return set().union(*points) if points else None


ANY = object()
# Settings added after studies were recorded, with the value that trains exactly as before: left out of
# the hash at that value, so that the recorded studies keep their names (and results/ stays reportable).
# A new setting at a new value still names a new study. (`_target_`, `label`: the option's `name` already says it.)
SINCE_ADDED = [
    ("model", "builder", "lossbench.trial.model:unet"),
    ("model", "batch_norm", False),
    ("activation", "_target_", ANY),
    ("class_weighting", "_target_", ANY),
    ("optimizer", "label", ANY),
    ("trainer", "precision", "float32"),
    ("trainer", "jit_compile", "auto"),
    ("trainer", "backend", "tensorflow"),
]


def builder_form(model: dict) -> dict:
    """A model config as it named studies before Hydra's ``_target_``/``_partial_`` replaced ``builder``.

    ``_target_: pkg.module.function`` with ``_partial_: true`` is hashed as ``builder: pkg.module:function``
    (so the default U-Net's ``builder`` is left out as `SINCE_ADDED` says): the same model, the same study.

    >>> builder_form({"_target_": "lossbench.trial.model.unet", "_partial_": True, "base": 8})
    {'builder': 'lossbench.trial.model:unet', 'base': 8}
    >>> builder_form({"builder": "my.models:tiny", "base": 8})
    {'builder': 'my.models:tiny', 'base': 8}
    """
    if "_target_" not in model or model.get("_partial_") is not True:
        return model
    module, _, function = str(model["_target_"]).rpartition(".")
    rest = {k: v for k, v in model.items() if k not in ("_target_", "_partial_", "builder")}
    return {"builder": f"{module}:{function}"} | rest


def config_hash(cfg: DictConfig, space: DictConfig) -> str:
    """Short hash of the config that is *not* swept: change the data or epochs -> a new study."""
    resolved = OmegaConf.to_container(cfg, resolve=True)
    swept = set((space.get("grid") or {}).keys()) | set((space.get("sample") or {}).keys())
    for trial in space.get("trials") or []:
        swept |= {str(o).split("=")[0].lstrip("+~") for o in trial.get("overrides") or []}
    for key in ("sweep", "paths", "tracking", "hydra"):
        resolved.pop(key, None)
    if isinstance(resolved.get("model"), dict):
        resolved["model"] = builder_form(resolved["model"])
    for group, key, value in SINCE_ADDED:  # settings added later, at the value that reproduces the old runs
        if isinstance(resolved.get(group), dict) and (value is ANY or resolved[group].get(key, value) == value):
            resolved[group].pop(key, None)
    resolved.get("trainer", {}).pop("seed", None)
    resolved.get("trainer", {}).pop("threads", None)
    if "steps_per_execution" in resolved.get("trainer", {}):  # how fast, not what: the same weights (FACTS #22);
        resolved["trainer"]["steps_per_execution"] = 1  # hashed as the value studies before it were made with
    for key in swept:
        parent, *rest = key.split(".")
        if not rest:
            resolved.pop(parent, None)
        elif isinstance(resolved.get(parent), dict):
            resolved[parent].pop(".".join(rest), None)
    blob = json.dumps(resolved, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:8]
