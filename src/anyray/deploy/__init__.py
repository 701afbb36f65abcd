"""Deployment: template rendering, cloud and cluster helpers, workload redirection."""
