"""Server faults: each is retried with backoff, then recorded as a failed call, never as an answer.

The first half drives the gateway directly, one fault at a time. The second
half runs a real inspect-ai eval with the ``pool/`` provider in which each
sample meets a different fault, and checks the log and the results matrix.
"""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest
from inspect_ai import eval as inspect_eval

from harness import session
from harness.cache import ResponseCache
from harness.errors import GatewayError
from harness.gateway import Gateway
from harness.logmatrix import matrix_from_logs
from harness.pool import load_pool
from tests.conftest import write_pool
from tests.fake_openai import FakeOpenAIServer, answer_entries, table_answer, write_benchmark_data

MESSAGES = [{"role": "user", "content": "What is 2 + 2?"}]
RIGHT = "alpha says: What is 2 + 2?"
# The pool timeout of the cases that test it. Other cases get a generous
# one, so a slow machine never turns their fault into a timeout.
TIMEOUT_S = 1.0
GENEROUS_TIMEOUT_S = 20.0
TIMEOUT_FAULTS = ("no-answer", "stall-after-headers", "trickled-body")

# Each fault as the fake server sends it; the id names the test case.
FAULTS = {
    "429": {"status": 429},
    "429-retry-after": {"status": 429, "headers": {"Retry-After": "0"}},
    "408": {"status": 408},
    "409": {"status": 409},
    "425": {"status": 425},
    "500": {"status": 500},
    "502": {"status": 502},
    "503": {"status": 503},
    "reset-before-answer": {"reset": True},
    "reset-mid-response": {"cut": "reset"},
    "body-short-of-length": {"cut": "close"},
    "chunked-stream-cut": {"cut": "chunked"},
    "malformed-json": {"body": '{"choices": [{"message": '},
    "not-json": {"body": "<html>Bad gateway</html>"},
    "empty-choices": {"choices": []},
    "no-text-in-choice": {"choices": [{"index": 0, "message": {"role": "assistant"}, "finish_reason": "stop"}]},
    "no-answer": {"delay": 3 * TIMEOUT_S},
    "stall-after-headers": {"stall_body": 3 * TIMEOUT_S},
    "trickled-body": {"trickle": 0.05},
}


def make_gateway(tmp_path, api_base, timeout=GENEROUS_TIMEOUT_S, **kwargs) -> Gateway:
    pool = load_pool(write_pool(tmp_path / "pool.yaml", api_base, ["alpha"], timeout=timeout))
    settings = {"max_attempts": 3, "backoff_initial": 0.01, "backoff_max": 0.05, **kwargs}
    return Gateway(pool, ResponseCache(tmp_path / "cache"), **settings)


@pytest.mark.parametrize("name", FAULTS)
async def test_transient_fault_is_retried(tmp_path, fake_server, name):
    fake_server.script = [FAULTS[name]]
    gateway = make_gateway(tmp_path, fake_server.api_base, TIMEOUT_S if name in TIMEOUT_FAULTS else GENEROUS_TIMEOUT_S)

    result = await gateway.complete("alpha", MESSAGES, sample_id="s1")

    assert result.text == RIGHT
    assert result.attempts == 2
    assert len(fake_server.requests) == 2
    assert gateway.stats.retries == 1
    assert len(gateway.cache) == 1


@pytest.mark.parametrize("name", FAULTS)
async def test_lasting_fault_fails_the_call(tmp_path, fake_server, name):
    fake_server.default = FAULTS[name]
    gateway = make_gateway(tmp_path, fake_server.api_base, TIMEOUT_S if name in TIMEOUT_FAULTS else GENEROUS_TIMEOUT_S)
    started = time.monotonic()

    with pytest.raises(GatewayError, match=r"model 'alpha', sample s2: call failed after 3 attempt\(s\)"):
        await gateway.complete("alpha", MESSAGES, sample_id="s2")

    assert len(fake_server.requests) == 3
    assert gateway.stats.failures == 1
    assert len(gateway.cache) == 0
    if name in TIMEOUT_FAULTS:
        # Three attempts of at most TIMEOUT_S each, plus two short backoffs.
        assert time.monotonic() - started < 3 * TIMEOUT_S + 2.0


async def test_connection_refused_is_retried_then_fails(tmp_path):
    with FakeOpenAIServer() as server:
        api_base = server.api_base
    gateway = make_gateway(tmp_path, api_base)

    with pytest.raises(GatewayError, match="Connection error.*check that the server at http://127.0.0.1"):
        await gateway.complete("alpha", MESSAGES, sample_id="s3")

    assert gateway.stats.retries == 2


async def test_server_back_after_refusals(tmp_path):
    server = FakeOpenAIServer()
    port = server.port
    server._server.server_close()
    gateway = make_gateway(tmp_path, f"http://127.0.0.1:{port}/v1", max_attempts=8, backoff_initial=0.2, backoff_max=0.3)

    async def start_later() -> FakeOpenAIServer:
        await asyncio.sleep(0.3)
        return FakeOpenAIServer(port=port).start()

    starter = asyncio.create_task(start_later())
    result = await gateway.complete("alpha", MESSAGES)
    restarted = await starter
    restarted.stop()

    assert result.text == RIGHT
    assert result.attempts >= 2


