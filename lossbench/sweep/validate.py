"""Check a config before anything is stored: one line naming the setting and the fix, exit code 2.

`check(cfg, sp)` runs first in `lossbench.sweep.launch` and `lossbench.train`, before a store, file or folder
is created: numeric ranges, enumerated values, the data root, the sweep file's options against
``conf/``, where results go, and the stores already there (a corrupted journal or MLflow database
is named, with how to recover, and left unwritten). `compose_or_exit` turns Hydra's own errors (an
unknown option or experiment) into one line with the valid choices.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from lossbench.errors import UserError
from lossbench.registry import CONF_DIR, options  # noqa: E402
from lossbench.registry import CONFIG_GROUPS as GROUPS
from lossbench.sweep.stores import check_journal, check_reachable, check_sqlite

CHOICES = {
    "sweep.pruner": ("median", "threshold", "hyperband", "none"),
    "sweep.objective": ("foreground_dice", "mean_iou"),
    "data.label_encoding": ("auto", "sparse", "one_hot"),
    "data.normalise": ("none", "zscore"),
    "trainer.precision": ("float32", "mixed_bfloat16", "mixed_float16"),
    "trainer.backend": ("tensorflow", "jax"),
    "trainer.jit_compile": ("auto", "True", "False", "true", "false"),
}
# setting -> (lowest allowed, fix); integers unless the lowest is a float
RANGES = {
    "trainer.epochs": (1, "train at least one epoch"),
    "trainer.batch_size": (1, "use a batch of at least one slice"),
    "trainer.steps_per_execution": (1, "use epoch (the default: one compiled call per epoch) or 1 or more steps"),
    "trainer.threads": (0, "use 0 (TensorFlow's default) or a positive count"),
    "trainer.seed": (0, "use a non-negative integer"),
    "data.image_size": (16, "use a side of at least 16 px, a multiple of 2**model.depth"),
    "data.num_classes": (2, "a segmentation has background and at least one class"),
    "sweep.n_workers": (1, "use 1 or more worker processes"),
    "sweep.workers_per_gpu": (1, "use 1 or more worker processes per GPU"),
    "sweep.pack": (1, "use 1 (each trial alone) or more trials per compiled program"),
    "sweep.warmup_epochs": (0, "use 0 or more epochs"),
    "sweep.max_seeds": (0, "use 0 (no adaptive seeds) or more"),
    "sweep.n_trials": (1, "use null or a positive count of sampled trials"),
    "optimizer.learning_rate": (1e-12, "use a positive learning rate"),
}


def _get(cfg: DictConfig, key: str):
    return OmegaConf.select(cfg, key, default=None, throw_on_missing=False)


def _image_sides(cfg: DictConfig) -> list | None:
    """``data.image_size`` as its sides: one side S (an S x S input) or [H, W]; one line when it is neither."""
    size = _get(cfg, "data.image_size")
    if size is None or isinstance(size, int | float | str | bool):
        return None if size is None else [size]
    sides = list(size)
    if len(sides) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in sides):
        raise UserError(f"data.image_size={sides} is not one side or [height, width] in pixels - e.g. [48, 64]")
    return sides


def check_values(cfg: DictConfig) -> None:
    """Ranges and enumerated values of the composed config."""
    sides = _image_sides(cfg)
    for key, (lowest, fix) in RANGES.items():
        value = _get(cfg, key) if key != "data.image_size" else (min(sides) if sides else None)
        if value is None or (key == "trainer.steps_per_execution" and value == "epoch"):
            continue
        integer = isinstance(lowest, int)
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not float(value).is_integer()):
            raise UserError(f"{key}={value!r} is not {'an integer' if integer else 'a number'} - {fix}")
        if value < lowest:
            raise UserError(f"{key}={value} is out of range - {fix}")
    for key, allowed in CHOICES.items():
        value = _get(cfg, key)
        if value is not None and str(value) not in allowed:
            raise UserError(f"{key}={value} is not one of {', '.join(allowed)} - choose one of them")
    prune_below = _get(cfg, "sweep.prune_below")
    if prune_below is not None and not 0 <= float(prune_below) <= 1:
        raise UserError(f"sweep.prune_below={prune_below} is not a Dice in [0, 1] - e.g. sweep.prune_below=0.05")
    check_model(cfg, sides)
    check_weighting(cfg)
    background = _get(cfg, "data.background")
    if background not in (None, 0) and _get(cfg, "loss.include_background") is False:
        raise UserError(
            f"data.background={background}: loss={_get(cfg, 'loss.name')} leaves out class 0 as the background - "
            "relabel the background as 0, or set data.background=null (every class counts)"
        )
    for key in ("data.root", "model._target_"):
        node, _, leaf = key.rpartition(".")
        try:
            missing = OmegaConf.is_missing(cfg[node], leaf)
        except Exception:  # no such setting in this config
            missing = False
        if missing:
            example = {"data.root": "/path/to/data", "model._target_": "my_package.my_module.build"}[key]
            raise UserError(f"{key} is required for {node}={cfg[node].name} - add {key}={example}")


def check_weighting(cfg: DictConfig) -> None:
    """The class weighting is built once here (NumPy only): a bad option (``beta=1.5``) is one line now,
    not a trial that fails later."""
    from hydra.utils import instantiate

    node = _get(cfg, "class_weighting")
    if node is None or "_target_" not in node:
        return
    try:
        instantiate(node)
    except Exception as error:  # Hydra wraps the option's own ValueError / TypeError
        cause = error.__cause__ or error
        raise UserError(" ".join(str(cause).split()) + ("" if " - " in str(cause) else " - fix the option")) from None


def check_model(cfg: DictConfig, sides: list | None) -> None:
    """The old ``model.builder`` is refused; the built-in U-Net's options against the image sides."""
    from lossbench.trial.model import UNET, builder_refusal, check_unet  # no Keras: it loads to build

    builder = _get(cfg, "model.builder")
    if builder is not None:
        raise builder_refusal(builder)
    if _get(cfg, "model._target_") == UNET:
        check_unet(sides or [], _get(cfg, "model.base"), _get(cfg, "model.depth"))


