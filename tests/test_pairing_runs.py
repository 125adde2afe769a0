"""One MLflow run per pairing (`lossbench.analysis.report.pairing_runs`): the answer view's runs, on the
report's planted study (three seeds of three pairings; binary CE + sigmoid converges on two of them)."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from test_report import EPOCHS, plant, store  # noqa: F401  (the fixture `store`)

from lossbench.analysis import report
from lossbench.analysis.report import pairing_runs


def pairing_runs_of(info) -> dict:
    client = MlflowClient(info.tracking_uri)
    found = client.search_runs([info.experiment_id], "tags.kind = 'pairing'")
    return {run.info.run_name: run for run in found}


@pytest.fixture
def written(tmp_path, store):  # noqa: F811
    info = plant(tmp_path, store)
    report.write(info)
    return info


def test_each_pairing_gets_one_run_named_in_words_with_its_seeds_together(written):
    runs = pairing_runs_of(written)
    assert set(runs) == {
        "CE · softmax · unweighted · Adam 1e-3",
        "BCE · sigmoid · unweighted · Adam 1e-3",
        "soft Dice · softmax · unweighted · Adam 1e-3",
    }
    bce = runs["BCE · sigmoid · unweighted · Adam 1e-3"]
    metrics = bce.data.metrics
    assert metrics["seeds"] == 3 and metrics["converged_seeds"] == 2
    assert metrics["converged_share"] == 0.667  # three decimals, as the table shows it
    ranks = {name.split(" · ")[0]: run.data.metrics["rank"] for name, run in runs.items()}
    assert ranks == {"CE": 1, "BCE": 2, "soft Dice": 3}  # the answer's order: converged share (3/3, 2/3, 0/3)
    low, high = metrics["test/foreground_dice_low"], metrics["test/foreground_dice_high"]
    assert low <= metrics["test/foreground_dice"] <= high and high - low > 0.1  # one seed of three failed
    assert metrics["test/reported_accuracy"] == pytest.approx(0.9 + np.mean([0.7, 0.05, 0.7]) / 10, abs=5e-4)
    assert bce.data.tags["class"] == "sometimes" and bce.data.params["seeds"] == "0,1,2"
    assert "test/mean_iou" not in metrics  # the planted runs report no IoU: no empty metric
    assert "mlflow.parentRunId" not in bce.data.tags  # top level: on the page MLflow opens, no expanding


def test_the_curves_are_seed_means_with_a_band_and_the_loss_is_read_against_chance(written):
    client = MlflowClient(written.tracking_uri)
    run = pairing_runs_of(written)["BCE · sigmoid · unweighted · Adam 1e-3"].info.run_id

    def curve(key):
        return [m.value for m in sorted(client.get_metric_history(run, key), key=lambda m: m.step)]

    dice = np.array([0.7, 0.05, 0.7])
    per_epoch = [dice * (e + 1) / EPOCHS for e in range(EPOCHS)]
    assert curve("val/foreground_dice") == pytest.approx([d.mean() for d in per_epoch])
    assert curve("val/foreground_dice/seed_min") == pytest.approx([d.min() for d in per_epoch])
    assert curve("val/foreground_dice/seed_max") == pytest.approx([d.max() for d in per_epoch])
    loss = [(1.35 - 0.25 * e * dice) / 1.386 for e in range(EPOCHS)]
    assert curve("val/loss_over_chance") == pytest.approx([x.mean() for x in loss])
    steps = sorted(m.step for m in client.get_metric_history(run, "val/loss_over_chance"))
    assert steps == [1, 2, 3]  # epochs from 1, as the trials' runs


def test_a_rewritten_report_keeps_the_runs_and_a_changed_pairing_is_rebuilt_alone(written):
    before = {name: run.info.run_id for name, run in pairing_runs_of(written).items()}
    report.write(written)
    assert {name: run.info.run_id for name, run in pairing_runs_of(written).items()} == before
    trials, curves = report.trials_table(written)
    trials = trials.drop(index=trials.index[-1])  # the last soft Dice seed gone: that pairing changed
    facts = report.collect(written, trials, curves, list(report.DEFAULT_SECTIONS))
    assert pairing_runs.log(facts) == 1
    after = {name: run.info.run_id for name, run in pairing_runs_of(written).items()}
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["soft Dice · softmax · unweighted · Adam 1e-3"]
    assert pairing_runs_of(written)[changed[0]].data.metrics["seeds"] == 2
    deleted = MlflowClient(written.tracking_uri).get_run(before[changed[0]])
    assert deleted.info.lifecycle_stage == "deleted"


def test_an_epoch_no_seed_reached_is_nan_without_a_console_warning():
    import warnings

    import numpy as np

    from lossbench.analysis.report import pairing_runs

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning here would be printed to the user's console
        out = pairing_runs.band([[float("nan"), 0.5], [float("nan")], [float("nan"), 0.7]])  # epoch 1: no seed
    assert np.isnan(out[""][0]) and np.isnan(out["/seed_min"][0])
    assert out[""][1] == np.float64(0.6) and (out["/seed_min"][1], out["/seed_max"][1]) == (0.5, 0.7)
