"""Front doors other than the anyray gateway that still use the optimizer (LiteLLM)."""
