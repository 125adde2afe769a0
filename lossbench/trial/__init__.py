"""One pairing, end to end: the room a single training lives in.

`run.run_trial(cfg)` builds the model (`model`, its last layer from `activations`), checks what the
loss really reads (`audit`), weights the classes (`weighting`), trains with one of `losses`, measures
(`metrics`) and judges the curves (`verdict`); `pack` trains several pairings in one program. Nothing
here knows about studies, workers or stores: it reads a config and `lossbench.data`, and returns numbers.
"""
