"""A sweep recorded with ``tracking=none`` (a GPU machine without MLflow), brought into MLflow and a study here.

    python -m tools.import_records DIR +experiment=acdc50_gpu   # DIR holds records.jsonl and optuna.journal
    python -m lossbench.report +experiment=acdc50_gpu            # then the report, as after any sweep

`replay` reads the one study of ``DIR/optuna.journal`` and the JSON lines of ``DIR/records.jsonl``,
creates the MLflow experiment and the sweep's parent run as a sweep would, replays the run of every
finished trial through `lossbench.sweep.tracking.runs.TrialRun` (its config as params, the machine's
tags as recorded there, every epoch's curves, its result), and adds the trial to a study of the same
name in ``results/<name>/optuna.journal``, pointing at its new run. Trials that did not finish stay
out; a second import of the same folder adds nothing (an imported trial keeps its recorded run id as
``recorded_as``).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import optuna
from omegaconf import DictConfig, OmegaConf

from lossbench.errors import UserError
from lossbench.sweep import work
from lossbench.sweep.study import StudyInfo

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)


def read_records(path: Path) -> dict[str, dict]:
    """``records.jsonl`` by run id: its ``start``, ``epoch`` lines (in order), ``result`` and ``end``."""
    runs: dict[str, dict] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # the last line of a run cut short
            print(f"import: {path} line {number} is not whole - left out")
            continue
        run = runs.setdefault(record["run_id"], {"epochs": []})
        if record["event"] == "epoch":
            run["epochs"].append(record)
        else:
            run[record["event"]] = record
    return runs


def only_study(journal: Path) -> optuna.Study:
    """The one study a sweep's journal holds."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(journal)))
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    if len(names) != 1:
        raise UserError(f"{journal}: holds {len(names)} studies, not one - import the folder of one sweep")
    return optuna.load_study(study_name=names[0], storage=storage)


def outcome(result: dict) -> SimpleNamespace:
    """A recorded ``result`` line as the trial result `TrialRun.log_result` logs."""
    audit = result.get("audit") or {}
    return SimpleNamespace(
        **{k: result.get(k) for k in ("state", "verdict", "reason", "curves", "final", "seconds")},
        pruned_at=result.get("pruned_at", 0),
        trained_on=result.get("trained_on", ""),
        audit=SimpleNamespace(as_tags=lambda: audit) if audit else None,
        class_weights=None,
        predictions={},
    )


def replay_run(run: dict, experiment_id: str, parent_id: str, state: str) -> str:
    """One recorded run as an MLflow run under the parent; its new id."""
    from lossbench.sweep.tracking import runs

    start = run["start"]
    cfg = OmegaConf.create(start["config"])
    mlflow_run = runs.TrialRun(cfg, start["name"], experiment_id, parent_id, machine=start["tags"])
    for line in run["epochs"]:
        mlflow_run.log_epoch(int(line["epoch"]) - 1, line["metrics"])
    if "result" in run:
        mlflow_run.log_result(outcome(run["result"]), logged_epochs=len(run["epochs"]))
    mlflow_run.close(run.get("end", {}).get("state", state))
    return mlflow_run.run_id


def replay(cfg: DictConfig, folder: Path, overrides: list[str] = ()) -> tuple[int, int]:
    """Import ``folder`` into the stores ``cfg`` (composed from ``overrides``) names; returns (trials imported,
    trials already there). The study remembers where it came from (``imported``: the report says so)."""
    from lossbench.config import store_uri
    from lossbench.sweep.tracking import parent, runs, views

    for name in ("records.jsonl", "optuna.journal"):
        if not (folder / name).is_file():
            raise UserError(f"{folder / name}: not found - point at the folder the tracking=none sweep wrote")
    source, records = only_study(folder / "optuna.journal"), read_records(folder / "records.jsonl")
    results = Path(cfg.paths.results).resolve() / str(cfg.name)
    results.mkdir(parents=True, exist_ok=True)
    info = StudyInfo(str(cfg.name), source.study_name, str(results / "optuna.journal"), str(results), store_uri(cfg))
    with work.locked(results / "sweep.lock", info):
        info.experiment_id = runs.setup(cfg, info.study_name)
        storage = work.storage(info)
        try:
            target = optuna.load_study(study_name=info.study_name, storage=storage)
        except KeyError:
            target = optuna.create_study(study_name=info.study_name, storage=storage, direction="maximize")
            target.set_metric_names(source.metric_names or ["val_foreground_dice"])
        attrs = dict(source.user_attrs) | {"imported": {"folder": str(folder), "overrides": list(overrides)}}
        for key, value in attrs.items():
            if key != "mlflow_parent_run_id" and target.user_attrs.get(key) != value:
                target.set_user_attr(key, value)
        parent_id = parent.parent_run(target, info, cfg)
        views.write_view(info.experiment_id)
        there = {t.user_attrs.get("recorded_as") for t in target.get_trials(deepcopy=False)}
        imported = 0
        for t in source.get_trials(deepcopy=False, states=FINISHED):
            recorded = t.user_attrs.get("mlflow_run_id", "")
            if recorded in there:
                continue
            attrs = dict(t.user_attrs) | {"recorded_as": recorded}
            if "start" in records.get(recorded, {}):
                attrs["mlflow_run_id"] = replay_run(
                    records[recorded], info.experiment_id, parent_id, attrs.get("state")
                )
            target.add_trial(
                optuna.trial.create_trial(
                    state=t.state,
                    value=t.value if t.state == optuna.trial.TrialState.COMPLETE else None,
                    params=t.params,
                    distributions=t.distributions,
                    user_attrs=attrs,
                    system_attrs=t.system_attrs,
                    intermediate_values=t.intermediate_values,
                )
            )
            imported += 1
    return imported, len(there - {None})
