"""The library: trained pipelines and templates that travel safely.

- :mod:`.zipformat`: the zip format, writing it, and the hygiene checks of reading one;
- :mod:`.safe_objects`: fitted objects as skops files, loaded with trusted types only;
- :mod:`.contents`: a checked zip's pipelines, objects and data (``open_trained``);
- :mod:`.packing`: building ``filtered`` / ``pipeline`` / ``fullrun`` zips from a workspace;
- :mod:`.trained`: ``library/trained/`` (save, list, show, remove, import);
- :mod:`.templates`: ``library/templates/``;
- :mod:`.predict`: applying a zip to new spectra;
- :mod:`.exports`: ``nirs4all export`` and the ``exports/`` folder;
- :mod:`.reproduce`: ``nirs4all run --from-zip``.

Modules are imported by what needs them (nothing here), so the CLI stays light.
See ``docs/library.md``.
"""
