"""Strategic Assessment Pipeline: a Community Safety Partnership's annual assessment.

The package reads like the process: ``inputs`` (police.uk files, a force extract,
geography, offence codes, partners' spreadsheets) -> ``analysis`` (each stage's counts,
models and scores) -> ``documents`` (tables, charts, maps and the published HTML), run by
``orchestration`` (input checks, stages, kernels, reuse, batches, watch). Shared by all:
``params`` (the validated params file), ``errors`` and ``months``; ``cli`` is the command.
"""

__version__ = "0.1.0"
