"""Scheduling runs on Scrapyd nodes: the HTTP client, the run planner, and following a batch to its end."""
