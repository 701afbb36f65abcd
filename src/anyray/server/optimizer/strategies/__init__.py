"""The strategy registry: kind name -> strategy. Adding a strategy is one module and one line here."""

from __future__ import annotations

from anyray.server.optimizer.strategies.base import Strategy
from anyray.server.optimizer.strategies.param_tuning import ParamTuning
from anyray.server.optimizer.strategies.prompt_cache import PromptCache
from anyray.server.optimizer.strategies.semantic_cache import SemanticCache

# Default order: shape parameters, then place cache marks on the final prompt, then look up answers for
# exactly what would be sent.
REGISTRY: dict[str, Strategy] = {s.kind: s for s in (ParamTuning(), PromptCache(), SemanticCache())}
