"""`verdict.judge` on hand-made learning curves, one per verdict, plus thread 2's ACDC run."""

import math

import numpy as np

from lossbench.trial import metrics
from lossbench.trial.verdict import VERDICTS, judge, stalled

CHANCE = math.log(4)  # categorical CE of a uniform guess at C = 4
PRIOR = 0.17  # entropy of ACDC's class shares: a net that learnt only how common each class is


def curves(train, val, dice, background):
    return {
        "train/loss": list(train),
        "val/loss": list(val),
        "val/foreground_dice": list(dice),
        "val/predicted_background_share": list(background),
    }


def test_thread2_on_acdc_collapsed_to_background_not_converged():
    # sparse CE + softmax + SGD 1e-4: the loss falls 1.35 -> 0.22, the mask stays empty
    run = curves([1.35, 0.6, 0.3, 0.22], [1.30, 0.5, 0.28, 0.22], [0.0] * 4, [1.0] * 4)
    verdict, reason = judge(run, CHANCE, PRIOR, true_background_share=0.9692)
    assert verdict == "collapsed_to_background"
    assert "0.00% foreground" in reason and "prior level 0.17" in reason


def test_stalled_at_chance():
    # thread 2's 1.4 -> 1.3 with chance ln 4 = 1.386
    run = curves([1.40, 1.35, 1.30], [1.39, 1.34, 1.30], [0.0] * 3, [1.0] * 3)
    verdict, reason = judge(run, CHANCE, PRIOR, true_background_share=0.9692)
    assert verdict == "stalled_at_chance"
    assert "1.3 stays nearer the chance level 1.39" in reason


def test_converged():
    run = curves([0.242, 0.05, 0.018], [0.2, 0.04, 0.03], [0.3, 0.6, 0.744], [0.97, 0.968, 0.968])
    verdict, reason = judge(run, CHANCE, PRIOR, true_background_share=0.9692)
    assert verdict == "converged"
    assert "foreground Dice 0.74" in reason


def test_good_dice_with_loss_above_prior_is_not_converged():
    run = curves([1.0, 0.5], [1.0, 0.5], [0.1, 0.5], [0.97, 0.97])
    verdict, _ = judge(run, CHANCE, PRIOR, true_background_share=0.9692)
    assert verdict == "inconclusive"


def test_diverged_on_nan():
    run = curves([1.2, 0.9, float("nan")], [1.1, 0.8, float("nan")], [0.0] * 3, [1.0] * 3)
    verdict, reason = judge(run, CHANCE, PRIOR, true_background_share=0.9692)
    assert verdict == "diverged"
    assert "epoch 3" in reason


def test_diverged_on_nan_in_validation_only_names_its_epoch():
    run = curves([1.2, 0.9, 0.8], [1.1, float("inf"), 0.7], [0.0] * 3, [1.0] * 3)
    verdict, reason = judge(run, CHANCE, PRIOR, true_background_share=0.9692)
    assert verdict == "diverged"
    assert "epoch 2" in reason


def test_diverged_on_explosion():
    run = curves([0.5, 1.0, 2.0], [0.5, 1.0, 2.0], [0.3] * 3, [0.9] * 3)
    verdict, reason = judge(run, CHANCE, PRIOR, true_background_share=0.9692)
    assert verdict == "diverged"
    assert "exploded from 0.5 to 2" in reason


def test_a_large_rise_below_chance_is_not_an_explosion():
    # 3.2x the first value but still under the chance level
    run = curves([0.3, 0.96], [0.3, 0.96], [0.0, 0.0], [1.0, 1.0])
    assert judge(run, CHANCE, PRIOR, true_background_share=0.9692)[0] != "diverged"


def test_inconclusive_between_levels_with_some_foreground():
    # loss a quarter of the way from prior to chance, foreground predicted, Dice too low to call
    run = curves([1.2, 0.6], [1.1, 0.5], [0.05, 0.1], [0.96, 0.95])
    verdict, reason = judge(run, CHANCE, PRIOR, true_background_share=0.96)
    assert verdict == "inconclusive"
    assert "foreground Dice 0.10" in reason and "5.00% predicted foreground" in reason


def test_inconclusive_when_no_epoch_finished():
    assert judge({}, CHANCE, PRIOR, true_background_share=0.96) == ("inconclusive", "no epoch finished")


def test_invalid_wins_over_everything():
    run = curves([1.2, float("nan")], [1.1, float("nan")], [0.0, 0.0], [1.0, 1.0])
    verdict, reason = judge(run, CHANCE, PRIOR, 0.96, invalid_reason="ValueError: must have rank")
    assert verdict == "invalid"
    assert "rank" in reason


def test_levels_too_close_to_tell_apart_use_absolute_distance():
    # chance 1.0, prior 0.98: the loss 0.995 is nearer chance -> stalled; 0.982 nearer prior -> collapsed
    stalled = curves([1.0, 0.995], [1.0, 0.995], [0.0, 0.0], [1.0, 1.0])
    collapsed = curves([1.0, 0.982], [1.0, 0.982], [0.0, 0.0], [1.0, 1.0])
    assert judge(stalled, 1.0, 0.98, 0.9)[0] == "stalled_at_chance"
    assert judge(collapsed, 1.0, 0.98, 0.9)[0] == "collapsed_to_background"


