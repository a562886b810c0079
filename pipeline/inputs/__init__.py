"""Inputs: reading and checking what an analyst brings.

police.uk street-level files (``police_scan``, kept once read by ``police_reads``), a force's
offence-level extract (``extract``), boundaries, lookups and deprivation ranks
(``geography``), Home Office offence codes (``offences``), and the spreadsheets partners
send (``spreadsheets``). Every reader names the file, row and value of each problem.
"""
