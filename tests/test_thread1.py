"""Thread 1's own questions (`lossbench.analysis.thread1`), part by part, on the planted frames of test_evidence."""

from __future__ import annotations

from test_evidence import frame, rate_rows, row, thread1_frame

from lossbench.analysis import evidence, thread1


def test_evidence_re_exports_thread_1s_questions():
    assert evidence.thread1_sentences is thread1.thread1_sentences
    assert evidence.PROBABILITIES == ("softmax_untagged", "sigmoid_untagged") and evidence.LOGITS == thread1.LOGITS


def test_each_depth_softmax_variant_gets_one_line_per_loss_it_ran():
    lines = thread1._depth_softmax_lines(thread1_frame())
    assert lines and all(line.startswith("- Answer ") for line in lines)
    assert thread1._depth_softmax_lines(frame([row("dice")])) == []


def test_the_thread_answers_come_in_their_order_without_empty_lines():
    out = thread1.thread1_sentences(thread1_frame())
    assert "" not in out
    order = [
        next(i for i, line in enumerate(out) if key in line)
        for key in ("depth_softmax", "Permute+Reshape+softmax vs", "column-major")
    ]
    assert order == sorted(order)


def test_one_rate_test_per_learning_rate_and_path_with_holm():
    rows = frame(rate_rows(1e-3, "probabilities", 3, 0) + rate_rows(1e-2, "probabilities", 3, 3))
    tests = thread1._rate_tests(rows)
    assert [(t["lr"], t["path"]) for t in tests] == [(1e-3, "probabilities"), (1e-2, "probabilities")]
    assert all(t["holm"] >= t["p"] for t in tests)
    assert thread1._rate_line(tests[1]).startswith("- Adam lr 0.01, loss on the probabilities")
