"""Fuzzing of every input teecert reads, one target per input kind.

``targets.py`` builds the seeds (through the public functions, so they follow the
formats as they change) and the mutators; ``run.py`` runs cases and counts escapes
(``python -m tests.fuzz.run --target report --cases 100000 --seed 1``);
``test_inputs_fuzz_smoke.py`` runs a few hundred cases per target in the default tests.
"""
