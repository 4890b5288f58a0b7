"""Maintenance of a workspace: verify, repair, gc, archive, delete, rebuild, usage.

This floor sits above the primitives (:mod:`~nirs4all_workspace.workspace`) and
the catalog (:mod:`~nirs4all_workspace.catalog`), which it reads and rewrites;
neither imports it.
"""
