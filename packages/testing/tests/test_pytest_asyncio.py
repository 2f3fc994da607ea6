"""Sharing a pytest run with pytest-asyncio: no test runs twice, nothing errors, in both modes."""

from __future__ import annotations

import importlib.util
import textwrap

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pytest_asyncio") is None,
    reason="pytest-asyncio is not installed (a test-only dependency: pip install pytest-asyncio)",
)

# Every kind of test and fixture either plugin may claim. ``runs`` counts the executions of
# each test body, so that a test run by both plugins (or by neither) is caught.
MIXED = """
import asyncio
import collections
import pytest
import pytest_asyncio
from aioloom.web._app import Application
from aioloom.web._response import Response

runs = collections.Counter()

async def hello(request):
    return Response(text="hi")

def make_app():
    app = Application()
    app.router.add_get("/", hello)
    return app

@pytest.fixture
async def plain_fixture():
    yield asyncio.get_running_loop()

@pytest_asyncio.fixture
async def asyncio_fixture():
    yield asyncio.get_running_loop()

async def test_unmarked(plain_fixture, loop, aioloom_client):
    runs["unmarked"] += 1
    assert plain_fixture is loop is asyncio.get_running_loop()
    client = await aioloom_client(make_app())
    async with client.get("/") as resp:
        assert await resp.text() == "hi"

@pytest.mark.asyncio
async def test_marked(asyncio_fixture, loop, aioloom_client):
    runs["marked"] += 1
    assert asyncio_fixture is loop is asyncio.get_running_loop()
    client = await aioloom_client(make_app())
    async with client.get("/") as resp:
        assert await resp.text() == "hi"

def test_sync_with_loop(loop):
    runs["sync"] += 1
    assert not loop.is_running()

def test_zz_each_ran_once():
    assert runs == {"unmarked": 1, "marked": 1, "sync": 1}
"""

# hatch's test environment adds plugins that reorder, rerun or parallelise tests; keep them
# out of the inner runs (pytest-asyncio, the subject here, stays in).
_OTHER_PLUGINS_OFF = (
    "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:rerunfailures", "-p", "no:xdist",
)  # fmt: skip


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_mixed=textwrap.dedent(MIXED))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester.runpytest_subprocess("-W", "error", *_OTHER_PLUGINS_OFF, "-v", *args)


def test_strict_mode_each_plugin_runs_its_own_tests(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--asyncio-mode=strict")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["asyncio: mode=*STRICT*"])
    # aioloom's test is parametrized by loop; pytest-asyncio's keeps its plain id.
    result.stdout.fnmatch_lines(["*::test_unmarked[[]pyloop[]] PASSED*"])
    result.stdout.fnmatch_lines(["*::test_marked PASSED*"])


def test_auto_mode_pytest_asyncio_runs_every_async_test(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--asyncio-mode=auto")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["asyncio: mode=*AUTO*"])
    # In auto mode pytest-asyncio owns the unmarked coroutine test: no loop parameter.
    result.stdout.fnmatch_lines(["*::test_unmarked PASSED*"])
    result.stdout.fnmatch_lines(["*::test_sync_with_loop[[]pyloop[]] PASSED*"])


def test_disabling_pytest_asyncio_leaves_everything_to_aioloom(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_alone="""
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_marked_but_alone(loop):
            assert asyncio.get_running_loop() is loop
        """
    )
    pytester.makeini("[pytest]\nmarkers =\n    asyncio: a marker with no plugin behind it\n")
    off = (*_OTHER_PLUGINS_OFF, "-p", "no:asyncio")
    result = pytester.runpytest_subprocess("-W", "error", *off, "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::test_marked_but_alone[[]pyloop[]] PASSED*"])


def test_a_hanging_handler_in_a_pytest_asyncio_test_is_closed_at_teardown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_hang="""
        import asyncio
        import pytest
        from aioloom.web._response import Response

        async def stuck(request):
            await asyncio.sleep(3600)
            return Response()

        @pytest.mark.asyncio
        async def test_gives_up(aioloom_raw_server, aioloom_client):
            client = await aioloom_client(await aioloom_raw_server(stuck))
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.get("/"), 0.2)
        """
    )
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-W", "error", *_OTHER_PLUGINS_OFF)
    result.assert_outcomes(passed=1)
