"""Hydra app: the sweep. Optuna asks, Hydra composes, the trial runs, MLflow records, Optuna is told.

    python -m lossbench.sweep +experiment=cmr [sweep.n_workers=2] [sweep.seeds=[0,1,2]]

Exactly once (FACTS #10): the points of ``sweeps/<space>.yaml`` are enqueued
under a file lock when the study is created or resumed; workers take only
waiting trials; a point whose trial was interrupted is enqueued again; a
finished study gains nothing from a rerun. The study, its MLflow experiment and
``results/<name>/`` are named after the experiment plus a hash of the config
that is not swept.
"""

from __future__ import annotations

import multiprocessing as mp
import time

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from lossbench import runtime  # noqa: F401  (quiet TensorFlow before it loads)
from lossbench import space as S
from lossbench import study as Q
from lossbench.errors import UserError, exit_with
from lossbench.verdict import DICE_CONVERGED, stalled


def objective(trial, cfg: DictConfig, sp, study_info: dict, epoch_bar=None) -> None:
    """Run one Optuna trial end to end: compose, train, log to MLflow, tell Optuna."""
    import optuna

    from lossbench import tracking
    from lossbench.errors import InvalidPairing
    from lossbench.trial import TrialResult, pairing_name, run_trial

    trial.set_user_attr("worker", Q.worker_id())
    started, trial_cfg, name = time.time(), None, f"trial {trial.number}"
    prunable = {"stalled": False}  # set once the loss is known: the stalled rule is for cross-entropies

    def on_epoch(epoch, row, levels):
        if epoch_bar is not None:
            epoch_bar.update(1)
            epoch_bar.set_postfix_str(f"val Dice {row['val/foreground_dice']:.2f}")
        trial.report(row["val/foreground_dice"], epoch)
        if epoch + 1 < cfg.sweep.warmup_epochs:
            return False
        if (prunable["stalled"] and row["val/foreground_dice"] < DICE_CONVERGED
                and stalled(row["val/loss"], levels["chance_loss"], levels["prior_loss"])):
            return True  # nothing segmented and the loss still near a uniform guess
        return trial.should_prune()

    result, state = TrialResult(state="failed"), optuna.trial.TrialState.FAIL
    try:
        params = S.suggest(trial, sp)
        trial_cfg = Q.compose(study_info["overrides"] + S.overrides(params, sp))
        name = pairing_name(trial_cfg)
        if "trials" in params:  # an explicit trial of a `trials:` space: say which one
            name = f"{params['trials']}: {name}"
        trial.set_user_attr("pairing", name)
        trial.set_user_attr("choices", {g: str(trial_cfg[g].name) for g in ("loss", "activation", "class_weighting",
                                                                            "optimizer")}
                            | {"learning_rate": float(trial_cfg.optimizer.learning_rate)})
        prunable["stalled"] = bool(cfg.sweep.prune_stalled) and stalled_rule_applies(trial_cfg)
        result = run_trial(trial_cfg, on_epoch=on_epoch)
        state = {"complete": optuna.trial.TrialState.COMPLETE,
                 "pruned": optuna.trial.TrialState.PRUNED}[result.state]
    except InvalidPairing as error:
        result = TrialResult(state="invalid", verdict="invalid", reason=str(error))
    except KeyboardInterrupt:
        result.state, result.verdict, result.reason = "killed", "", "interrupted (Ctrl-C or kill)"
        raise
    except Exception as error:  # one failing trial never stops the sweep
        from lossbench.audit import first_line

        result = TrialResult(state="failed", verdict="", reason=first_line(error))
    finally:
        trial.set_user_attr("state", result.state)
        trial.set_user_attr("verdict", result.verdict)
        trial.set_user_attr("reason", result.reason[:500])
        trial.set_user_attr("audit", result.audit.tag if result.audit else "")
        trial.set_user_attr("seconds", round(time.time() - started, 1))
        trial.set_user_attr("pruned_at", result.pruned_at)
        if "test/foreground_dice" in result.final:  # what the claims need, without opening MLflow
            trial.set_user_attr("test_dice", round(float(result.final["test/foreground_dice"]), 5))
            trial.set_user_attr("subject_dice", {k.split("/")[2]: round(float(v), 5) for k, v in result.final.items()
                                                 if k.startswith("test/subject/")})
        if trial_cfg is not None:
            run_id = Q.retry(lambda: tracking.log_trial(
                trial_cfg, result, name, study_info["experiment_id"], study_info["parent_run_id"],
                {"optuna_trial": str(trial.number), "study": study_info["study_name"]}))
            trial.set_user_attr("mlflow_run_id", run_id)
        if state == optuna.trial.TrialState.COMPLETE:
            trial.study.tell(trial, result.objective)
        else:
            trial.study.tell(trial, state=state)
    return result


def stalled_rule_applies(cfg: DictConfig) -> bool:
    """`sweep.prune_stalled` is for cross-entropies only: a Dice loss's chance and prior levels are
    too close for "nearer chance than prior" to mean anything, so Dice-family trials run their budget."""
    from hydra.utils import get_class

    return getattr(get_class(cfg.loss._target_), "family", "cross_entropy") == "cross_entropy"


