"""FormData: urlencoded or multipart, field checks, charsets, reuse for redirects."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from multidict import MultiDict, MultiDictProxy

from aioloom.http.aio._payload import BytesPayload
from aioloom.http.aio._streams import StreamReader
from aioloom.multipart._form import FormData
from aioloom.multipart._writer import MultipartWriter
from aioloom.multipart.aio import BodyPartReader, MultipartReader

StreamFactory = Callable[..., StreamReader]


async def body_of(form: FormData, writer_factory: Callable[[], Any]) -> bytes:
    writer = writer_factory()
    await form().write(writer)
    return bytes(writer.data)


async def read_form(form: FormData, data: bytes, make_stream: StreamFactory) -> list[Any]:
    payload = form()
    reader = MultipartReader({"Content-Type": payload.content_type}, make_stream(data))
    out = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        out.append((part.name, part.filename, part.headers.get("Content-Type"), await part.read()))
    return out


# -- urlencoded -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"a": "1", "b": "é è"},
        [("a", "1"), ("b", "é è")],
        MultiDict([("a", "1"), ("b", "é è")]),
        MultiDictProxy(MultiDict([("a", "1"), ("b", "é è")])),
    ],
)
async def test_urlencoded(fields: Any) -> None:
    form = FormData(fields)
    assert not form.is_multipart
    payload = form()
    assert isinstance(payload, BytesPayload)
    assert payload.content_type == "application/x-www-form-urlencoded"
    assert await payload.as_bytes() == b"a=1&b=%C3%A9+%C3%A8"


async def test_urlencoded_with_a_charset() -> None:
    form = FormData({"b": "é"}, charset="latin-1")
    payload = form()
    assert payload.content_type == "application/x-www-form-urlencoded; charset=latin-1"
    assert await payload.as_bytes() == b"b=%E9"


def test_urlencoded_needs_string_values() -> None:
    with pytest.raises(TypeError, match="expected str, got 1"):
        FormData({"a": 1})()


async def test_urlencoded_is_regenerated_on_each_call() -> None:
    form = FormData({"a": "1"})
    first = await form().as_bytes()
    form.add_field("b", "2")
    assert first == b"a=1"
    assert await form().as_bytes() == b"a=1&b=2"


# -- switching to multipart -------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"value": io.BytesIO(b"x")},
        {"value": "x", "filename": "x.txt"},
        {"value": "x", "content_type": "text/csv"},
    ],
)
def test_what_makes_a_form_multipart(kwargs: dict[str, Any]) -> None:
    form = FormData()
    form.add_field("f", **kwargs)
    assert form.is_multipart
    assert isinstance(form(), MultipartWriter)
    assert form().content_type.startswith("multipart/form-data; boundary=")


def test_bytes_values_are_deprecated_file_fields() -> None:
    form = FormData()
    with pytest.warns(DeprecationWarning, match="passing bytes"):
        form.add_field("blob", b"\x00")
    assert form.is_multipart


def test_default_to_multipart() -> None:
    assert FormData({"a": "1"}, default_to_multipart=True).is_multipart


async def test_multipart_body(writer: Any, make_stream: StreamFactory) -> None:
    form = FormData()
    form.add_field("text", "Grüße")
    form.add_field("upload", io.BytesIO(b"\x89PNG"), filename="bild.png")
    form.add_field("csv", "a,b\n1,2", content_type="text/csv")
    payload = form()
    await payload.write(writer)
    assert b"Content-Length" not in writer.data  # RFC 7578 §4.8
    assert await read_form(form, writer.data, make_stream) == [
        ("text", None, "text/plain; charset=utf-8", bytearray("Grüße".encode())),
        # as in aiohttp, the file name goes to Content-Disposition, not the type guess
        ("upload", "bild.png", "application/octet-stream", bytearray(b"\x89PNG")),
        ("csv", None, "text/csv", bytearray(b"a,b\n1,2")),
    ]


async def test_multipart_charset_encodes_text_fields(writer: Any) -> None:
    form = FormData(charset="latin-1", default_to_multipart=True)
    form.add_field("t", "é")
    await form().write(writer)
    assert b"Content-Type: text/plain; charset=latin-1\r\n" in writer.data
    assert b"\r\n\r\n\xe9\r\n" in writer.data


@pytest.mark.parametrize(
    ("quote_fields", "expected"),
    [
        (True, b'name="f"; filename="na%C3%AFve%20%22x%22.txt"'),
        (False, 'name="f"; filename="naïve \\"x\\".txt"'.encode()),
    ],
)
async def test_quote_fields(quote_fields: bool, expected: bytes, writer: Any) -> None:
    form = FormData(quote_fields=quote_fields)
    form.add_field("f", io.BytesIO(b"x"), filename='naïve "x".txt')
    await form().write(writer)
    assert expected in writer.data


async def test_file_objects_are_named_after_their_file(tmp_path: Path, writer: Any) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"1,2")
    with path.open("rb") as handle:
        form = FormData([handle, io.BytesIO(b"anonymous")])
        await form().write(writer)
    assert b'name="report.csv"; filename="report.csv"' in writer.data
    assert b'name="unknown"' in writer.data


async def test_content_transfer_encoding_is_deprecated_but_applied(writer: Any) -> None:
    form = FormData()
    with pytest.warns(DeprecationWarning, match="content_transfer_encoding"):
        form.add_field("b", b"\xff\xfe", content_transfer_encoding="base64")
    await form().write(writer)
    assert b"\r\nContent-Transfer-Encoding: base64\r\n" in writer.data
    assert b"\r\n\r\n//4=\r\n--" in writer.data


def test_unserializable_value() -> None:
    form = FormData(default_to_multipart=True)
    form.add_field("x", object())
    with pytest.raises(TypeError, match="Can not serialize value type"):
        form()


# -- reuse (307/308 redirects) ----------------------------------------------------------


async def test_multipart_form_can_be_sent_again(tmp_path: Path, writer: Any) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"file content" * 10_000)
    with path.open("rb") as handle:
        form = FormData()
        form.add_field("a", "1")
        form.add_field("f", handle)
        form.add_field("m", io.BytesIO(b"memory"), filename="m.bin")
        first = form()
        await first.write(writer)
        once = writer.data
        writer.chunks.clear()
        second = form()
        assert second is first
        await second.write(writer)
        assert writer.data == once
        assert first.size == len(once)


async def test_fields_added_after_a_call_are_sent(writer: Any) -> None:
    form = FormData(default_to_multipart=True)
    form.add_field("a", "1")
    payload = form()
    form.add_field("b", "2")
    assert form() is payload
    await payload.write(writer)
    assert b'name="a"' in writer.data
    assert b'name="b"' in writer.data


# -- malformed input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "a\r\nX-Injected: 1", "value": "v"},
        {"name": "a", "value": "v", "filename": "f\r\n.txt"},
        {"name": "a", "value": "v", "filename": "f\n.txt"},
        {"name": "a", "value": "v", "content_type": "text/plain\r\nX-Injected: 1"},
        {"name": "a", "value": "v", "content_type": "text/plain\x00"},
    ],
)
def test_header_injection_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="header injection"):
        FormData().add_field(**kwargs)


def test_header_injection_through_content_transfer_encoding() -> None:
    with pytest.raises(ValueError, match="header injection"):
        FormData().add_field("a", "v", content_transfer_encoding="base64\r\nX: 1")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": 1, "value": "v"},
        {"name": "a", "value": "v", "filename": b"f"},
        {"name": "a", "value": "v", "content_type": 1},
        {"name": "a", "value": "v", "content_transfer_encoding": 1},
    ],
)
def test_wrong_types(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="must be an instance of str"):
        FormData().add_field(**kwargs)


@pytest.mark.parametrize("fields", [[("a", "b", "c")], ["just a string"], [42]])
def test_add_fields_rejects_other_items(fields: list[Any]) -> None:
    with pytest.raises(TypeError, match="Only io.IOBase, multidict and"):
        FormData().add_fields(*fields)


@pytest.mark.parametrize("charset", ["no-such-codec", "utf-8\r\nX: y", ""])
def test_invalid_charset(charset: str) -> None:
    with pytest.raises(ValueError, match="charset"):
        FormData(charset=charset)


def test_control_characters_are_only_sent_quoted(writer: Any) -> None:
    raw = FormData(quote_fields=False)
    raw.add_field("a\x1b", "v", content_type="text/plain")
    with pytest.raises(ValueError, match="control character"):
        raw()
    quoted = FormData()
    quoted.add_field("a\x1b", "v", content_type="text/plain")
    payload = quoted()
    assert isinstance(payload, MultipartWriter)
    first_part = next(iter(payload))[0]
    assert "name*=utf-8''a%1B" in first_part.headers["Content-Disposition"]
