"""The review web app and what it decides: people check what the reader was unsure of.

It owns the app (login, accounts and sessions, the queue of flagged answers, whole pages, people
found on both channels) and the rules of who may do what. What people decide is stored through
pipeline/store/ (review, review_queue, page_decisions, dual_log, accounts, login_attempts),
never by SQL of its own. Only `commands` (`papertwin review`, `papertwin users`) is used from
outside; the rest is the app's own.
"""

__all__ = ["commands"]
