"""Rapport's scoring method (DESIGN.md §3), pure: DataFrames in, numbers out.

Nothing here imports `surveys`, opens a database or knows HTTP. The engine itself
arrives with the scoring issue; the synthetic world's truth is ready to check it against.
"""
