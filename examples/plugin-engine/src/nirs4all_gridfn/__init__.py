"""gridfn: a nirs4all-workspace engine that runs a user's function over a parameter grid.

Nothing is imported here: the catalog reads ``nirs4all_gridfn.declaration``
without importing numpy or the engine (``nirs4all_gridfn.engine``).
"""

__version__ = "0.1.0"
