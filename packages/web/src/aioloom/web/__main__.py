"""``python -m aioloom.web``: serve an application factory from the command line.

As ``python -m aiohttp.web``::

    python -m aioloom.web [-H HOST] [-P PORT] [-U PATH] package.module:factory [args...]

``factory`` is called with the list of the remaining arguments and returns the
:class:`~aioloom.web.Application` (or a coroutine returning it), which :func:`run_app`
then serves on ``HOST:PORT`` (``localhost:8080`` by default) and/or the Unix socket
``PATH``. Logging is set to DEBUG level on the console.
"""

from __future__ import annotations

import logging
import socket
import sys
from argparse import ArgumentParser
from collections.abc import Sequence
from importlib import import_module

from ._run_app import run_app

__all__ = ("main",)


def _parser() -> ArgumentParser:
    parser = ArgumentParser(description="aioloom.web Application server", prog="aioloom.web")
    parser.add_argument(
        "entry_func",
        help=(
            "Callable returning the `aioloom.web.Application` instance to run. Should be "
            "specified in the 'module:function' syntax."
        ),
        metavar="entry-func",
    )
    parser.add_argument(
        "-H",
        "--hostname",
        help="TCP/IP hostname to serve on (default: localhost)",
        default=None,
    )
    parser.add_argument(
        "-P",
        "--port",
        help="TCP/IP port to serve on (default: %(default)r)",
        type=int,
        default=8080,
    )
    parser.add_argument(
        "-U",
        "--path",
        help=(
            "Unix file system path to serve on. Can be combined with hostname to serve on "
            "both Unix and TCP."
        ),
    )
    return parser


def main(argv: Sequence[str]) -> None:
    """Parse ``argv`` (without the program name), build the application and serve it.

    Exits with status 2 and an argparse message when the entry point is not
    ``module:function``, is relative, cannot be imported or does not exist.
    """
    parser = _parser()
    args, extra_argv = parser.parse_known_args(argv)

    module_name, _, func_name = args.entry_func.partition(":")
    if not func_name or not module_name:
        parser.error("'entry-func' not in 'module:function' syntax")
    if module_name.startswith("."):
        parser.error("relative module names not supported")
    try:
        module = import_module(module_name)
    except ImportError as exc:
        parser.error(f"unable to import {module_name}: {exc}")
    try:
        factory = getattr(module, func_name)
    except AttributeError:
        parser.error(f"module {module_name!r} has no attribute {func_name!r}")

    if args.path is not None and not hasattr(socket, "AF_UNIX"):
        parser.error("file system paths not supported by your operating environment")

    logging.basicConfig(level=logging.DEBUG)

    if args.path and args.hostname is None:
        host, port = None, None  # only the Unix socket
    else:
        host, port = args.hostname or "localhost", args.port

    app = factory(extra_argv)
    run_app(app, host=host, port=port, path=args.path)
    parser.exit(message="Stopped\n")


if __name__ == "__main__":
    main(sys.argv[1:])
