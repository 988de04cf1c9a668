"""Reading a page image: registration, identification, tick boxes, character cells and text.

Reading is a pure function of the image and the layouts it is given: it opens no scan file,
writes nothing and knows nothing of batches or the store (pipeline/ingest/ stores what it
returns). `page` reads one page; `identify` gives the reason a page's code could not be read.
The other modules are the steps `page` runs.
"""

__all__ = ["identify", "page"]
