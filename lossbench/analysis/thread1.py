"""Thread 1's own questions answered from the numbers: the activations, the reshape order, the learning rate.

Pure functions over the trials table, like `evidence` (which re-exports them): the depth_softmax
variants, Permute+Reshape+softmax against the Keras softmax, labels and outputs flattened in
different orders, and per learning rate whether binary CE survives where categorical CE fails,
with the share of pixels at Keras's clip beside each answer.
"""

from __future__ import annotations

import pandas as pd

from lossbench.analysis import claims


def _describe(rows: pd.DataFrame) -> str:
    verdicts = rows["verdict"].replace("", "failed").value_counts()
    return (
        f"{', '.join(f'{v} {k}' for k, v in verdicts.items())}; mean test foreground Dice "
        f"{rows['test/foreground_dice'].mean():.3f}"
    )


def clipping_sentence(trials: pd.DataFrame) -> str:
    """The measured mechanism: pixels whose true-class probability sits at Keras's clip, by verdict."""
    col = "val/clipped_share"
    if col not in trials or "audit" not in trials:
        return ""
    nominal = trials[(trials["audit"] == "nominal") & trials[col].notna()]
    if nominal.empty:
        return ""
    parts = [f"{verdict} {rows[col].median():.2%} (n = {len(rows)})" for verdict, rows in nominal.groupby("verdict")]
    return (
        "- Pixels whose true-class probability sits at Keras's clip (1e-7, where the gradient through "
        "the clip is exactly zero), last epoch, median per verdict, for the trials whose loss sees the "
        "probabilities (audit `nominal`): " + "; ".join(parts) + "."
    )


PROBABILITIES = ("softmax_untagged", "sigmoid_untagged")  # Keras cannot see the function: the loss reads probabilities
LOGITS = ("softmax", "sigmoid")  # Keras's own layers: every CE reads the logits (FACTS #2)


def _rate_tests(done: pd.DataFrame) -> list[dict]:
    """Per learning rate and path (probabilities, logits): binary vs categorical CE converged, Fisher's p."""
    from lossbench.analysis import stats

    tests = []
    for lr in sorted(done["learning_rate"].dropna().unique()):
        for path, acts in (("probabilities", PROBABILITIES), ("logits", LOGITS)):
            rows = done[(done["learning_rate"] == lr) & done["activation"].isin(acts)]
            b, c = (rows[rows["loss"] == loss] for loss in ("binary_crossentropy", "categorical_crossentropy"))
            if b.empty or c.empty:
                continue
            kb, nb, kc, nc = (
                int((b["verdict"] == "converged").sum()),
                len(b),
                int((c["verdict"] == "converged").sum()),
                len(c),
            )
            tests.append(
                {
                    "lr": lr,
                    "path": path,
                    "counts": (kb, nb, kc, nc),
                    "p": stats.fisher_p(kb, nb, kc, nc),
                    "clipped": rows,
                }
            )
    for test, adjusted in zip(tests, stats.holm([t["p"] for t in tests]), strict=True):
        test["holm"] = adjusted
    return tests


def _rate_line(test: dict) -> str:
    """One learning rate and path: the counts, the Holm-corrected verdict, the clipped share by verdict."""
    from lossbench.analysis import stats

    kb, nb, kc, nc = test["counts"]
    if test["holm"] < stats.ALPHA:
        verdict = (
            "**holds**: binary CE converges more often"
            if kb / nb > kc / nc
            else "**reversed**: categorical CE converges more often"
        )
    else:
        verdict = f"undecided at {min(nb, nc)} seeds"
    line = (
        f"- Adam lr {test['lr']:g}, loss on the {test['path']} ({' / '.join(PROBABILITIES if test['path'] == 'probabilities' else LOGITS)}): "
        f"binary CE {kb}/{nb}, categorical CE {kc}/{nc} converged (Fisher p = {test['p']:.3g}, Holm {test['holm']:.3g}): "
        f"'binary CE survives where categorical CE fails' {verdict}"
    )
    col = "val/clipped_share"
    if test["path"] == "probabilities" and col in test["clipped"]:
        by = test["clipped"].groupby("verdict")[col]
        line += "; pixels at Keras's clip in the last epoch, median by verdict: " + ", ".join(
            f"{v} {m:.2%} (n = {n})" for (v, m), n in zip(by.median().items(), by.size(), strict=True)
        )
    return line + "."


def learning_rate_sentences(trials: pd.DataFrame) -> list[str]:
    """Does binary CE survive where categorical CE fails, per learning rate, on probabilities and on logits?

    Convergence pooled over the two activations of each path, Fisher's exact test, Holm over every
    test made here; the clipped share of the stalled and converged probability-path trials beside it.
    """
    if "learning_rate" not in trials or trials["learning_rate"].nunique() < 2:
        return []
    done = (
        claims.ran(trials[~trials["trials"].astype(str).str.contains("mismatch")])
        if "trials" in trials
        else claims.ran(trials)
    )
    return [_rate_line(test) for test in _rate_tests(done)]