@pytest.mark.parametrize(
    "headers",
    [
        lambda: {"Retry-After": "0.4"},
        lambda: {"retry-after-ms": "400"},
        # An HTTP date has whole seconds: 1.6 s ahead is at least 0.6 s ahead.
        lambda: {"Retry-After": email.utils.formatdate(time.time() + 1.6, usegmt=True)},
    ],
    ids=["seconds", "milliseconds", "http-date"],
)
async def test_retry_after_sets_the_wait(tmp_path, fake_server, headers):
    fake_server.script = [{"status": 429, "headers": headers()}]
    gateway = make_gateway(tmp_path, fake_server.api_base, backoff_initial=0.0, backoff_max=5.0)

    started = time.monotonic()
    result = await gateway.complete("alpha", MESSAGES)

    assert result.text == RIGHT
    assert time.monotonic() - started >= 0.3


async def test_retry_after_is_capped_by_backoff_max(tmp_path, fake_server):
    fake_server.script = [{"status": 429, "headers": {"Retry-After": "3600"}}]
    gateway = make_gateway(tmp_path, fake_server.api_base, backoff_max=0.1)

    started = time.monotonic()
    await gateway.complete("alpha", MESSAGES)

    assert time.monotonic() - started < 2.0


async def test_invalid_retry_after_falls_back_to_backoff(tmp_path, fake_server):
    fake_server.script = [{"status": 503, "headers": {"Retry-After": "soon"}}]
    gateway = make_gateway(tmp_path, fake_server.api_base)

    result = await gateway.complete("alpha", MESSAGES)

    assert result.text == RIGHT
    assert len(fake_server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_error_is_not_retried(tmp_path, fake_server, status):
    fake_server.default = {"status": status}
    gateway = make_gateway(tmp_path, fake_server.api_base)

    with pytest.raises(GatewayError, match="after 1 attempt"):
        await gateway.complete("alpha", MESSAGES)

    assert len(fake_server.requests) == 1


def test_retry_settings_from_environment(tmp_path, fake_server, monkeypatch):
    monkeypatch.setenv("HARNESS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("HARNESS_BACKOFF_INITIAL", "0.01")
    monkeypatch.setenv("HARNESS_BACKOFF_MAX", "0.02")
    pool = load_pool(write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"]))

    gateway = Gateway(pool, ResponseCache(tmp_path / "cache"))

    assert gateway.max_attempts == 2
    assert gateway.backoff_initial == 0.01
    assert gateway.backoff_max == 0.02


def test_invalid_retry_setting_names_variable(tmp_path, fake_server, monkeypatch):
    monkeypatch.setenv("HARNESS_MAX_ATTEMPTS", "many")
    pool = load_pool(write_pool(tmp_path / "pool.yaml", fake_server.api_base, ["alpha"]))

    with pytest.raises(Exception, match="HARNESS_MAX_ATTEMPTS='many' is invalid"):
        Gateway(pool, ResponseCache(tmp_path / "cache"))


# One inspect-ai eval in which each sample meets one fault. Samples whose
# fault lasts fail; samples whose fault passes are answered and scored.

N_SAMPLES = 18
LASTING = {
    1: "500", 2: "reset-mid-response", 3: "no-answer", 4: "malformed-json", 5: "empty-choices",
    6: "429", 7: "502", 8: "503", 9: "chunked-stream-cut", 10: "body-short-of-length",
}
PASSING = {11: "429-retry-after", 12: "503", 13: "chunked-stream-cut", 14: "stall-after-headers", 15: "reset-before-answer"}


@pytest.fixture(scope="module")
def faulty_eval(tmp_path_factory):
    """Run pool/maths on N_SAMPLES gsm8k samples with the faults above; return the log, matrix, failures, server."""
    tmp_path = tmp_path_factory.mktemp("faulty-eval")
    questions = write_benchmark_data(tmp_path / "data", N_SAMPLES)
    by_id = {info["id"]: question for question, info in questions.items()}
    server = FakeOpenAIServer(table_answer(answer_entries(questions, ["maths"]))).start()
    for index, fault in LASTING.items():
        server.add_rule(by_id[f"gsm-{index}"], [], then=FAULTS[fault])
    for index, fault in PASSING.items():
        server.add_rule(by_id[f"gsm-{index}"], [FAULTS[fault]])
    # Above TIMEOUT_S, so the first call of the eval has room on a busy machine,
    # and below the 3 s stalls of the timeout faults.
    pool_path = write_pool(tmp_path / "pool.yaml", server.api_base, ["maths"], timeout=2.0)

    patch = pytest.MonkeyPatch()
    patch.setenv("HARNESS_MAX_ATTEMPTS", "3")
    patch.setenv("HARNESS_BACKOFF_INITIAL", "0.01")
    patch.setenv("HARNESS_BACKOFF_MAX", "0.05")
    session.close_all()
    try:
        from harness.benchmarks import load_task

        logs = inspect_eval(
            load_task("gsm8k", tmp_path / "data"),
            model="pool/maths",
            model_args={"pool": str(pool_path), "cache_dir": str(tmp_path / "cache")},
            log_dir=str(tmp_path / "logs"),
            display="none",
            fail_on_error=False,
            retry_on_error=0,
        )
    finally:
        session.close_all()
        patch.undo()
        server.stop()
    matrix, failures = matrix_from_logs([logs[0].location], {logs[0].location: "maths"})
    return logs[0], matrix, failures, server


def test_eval_finishes_despite_faults(faulty_eval):
    log, matrix, failures, _ = faulty_eval

    assert log.status == "success"
    assert len(log.samples) == N_SAMPLES
    assert len(matrix) + len(failures) == N_SAMPLES


@pytest.mark.parametrize("index", sorted(LASTING), ids=[LASTING[i] for i in sorted(LASTING)])
def test_lasting_fault_is_failed_sample(faulty_eval, index):
    log, matrix, failures, _ = faulty_eval
    sample = next(s for s in log.samples if s.id == f"gsm-{index}")

    assert sample.error is not None
    assert "call failed after 3 attempt(s)" in sample.error.message
    assert f"gsm-{index}" in list(failures["sample_id"])
    assert f"gsm-{index}" not in list(matrix["sample_id"])


def test_passing_faults_and_clean_samples_score_right(faulty_eval):
    _, matrix, _, _ = faulty_eval
    answered = set(matrix["sample_id"])

    assert answered == {f"gsm-{i}" for i in range(N_SAMPLES) if i not in LASTING}
    assert matrix["score"].tolist() == [1.0] * len(matrix)


def test_each_call_counted_at_the_server(faulty_eval):
    _, _, _, server = faulty_eval

    # 3 attempts per lasting fault, 2 per passing fault, 1 per clean sample.
    expected = 3 * len(LASTING) + 2 * len(PASSING) + (N_SAMPLES - len(LASTING) - len(PASSING))
    assert len(server.requests) == expected


def test_refused_connection_is_failed_sample(tmp_path, monkeypatch):
    from harness.benchmarks import load_task

    write_benchmark_data(tmp_path / "data", 2)
    with FakeOpenAIServer() as closed:
        api_base = closed.api_base
    pool_path = write_pool(tmp_path / "pool.yaml", api_base, ["maths"], timeout=GENEROUS_TIMEOUT_S)
    monkeypatch.setenv("HARNESS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("HARNESS_BACKOFF_INITIAL", "0.01")
    session.close_all()
    try:
        log = inspect_eval(
            load_task("gsm8k", tmp_path / "data"),
            model="pool/maths",
            model_args={"pool": str(pool_path), "cache_dir": str(tmp_path / "cache")},
            log_dir=str(tmp_path / "logs"),
            display="none",
            fail_on_error=False,
            retry_on_error=0,
        )[0]
    finally:
        session.close_all()

    assert log.status == "success"
    assert [sample.error is not None for sample in log.samples] == [True, True]
    assert all("Connection error" in sample.error.message for sample in log.samples)
    assert all("call failed after 2 attempt(s)" in sample.error.message for sample in log.samples)


# A whole ``harness run`` in which one calibration and one test sample fail.


def test_run_finishes_with_failed_samples(tmp_path, monkeypatch):
    from harness.benchmarks import load_task
    from harness.runner import RunConfig, run, select_samples, split_samples

    questions = write_benchmark_data(tmp_path / "data", 10)
    by_id = {(info["benchmark"], info["id"]): question for question, info in questions.items()}
    tasks = {name: load_task(name, tmp_path / "data") for name in ("arc_challenge", "gsm8k")}
    calibration, test = split_samples(select_samples(tasks, None, 0), 0.7, 0)
    failing = [("arc_challenge", calibration["arc_challenge"][0]), ("gsm8k", test["gsm8k"][0])]
    monkeypatch.setenv("HARNESS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("HARNESS_BACKOFF_INITIAL", "0.01")
    session.close_all()

    with FakeOpenAIServer(table_answer(answer_entries(questions, ["science", "maths"]))) as server:
        for key in failing:
            server.add_rule(by_id[key], [], then={"status": 500}, model="maths")
        pool_path = write_pool(tmp_path / "pool.yaml", server.api_base, ["science", "maths"])
        try:
            outcome = run(RunConfig(
                pool=str(pool_path), tasks=("arc_challenge", "gsm8k"), limit=None, data_dir=str(tmp_path / "data"),
                cache_dir=str(tmp_path / "cache"), results_dir=str(tmp_path / "results"), run_name="faulty",
                display="none", k=2,
            ))
        finally:
            session.close_all()

    failed = {(row.benchmark, row.sample_id) for row in outcome.failures.itertuples() if row.model == "maths"}
    assert failed == set(failing)
    assert len(outcome.matrix) == 2 * 20 - 2
    assert all("call failed after 2 attempt(s)" in message for message in outcome.failures["error"])
    assert (tmp_path / "results" / "faulty" / "summary.csv").is_file()
