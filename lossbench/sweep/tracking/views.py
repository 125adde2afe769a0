"""lossbench's views of a sweep in the MLflow UI: the one place that knows MLflow's undocumented view state.

MLflow's UI reads a shared view from the experiment tag ``mlflow.sharedViewState.<key>`` (JSON in the
shape its runs-compare page keeps in memory: chart cards, sections, columns, grouping) and opens it from
``?viewStateShareKey=<key>``. None of that is a documented API, so it lives here alone (`share`), and
``tests/test_views.py`` fails loudly when the installed MLflow is not the version it was written
against (`TESTED`): open the views in the UI then (``python tools/screenshot.py``) and revisit this module.
"""

from __future__ import annotations

import json

from mlflow.entities import Param

from lossbench.registry import CHOICES, choice_words
from lossbench.sweep.tracking.runs import retrying_client

TESTED = "3.17.2"  # the MLflow whose UI draws these views (tests/test_views.py)

RUN_NAME = "attributes.`Run Name`"
COLUMNS = ["metrics.`test/foreground_dice`", "metrics.`val/foreground_dice`", "tags.`verdict`", "tags.`state`"]
SECTION = "lossbench-comparison"


def _chart(kind: str, uuid: str, name: str, **fields) -> dict:
    """One chart card of MLflow's runs-compare view (the fields its UI's chart classes hold)."""
    return {
        "uuid": uuid,
        "type": kind,
        "runsCountToCompare": 500,
        "metricSectionId": SECTION,
        "deleted": False,
        "isGenerated": False,
        "displayName": name,
        **fields,
    }


def _line(uuid: str, metric: str) -> dict:
    return _chart(
        "LINE",
        uuid,
        metric,
        metricKey=metric,
        selectedMetricKeys=[metric],
        lineSmoothness=0,
        xAxisScaleType="linear",
        scaleType="linear",
        range={},
        xAxisKey="step",
        selectedXAxisMetricKey="",
        yAxisKey="metric",
    )


PARALLEL = _chart(
    "PARALLEL",
    "lossbench-choices",
    "the four choices vs test Dice (mean over seeds)",
    showAllRuns=True,
    selectedParams=[f"choice/{group}" for group in CHOICES],  # the choices in words (`registry.choice_words`)
    selectedMetrics=["test/foreground_dice"],
)
_TABLE = {
    "selectedColumns": COLUMNS,
    "columnOrder": [RUN_NAME, *COLUMNS],
    "columnWidths": {RUN_NAME: 440} | dict.fromkeys(COLUMNS, 140),
    "searchFilter": "attributes.status != 'KILLED'",
    "hideEmptyCharts": False,
    "runsHiddenMode": "SHOW_ALL",  # charts show every run or group, not MLflow's default first 10
}
_SECTION = {"uuid": SECTION, "display": True, "isReordered": False, "deleted": False, "isGenerated": False}
_SCATTER = _chart(
    "SCATTER",
    "lossbench-accuracy-vs-dice",
    "accuracy Keras reported vs test Dice",
    xaxis={"key": "test/reported_accuracy", "type": "METRIC"},
    yaxis={"key": "test/foreground_dice", "type": "METRIC"},
)
PAIRING_COLUMNS = [
    "metrics.`rank`",
    "metrics.`converged_share`",
    "metrics.`seeds`",
    "metrics.`test/foreground_dice`",
    "metrics.`test/foreground_dice_low`",
    "metrics.`test/foreground_dice_high`",
    "metrics.`test/reported_accuracy`",
]
NARROW = dict.fromkeys(["metrics.`rank`", "metrics.`seeds`"], 75) | {"metrics.`converged_share`": 135}
# Three shared views per experiment. MLflow 3.17 draws no parallel coordinates over grouped string values
# ("does not support aggregated string values"), so the choices chart has an ungrouped view of its own.
VIEWS = {
    # the answer: one run per pairing (`lossbench.analysis.report.pairing_runs`, written with the report),
    # the pairings that converge most often first; complete on first load (a page holds 100 runs)
    "lossbench": _TABLE
    | {
        "searchFilter": "tags.kind = 'pairing'",
        "orderByKey": "metrics.`rank`",  # converged share, then mean test Dice (`pairing_runs.ranks`)
        "orderByAsc": True,
        "selectedColumns": PAIRING_COLUMNS,
        "columnOrder": [RUN_NAME, *PAIRING_COLUMNS],
        "columnWidths": {RUN_NAME: 400} | dict.fromkeys(PAIRING_COLUMNS, 175) | NARROW,
        "compareRunSections": [
            _SECTION | {"name": "lossbench: the answer, one run per pairing (seeds together)", "columns": 2}
        ],
        "compareRunCharts": [
            _chart("BAR", "lossbench-converged", "share of seeds converged", metricKey="converged_share"),
            _chart("BAR", "lossbench-test-dice", "test Dice (mean over seeds)", metricKey="test/foreground_dice"),
            _line("lossbench-val-dice", "val/foreground_dice"),
            _line("lossbench-loss-over-chance", "val/loss_over_chance"),
            _SCATTER,
        ],
    },
    # while a sweep runs: every trial's run, grouped by pairing (means over the seeds loaded so far)
    "lossbench-seeds": _TABLE
    | {
        "searchFilter": "attributes.status != 'KILLED' AND tags.optuna_trial LIKE '%'",
        "orderByKey": "metrics.`test/foreground_dice`",
        "orderByAsc": False,
        "groupBy": {"aggregateFunction": "average", "groupByKeys": [{"mode": "tag", "groupByData": "group"}]},
        "useGroupedValuesInCharts": True,
        "compareRunSections": [_SECTION | {"name": "lossbench: curves and test Dice per pairing (means over seeds)"}],
        "compareRunCharts": [
            _line("lossbench-val-dice", "val/foreground_dice"),
            _line("lossbench-val-loss", "val/loss"),
            _chart("BAR", "lossbench-test-dice", "test/foreground_dice", metricKey="test/foreground_dice"),
            _chart("BAR", "lossbench-converged", "converged", metricKey="converged"),
        ],
    },
    "lossbench-choices": _TABLE
    | {
        # one line per pairing (the report's runs): every pairing on the first page MLflow loads
        "searchFilter": "tags.kind = 'pairing'",
        "orderByKey": "metrics.`test/foreground_dice`",
        "orderByAsc": False,
        "selectedColumns": PAIRING_COLUMNS,
        "columnOrder": [RUN_NAME, *PAIRING_COLUMNS],
        # one chart a row, taller than MLflow's 360 px: the four choices' labels need the width
        "compareRunSections": [
            _SECTION
            | {"name": "lossbench: the four choices against test Dice, one line per pairing", "columns": 1}
            | {"cardHeight": 520}
        ],
        "compareRunCharts": [PARALLEL],
    },
}


