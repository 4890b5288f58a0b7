"""Reports and plots: self-contained HTML pages and PNG figures of the results.

* :func:`~.session.write_session_report`: ``exports/session_reports/<dataset>.html``;
* :func:`~.catalog_reports.write_catalog_reports`: ``catalog/reports/...``;
* :func:`~.run_outputs.write_run_outputs`: what ``nirs4all run`` draws at its end
  (the best pipeline's ``outputs/*.png``, then the session report).

Every page is one file that opens offline (inline style and script, images as
base64 PNG, relative links). matplotlib is imported only when a figure is drawn.
Import the submodules directly; this package imports nothing heavy.
"""
