"""aioloom.compat.install_as_aiohttp(): aliases resolve to aioloom's objects; refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def run_py(repo_root: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(repo_root / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_aliases_resolve_to_aioloom_objects(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        from aioloom.compat import install_as_aiohttp, installed_aliases
        names = install_as_aiohttp()
        assert names[0] == "aiohttp" and "aiohttp.http_exceptions" in names, names
        import aiohttp
        import aiohttp.http_exceptions as he
        from aiohttp.http_exceptions import BadHttpMessage
        import aioloom.http
        assert BadHttpMessage is aioloom.http.BadHttpMessage
        assert aiohttp.HttpVersion11 is aioloom.http.HttpVersion11
        assert he is aiohttp.http_exceptions
        assert install_as_aiohttp() == names  # idempotent
        assert installed_aliases() == sorted(names)
        print("ok")
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_refuses_when_real_aiohttp_is_imported(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        import sys, types
        sys.modules["aiohttp"] = types.ModuleType("aiohttp")  # stands for the real package
        from aioloom.compat import AiohttpAlreadyImported, install_as_aiohttp
        try:
            install_as_aiohttp()
        except AiohttpAlreadyImported as exc:
            assert "already imported" in str(exc)
            print("refused")
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "refused"


def test_unknown_module_fails_with_import_error(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        from aioloom.compat import install_as_aiohttp
        install_as_aiohttp()
        try:
            import aiohttp.no_such_module  # noqa: F401
        except ImportError as exc:
            print("ImportError", exc.name)
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ImportError aiohttp.no_such_module"


def test_every_aiohttp_module_resolves_to_aioloom_objects(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        from aioloom.compat import install_as_aiohttp
        install_as_aiohttp()
        import aiohttp
        from aiohttp import web
        import aiohttp.abc, aiohttp.client, aiohttp.client_exceptions, aiohttp.client_reqrep
        import aiohttp.connector, aiohttp.cookiejar, aiohttp.formdata, aiohttp.helpers
        import aiohttp.http, aiohttp.multipart, aiohttp.payload, aiohttp.resolver
        import aiohttp.streams, aiohttp.tracing, aiohttp.typedefs, aiohttp.web_exceptions
        import aiohttp.web_request, aiohttp.web_response, aiohttp.web_urldispatcher
        import aiohttp.log, aiohttp.test_utils, aiohttp.hdrs
        import aioloom.client, aioloom.http, aioloom.http.aio, aioloom.multipart
        import aioloom.testing, aioloom.web, aioloom.websocket
        assert web is aiohttp.web
        assert web.Application is aioloom.web.Application
        assert aiohttp.ClientSession is aioloom.client.ClientSession
        assert aiohttp.client_exceptions.ClientError is aioloom.client.ClientError
        assert aiohttp.client_reqrep.ClientResponse is aioloom.client.ClientResponse
        assert aiohttp.connector.TCPConnector is aioloom.client.TCPConnector
        assert aiohttp.cookiejar.CookieJar is aioloom.client.CookieJar
        assert aiohttp.resolver.ThreadedResolver is aioloom.client.ThreadedResolver
        assert aiohttp.tracing.TraceConfig is aioloom.client.TraceConfig
        assert aiohttp.formdata.FormData is aioloom.multipart.FormData
        assert aiohttp.multipart.MultipartReader is aioloom.multipart.MultipartReader
        assert aiohttp.helpers.BasicAuth is aioloom.http.BasicAuth
        assert aiohttp.payload.BytesPayload is aioloom.http.aio.BytesPayload
        assert aiohttp.streams.StreamReader is aioloom.http.aio.StreamReader
        assert aiohttp.http.WSMsgType is aioloom.websocket.WSMsgType
        assert aiohttp.http.HttpVersion11 is aioloom.http.HttpVersion11
        assert aiohttp.hdrs.CONTENT_TYPE == "Content-Type"
        assert aiohttp.web_exceptions.HTTPNotFound is web.HTTPNotFound
        assert aiohttp.web_request.Request is web.Request
        assert aiohttp.web_response.json_response is web.json_response
        assert aiohttp.web_urldispatcher.UrlDispatcher is web.UrlDispatcher
        assert aiohttp.test_utils.TestClient is aioloom.testing.TestClient
        assert aiohttp.test_utils.make_mocked_request is aioloom.testing.make_mocked_request
        assert aiohttp.typedefs.LooseHeaders is not None and aiohttp.typedefs.StrOrURL
        assert aiohttp.log.access_logger.name.startswith("aioloom")
        # aiohttp.abc gathers ABCs from several packages, and only those.
        assert aiohttp.abc.AbstractStreamWriter is aioloom.http.aio.AbstractStreamWriter
        assert aiohttp.abc.AbstractRouter is aioloom.web.AbstractRouter
        assert aiohttp.abc.AbstractView is aioloom.web.AbstractView
        assert aiohttp.abc.AbstractAccessLogger is aioloom.web.AbstractAccessLogger
        assert aiohttp.abc.AbstractCookieJar is aioloom.client.AbstractCookieJar
        assert aiohttp.abc.AbstractResolver is aioloom.client.AbstractResolver
        assert not hasattr(aiohttp.abc, "Application")
        # Names the packages serve lazily through their module __getattr__.
        assert web.WSMsgType is aioloom.websocket.WSMsgType
        assert aiohttp.WSMsgType is aioloom.websocket.WSMsgType
        assert aiohttp.WSCloseCode is aioloom.websocket.WSCloseCode
        assert web.WSCloseCode is aioloom.websocket.WSCloseCode
        from aiohttp import WSMessage  # through the forwarding __getattr__ as well
        assert WSMessage is aioloom.client.WSMessage
        print("ok")
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_unknown_attribute_is_an_attribute_error(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        from aioloom.compat import install_as_aiohttp
        install_as_aiohttp()
        import aiohttp
        from aiohttp import web
        for module in (aiohttp, web):
            try:
                module.NoSuchName
            except AttributeError as exc:
                print(type(exc).__name__, "NoSuchName" in str(exc))
        try:
            from aiohttp import NoSuchName  # noqa: F401
        except ImportError:
            print("ImportError")
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "AttributeError True",
        "AttributeError True",
        "ImportError",
    ]


def test_lazy_modules_load_on_first_import_only(repo_root: Path) -> None:
    res = run_py(
        repo_root,
        """
        import sys
        from aioloom.compat import install_as_aiohttp
        names = install_as_aiohttp()
        assert "aiohttp.worker" not in names and "aiohttp.pytest_plugin" not in names
        assert "gunicorn" not in sys.modules and "pytest" not in sys.modules
        assert "aiohttp.worker" not in sys.modules
        import aiohttp.pytest_plugin
        import aioloom.testing
        assert aiohttp.pytest_plugin.AiohttpClient is aioloom.testing.AioloomClient
        try:
            import gunicorn  # noqa: F401
        except ImportError:
            try:
                import aiohttp.worker  # noqa: F401
            except ImportError as exc:
                print("no gunicorn", exc.name)
        else:
            import aiohttp.worker
            import aioloom.web.worker
            assert aiohttp.worker.GunicornWebWorker is aioloom.web.worker.GunicornWebWorker
            assert aiohttp.GunicornWebWorker is aioloom.web.worker.GunicornWebWorker
            print("gunicorn ok")
        """,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() in ("gunicorn ok", "no gunicorn gunicorn")
