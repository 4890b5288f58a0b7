"""Re-export of :mod:`nirs4all_workspace.engines.generators` (moved there to be shared by every engine)."""

from ..generators import (
    GENERATOR_KEYS,
    MAX_VARIANTS,
    OPTION_KEYS,
    expand_node,
    is_generator,
)

__all__ = ["GENERATOR_KEYS", "MAX_VARIANTS", "OPTION_KEYS", "expand_node", "is_generator"]
