"""The RFC 9110 / RFC 9112 grammar used by the HTTP/1.1 parsers, as compiled patterns.

This module owns every character class and regular expression the parsers match bytes
against; nothing here keeps state. Patterns work on ``bytes`` and are meant to be applied
with ``pos``/``endpos`` on the receive buffer, so that matching never needs a slice.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = (
    "AUTHORITY_FORM_RE",
    "CHUNK_EXTS_RE",
    "CHUNK_LINE_LAX_RE",
    "CHUNK_SIZE_RE",
    "CTL_BYTES",
    "FIELD_LINE_RE",
    "FIELD_TEXT_BYTES",
    "LAX_SECTION_END_RE",
    "LAX_VALUE_FORBIDDEN_RE",
    "REASON_FORBIDDEN_LAX_RE",
    "REASON_FORBIDDEN_RE",
    "STATUS_LINE_LAX_RE",
    "STATUS_LINE_RE",
    "TARGET_FORBIDDEN_RE",
    "TCHAR",
    "TOKEN_RE",
    "VALUE_FORBIDDEN_RE",
)

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#                          "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA;  token = 1*tchar
TCHAR: Final = rb"!#$%&'*+\-.^_`|~0-9A-Za-z"
TOKEN_RE: Final = re.compile(rb"[" + TCHAR + rb"]+")

# RFC 5234 B.1: CTL = %x00-1F / %x7F.  RFC 9110 §5.5 allows HTAB inside field values, and
# the parsers split on CR/LF themselves, so the "forbidden in a field section" set is every
# CTL except HTAB, CR and LF (bare CR/LF are caught structurally).
CTL_BYTES: Final = bytes([*range(0x00, 0x09), *range(0x0B, 0x0D), *range(0x0E, 0x20), 0x7F])
# For ``bytes.translate(None, FIELD_TEXT_BYTES)``: deleting every allowed byte leaves only
# the forbidden ones, so an empty result proves a whole field section free of CTLs.
FIELD_TEXT_BYTES: Final = bytes(b for b in range(256) if b not in CTL_BYTES)

# RFC 9112 §5 / RFC 9110 §5.5 field line, as one match per line for ``findall`` over a
# section that starts at the LF ending the previous line and stops at the CR ending the
# last line:  LF field-name ":" OWS field-value OWS CR (LF follows, or the section ends).
# The value is "anything up to CR, not ending in whitespace"; CTLs are rejected separately
# by ``FIELD_TEXT_BYTES`` (much faster than a negated class evaluated per byte), and the
# caller proves the matches tile the section (one per LF).
FIELD_LINE_RE: Final = re.compile(
    rb"\n([" + TCHAR + rb"]+):[ \t]*((?:[^\r]*[^\r \t])?)[ \t]*\r(?=\n|\Z)"
)

# RFC 9112 §2.2 (a recipient MAY accept a bare LF as a line terminator): in lax mode a field
# section ends at the LF of its last line followed by an empty line, LF or CR LF.
LAX_SECTION_END_RE: Final = re.compile(rb"\n\r?\n")

# RFC 9110 §5.5: field-value = *field-content; field-vchar = VCHAR / obs-text, with SP and
# HTAB inside.  Strict mode forbids every other CTL; lax mode (aiohttp's lenient client,
# llhttp "lenient headers") only NUL, CR and LF.
VALUE_FORBIDDEN_RE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
LAX_VALUE_FORBIDDEN_RE: Final = re.compile(rb"[\x00\r\n]")

# RFC 9112 §3.2: the request-target has no whitespace or CTL (aiohttp also refuses DEL).
TARGET_FORBIDDEN_RE: Final = re.compile(rb"[\x00-\x20\x7f]")

# RFC 9112 §3.2.3: authority-form = uri-host ":" port (RFC 3986 §3.2.2 host: an IP literal
# in brackets or reg-name / IPv4).  The port is optional here, as aiohttp accepts it.
AUTHORITY_FORM_RE: Final = re.compile(
    rb"(?:\[[0-9A-Za-z:.%\-_~]+\]|[0-9A-Za-z\-._~%!$&'()*+,;=]+)(?::[0-9]{0,5})?"
)

# RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ], with
# reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).  A missing SP after the code is
# tolerated (h11 and llhttp accept "HTTP/1.1 200").
STATUS_LINE_RE: Final = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: (.*))?", re.DOTALL)
REASON_FORBIDDEN_RE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# Lax (aiohttp's client): any blank run between the parts, and a reason with anything but
# CR, LF and NUL; the caller strips the reason's trailing blanks.  The reason is greedy and
# nothing follows it: a lazy reason followed by a blank run made fullmatch quadratic in a
# run of blanks inside the reason (a hostile server could spend the client's CPU).
STATUS_LINE_LAX_RE: Final = re.compile(rb"HTTP/1\.([01])[ \t]+([0-9]{3})(?:[ \t]+(.*))?", re.DOTALL)
REASON_FORBIDDEN_LAX_RE: Final = re.compile(rb"[\x00\r\n]")

# RFC 9112 §7.1: chunk-size = 1*HEXDIG.  Capped at 16 digits (2**64 - 1): a longer size can
# only be an overflow attempt (llhttp rejects it as well).
CHUNK_SIZE_RE: Final = re.compile(rb"[0-9A-Fa-f]{1,16}")
# RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
# chunk-ext-val = token / quoted-string; RFC 9110 §5.6.4 quoted-string =
# DQUOTE *( qdtext / quoted-pair ) DQUOTE.
_QUOTED_STRING: Final = rb'"(?:[\t !\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_TOKEN: Final = rb"[" + TCHAR + rb"]+"
CHUNK_EXTS_RE: Final = re.compile(
    rb"(?:[ \t]*;[ \t]*"
    + _TOKEN
    + rb"(?:[ \t]*=[ \t]*(?:"
    + _TOKEN
    + rb"|"
    + _QUOTED_STRING
    + rb"))?)*"
)
# Lax (llhttp "lenient spaces after chunk size", aiohttp strips the size): blanks around the
# size; the extensions still have to be well formed.
CHUNK_LINE_LAX_RE: Final = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*")
