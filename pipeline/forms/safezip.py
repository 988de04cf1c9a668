"""Workbooks (.xlsx) from outside: the zip is measured before any spreadsheet reader opens it.

An .xlsx is a zip archive, and a few compressed megabytes can inflate to gigabytes (a zip bomb)
inside openpyxl. So the central directory is checked first (number of entries, declared sizes,
compression ratios), then every entry is inflated here a chunk at a time, counting the bytes it
really gives and keeping none of them: a bomb can lie about its size in its headers. Only a
workbook that passes is handed to pyxform.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from pipeline.errors import TemplateError
from pipeline.forms.limits import TemplateLimits, byte_size

LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # the fixed part of a zip entry's local header
LOCAL_SIGNATURE = b"PK\x03\x04"
RATIO_FLOOR = 1024 * 1024  # entries inflating to less than this may compress as well as they like
IN_CHUNK = 64 * 1024
OUT_CHUNK = 1024 * 1024
ENCRYPTED = 0x1


def check_xlsx(data: bytes, source: str, limits: TemplateLimits) -> None:
    """Refuse a workbook whose entries are too many, or inflate (or claim to) beyond the limits."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise TemplateError(f"{source} is not a readable XLSForm: it is not a valid .xlsx (zip) "
                            f"file ({_first_line(exc)}): save it again from the spreadsheet "
                            "program") from exc
    if len(infos) > limits.xlsx_entries:
        raise TemplateError(
            f"{source}: the workbook holds {len(infos):,} files; papertwin opens workbooks of at "
            f"most {limits.xlsx_entries:,} (xlsx entries limit): this is not an ordinary "
            "spreadsheet: save the form again from the spreadsheet program")
    declared = sum(info.file_size for info in infos)
    if declared > limits.xlsx_inflated_bytes:
        raise TemplateError(_bomb(source, f"inflates to {byte_size(declared)}", len(data), limits))
    for info in infos:
        if info.file_size > RATIO_FLOOR and (
                info.file_size > limits.xlsx_ratio * max(info.compress_size, 1)):
            ratio = info.file_size / max(info.compress_size, 1)
            raise TemplateError(
                f"{source}: {info.filename} in the workbook inflates {ratio:,.0f} times (from "
                f"{byte_size(info.compress_size)} to {byte_size(info.file_size)}); papertwin opens "
                f"entries compressed at most {limits.xlsx_ratio} times (compression ratio "
                "limit): spreadsheets compress some 5 to 20 times, so this looks built to "
                "exhaust memory (a zip bomb): save the form again from the spreadsheet program")
    inflated = 0
    for info in infos:
        inflated += _inflated_size(data, info, source, limits.xlsx_inflated_bytes - inflated,
                                   limits)


def _inflated_size(data: bytes, info: zipfile.ZipInfo, source: str, budget: int,
                   limits: TemplateLimits) -> int:
    """The bytes the entry really inflates to, stopping as soon as it passes its declared size."""
    damaged = (f"{source}: {info.filename} in the workbook is damaged: save the form again from "
               "the spreadsheet program")
    if info.flag_bits & ENCRYPTED:
        raise TemplateError(f"{source}: the workbook is encrypted: save it without a password")
    raw = _raw_entry(data, info, damaged)
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) != info.file_size:
            raise TemplateError(damaged)
        return len(raw)
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise TemplateError(f"{source}: {info.filename} in the workbook is compressed with method "
                            f"{info.compress_type}, which spreadsheet programs do not use: save "
                            "the form again from the spreadsheet program")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated = 0
    try:
        for start in range(0, len(raw), IN_CHUNK):
            pending: memoryview | bytes = raw[start : start + IN_CHUNK]
            while pending:
                inflated += len(inflater.decompress(pending, OUT_CHUNK))
                pending = inflater.unconsumed_tail
                if inflated > info.file_size or inflated > budget:
                    raise TemplateError(_lie(source, info, inflated, budget, len(data), limits))
            if inflater.eof:
                break
        inflated += len(inflater.flush(OUT_CHUNK))
    except zlib.error as exc:
        raise TemplateError(damaged) from exc
    if inflated > info.file_size or inflated > budget:
        raise TemplateError(_lie(source, info, inflated, budget, len(data), limits))
    if not inflater.eof or inflated != info.file_size:
        raise TemplateError(damaged)
    return inflated


def _raw_entry(data: bytes, info: zipfile.ZipInfo, damaged: str) -> memoryview:
    """The entry's compressed bytes, found through its local header as zipfile finds them."""
    offset = info.header_offset
    header = data[offset : offset + LOCAL_HEADER.size]
    if len(header) != LOCAL_HEADER.size:
        raise TemplateError(damaged)
    fields = LOCAL_HEADER.unpack(header)
    if fields[0] != LOCAL_SIGNATURE:
        raise TemplateError(damaged)
    start = offset + LOCAL_HEADER.size + fields[-2] + fields[-1]
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) != info.compress_size:
        raise TemplateError(damaged)
    return raw


def _lie(source: str, info: zipfile.ZipInfo, inflated: int, budget: int, stored: int,
         limits: TemplateLimits) -> str:
    if inflated > budget:
        limit = byte_size(limits.xlsx_inflated_bytes)
        return _bomb(source, f"inflates to more than {limit}", stored, limits)
    return (f"{source}: {info.filename} in the workbook inflates to more than the "
            f"{info.file_size:,} bytes its header declares (it lies about its size, as a zip bomb "
            f"does); papertwin refuses it without reading further (inflated size limit "
            f"{byte_size(limits.xlsx_inflated_bytes)}): save the form again from the spreadsheet "
            "program")


def _bomb(source: str, inflates: str, stored: int, limits: TemplateLimits) -> str:
    return (f"{source}: the workbook ({byte_size(stored)}) {inflates}; papertwin opens "
            f"workbooks of at most {byte_size(limits.xlsx_inflated_bytes)} inflated (inflated size "
            "limit): an XLSForm is far smaller, so this looks built to exhaust memory (a zip "
            "bomb): save the form again from the spreadsheet program, without pictures or unused "
            "sheets")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
