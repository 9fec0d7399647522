"""Scoring: schemes, AHP, scoring rules, scenarios/triggers, pay, training plans, what-if.

Public surface: ``load_scheme``, ``Scheme``, ``SchemeError`` (scheme.py), ``ahp`` and
``ahp_from_csv`` (ahp.py), ``evaluate`` and ``Evaluation`` (evaluate.py), ``whatif``
(whatif.py), ``DatasetSource``/``StaticSource``/``load_manual``/``load_history``
(sources.py) and ``render`` (export.py).
"""
