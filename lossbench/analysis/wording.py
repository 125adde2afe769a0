"""Report sentences in the data set's own words: no "background" where a data set has none.

The report and the evidence are written for the cardiac data, where class 0 is background and the
summary figure is the Dice over the foreground classes. For a data set where every class counts
(``data.background: null``, street scenes) `for_data` rewrites those phrases: the summary figure
is the mean Dice over every class, and the net that "predicts background everywhere" becomes the
net that predicts the commonest class (e.g. road) everywhere. `humanise` puts the option names of
a report (``sgd_thread2``) in the words of their ``label:`` in ``conf/optimizer/``.

>>> for_data("mean test foreground Dice; every foreground class learnt", None, "road")
'mean test Dice (all classes); every class learnt'
>>> for_data("Predicting background everywhere scores 0.98", 0, "background")
'Predicting background everywhere scores 0.98'
"""

from __future__ import annotations

import re


def phrases(commonest: str) -> list[tuple[str, str]]:
    """(pattern, replacement) pairs, most specific first."""
    return [
        (r"every foreground class", "every class"),
        (r"per foreground class", "per class"),
        (r"foreground classes", "classes"),
        (r"foreground class", "class"),
        (r"foreground Dice", "Dice (all classes)"),
        (r"[Pp]redicting background everywhere", f"Predicting {commonest} (the commonest class) everywhere"),
        (r"all-background", f"all-{commonest}"),
        (r"predicted background", f"predicted {commonest}"),
        (r"\bbackground\b", commonest),
    ]


def for_data(text: str, background, commonest: str = "background") -> str:
    """``text`` as is for a data set with a background class; rewritten (module docstring) without one."""
    if background is not None:
        return text
    for pattern, replacement in phrases(commonest):
        text = re.sub(pattern, replacement, text)
    return text


def option_labels() -> dict[str, str]:
    """Optimizer name -> the words reports use (its ``label:`` in ``conf/optimizer/*.yaml``)."""
    from lossbench.registry import option_word, options

    return {name: option_word("optimizer", name) for name in options("optimizer")}


# a pairing as `lossbench.registry.pairing_label` writes it: loss+activation | weighting | optimizer [lr X]
# (the optimizer also in words already: a findings file written before)
# (in a markdown table cell its bars are escaped: ``\|``)
# a trial named after its pairing (``dice+softmax|none|adam: dice+softmax | none | adam``) is said once
RAW_PAIRING = r"(?:(?<![\w`])[a-z0-9_+]+(?:\|[a-z0-9_+]+)+: )?(?<![\w`])([a-z0-9_]+)\+([a-z0-9_]+) \\?\| ([a-z0-9_]+) \\?\| ({optimizer})(?: lr ([0-9.e+-]+[0-9]))?"
LEGACY_LABELS = {"SGD 1e-4 m0.9 (thread 2)": "sgd_thread2"}  # labels reports used before; said as today


def humanise(text: str) -> str:
    """Pairings and option names in words: ``dice+softmax | none | sgd_seed`` -> "soft Dice · softmax ·
    unweighted · SGD 1e-4 (thread 2)" (`lossbench.registry.short_label`), a lone ``adam`` -> "Adam 1e-3".
    Names in `backticks` (a sweep file's trial names, commands) stay as they are.

    >>> humanise("dice+softmax | none | sgd_seed; `adam` vs adam; ce+softmax | none | Adam 1e-3 lr 0.003")
    'soft Dice · softmax · unweighted · SGD 1e-4 (thread 2); `adam` vs Adam 1e-3; ce · softmax · unweighted · Adam 3e-3'
    >>> humanise("dice_ce+softmax|none|adam: dice_ce+softmax | none | adam; thread2_exact: dice+softmax | none | adam")
    'Dice+CE · softmax · unweighted · Adam 1e-3; thread2_exact: soft Dice · softmax · unweighted · Adam 1e-3'
    >>> humanise("| dice+softmax \\| none \\| adam | 3/3 |")
    '| soft Dice · softmax · unweighted · Adam 1e-3 | 3/3 |'
    """
    from lossbench.registry import short_label

    labels = option_labels()
    names = {label: name for name, label in labels.items()} | LEGACY_LABELS  # words back to option names
    said = sorted([*labels, *names], key=len, reverse=True)
    optimizer = "|".join(map(re.escape, said)) + "|[a-z0-9_]+"
    alone = "|".join(re.escape(w) for w in said)
    words = re.compile(r"`[^`]*`|" + RAW_PAIRING.format(optimizer=optimizer) + r"|(?<![\w])(" + alone + r")(?![\w])")

    def say(m: re.Match) -> str:
        if m.group(1):
            loss, activation, weighting, optimizer, rate = m.group(1, 2, 3, 4, 5)
            optimizer = names.get(optimizer, optimizer)
            pairing = {"loss": loss, "activation": activation, "class_weighting": weighting, "optimizer": optimizer}
            return short_label(pairing | ({"learning_rate": float(rate)} if rate else {}))
        if m.group(6):
            return labels.get(m.group(6)) or labels.get(names.get(m.group(6), ""), m.group(6))
        return m.group(0)

    return words.sub(say, text)
