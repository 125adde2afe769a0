"""Report sentences in the data set's own words: no "background" where a data set has none.

The report and the evidence are written for the cardiac data, where class 0 is background and the
summary figure is the Dice over the foreground classes. For a data set where every class counts
(``data.background: null``, street scenes) `for_data` rewrites those phrases: the summary figure
is the mean Dice over every class, and the net that "predicts background everywhere" becomes the
net that predicts the commonest class (e.g. road) everywhere.

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
