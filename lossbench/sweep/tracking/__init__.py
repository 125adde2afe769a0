"""Where a sweep's trials are recorded: MLflow (``tracking.uri`` a store or server) or JSON lines (``none``).

`tracker(uri)` gives the one `Tracker` a sweep uses, whichever the backend: a trial's live run
(`runs.TrialRun`), the sweep's parent run and the reconciling of runs with trials (`parent`), the
views of the MLflow UI (`views`); `records` is the ``tracking=none`` backend, `logger` logs one
`lossbench.train` from a process of its own. MLflow is imported only when the backend is MLflow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tracker:
    """What records a sweep: each field is the backend's function (or, ``TrialRun``, its class)."""

    TrialRun: type  # TrialRun(cfg, run_name, experiment_id, parent_run_id, extra_tags, machine): one trial's run
    setup: Callable  # setup(cfg, experiment) -> experiment id: the store exists
    run_url: Callable  # run_url(cfg, experiment_id, run_id) -> the run's page ("" without a UI)
    parent_run: Callable  # parent_run(study, info, cfg) -> the sweep's parent run id
    tag_parent: Callable  # tag_parent(info, tags)
    open_parent: Callable  # open_parent(info): RUNNING while a sweep runs
    close_parent: Callable  # close_parent(info, wall_seconds, n_workers, counts, status, step)
    reconcile: Callable  # reconcile(info, study) -> counts of the runs made to agree with their trials
    write_view: Callable  # write_view(experiment_id) -> {view: page}


def tracker(uri: str) -> Tracker:
    """The `Tracker` for ``tracking.uri``: JSON lines (`records`) for ``none``, else MLflow."""
    if str(uri) == "none":
        from lossbench.sweep.tracking import records

        return backend(records, records, records)
    from lossbench.sweep.tracking import parent, runs, views

    return backend(runs, parent, views)


def backend(runs, parent, views) -> Tracker:
    """A `Tracker` from the modules that hold its trial runs, its parent run and its views."""
    return Tracker(
        TrialRun=runs.TrialRun,
        setup=runs.setup,
        run_url=runs.run_url,
        parent_run=parent.parent_run,
        tag_parent=parent.tag_parent,
        open_parent=parent.open_parent,
        close_parent=parent.close_parent,
        reconcile=parent.reconcile,
        write_view=views.write_view,
    )
