"""``python -m lossbench.report +experiment=NAME``: rebuild ``results/NAME/`` from the study's stores."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from lossbench.errors import UserError, disk_full, exit_with, out_of_space


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from lossbench.analysis.report import check_sections, write
    from lossbench.sweep import settings, space, study, validate

    try:
        overrides = list(HydraConfig.get().overrides.task)
        settings.check(cfg, overrides)
        sp = space.load_space(cfg.sweep.space, cfg.sweep.seeds)
        validate.check(cfg, sp, overrides)  # the sweep's checks: a bad setting, folder or store is one line
        sections = check_sections(cfg.sweep.get("report_sections"))
        info = study.locate(cfg, sp)
    except UserError as error:
        exit_with(error)
    try:
        write(info, sections=sections)
    except Exception as error:  # a full disk is one line; anything else is a bug: its traceback
        if not out_of_space(error):
            raise
        exit_with(disk_full(error, info.folder, "this command again"))


if __name__ == "__main__":
    from lossbench.sweep.validate import compose_or_exit

    compose_or_exit(sys.argv[1:])  # Hydra's own errors (unknown option or experiment) as one line, exit 2
    main()