def write_view(experiment_id: str, client=None) -> dict[str, str]:
    """Store lossbench's three comparison views on the experiment; return ``{name: page}`` (append to the UI URL).

    ``lossbench``: the answer, one run per pairing (written with the report): the share of seeds that
    converged and the mean test Dice as bars, the seed-mean validation Dice and loss ÷ chance per epoch,
    and Keras's accuracy against Dice. ``lossbench-seeds``: every trial's run grouped by the full pairing
    (means over seeds), live while a sweep runs.
    ``lossbench-choices``: one line per pairing, a parallel-coordinates chart of the four choices (in
    words: params ``choice/*``) against the mean test Dice. ``lossbench-table``: the answer's runs as a
    table, names in full. Runs logged before the ``group`` tag or the
    ``choice/*`` params existed get them here.
    """
    client = client or retrying_client()
    backfill(client, experiment_id)
    pages = {key: share(client, experiment_id, key, view) for key, view in VIEWS.items()}
    # the answer as a table: its run list's names in full (the charts' list is 295 px wide, which no view
    # state changes), with k/n converged, test Dice and its interval as columns, the same order
    return pages | {"lossbench-table": pages["lossbench"].replace("compareRunsMode=CHART", "compareRunsMode=TABLE")}


def backfill(client, experiment_id: str) -> None:
    """Give runs logged before the ``converged`` metric or the ``group`` tag existed what the views read."""
    for run in client.search_runs([experiment_id], "tags.loss LIKE '%'", max_results=5000):
        verdict = run.data.tags.get("verdict")
        if verdict and "converged" not in run.data.metrics:  # runs logged before the metric existed
            client.log_metric(run.info.run_id, "converged", float(verdict == "converged"), step=0)
        if run.data.tags.get("optuna_trial") and "choice/loss" not in run.data.params:  # before the words existed
            pairing = {g: run.data.tags.get(g, "-") for g in CHOICES}
            words = choice_words(pairing | {"learning_rate": run.data.params.get("optimizer.learning_rate")})
            client.log_batch(run.info.run_id, params=[Param(k, v) for k, v in words.items()])
        if "group" not in run.data.tags:  # runs logged before the tag existed
            lr = float(run.data.params.get("optimizer.learning_rate", "nan"))
            tags = run.data.tags
            client.set_tag(
                run.info.run_id,
                "group",
                f"{tags['loss']}+{tags['activation']} | {tags['class_weighting']} | {tags['optimizer']} {lr:g}",
            )


def share(client, experiment_id: str, key: str, view: dict) -> str:
    """Store ``view`` as the experiment's shared view ``key``; return its page (append to the UI's URL)."""
    tag, value = f"mlflow.sharedViewState.{key}", json.dumps(view)
    if client.get_experiment(experiment_id).tags.get(tag) != value:  # unchanged: the store is not written
        client.set_experiment_tag(experiment_id, tag, value)
    # workflowType: the UI's GenAI / model-training switch follows the URL (else its last setting, GenAI at first)
    return f"/#/experiments/{experiment_id}/runs?viewStateShareKey={key}&compareRunsMode=CHART&workflowType=machine_learning"
