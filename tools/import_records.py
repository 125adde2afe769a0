"""Bring a ``tracking=none`` sweep (records.jsonl + optuna.journal, e.g. what the GPU run brought back)
into this machine's MLflow store and study, so that ``python -m lossbench.report`` and the MLflow UI read it.

    python -m tools.import_records DIR +experiment=acdc50_gpu [the sweep's other overrides]
    python -m lossbench.report +experiment=acdc50_gpu [the same overrides]

The overrides must compose the config the sweep ran (the study's name carries its hash); the tracking
and sweep settings of the run itself (``tracking=none``, ``sweep.workers_per_gpu``) do not count.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0].startswith(("+", "-")) or "=" in args[0]:
        print(
            "import_records: name the folder first - python -m tools.import_records DIR +experiment=NAME",
            file=sys.stderr,
        )
        return 2
    from lossbench import config
    from lossbench.errors import UserError
    from lossbench.sweep import replay, space

    folder, overrides = Path(args[0]), args[1:]
    try:
        cfg = config.compose(overrides)
        source = replay.only_study(folder / "optuna.journal") if (folder / "optuna.journal").is_file() else None
        expected = f"{cfg.name}-{space.config_hash(cfg, space.load_space(cfg.sweep.space, cfg.sweep.seeds))}"
        if source is not None and source.study_name != expected:
            raise UserError(
                f"{folder}: holds study {source.study_name}, these overrides make {expected} - "
                "give the overrides the sweep ran with"
            )
        imported, there = replay.replay(cfg, folder, overrides)
    except UserError as error:
        print(f"import_records: {error}", file=sys.stderr)
        return 2
    print(f"{imported} trials imported ({there} were there already) into {cfg.paths.results}/{cfg.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
