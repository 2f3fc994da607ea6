"""The pytest plugin, exercised in fresh pytest processes (pytester) as users run it."""

from __future__ import annotations

import importlib.util
import textwrap
from collections.abc import Callable

import pytest

pytest_plugins = ["pytester"]

RunPytest = Callable[..., pytest.RunResult]
HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None
# A module that shadows uvloop in the subprocess (its directory comes first on sys.path).
BLOCK_UVLOOP = "raise ImportError('uvloop is blocked for this test')\n"

# Plugins hatch's test environment adds (order, reruns, parallelism, pytest-asyncio) stay out
# of the inner runs that call pytester directly; run_pytest (conftest) does the same.
_PLUGINS_OFF = (
    "-p", "no:randomly", "-p", "no:rerunfailures", "-p", "no:xdist", "-p", "no:asyncio",
)  # fmt: skip


# -- running async tests and fixtures ------------------------------------------------------


def test_async_tests_pass_and_fail(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio

        async def test_ok():
            await asyncio.sleep(0)

        async def test_fails():
            await asyncio.sleep(0)
            assert 1 == 2
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])


def test_each_test_gets_a_fresh_loop_closed_afterwards(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio
        seen = []

        async def test_one(loop):
            assert asyncio.get_running_loop() is loop
            seen.append(loop)

        async def test_two():
            seen.append(asyncio.get_running_loop())

        def test_check():
            assert len(seen) == 2 and seen[0] is not seen[1]
            assert all(l.is_closed() for l in seen)
        """
    )
    result.assert_outcomes(passed=3)


def test_sync_test_gets_a_loop_that_is_not_running(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio

        def test_sync(loop):
            assert not loop.is_running()
            assert loop.run_until_complete(asyncio.sleep(0, "done")) == "done"
        """
    )
    result.assert_outcomes(passed=1)


def test_async_fixtures_share_the_test_loop(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio
        import pytest
        events = []

        @pytest.fixture
        async def value():
            return asyncio.get_running_loop()

        @pytest.fixture
        async def resource(request):
            events.append("setup")
            yield asyncio.get_running_loop()
            events.append("teardown")

        async def test_uses(value, resource):
            assert value is resource is asyncio.get_running_loop()
            assert events == ["setup"]

        def test_after():
            assert events == ["setup", "teardown"]
        """
    )
    result.assert_outcomes(passed=2)


def test_a_sync_test_may_use_an_async_fixture(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio
        import pytest
        events = []

        @pytest.fixture
        async def resource():
            loop = asyncio.get_running_loop()
            events.append("setup")
            yield loop
            assert not loop.is_closed()  # torn down before its loop
            events.append("teardown")

        def test_sync(resource):
            assert not resource.is_running() and not resource.is_closed()

        def test_after():
            assert events == ["setup", "teardown"]
        """
    )
    result.assert_outcomes(passed=2)


def test_async_fixture_defined_in_a_class_is_bound(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import pytest

        class TestGroup:
            marker = "instance attribute"

            @pytest.fixture
            async def value(self):
                return self.marker

            async def test_value(self, value):
                assert value == "instance attribute"
        """
    )
    result.assert_outcomes(passed=1)


def test_async_generator_fixture_yielding_twice_is_an_error(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import pytest

        @pytest.fixture
        async def twice():
            yield 1
            yield 2

        async def test_x(twice):
            assert twice == 1
        """
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*'twice' yielded twice*"])


def test_teardown_runs_when_the_test_fails(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import pytest
        closed = []

        @pytest.fixture
        async def resource():
            yield 1
            closed.append(True)

        async def test_fails(resource):
            raise RuntimeError("boom")

        def test_after():
            assert closed == [True]
        """
    )
    result.assert_outcomes(passed=1, failed=1)


def test_pending_tasks_are_cancelled_at_teardown(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio
        cancelled = []

        async def forever():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        async def test_leaves_a_task(loop):
            loop.create_task(forever())
            await asyncio.sleep(0)

        def test_after():
            assert cancelled == [True]
        """
    )
    result.assert_outcomes(passed=2)


def test_module_scoped_async_fixture_is_refused(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import pytest

        @pytest.fixture(scope="module")
        async def shared():
            return 1

        async def test_x(shared):
            pass
        """
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*must be function-scoped*"])


def test_debug_option_sets_loop_debug(run_pytest: RunPytest) -> None:
    source = """
        async def test_debug(loop, pytestconfig):
            assert loop.get_debug() is pytestconfig.getoption("--aioloom-debug")
        """
    run_pytest(source).assert_outcomes(passed=1)
    run_pytest(source, "--aioloom-debug").assert_outcomes(passed=1)


def test_hypothesis_async_test_runs_every_example_on_the_loop(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio
        from hypothesis import given, settings, strategies as st
        loops = []

        @settings(max_examples=7, database=None)
        @given(st.integers())
        async def test_examples(x):
            loops.append(asyncio.get_running_loop())

        def test_after():
            assert len(loops) == 7 and len(set(map(id, loops))) == 1
        """
    )
    result.assert_outcomes(passed=2)


# -- --aioloom-loop ----------------------------------------------------------------------------

LOOP_SOURCE = """
    import asyncio

    async def test_loop(loop):
        assert asyncio.get_running_loop() is loop
        print("LOOP", type(loop).__module__)

    def test_sync(loop):
        assert not loop.is_running()

    def test_no_loop():
        pass
    """


def test_default_loop_is_pyloop_in_the_test_id(run_pytest: RunPytest) -> None:
    result = run_pytest(LOOP_SOURCE, "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["*::test_loop[[]pyloop[]] PASSED*", "*::test_sync[[]pyloop[]] PASSED*"]
    )
    result.stdout.fnmatch_lines(["*::test_no_loop PASSED*"])


@pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop is not installed")
def test_each_async_test_runs_under_each_named_loop(run_pytest: RunPytest) -> None:
    result = run_pytest(LOOP_SOURCE, "-v", "-s", "--aioloom-loop=pyloop,uvloop")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["*test_loop[[]pyloop[]]*LOOP asyncio*"])
    result.stdout.fnmatch_lines(["*test_loop[[]uvloop[]]*LOOP uvloop*"])
    result.stdout.fnmatch_lines(["*::test_sync[[]uvloop[]] PASSED*"])


