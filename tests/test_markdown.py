"""Numbers and Markdown tables as every results page writes them (`lossbench.analysis.markdown`)."""

from __future__ import annotations

import pandas as pd

from lossbench.analysis.markdown import sig3, table


def test_three_significant_digits_keep_their_trailing_zeros():
    assert [sig3(v) for v in (0.5, 0.0004567, 2.0, 99.95)] == ["0.500", "0.000457", "2.00", "100"]
    assert sig3(float("nan")) == "nan"


def test_a_table_has_a_header_a_rule_and_escaped_cells():
    text = table(pd.DataFrame({"pairing": ["dice+softmax | none", "ce"], "k": [3, 1], "Dice": [0.81234, float("nan")]}))
    assert text.splitlines() == [
        "| pairing | k | Dice |",
        "|---|---|---|",
        "| dice+softmax \\| none | 3 | 0.812 |",
        "| ce | 1 | nan |",
    ]
