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
    """Option name -> the words reports use (``label:`` in ``conf/optimizer/*.yaml``)."""

    from lossbench.registry import option_config, options

    return {name: str(option_config("optimizer", name).get("label") or name) for name in options("optimizer")}


def humanise(text: str) -> str:
    """Option names in words: ``sgd_seed`` -> "SGD 1e-4 m0.9 (thread 2)". Names in `backticks` (a sweep
    file's trial names, commands) stay as they are.

    >>> humanise("dice+softmax | none | sgd_seed; `adam` vs adam")
    'dice+softmax | none | SGD 1e-4 m0.9 (thread 2); `adam` vs Adam 1e-3'
    """
    labels = option_labels()
    pattern = re.compile(r"`[^`]*`|\b(" + "|".join(map(re.escape, sorted(labels, key=len, reverse=True))) + r")\b")
    return pattern.sub(lambda m: labels[m.group(1)] if m.group(1) else m.group(0), text)