def test_a_named_loop_that_is_not_installed_is_skipped_with_the_reason(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    pytester.makepyfile(uvloop=BLOCK_UVLOOP)
    result = run_pytest(LOOP_SOURCE, "-rs", "--aioloom-loop=pyloop,uvloop")
    result.assert_outcomes(passed=3, skipped=2)
    result.stdout.fnmatch_lines(["*uvloop is not installed: pip install*"])


def test_all_loops_means_the_installed_ones(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    pytester.makepyfile(uvloop=BLOCK_UVLOOP)
    result = run_pytest(LOOP_SOURCE, "-v", "--aioloom-loop=all")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*::test_loop[[]pyloop[]] PASSED*"])


def test_loop_names_come_from_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naioloom_loop = pyloop, pyloop\n")
    pytester.makepyfile(test_ini=LOOP_SOURCE)
    result = pytester.runpytest_subprocess(*_PLUGINS_OFF, "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)  # repeats count once
    result.stdout.fnmatch_lines(["*::test_loop[[]pyloop[]] PASSED*"])


def test_an_unknown_loop_name_is_a_usage_error(run_pytest: RunPytest) -> None:
    result = run_pytest(LOOP_SOURCE, "--aioloom-loop=pyloop,tokio")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown loop 'tokio' in --aioloom-loop*"])


def test_a_user_parametrization_of_loop_factory_wins(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio
        import pytest

        class MyLoop(asyncio.SelectorEventLoop):
            pass

        @pytest.mark.parametrize("loop_factory", [MyLoop], ids=["mine"])
        async def test_mine(loop):
            assert type(asyncio.get_running_loop()) is MyLoop
        """,
        "-v",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_mine[[]mine[]] PASSED*"])


def test_a_conftest_loop_factory_is_used_as_is(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import asyncio
        import pytest

        class ConftestLoop(asyncio.SelectorEventLoop):
            pass

        @pytest.fixture
        def loop_factory():
            return ConftestLoop
        """
    )
    pytester.makepyfile(
        test_own="""
        import asyncio

        async def test_uses_it():
            assert type(asyncio.get_running_loop()).__name__ == "ConftestLoop"
        """
    )
    result = pytester.runpytest_subprocess(
        *_PLUGINS_OFF, "-W", "error", "-p", "no:cacheprovider", "-v"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::test_uses_it PASSED*"])  # not parametrized


# -- time limits -----------------------------------------------------------------------------

HANGING_HANDLER = """
    import asyncio
    import pytest
    from aioloom.web._response import Response

    async def stuck_handler(request):
        await asyncio.sleep(3600)
        return Response(text="never")

    async def test_hangs(aioloom_raw_server, aioloom_client):
        server = await aioloom_raw_server(stuck_handler)
        client = await aioloom_client(server)
        await client.get("/")
    """


def test_a_hanging_handler_times_out_with_a_clear_error(run_pytest: RunPytest) -> None:
    result = run_pytest(HANGING_HANDLER, "--aioloom-timeout=0.5")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_hangs[[]pyloop[]] did not finish within 0.5 s (aioloom timeout)*",
            "The test was waiting at:",
            '*test_subject.py", line 12, in test_hangs',
            '*await client.get("/")',
            "Other pending tasks*",
            '*test_subject.py", line 6, in stuck_handler',
            "*await asyncio.sleep(3600)",
        ]
    )
    result.stdout.no_fnmatch_line("*During handling of the above exception*")


def test_the_timeout_marker_overrides_the_option(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio
        import pytest

        @pytest.mark.aioloom_timeout(0.2)
        async def test_short():
            await asyncio.sleep(5)

        @pytest.mark.aioloom_timeout(0)
        async def test_unlimited():
            await asyncio.sleep(0.3)
        """,
        "--aioloom-timeout=0.1",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_short[[]pyloop[]] did not finish within 0.2 s*"])


def test_the_timeout_comes_from_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naioloom_timeout = 0.2\n")
    pytester.makepyfile(
        test_ini="""
        import asyncio

        async def test_slow():
            await asyncio.sleep(5)
        """
    )
    result = pytester.runpytest_subprocess(*_PLUGINS_OFF, "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*did not finish within 0.2 s*"])


def test_a_hanging_async_fixture_times_out(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio
        import pytest

        @pytest.fixture
        async def stuck():
            await asyncio.Event().wait()

        async def test_x(stuck):
            pass
        """,
        "--aioloom-timeout=0.2",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'stuck' did not finish within 0.2 s*"])


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_a_bad_timeout_is_a_usage_error(run_pytest: RunPytest, value: str) -> None:
    result = run_pytest("def test_x():\n    pass\n", f"--aioloom-timeout={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


# -- resources -----------------------------------------------------------------------------


def test_servers_and_clients_are_closed_after_a_failing_test(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import socket
        from aioloom.web._app import Application
        from aioloom.web._response import Response
        made = []

        async def handler(request):
            return Response(text="ok")

        def app():
            application = Application()
            application.router.add_get("/", handler)
            return application

        async def test_fails(aioloom_client, aioloom_server):
            client = await aioloom_client(app())
            server = await aioloom_server(app())
            made.extend([client, server])
            async with client.get("/") as resp:
                assert resp.status == 200
            raise AssertionError("the test failed")

        def test_everything_was_closed():
            client, server = made
            assert client.closed and client.session.closed and client.server.closed
            assert server.closed
            for port in (client.port, server.port):
                assert port is not None
                with socket.socket() as sock, __import__("pytest").raises(OSError):
                    sock.connect(("127.0.0.1", port))  # nothing listens there any more
        """
    )
    result.assert_outcomes(passed=1, failed=1)


def test_a_timed_out_test_still_closes_its_server(run_pytest: RunPytest) -> None:
    source = (
        HANGING_HANDLER
        + """
    def test_after():
        import gc
        assert not [o for o in gc.get_objects() if type(o).__name__ == "RawTestServer"
                    and not o.closed]
    """
    )
    result = run_pytest(source, "--aioloom-timeout=0.5")
    result.assert_outcomes(passed=1, failed=1)


LEAKY = """
    from aioloom.client._session import ClientSession

    async def test_leaks_a_session():
        session = ClientSession()
        cycle = [session]
        cycle.append(cycle)  # only the garbage collector frees it, at loop teardown
    """


def test_an_unclosed_session_fails_the_test_under_w_error(run_pytest: RunPytest) -> None:
    result = run_pytest(LEAKY)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaks_a_session*",
            "E   ResourceWarning: Unclosed client session*",
        ]
    )


def test_an_unclosed_session_is_a_warning_when_warnings_are_shown(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest_subprocess(*_PLUGINS_OFF, "-W", "always::ResourceWarning")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*ResourceWarning: Unclosed client session*"])


def test_fast_mode_skips_the_collection_pass(pytester: pytest.Pytester) -> None:
    # With automatic collection off, only the plugin's pass at loop teardown would find
    # the leak while the test is still the one running.
    pytester.makepyfile(test_leaky="import gc\ngc.disable()\n" + textwrap.dedent(LEAKY))
    result = pytester.runpytest_subprocess(
        *_PLUGINS_OFF, "-W", "always::ResourceWarning", "--aioloom-fast"
    )
    result.assert_outcomes(passed=1, warnings=0)
    result = pytester.runpytest_subprocess(*_PLUGINS_OFF, "-W", "always::ResourceWarning")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*test_leaky.py::test_leaks_a_session[[]pyloop[]]*"])


def test_several_leaks_are_named_in_one_error(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        import asyncio

        async def never():
            pass

        async def test_two_leaks(loop):
            sessions = [__import__("aioloom.client._session").client._session.ClientSession()]
            coro = never()
            cycle = [sessions, coro]
            cycle.append(cycle)
        """
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*and 1 more: *"])


def test_fixtures_server_and_client_work_in_a_pytest_run(run_pytest: RunPytest) -> None:
    result = run_pytest(
        """
        from aioloom.testing import AioloomClient, AioloomRawServer
        from aioloom.web._response import Response

        async def handler(request):
            return Response(text=request.path)

        async def test_raw(aioloom_raw_server: AioloomRawServer, aioloom_client: AioloomClient):
            client = await aioloom_client(await aioloom_raw_server(handler))
            async with client.get("/path") as resp:
                assert await resp.text() == "/path"

        def test_port(aioloom_unused_port):
            assert 0 < aioloom_unused_port() < 65536
        """
    )
    result.assert_outcomes(passed=2)
