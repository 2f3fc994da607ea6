"""The ``routing`` benchmark: what a routed request costs against hello-world, per server.

The ``web`` benchmark compares servers on one workload; this one compares workloads on one
server, back to back. Its "cases" are servers and its "systems" are the ``web`` workloads:
``hello`` (the reference), ``routes1`` (``GET /user/4711`` matched by ``/user/{id}``, the
only route) and ``routes1000`` (the same route, the last of 1,000). So the ratio column is
``rate(workload, round r) / rate(hello, round r)`` with both measured seconds apart by the
same server, which is what issue #5's routing bar is stated in: among 1,000 routes a request
may cost less than 5% of the hello-world rate, i.e. a ratio above 0.95.

Each measurement is ``bench_web.measure_server``: a fresh server process pinned to one
core, its first answer checked, wrk pinned to the other, the fastest of the runs counted.
"""

from __future__ import annotations

from collections.abc import Callable

from bench_web import CONNECTIONS, USER_ID, WRK_RUNS, measure_server
from harness import Benchmark, Case, Context, System

# server -> the environment it runs with
_SERVERS = {"aioloom": None, "aiohttp": None, "aiohttp-py": {"AIOHTTP_NO_EXTENSIONS": "1"}}

CASES = (
    Case("aioloom", "`aioloom.web`, pure Python"),
    Case("aiohttp", "`aiohttp.web` with its compiled extensions"),
    Case("aiohttp-py", "`aiohttp.web` with `AIOHTTP_NO_EXTENSIONS=1`"),
)


def _workload(name: str) -> Callable[[Case, Context], float]:
    def run(case: Case, ctx: Context) -> float:
        return measure_server(case.name, name, ctx, _SERVERS[case.name])

    return run


SYSTEMS = (
    System("hello", 'plaintext `GET /` -> "Hello, World!" (the reference)', _workload("hello")),
    System(
        "routes1",
        f"`GET /user/{USER_ID}` with `/user/{{id}}` the only route (the handler reads"
        " `match_info`)",
        _workload("routes1"),
    ),
    System(
        "routes1000",
        f"`GET /user/{USER_ID}` matched by `/user/{{id}}`, the last of 1,000 routes (half"
        " static, half with a variable)",
        _workload("routes1000"),
    ),
)

BENCHMARK = Benchmark(
    name="routing",
    title="Routed requests against hello-world, per server",
    description=(
        f"Requests per second of one server on three workloads measured back to back"
        f" (`wrk -t1 -c{CONNECTIONS}`, a 1 s warm-up then {WRK_RUNS} runs, the fastest"
        f" counts, as in `web`). Here the rows are workloads and the ratio is against"
        f" `hello` on the same server in the same round: what routing and the handler's"
        f" `match_info` read cost in request rate."
    ),
    unit="req/s",
    cases=CASES,
    systems=SYSTEMS,
    reference="hello",
    cores_per_measurement=2,
    needs=("wrk",),
    packages=("aioloom-web", "aioloom-http", "aiohttp"),
)
