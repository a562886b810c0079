"""Analysis: what each stage works out from the inputs, one module per stage or method.

Month coverage of the police data (``police``), window comparisons (``trends``) and trend
models (``trend_models``), hotspots and places (``hotspots``, ``places``), the resident
survey (``survey``), MoRiLE prioritisation (``morile``), threat profiles from a force
extract (``threat_profiles``) and the delivery plan (``delivery``).
"""
