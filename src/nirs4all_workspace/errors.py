"""The exceptions raised by nirs4all-workspace.

Every error the library raises on purpose derives from one root, so callers
(and the CLI's single error-to-exit-code place) catch one class::

    WorkspaceError                  root; exit status 1 in the CLI
     +-- InputError                 bad input from the user; exit status 2
     |    +-- DatasetError          unreadable file, unknown column, NaN target...
     |    +-- ConfigError           unparseable config, unknown class path, bad generator
     |    +-- InvalidNameError      a dataset, session or pipeline name that is unsafe
     |    +-- PipelineNotFound      DATASET/PIPELINE does not resolve
     |    +-- DeletionRefused       deleting would lose the only copy of a result
     |    +-- ArchiveRefused        a library/export zip is unsafe, tampered or malformed
     |         +-- TrustRequired    it holds a pickle or an untrusted type (pass --trust)
     +-- IntegrityError             a digest or a file on disk is not what it should be
     +-- EngineError                an engine is not installed or broke its contract
     +-- Interrupted                Ctrl-C, with what was kept and how to resume; exit status 130

Messages name the thing, the path and what to do.
"""

from __future__ import annotations

__all__ = [
    "ArchiveRefused",
    "ConfigError",
    "DatasetError",
    "DeletionRefused",
    "EngineError",
    "InputError",
    "IntegrityError",
    "Interrupted",
    "InvalidNameError",
    "PipelineNotFound",
    "TrustRequired",
    "WorkspaceError",
]


class WorkspaceError(Exception):
    """Root of every error raised on purpose by nirs4all-workspace."""

    exit_code = 1


class InputError(WorkspaceError):
    """The user gave something the tool cannot accept."""

    exit_code = 2


class DatasetError(InputError):
    """A dataset cannot be read or is not usable as it is."""


class ConfigError(InputError):
    """A pipeline configuration cannot be parsed or expanded."""


class InvalidNameError(InputError):
    """A dataset, session or pipeline name is unsafe (e.g. would escape the workspace)."""


class PipelineNotFound(InputError):  # noqa: N818 - reads as the user's problem, like FileNotFoundError
    """A DATASET/PIPELINE reference does not match any pipeline folder."""


class DeletionRefused(InputError):  # noqa: N818 - reads as the outcome, like PipelineNotFound
    """A deletion would remove the only copy of a result (pass --force, or archive it first)."""


class ArchiveRefused(InputError):  # noqa: N818 - reads as the outcome, like DeletionRefused
    """A zip from outside (library, export) is refused: unsafe paths, bomb, bad digests..."""


class TrustRequired(ArchiveRefused):
    """A zip holds a pickle or an object of an untrusted type; loading it needs ``--trust``."""


class IntegrityError(WorkspaceError):
    """A stored file does not match its recorded digest, or is corrupt."""


class EngineError(WorkspaceError):
    """An engine is missing or did not keep its side of the interface."""


class Interrupted(WorkspaceError):  # noqa: N818 - reads as the outcome, like PipelineNotFound
    """Ctrl-C during a command; the message says what was kept and the command that resumes.

    Raised by a command that caught KeyboardInterrupt (after its clean-up); the
    CLI prints the message alone and exits 130.
    """

    exit_code = 130
