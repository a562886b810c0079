"""Documents: what partners read.

The strategic assessment's tables and sentences (``report``, ``threat_report``), charts and
maps with alt text (``charts``, ``maps``, reused when unchanged by ``chart_cache``), and the
accessible, self-contained HTML pages and CSV tables (``publish``).
"""
