"""Strategic Assessment Pipeline: a Community Safety Partnership's annual assessment.

Stages (one module each): ``police`` reads police.uk files for an area, ``trends``
compares the assessment window with the one before it, ``publish`` turns the report
notebook into an accessible, self-contained HTML page, ``run`` executes the stages.
"""

__version__ = "0.1.0"
