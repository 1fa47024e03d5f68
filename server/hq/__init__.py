"""Headquarters: many offices' logs on one PostgreSQL server (docs/headquarters.md).

``wire``: what an office sends and headquarters answers. ``shipping``: the office's side, a
background task that ships its log. ``database``: headquarters' schema, its offices and their
copies of the logs. ``ingest``: a batch checked and folded in. ``app``: ``lobby hq serve``.
``overview`` and ``reports``: what headquarters shows of every office.
"""
