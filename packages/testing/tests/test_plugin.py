"""The pytest plugin, exercised with pytest's own pytester in a fresh pytest run."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(source)
    # The plugin loads through its pytest11 entry point, as it does for users. The inner
    # runs rely on file order, so pytest-randomly (in hatch's test environment) is kept out.
    return pytester.runpytest_subprocess("-W", "error", "-p", "no:randomly", *args)


def test_async_tests_pass_and_fail(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import asyncio

        async def test_ok():
            await asyncio.sleep(0)

        async def test_fails():
            await asyncio.sleep(0)
            assert 1 == 2
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*assert 1 == 2*"])


def test_each_test_gets_a_fresh_loop_closed_afterwards(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
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
        """,
    )
    result.assert_outcomes(passed=3)


def test_async_fixtures_share_the_test_loop(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
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
        """,
    )
    result.assert_outcomes(passed=2)


def test_teardown_runs_when_the_test_fails(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
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
        """,
    )
    result.assert_outcomes(passed=1, failed=1)


def test_pending_tasks_are_cancelled_at_teardown(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
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
        """,
    )
    result.assert_outcomes(passed=2)


def test_module_scoped_async_fixture_is_refused(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.fixture(scope="module")
        async def shared():
            return 1

        async def test_x(shared):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*must be function-scoped*"])


def test_debug_option_sets_loop_debug(pytester: pytest.Pytester) -> None:
    source = """
        async def test_debug(loop, pytestconfig):
            assert loop.get_debug() is pytestconfig.getoption("--aioloom-debug")
        """
    run(pytester, source).assert_outcomes(passed=1)
    pytester.path.joinpath("test_debug_option_sets_loop_debug.py").unlink()
    run(pytester, source, "--aioloom-debug").assert_outcomes(passed=1)
