"""Orchestration: from a params file to published documents.

Every input checked before any notebook runs (``checks``), the stages run with papermill
on kept kernels (``run``, ``kernels``), reusing what did not change (``reuse``), writing only
where it may (``safety``); several areas (``batch``), every partnership of a force
(``force_run``), and reruns on each save (``watch``).
"""
