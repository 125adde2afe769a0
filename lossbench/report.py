"""``python -m lossbench.report +experiment=NAME``: rebuild ``results/NAME/`` from the study's stores."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from lossbench.errors import UserError, exit_with


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    from lossbench.analysis.report import check_sections, write
    from lossbench.sweep import space, study

    try:
        sections = check_sections(cfg.sweep.get("report_sections"))
        info = study.locate(cfg, space.load_space(cfg.sweep.space, cfg.sweep.seeds))
    except UserError as error:
        exit_with(error)
    write(info, sections=sections)


if __name__ == "__main__":
    from lossbench.sweep.validate import compose_or_exit

    compose_or_exit(sys.argv[1:])  # Hydra's own errors (unknown option or experiment) as one line, exit 2
    main()
