"""``python -m lossbench.sweep +experiment=cmr``: run a sweep, its budget check, then its report.

The command line is where the rooms meet: the sweep (`lossbench.sweep.launch`) runs the trials, the
analysis plans what else to run (adaptive seeds, the budget check) and writes the report; neither
imports the other's way up.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench.errors import UserError, disk_full, exit_with, out_of_space
from lossbench.sweep import work
from lossbench.sweep.launch import run
from lossbench.sweep.study import StudyInfo


def sweep(cfg: DictConfig, task: list[str], points: list[dict] | None = None) -> StudyInfo | None:
    """Prepare the study, run it (base seeds, then adaptive seeds), the budget check, the report; its `StudyInfo`."""
    if cfg.sweep.report:
        from lossbench.analysis.report import check_sections

        check_sections(cfg.sweep.get("report_sections"))
    from lossbench.analysis.claims import plan_seeds  # the workers unpickle it by its module's name

    info, workers = run(cfg, task, points, planner=plan_seeds)
    if info is None:  # a dry run
        return None
    if cfg.sweep.get("budget_check"):
        budget_check(cfg, task, info)
    from lossbench.analysis import report

    if not workers and not cfg.sweep.get("budget_check") and report.up_to_date(info):
        # the command the study was run with names its seed set's overrides too (e.g. thread1-seeds345)
        ran = work.load(info).user_attrs.get("command") or f"python -m lossbench.sweep +experiment={info.name}"
        print(
            f"nothing to do: every point of {info.study_name} is done; results/{info.name}/ is unchanged "
            f"({ran.replace('lossbench.sweep', 'lossbench.report', 1)} rebuilds it)"
        )
    elif cfg.sweep.report:
        with work.locked(Path(info.folder) / "sweep.lock", info):  # one report at a time, whatever the machine
            left = work.counts(work.load(info))
            if left.get("running") or left.get("waiting"):  # another sweep of this study still works: it reports
                print(
                    f"{left.get('running', 0)} trials still running elsewhere: the sweep that finishes the last "
                    "point writes the report"
                )
            else:
                report.write(info, sections=cfg.sweep.get("report_sections"))
    return info


def budget_check(cfg: DictConfig, task: list[str], info: StudyInfo) -> StudyInfo | None:
    """Rerun every never-converging pairing at 4x the epochs in its own study (`lossbench.analysis.budget`)."""
    from lossbench.analysis import budget

    planned = budget.plan(cfg, info)
    if planned is None:
        return None
    points, extra = planned
    bcfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(extra))
    budget_info = sweep(bcfg, [o for o in task if not o.startswith(("name=", "trainer.epochs="))] + extra, points)
    if budget_info:
        budget.remember(info, budget_info)
    return budget_info


@hydra.main(config_path="../../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        sweep(cfg, list(HydraConfig.get().overrides.task))
    except UserError as error:
        exit_with(error)
    except Exception as error:  # a full disk is one line too; anything else is a bug: its traceback
        if not out_of_space(error):
            raise
        exit_with(disk_full(error, str(cfg.paths.results), "the same command again"))
    except KeyboardInterrupt:  # the interrupted trials and the parent run are marked KILLED; no report
        print("lossbench: interrupted - no report written; run the same command again to resume", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    from lossbench.sweep.validate import compose_or_exit

    compose_or_exit(sys.argv[1:])  # Hydra's own errors (unknown option or experiment) as one line, exit 2
    main()
