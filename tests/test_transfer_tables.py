"""What the transfer compares (`lossbench.analysis.transfer_tables`): the conclusions table on planted studies."""

from __future__ import annotations

from test_claims import grid

from lossbench.analysis import claims, transfer_tables


def test_every_conclusion_the_real_run_can_test_gets_its_outcome():
    phantom, real = grid(bce=0.6, cce=0.8), grid(bce=0.9, cce=0.7)
    found = claims.claims_for(phantom, 6)
    again = transfer_tables.retest(found, real, real.assign(trained_as="", merged=False), 6)
    rows = transfer_tables.pairing_rows(real.assign(trained_as="", merged=False), {"real": claims.rates(real)})
    repro = {"class of dice+softmax | none | adam": {"agree": "no", "seeds A": "always"}}
    conc = transfer_tables.conclusion_rows(found, again, claims.rates(phantom), claims.rates(real), rows, repro)
    assert list(conc.columns) == ["conclusion", "stated in the README", "phantom", "real hearts", "on real hearts"]
    dice = conc.set_index("conclusion").loc["class of dice+softmax | none | adam"]
    assert (dice["stated in the README"], dice["on real hearts"]) == ("no (seed sets disagree)", "holds")
    others = conc[conc["conclusion"] != "class of dice+softmax | none | adam"]["stated in the README"]
    assert set(others) == {"no (not in the seed sets' comparison)"}  # only what both seed sets decided is stated
    binary = conc[conc["conclusion"].str.startswith("binary:")].iloc[0]
    assert binary["on real hearts"] == "**reversed**" and binary["phantom"].startswith("lower: -0.")


def test_groups_give_the_per_subject_dice_of_each_seed():
    groups = transfer_tables.groups(
        grid(), {"loss": "dice", "activation": "softmax", "class_weighting": "none", "optimizer": "adam"}
    )
    assert len(groups) == 3 and all(len(g) == 6 for g in groups)


def test_the_optimizer_steps_of_a_trial(compose_cfg):
    cfg = compose_cfg(["+experiment=cmr", "trainer.epochs=2", "trainer.batch_size=8"])
    from hydra.utils import instantiate

    n = len(instantiate(cfg.data.loader).train.labels)
    assert transfer_tables.steps(cfg) == 2 * -(-n // 8)