def check_space(cfg: DictConfig, sp) -> None:
    """The sweep file's options and keys against conf/, before the study exists."""
    keys = dict(sp.get("grid") or {})
    for key, values in keys.items():
        key = str(key)
        if "." not in key:
            if key not in GROUPS:
                raise UserError(
                    f"sweep file grid: '{key}' is not a config group - use one of {', '.join(GROUPS)} "
                    "or a dotted setting such as optimizer.learning_rate"
                )
            unknown = [str(v) for v in values if str(v) not in options(key)]
            if unknown:
                raise UserError(
                    f"sweep file grid: {key} has no option '{unknown[0]}' - choose from {', '.join(options(key))}"
                )
        elif OmegaConf.select(cfg, key, default="<absent>") == "<absent>" and key.split(".")[0] not in keys:
            raise UserError(
                f"sweep file grid: no setting {key} in the config - check its spelling "
                f"(python -m lossbench.train --cfg job lists them)"
            )
    for trial in sp.get("trials") or []:
        for override in trial.get("overrides") or []:
            group, _, value = str(override).lstrip("+~").partition("=")
            if "." not in group and group in GROUPS and value not in options(group):
                raise UserError(
                    f"sweep file trial {trial.get('name')}: {group} has no option '{value}' - choose "
                    f"from {', '.join(options(group))}"
                )


