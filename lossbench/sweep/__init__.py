"""Many trials: which configs to try, who runs them, and where each is recorded.

`space` turns a sweep file into points; `study` names, creates and resumes the Optuna study; `work`
is the exactly-once queue (enqueue once, claim once, rerun the killed); `run` starts the workers and
drives each trial's lifecycle; `tracking` and `records` write MLflow runs (or JSON lines);
`validate` checks every setting before anything is stored. ``python -m lossbench.sweep`` is its
command line (`__main__`), the one place where the sweep and the analysis meet.
"""
