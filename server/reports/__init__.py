"""Supervisor reports: visit records kept beside the log, and the figures read from them.

``records``: the log folded into visit, leg and span rows (every store writes them).
``stats``: percentiles and rates, each defined once. ``figures``: a period's figures from a
store's records. ``tables``: the figures as CSV and text tables (the command line, the download).
``charts``: the figures drawn as SVG. ``staffing``: the Erlang C advice. Definitions of every
figure: docs/measures.md.
"""
