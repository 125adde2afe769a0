"""Numbers and tables as every results page writes them: three significant digits, Markdown tables.

The report, the transfer, the pruning and the reproducibility pages share these two, so a figure
reads the same on each.
"""

from __future__ import annotations

import pandas as pd


def sig3(value: float) -> str:
    """Three significant digits, trailing zeros kept: 0.53 -> '0.530', 1.386 -> '1.39', 0.0 -> '0.00'.

    >>> [sig3(v) for v in (0.53, 1.386, 0.0, 0.01504, 123.4, float("nan"))]
    ['0.530', '1.39', '0.00', '0.0150', '123', 'nan']
    """
    return f"{value:#.3g}".rstrip(".") if value == value else "nan"


def table(frame: pd.DataFrame) -> str:
    """``frame`` as a Markdown table: floats with `sig3`, a ``|`` inside a cell escaped.

    >>> print(table(pd.DataFrame({"pairing": ["a | b"], "Dice": [0.5]})))
    | pairing | Dice |
    |---|---|
    | a \\| b | 0.500 |
    """
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = (sig3(v) if isinstance(v, float) else str(v).replace("|", "\\|") for v in row)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