def test_every_verdict_is_reachable():
    fg = {"val/dice/rv": [0.6, 0.6], "val/dice/myo": [0.6, 0.6], "val/dice/lv": [0.6, 0.6]}
    dropped = fg | {"val/dice/rv": [0.0, 0.0]}
    seen = {
        judge({}, CHANCE, PRIOR, 0.9, invalid_reason="x")[0],
        judge(curves([1.0, float("nan")], [1.0, 1.0], [0, 0], [1, 1]), CHANCE, PRIOR, 0.9)[0],
        judge(curves([1.0, 0.1], [1.0, 0.1], [0, 0.6], [0.0, 0.0]) | fg, CHANCE, PRIOR, 0.9)[0],
        judge(curves([1.0, 0.1], [1.0, 0.1], [0, 0.5], [0.9, 0.9]), CHANCE, PRIOR, 0.9)[0],
        judge(curves([1.0, 0.1], [1.0, 0.1], [0, 0.4], [0.9, 0.9]) | dropped, CHANCE, PRIOR, 0.9)[0],
        judge(curves([1.0, 0.2], [1.0, 0.2], [0, 0], [1, 1]), CHANCE, PRIOR, 0.9)[0],
        judge(curves([1.4, 1.3], [1.4, 1.3], [0, 0], [1, 1]), CHANCE, PRIOR, 0.9)[0],
        judge(curves([1.0, 0.5], [1.0, 0.5], [0, 0.1], [0.9, 0.9]), CHANCE, PRIOR, 0.9)[0],
    }
    assert seen == set(VERDICTS)


def _judge_predictions(truth, pred, loss=0.05, names=("rv", "myocardium", "lv")):
    """Curves of one epoch from hand-made label maps, measured as the trial measures them."""
    per_class = metrics.dice_per_class(truth, pred, 4)
    run = curves([0.8, loss], [0.8, loss], [0.0, metrics.foreground_dice(per_class)], [1.0, float(np.mean(pred == 0))])
    run |= {f"val/dice/{name}": [0.0, float(np.nan_to_num(v))] for name, v in zip(names, per_class[1:], strict=True)}
    return judge(run, CHANCE, PRIOR, true_background_share=float(np.mean(truth == 0)))


def _heart(n=8, size=48):
    """Label maps with a small LV disc, a myocardial ring and an RV crescent (about 95 % background)."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    rv = np.hypot(yy - size / 2, xx - size / 2 + 9)
    one = np.zeros((size, size), np.int64)
    one[(rv < 6) & (r >= 7)] = 1
    one[(r >= 4.5) & (r < 7)] = 2
    one[r < 4.5] = 3
    return np.repeat(one[None], n, axis=0)


def test_all_foreground_net_is_degenerate_not_converged():
    # the 32-epoch soft Dice net of issue 8: every background pixel labelled myocardium, every
    # foreground pixel right -> mean foreground Dice ~0.7 with myocardium ~0.03, 0 % background
    truth = _heart()
    pred = np.where(truth == 0, 2, truth)
    assert metrics.foreground_dice(metrics.dice_per_class(truth, pred, 4)) > 0.6
    verdict, reason = _judge_predictions(truth, pred)
    assert verdict == "degenerate"
    assert "0.0% background" in reason and "myocardium Dice 0.0" in reason


def test_a_dropped_class_is_named_not_converged():
    truth = _heart()
    pred = np.where(truth == 1, 0, truth)  # RV never predicted, the others perfect: mean 0.67
    verdict, reason = _judge_predictions(truth, pred)
    assert verdict == "class_dropped"
    assert "rv 0.00" in reason and "does not segment rv" in reason


def test_every_class_learnt_converges():
    truth = _heart()
    pred = truth.copy()
    pred[:, :, :2] = 0  # a little wrong, every class present
    assert _judge_predictions(truth, pred)[0] == "converged"


def test_without_a_background_the_background_verdicts_do_not_apply():
    """data.background=null: no degenerate or collapsed_to_background; a dropped class is named instead."""
    curves = {
        "train/loss": [2.0, 0.6],
        "val/loss": [2.0, 0.6],
        "val/foreground_dice": [0.1, 0.5],
        "val/dice/sky": [0.2, 0.9],
        "val/dice/road": [0.2, 0.9],
        "val/dice/pole": [0.0, 0.02],
    }
    verdict, reason = judge(curves, chance=2.4, prior=1.5, true_background_share=None)
    assert verdict == "class_dropped" and "pole" in reason and "background" not in reason
    curves["val/dice/pole"] = [0.0, 0.3]
    assert judge(curves, chance=2.4, prior=1.5, true_background_share=None)[0] == "converged"
    stuck = dict(curves, **{"val/loss": [2.4, 2.35], "val/foreground_dice": [0.0, 0.05]})
    assert judge(stuck, chance=2.4, prior=1.5, true_background_share=None)[0] == "stalled_at_chance"
    # a net that predicts one class everywhere has no 'predicted background share' to judge: no KeyError
    assert "val/predicted_background_share" not in curves


def test_stalled_means_nearer_chance_than_prior():
    assert stalled(1.30, chance=1.386, prior=0.17)  # thread 2's 1.4 -> 1.3
    assert not stalled(0.22, chance=1.386, prior=0.17)  # learnt the shares: collapsed, not stalled
    assert not stalled(0.05, chance=1.386, prior=0.17)  # below the prior: learning
