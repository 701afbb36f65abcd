"""`anyray bench`: the gateway's overhead against the direct upstream (and LiteLLM), side by side in one run.

procs: child processes and what /proc says about them; stack: the lean fake, the gateways, LiteLLM;
scenarios: what is sent; loadgen and wrk: the two load generators; run: the measured cells;
report: the rich table and the JSON.
"""
