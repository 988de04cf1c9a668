"""The review web app and what it decides: people check what the reader was unsure of.

It owns the app (login, accounts and sessions, the queue of flagged answers, whole pages, people
found on both channels) and the rules of who may do what. What people decide is stored through
pipeline/store/ (review, review_queue, page_decisions, dual_log, accounts, login_attempts),
never by SQL of its own. From outside, the command line uses `serving` (`papertwin review`) and
`accounts` (`papertwin users`); the rest is the app's own.
"""

__all__ = ["accounts", "serving"]
