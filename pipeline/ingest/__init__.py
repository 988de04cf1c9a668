"""Ingest: scan files in, page results in the store, a batch report out.

`batch` plans a batch (archive every input by content hash, set aside what cannot be read, cut the
pages into chunks), reads the chunks and stores each file's pages; `inbox` files the scans a
watched folder receives by what the store committed for them; `report` says what a batch did, to
a person and as Prefect artifacts. The ingest flows (flows/ingest.py, flows/watch.py) are the only
orchestrators: they call these functions and nothing else drives a batch. Reading a page is
pipeline/read/'s and storing it pipeline/store/'s; ingest only puts them in order.
"""

__all__ = ["batch", "inbox", "report"]