def worker(cfg_yaml: str, study_info: dict, threads: int, show_epochs: bool) -> None:
    """Take waiting trials until none is left (one process; ``threads`` TensorFlow threads)."""
    from tqdm import tqdm

    from lossbench.runtime import configure

    cfg = OmegaConf.create(cfg_yaml)
    configure(threads, bool(cfg.trainer.get("deterministic", False)))
    Q.init_hydra()
    sp = S.load_space(cfg.sweep.space, cfg.sweep.seeds)
    study = Q.load(study_info)
    while (trial := Q.take_waiting(study, allow_new=Q.wants_sampled(study, cfg, sp))) is not None:
        bar = tqdm(total=int(cfg.trainer.epochs), desc="  epochs", leave=False, position=1,
                   disable=not show_epochs)
        try:
            result = objective(trial, cfg, sp, study_info, bar)
        except KeyboardInterrupt:  # the trial is already marked killed; rerunning resumes it
            return
        finally:
            bar.close()
        tqdm.write(f"#{trial.number:<4d} {trial.user_attrs.get('pairing', '')[:70]:70s} "
                   f"{result.state:9s} {result.verdict or result.reason[:60]:25s} "
                   f"val Dice {result.objective:.3f}  {trial.user_attrs.get('seconds', 0):5.1f}s")


def run_workers(cfg: DictConfig, study_info: dict) -> int:
    """Run every waiting trial with ``sweep.n_workers`` processes; return how many workers ran."""
    n = min(int(cfg.sweep.n_workers), Q.counts(Q.load(study_info)).get("waiting", 0))
    if n == 0 and not Q.wants_sampled(Q.load(study_info), cfg, S.load_space(cfg.sweep.space, cfg.sweep.seeds)):
        return 0
    n = max(1, n)
    cfg_yaml = OmegaConf.to_yaml(cfg, resolve=False)
    with Q.progress(study_info) as watch:
        if n == 1:
            worker(cfg_yaml, study_info, int(cfg.trainer.threads), show_epochs=True)
        else:
            ctx = mp.get_context("spawn")
            procs = [ctx.Process(target=worker, args=(cfg_yaml, study_info, 1, False)) for _ in range(n)]
            for p in procs:
                p.start()
            try:
                while any(p.is_alive() for p in procs):
                    watch.refresh()
                    time.sleep(1.0)
            except KeyboardInterrupt:
                for p in procs:
                    p.join(timeout=30)
                raise
    return n


def adaptive_round(cfg: DictConfig, sp, study_info: dict, apply: bool = True) -> list[str]:
    """Add seeds (up to ``sweep.max_seeds``) where they can change an answer; return the reasons."""
    from lossbench import claims

    cap = int(cfg.sweep.get("max_seeds") or 0)
    if cap <= len(sp.seeds):
        return []
    table = claims.trials_frame(Q.load(study_info))
    points, reasons = claims.adaptive_points(table, list(sp.seeds), cap, cfg.sweep.get("baseline"))
    points = [S.only_params(p, sp) for p in points]
    if points and apply:
        added = Q.enqueue(study_info, points)
        if added:
            print(f"adaptive seeds: {added} trials added (sweep.max_seeds={cap})")
            for line in reasons:
                print(f"  {line}")
    return reasons if points else []


def sweep(cfg: DictConfig, task: list[str], points: list[dict] | None = None) -> dict | None:
    """Prepare the study, run it (base seeds, then adaptive seeds), record, report; the info dict."""
    from lossbench.runtime import configure

    sp = S.load_space(cfg.sweep.space, cfg.sweep.seeds)  # bad input fails before TensorFlow loads
    configure(int(cfg.trainer.threads), bool(cfg.trainer.get("deterministic", False)))
    study_info = Q.prepare(cfg, sp, task, "python -m lossbench.sweep " + " ".join(task), points)
    if cfg.sweep.dry_run:
        print(Q.describe(study_info, sp))
        reasons = adaptive_round(cfg, sp, study_info, apply=False)
        print("adaptive seeds it would add now: " + ("none" if not reasons else ""))
        for line in reasons:
            print(f"  {line}")
        return None
    started = time.time()
    workers = run_workers(cfg, study_info)
    for _ in range(3):  # each round can only add seeds up to the cap, so this ends
        if not adaptive_round(cfg, sp, study_info):
            break
        workers = max(workers, run_workers(cfg, study_info))
    if workers:  # a rerun that found nothing to do keeps the recorded wall time
        Q.finish(study_info, time.time() - started, workers)
        Q.load(study_info).set_user_attr(
            "threads_per_worker", 1 if workers > 1 else (int(cfg.trainer.threads) or "TensorFlow's default"))
    if cfg.sweep.get("budget_check"):
        from lossbench import budget

        budget.check(cfg, task, study_info)
    if cfg.sweep.report:
        from lossbench import report

        report.write(study_info)
    return study_info


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        sweep(cfg, list(HydraConfig.get().overrides.task))
    except UserError as error:
        exit_with(error)


if __name__ == "__main__":
    main()
