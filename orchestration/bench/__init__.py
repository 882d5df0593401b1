"""`make bench`: the pipeline measured against a hand-written floor program, per stage.

`floor` is the plain program (decode, read, load, compute every KPI); `harness` generates a
sample and times the floor and `dxkpi-run` (cold, no-op, one new file) on the same files;
`report` formats what it measured. `national` times `dxkpi-run` (cold, one new file) on a
synthetic national-scale municipality list, against the generator's truth (`make
bench-national`).
"""
