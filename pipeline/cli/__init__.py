"""The `papertwin` command's words: its parser (parser.py) and everything it prints to a person
(present.py). Its verbs run the flows, so the dispatch table that runs them lives beside the
flows (flows/cli.py): the library never imports the flows.
"""

__all__ = ["parser", "present"]
