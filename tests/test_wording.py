"""`lossbench.analysis.wording`: report sentences in the data set's words."""

from lossbench.analysis.wording import for_data


def test_with_a_background_class_nothing_changes():
    text = "mean test foreground Dice; Predicting background everywhere scores 0.98; the all-background net"
    assert for_data(text, 0, "road") == text


def test_without_one_no_sentence_speaks_of_background():
    text = (
        "k of n seeds converged (every foreground class learnt); mean test foreground Dice 0.31. "
        "Predicting background everywhere already scores 0.876 binary accuracy: the all-background net; "
        "2% predicted background"
    )
    out = for_data(text, None, "road")
    assert "background" not in out and "foreground" not in out
    assert "every class learnt" in out and "mean test Dice (all classes) 0.31" in out
    assert "Predicting road (the commonest class) everywhere" in out and "the all-road net" in out