def check_places(cfg: DictConfig) -> None:
    """Where results go, and the stores that are already there."""
    results = Path(str(cfg.paths.results)).resolve()
    existing = next(p for p in (results, *results.parents) if p.exists())
    writable = existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
    if writable:  # root may write anywhere by mode bits and still be refused (/proc, a read-only mount): try
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".lossbench-check-", dir=existing))
        except OSError:
            writable = False
    if not writable:
        raise UserError(
            f"paths.results={cfg.paths.results}: {existing} is not a writable folder - "
            "point paths.results at a folder you can write"
        )
    uri = str(cfg.tracking.uri)
    if uri == "none":
        pass  # lossbench.sweep.tracking.records: a JSON-lines file under paths.results, checked writable above
    elif uri.startswith("sqlite:///"):
        check_sqlite(Path(uri.removeprefix("sqlite:///")))
    elif not uri.startswith(("http://", "https://", "postgresql", "mysql")):
        raise UserError(f"tracking.uri={uri} is not a sqlite:/// path or an http(s):// MLflow server - fix it")
    storage = str(_get(cfg, "sweep.storage") or "")
    if storage and not storage.startswith(("postgresql", "mysql", "sqlite")):
        raise UserError(
            f"sweep.storage={storage.split('@')[-1]} is not an RDB URL (postgresql://...) - "
            "leave it null for the journal file under paths.results"
        )
    if storage.startswith("sqlite") and int(_get(cfg, "sweep.n_workers") or 1) > 1:
        raise UserError(  # its claim of a waiting trial is not atomic across processes: trials would run twice
            f"sweep.storage={storage} cannot give each waiting trial to exactly one of sweep.n_workers="
            f"{_get(cfg, 'sweep.n_workers')} workers - leave sweep.storage null (the journal file), use PostgreSQL, "
            "or set sweep.n_workers=1"
        )
    if storage.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401
        except ImportError:  # psycopg2 alone does not do: lossbench speaks postgresql+psycopg (psycopg 3)
            raise UserError(
                "sweep.storage=postgresql://... needs psycopg (version 3; psycopg2 alone is not used) - "
                "pip install 'psycopg[binary]' (or pip install -e '.[cluster]')"
            ) from None
    check_reachable(uri, storage)
    journal = results / str(cfg.name) / "optuna.journal"
    if not storage and journal.exists():
        check_journal(journal)


def check(cfg: DictConfig, sp=None, overrides=()) -> None:
    """Every check, in order; the first problem raises `UserError` (one line). ``overrides``: the command
    line's, for the keys added with ``+`` (`lossbench.sweep.settings`)."""
    from lossbench.sweep import settings

    settings.check(cfg, overrides, sp)
    check_values(cfg)
    if sp is not None:
        check_space(cfg, sp)
        check_devices(cfg)
        if str(cfg.tracking.uri) == "none" and cfg.sweep.report:
            raise UserError(
                "tracking=none keeps no MLflow runs to report from - add sweep.report=false "
                "(every trial is in results/<name>/records.jsonl)"
            )
    check_places(cfg)


def check_devices(cfg: DictConfig) -> None:
    """``sweep.gpus`` against the GPUs this machine shows, and ``sweep.workers_per_gpu``."""
    from lossbench import devices

    devices.resolve(cfg.sweep.get("gpus", "auto"), devices.worker_gpus())


def compose_or_exit(argv: list[str], config_name: str = "config"):
    """Compose the command line's overrides once, as Hydra will, and return the config (None when the
    line holds Hydra's own flags): an unknown group option, experiment or key becomes one line with
    the valid choices and exit code 2 (Hydra itself prints a block and exits 1)."""
    import re

    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import ConfigCompositionException, MissingConfigException

    from lossbench.config import compose
    from lossbench.errors import exit_with

    for override in argv:  # the old key, refused before Hydra says it has no such key
        key, _, value = override.lstrip("+~").partition("=")
        if key == "model.builder":
            from lossbench.trial.model import builder_refusal

            exit_with(builder_refusal(value))
    if any(a.startswith("-") for a in argv):  # Hydra's own flags (--cfg job, --help, -m): Hydra parses the line
        return None
    try:
        return compose(argv)
    except MissingConfigException as error:
        found = re.search(r"Could not find '([\w-]+)/([^']+)'", str(error))
        if found and (CONF_DIR / found.group(1)).is_dir():
            group, option = found.groups()
            exit_with(UserError(f"no {group} option '{option}' - choose from {', '.join(options(group))}"))
        exit_with(UserError(" ".join(str(error).split())[:300]))
    except ConfigCompositionException as error:
        cause = " ".join(str(error.__cause__ or "").split())
        exit_with(UserError(f"{str(error).splitlines()[0]} {cause}".strip()[:300] + " - check the override's spelling"))
    except Exception as error:  # an interpolation or a YAML error
        exit_with(UserError(" ".join(str(error).split())[:300] + " - fix the override or the config file"))
    finally:
        GlobalHydra.instance().clear()  # Hydra's own app initialises it again
