"""Durable storage behind one port: ``port`` says what every store does, ``sqlite`` does it.

Import from the module that holds a name (``server.store.port``, ``server.store.sqlite``), so a
reader sees at once whether code depends on the interface or on one database.
"""
