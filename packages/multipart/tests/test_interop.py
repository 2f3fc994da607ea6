"""Bodies made by others: browser forms and the standard library's email package."""

from __future__ import annotations

import email.charset
import email.policy
from collections.abc import Callable
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from aioloom.http.aio._streams import StreamReader
from aioloom.multipart.aio import BodyPartReader, MultipartReader

StreamFactory = Callable[..., StreamReader]

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"

# What Chromium sends for <form enctype="multipart/form-data">: a WebKitFormBoundary, raw
# UTF-8 names and file names with '"' escaped as %22 and line breaks as %0D%0A, no
# Content-Type for text fields, an empty file input as filename="" with octet-stream.
CHROMIUM_BOUNDARY = "----WebKitFormBoundaryx7ZKq3LMHpQqyX9e"
CHROMIUM = (
    b"------WebKitFormBoundaryx7ZKq3LMHpQqyX9e\r\n"
    b'Content-Disposition: form-data; name="title"\r\n'
    b"\r\n"
    b"Gr\xc3\xbc\xc3\x9fe aus M\xc3\xbcnchen\r\n"
    b"------WebKitFormBoundaryx7ZKq3LMHpQqyX9e\r\n"
    b'Content-Disposition: form-data; name="notes"\r\n'
    b"\r\n"
    b"line one\r\nline two\r\n"
    b"------WebKitFormBoundaryx7ZKq3LMHpQqyX9e\r\n"
    b'Content-Disposition: form-data; name="avatar"; '
    b'filename="r\xc3\xa9sum\xc3\xa9 %22final%22 \xe5\x86\x99\xe7\x9c\x9f.png"\r\n'
    b"Content-Type: image/png\r\n"
    b"\r\n" + PNG + b"\r\n"
    b"------WebKitFormBoundaryx7ZKq3LMHpQqyX9e\r\n"
    b'Content-Disposition: form-data; name="attachment"; filename=""\r\n'
    b"Content-Type: application/octet-stream\r\n"
    b"\r\n"
    b"\r\n"
    b"------WebKitFormBoundaryx7ZKq3LMHpQqyX9e--\r\n"
)

# What Firefox sends: a boundary of dashes and digits, the same escaping, a text file whose
# content ends with a line break of its own.
FIREFOX_BOUNDARY = "---------------------------9051914041544843365972754266"
FIREFOX = (
    b"-----------------------------9051914041544843365972754266\r\n"
    b'Content-Disposition: form-data; name="text"\r\n'
    b"\r\n"
    b"text default\r\n"
    b"-----------------------------9051914041544843365972754266\r\n"
    b'Content-Disposition: form-data; name="file1"; filename="\xd0\xbe\xd1\x82\xd1\x87\xd0'
    b'\xb5\xd1\x82.txt"\r\n'
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"Content of a.txt.\n\r\n"
    b"-----------------------------9051914041544843365972754266\r\n"
    b'Content-Disposition: form-data; name="file2"; filename="a b%0D%0Ac.html"\r\n'
    b"Content-Type: text/html\r\n"
    b"\r\n"
    b"<!DOCTYPE html><title>Content of a.html.</title>\n\r\n"
    b"-----------------------------9051914041544843365972754266--\r\n"
)


async def read_all(reader: MultipartReader) -> list[tuple[str | None, str | None, str, bytes]]:
    out = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        ctype = part.headers.get("Content-Type", "")
        out.append((part.name, part.filename, ctype, bytes(await part.read(decode=True))))
    return out


@pytest.mark.parametrize("chunk", [1, 13, 1000, 100_000])
async def test_chromium_form(chunk: int, make_stream: StreamFactory) -> None:
    headers = {"Content-Type": f"multipart/form-data; boundary={CHROMIUM_BOUNDARY}"}
    chunks = [CHROMIUM[i : i + chunk] for i in range(0, len(CHROMIUM), chunk)]
    assert await read_all(MultipartReader(headers, make_stream(chunks))) == [
        ("title", None, "", "Grüße aus München".encode()),
        ("notes", None, "", b"line one\r\nline two"),
        ("avatar", "résumé %22final%22 写真.png", "image/png", PNG),
        ("attachment", "", "application/octet-stream", b""),
    ]


@pytest.mark.parametrize("chunk", [1, 17, 100_000])
async def test_firefox_form(chunk: int, make_stream: StreamFactory) -> None:
    headers = {"Content-Type": f"multipart/form-data; boundary={FIREFOX_BOUNDARY}"}
    chunks = [FIREFOX[i : i + chunk] for i in range(0, len(FIREFOX), chunk)]
    assert await read_all(MultipartReader(headers, make_stream(chunks))) == [
        ("text", None, "", b"text default"),
        ("file1", "отчет.txt", "text/plain", b"Content of a.txt.\n"),
        (
            "file2",
            "a b%0D%0Ac.html",
            "text/html",
            b"<!DOCTYPE html><title>Content of a.html.</title>\n",
        ),
    ]


async def test_body_built_by_email_mime(make_stream: StreamFactory) -> None:
    qp = email.charset.Charset("utf-8")
    qp.body_encoding = email.charset.QP
    message = MIMEMultipart("mixed", boundary="===============7330845974216740156==")
    message.preamble = "This is a multi-part message in MIME format."
    message.epilogue = "The end."
    message.attach(MIMEText("Grüße,\nzweite Zeile\n", "plain", "utf-8"))  # base64
    message.attach(MIMEText("Ça va? " * 30 + "\n", "plain", qp))  # type: ignore[arg-type]
    binary = bytes(range(256)) * 4
    attachment = MIMEApplication(binary)
    long_name = "Überweisungsbeleg für das Geschäftsjahr 2024 – endgültige Fassung.pdf"
    attachment.add_header("Content-Disposition", "attachment", filename=("utf-8", "", long_name))
    message.attach(attachment)
    nested = MIMEMultipart("alternative")
    nested.attach(MIMEText("plain text", "plain", "us-ascii"))
    nested.attach(MIMEText("<p>html</p>", "html", "us-ascii"))
    message.attach(nested)

    raw = message.as_bytes(policy=email.policy.SMTP)  # CRLF line breaks
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert b"\r\n " in head + payload  # the generator folded a long header line
    reader = MultipartReader({"Content-Type": message["Content-Type"]}, make_stream(payload))

    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert first.headers["Content-Transfer-Encoding"] == "base64"
    assert await first.text() == "Grüße,\nzweite Zeile\n"
    second = await reader.next()
    assert isinstance(second, BodyPartReader)
    assert second.headers["Content-Transfer-Encoding"] == "quoted-printable"
    # quoted-printable line breaks are canonical CRLF (RFC 2045 §6.7 rule 4)
    assert await second.text() == "Ça va? " * 30 + "\r\n"
    third = await reader.next()
    assert isinstance(third, BodyPartReader)
    assert third.filename == long_name
    assert await third.read(decode=True) == binary
    inner = await reader.next()
    assert isinstance(inner, MultipartReader)
    texts = []
    async for alternative in inner:
        assert isinstance(alternative, BodyPartReader)
        texts.append(await alternative.text())
    assert texts == ["plain text", "<p>html</p>"]
    assert await reader.next() is None
