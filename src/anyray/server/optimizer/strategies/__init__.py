"""The strategy registry: kind name -> strategy. Adding a strategy is one module and one line here."""

from __future__ import annotations

from anyray.server.optimizer.strategies.base import Strategy
from anyray.server.optimizer.strategies.code_skeleton import CodeGraph, CodeSkeleton
from anyray.server.optimizer.strategies.command_digest import CommandDigest
from anyray.server.optimizer.strategies.context_compression import ContextCompression
from anyray.server.optimizer.strategies.context_dedupe import ContextDedupe
from anyray.server.optimizer.strategies.durable_blobs import DurableBlobs
from anyray.server.optimizer.strategies.observation_mask import ObservationMask
from anyray.server.optimizer.strategies.output_shaping import OutputShaping
from anyray.server.optimizer.strategies.param_tuning import ParamTuning
from anyray.server.optimizer.strategies.prompt_cache import PromptCache
from anyray.server.optimizer.strategies.prompt_compression import PromptCompression
from anyray.server.optimizer.strategies.reasoning_budget import ReasoningBudget
from anyray.server.optimizer.strategies.relevance_filter import RelevanceFilter
from anyray.server.optimizer.strategies.semantic_cache import SemanticCache
from anyray.server.optimizer.strategies.thinking_trim import ThinkingTrim
from anyray.server.optimizer.strategies.tool_pruning import ToolPruning
from anyray.server.optimizer.strategies.window_budget import WindowBudget

# Default order: shape parameters; shrink tool output (repeats first, then by kind of content, then generic
# compression, then whatever is still huge); then shape the conversation (old observations, finished
# reasoning, the window, unused tools, whitespace, the output advisory); then place cache marks on the
# final prompt; then look up answers for exactly what would be sent.
REGISTRY: dict[str, Strategy] = {s.kind: s for s in (
    ParamTuning(), ReasoningBudget(),
    ContextDedupe(), CommandDigest(), CodeGraph(), CodeSkeleton(), RelevanceFilter(), ContextCompression(),
    DurableBlobs(),
    ObservationMask(), ThinkingTrim(), WindowBudget(), ToolPruning(), PromptCompression(), OutputShaping(),
    PromptCache(), SemanticCache(),
)}
