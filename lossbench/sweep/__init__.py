"""Many trials: which configs to try, who runs them, and where each is recorded.

`space` turns a sweep file into points; `study` names, creates and resumes the Optuna study; `work`
is the exactly-once queue (enqueue once, claim once, rerun the killed), over `optuna_store`, the one
module that touches Optuna's private API. `launch` runs a sweep from start to end: `workers` start
one process per slot, each runs the search loop (`loop`: next trial, adaptive seeds) and each
trial's lifecycle (`job`), with `interrupts` for Ctrl-C and a parent that died; `progress` is what a
person watches; `tracking` writes MLflow runs (or JSON lines); `validate` checks every setting
before anything is stored. ``python -m lossbench.sweep`` is its command line (`__main__`), the one
place where the sweep and the analysis meet.
"""
