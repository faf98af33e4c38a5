"""ringq_proof: the proof toolkit of ringq (install with `pip install 'ringq[toolkit]'`).

The storage model (`model`), the refinement mapping from database rows to model states
(`abstraction`), the execution log (`execlog`), the mutant catalogue and runner (`mutants`),
`ringq verify` (`verify`, `verify_steps`) and `ringq demo` (`demo`). The queue runtime (`ringq`)
never imports this package.
"""