def _depth_softmax_lines(plain: pd.DataFrame) -> list[str]:
    """Does each depth_softmax variant train, with each cross-entropy?"""
    out = []
    for act, label in (
        ("depth_softmax_thread1", "Answer 1's depth_softmax (sum over axis 0, the batch)"),
        ("depth_softmax_fixed", "Answer 2's fixed depth_softmax (sum over channels)"),
    ):
        for loss in ("binary_crossentropy", "categorical_crossentropy"):
            rows = plain[(plain["activation"] == act) & (plain["loss"] == loss)]
            if rows.empty:
                continue
            trains = (
                "trains"
                if (rows["verdict"] == "converged").all()
                else ("trains in some seeds" if (rows["verdict"] == "converged").any() else "does **not** train")
            )
            out.append(f"- {label} with {loss}: {trains} ({_describe(rows)}).")
    return out


def _permute_lines(plain: pd.DataFrame) -> list[str]:
    """Permute+Reshape+softmax against a per-pixel Keras softmax: the same training or not, and the Dice."""
    out = []
    for loss in ("categorical_crossentropy", "binary_crossentropy"):
        a = plain[(plain["activation"] == "softmax") & (plain["loss"] == loss)].set_index("seed")
        b = plain[(plain["activation"] == "permute_reshape_softmax") & (plain["loss"] == loss)].set_index("seed")
        seeds = a.index.intersection(b.index)
        if seeds.empty:
            continue
        dloss = float((a.loc[seeds, "val/loss"] - b.loc[seeds, "val/loss"]).abs().max())
        dice = claims.dice_claim(
            "thread1",
            plain,
            {"trials": b["trials"].iat[0]},
            {"trials": a["trials"].iat[0]},
            0,
            "Permute+Reshape+softmax",
            "the Keras softmax",
        )
        audits = f"audit {a['audit'].mode().iat[0]} vs {b['audit'].mode().iat[0]}"
        same = "the same training" if dloss < 1e-3 else "a different training"
        out.append(
            f"- Permute+Reshape+softmax vs a per-pixel Keras softmax with {loss}: the outputs are equal for equal "
            f"logits (tests/test_activations.py), and the runs show {same} (largest |difference| of the last "
            f"validation loss {dloss:.3g}; {audits}): the Reshape hides the softmax from Keras, so the loss is "
            f"computed on the probabilities, not on the logits. {dice.sentence if dice else ''}."
        )
    return out


def _mismatch_lines(trials: pd.DataFrame, plain: pd.DataFrame, mismatch: pd.Series) -> list[str]:
    """Labels flattened column-major against outputs flattened row-major: the loss falls, the Dice does not."""
    out = []
    for loss in ("binary_crossentropy", "categorical_crossentropy"):
        good = plain[(plain["activation"] == "permute_reshape_softmax") & (plain["loss"] == loss)]
        bad = trials[mismatch & (trials["loss"] == loss)]
        if good.empty or bad.empty:
            continue
        out.append(
            f"- Labels flattened column-major against outputs flattened row-major ({loss}): "
            f"{_describe(bad)}; the training loss still fell to {bad['train/loss'].median():.3g} (matching "
            f"orders: {good['train/loss'].median():.3g}): the net learns transposed masks, and only the Dice "
            "against the true masks shows it. "
            + (
                d.sentence + "."
                if (
                    d := claims.dice_claim(
                        "thread1",
                        trials,
                        {"trials": bad["trials"].iat[0]},
                        {"trials": good["trials"].iat[0]},
                        0,
                        "mismatched orders",
                        "matching orders",
                    )
                )
                else ""
            )
        )
    return out


def thread1_sentences(trials: pd.DataFrame) -> list[str]:
    """Thread 1's own questions: the depth_softmax variants, Permute+Reshape+softmax, the reshape order.

    With several learning rates, the questions are answered at the study's main one (the rate of
    most trials) and `learning_rate_sentences` compares the rates.
    """
    if "learning_rate" in trials and trials["learning_rate"].nunique() > 1:
        main_rate = trials["learning_rate"].mode().iat[0]
        return learning_rate_sentences(trials) + thread1_sentences(trials[trials["learning_rate"] == main_rate])
    mismatch = trials["trials"].astype(str).str.contains("reshape_mismatch")
    plain = trials[~mismatch]
    out = [
        clipping_sentence(plain),
        *_depth_softmax_lines(plain),
        *_permute_lines(plain),
        *_mismatch_lines(trials, plain, mismatch),
    ]
    return [line for line in out if line]
