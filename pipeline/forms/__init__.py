"""Form design: a template in (YAML, XLSForm or queXML), a print-ready PDF and its layout
manifest out.

It owns what a questionnaire looks like on paper: the page layout in PDF points, the routing
printed as go-tos, the cover letters of an addressed mailing, and the manifest that says where
every box is (and, for forms queXF printed, the manifest made from its banding file). It does not
touch the workspace or the store: serials are issued and layouts registered by
pipeline/publish.py. Modules not named below (the template loaders, blocks, rendering,
typesetting, phrases) are this package's own.
"""

__all__ = ["build", "constraint", "layout", "manifest", "quexf", "recipients", "route", "sources",
           "style"]
