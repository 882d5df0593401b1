"""`make bench`: the pipeline measured against a hand-written floor program, per stage.

`floor` is the plain program (decode, read, load, compute every KPI); `harness` generates a
sample and times the floor and `dxkpi-run` (cold, no-op, one new file) on the same files;
`report` formats what it measured.
"""
