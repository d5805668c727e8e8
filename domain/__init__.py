"""Kyoso's domain: aggregates, their events, and the Application that takes commands.

Nothing here imports web, database-driver or ML code. Events name people only by a
pseudonymous participant id plus coarse attributes, so that a person can be erased.
"""
