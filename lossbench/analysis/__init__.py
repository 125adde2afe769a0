"""From stores to answers: it reads what the studies hold and writes ``results/``; it never trains.

`stats` (rates, intervals, tests) and `claims` (the comparisons a report makes) are the arithmetic;
`evidence` explains why binary CE looked better; `report` writes one experiment's summary, findings
and plots; `transfer`, `holds`, `reproduce` and `pruning` compare studies; `budget` plans the
4x-epochs check that the sweep's command line runs.
"""
