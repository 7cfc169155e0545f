"""Load test of the API as a care team uses it: 50 authenticated users at their panels, then a saturation run.

Set-up (per configuration, in a fresh data dir): ``caretrail setup --demo-patients N`` (knowledge and N demo
patients), one API key per user (care managers, each with a panel of N/50 patients, so every call passes the real
panel check), and ``caretrail serve`` as a separate process on loopback. The load comes from a second process (this
script re-run with ``--client``): an asyncio client (httpx) per user that mixes worklist, guidance, ask, chat and
checklist calls, pausing 2-5 s between calls as a person at a panel does (each user's first call also comes after
such a pause, so 50 people do not click in the same instant), for ``--seconds`` (120 by default); then a saturation
run with no pauses for ``--saturation-seconds`` that gives the maximum throughput. For each it prints requests,
throughput, p50/p95/p99 overall and per kind, errors, the five slowest calls with when they happened, and the
server's memory (resident set of the server and its workers) at start, every 10 s, and at end.

Before the load, ``caretrail refresh-worklist`` computes the day's guidance for every patient, as the start-of-day
job in docs/deploy.md does in production.

Configurations: the embedded default (SQLite, embedded Chroma, one worker) and PostgreSQL + the Chroma server
(``CARETRAIL_CHROMA_MODE=http``) with ``--workers`` API workers. Both answer with the deterministic composer.

Run: .venv/bin/python benchmarks/bench_api.py [--patients 1000] [--users 50] [--seconds 120] [--workers 2]
     [--only embedded|server]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from assistant.context import open_context
from assistant.services.caller import Caller
from assistant.services.keys import create as create_key
from assistant.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CARETRAIL = str(Path(sys.executable).parent / "caretrail")
AS_OF = "2026-11-23"
QUESTIONS = (
    "When must the TCM interactive contact happen after discharge?",
    "What is her most recent A1c?",
    "What does the CARA falls-prevention referral need?",
    "Is anything pending at discharge?",
)
ADMIN = Caller("bench-admin", "admin", "cli")  # issues the users' keys, as `caretrail keys create` would
MIX = (("worklist", 3), ("guidance", 3), ("ask", 2), ("chat", 1), ("checklist", 1))


# ------------------------------------------------------------------------------------------------ the client side


async def one_call(client: httpx.AsyncClient, kind: str, patient: str, state: dict) -> None:
    if kind == "worklist":
        response = await client.get("/v1/worklist", params={"limit": 50, "as_of": AS_OF})
    elif kind == "guidance":
        response = await client.get(f"/v1/patients/{patient}/guidance", params={"as_of": AS_OF})
    elif kind == "ask":
        response = await client.post("/v1/ask", json={"question": random.choice(QUESTIONS), "patient_id": patient})
    elif kind == "checklist":
        response = await client.get(f"/v1/checklists/{patient}", params={"as_of": AS_OF})
        if response.status_code == 404:  # no discharge on record: a correct answer, not an error
            return
    else:
        conversation = state.get(patient)
        if conversation is None:
            started = await client.post("/v1/conversations", json={"patient_id": patient})
            started.raise_for_status()
            conversation = state[patient] = started.json()["conversation_id"]
        response = await client.post(f"/v1/conversations/{conversation}/messages",
                                     json={"text": random.choice(QUESTIONS), "as_of": AS_OF})
    response.raise_for_status()
    await response.aread()


async def user(base: str, key: str, patients: list[str], paced: bool, until: float, log: list,
               origin: float) -> None:
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    state: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60,
                                 trust_env=False) as client:
        if paced:  # people do not all click in the same instant: each starts somewhere in a first pause
            await asyncio.sleep(random.uniform(0, 5))
        while time.monotonic() < until:
            kind = random.choice(kinds)
            started = time.perf_counter()
            error = None
            try:
                await one_call(client, kind, random.choice(patients), state)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                error = f"{kind}: {type(exc).__name__} {getattr(getattr(exc, 'response', None), 'status_code', '')}"
            log.append((kind, (time.perf_counter() - started) * 1000, error, started - origin))
            if paced:
                await asyncio.sleep(random.uniform(2, 5))


def client_main(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    log: list = []
    until = time.monotonic() + spec["seconds"]
    origin = time.perf_counter()

    async def run() -> None:
        await asyncio.gather(*(user(spec["base"], u["key"], u["patients"], spec["paced"], until, log, origin)
                               for u in spec["users"]))

    started = time.monotonic()
    asyncio.run(run())
    print(json.dumps({"wall": time.monotonic() - started, "log": log}))


# ------------------------------------------------------------------------------------------------ the server side


def settings_from(env: dict) -> dict:
    """The CARETRAIL_* variables of a configuration as Settings fields (the same values the CLI reads)."""
    prefix = "CARETRAIL_"
    return {key[len(prefix):].lower(): value for key, value in env.items() if key.startswith(prefix)}


def caretrail(env: dict, *args: str) -> str:
    done = subprocess.run([CARETRAIL, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"caretrail {' '.join(args[:2])} failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def memory_mb(process: psutil.Process) -> float:
    try:
        family = [process, *process.children(recursive=True)]
        return sum(p.memory_info().rss for p in family if p.is_running()) / 2**20
    except psutil.Error:
        return float("nan")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def chroma_server(path: Path) -> Iterator[tuple[int, int]]:
    """A Chroma server on a free loopback port, storing under ``path``; yields (port, process id) once it answers."""
    port = free_port()
    process = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(path), "--host",
                                "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:  # the server answers its heartbeat once it is ready
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2, trust_env=False).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the Chroma server did not come up")
            time.sleep(0.5)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(path, ignore_errors=True)


def wait_ready(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server at {base} did not come up")


def load(base: str, users: list[dict], seconds: int, paced: bool, workdir: Path,
         server: psutil.Process | None = None) -> dict:
    """Run the client process; meanwhile sample the server's memory every 10 s (``memory`` in the result)."""
    spec = workdir / f"spec-{uuid.uuid4().hex}.json"
    spec.write_text(json.dumps({"base": base, "users": users, "seconds": seconds, "paced": paced}))
    output = workdir / f"client-{uuid.uuid4().hex}.json"
    with output.open("w") as sink:
        client = subprocess.Popen([sys.executable, __file__, "--client", str(spec)], stdout=sink)
        samples = []
        while client.poll() is None:
            if server is not None:
                samples.append(memory_mb(server))
            try:
                client.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    if client.returncode != 0:
        raise SystemExit(f"the load client failed (exit {client.returncode})")
    return {**json.loads(output.read_text()), "memory": samples}


def report(label: str, result: dict, memory: tuple[float, float]) -> None:
    log = result["log"]
    times = sorted(ms for _, ms, error, _ in log if error is None)
    errors = [error for _, _, error, _ in log if error]

    def at(share: float) -> float:
        return times[int(share * (len(times) - 1))] if times else float("nan")

    print(f"[{label}] {len(log)} requests in {result['wall']:.0f} s: {len(log) / result['wall']:.1f} req/s, "
          f"p50 {at(0.5):.0f} ms, p95 {at(0.95):.0f} ms, p99 {at(0.99):.0f} ms, errors {len(errors)}; "
          f"server memory {memory[0]:.0f} MB at start, {memory[1]:.0f} MB at end")
    if result.get("memory"):
        print("    server memory every 10 s (MB): " + " ".join(f"{mb:.0f}" for mb in result["memory"]))
    for kind in sorted({k for k, _, _, _ in log}):
        own = sorted(ms for k, ms, e, _ in log if k == kind and e is None)
        if own:
            print(f"    {kind:<10} {len(own):>5}  p50 {statistics.median(own):6.0f} ms  "
                  f"p95 {own[int(0.95 * (len(own) - 1))]:6.0f} ms")
    slowest = sorted(log, key=lambda entry: -entry[1])[:5]  # when the tail happened: together, or spread out
    print("    slowest: " + ", ".join(f"{kind} {ms:.0f} ms at {at_s:.1f} s" for kind, ms, _, at_s in slowest))
    for error in sorted(set(errors))[:5]:
        print(f"    error: {error} (x{errors.count(error)})")


def configuration(label: str, env: dict, args: argparse.Namespace, workdir: Path, workers: int) -> None:
    started = time.perf_counter()
    caretrail(env, "setup", "--demo-patients", str(args.patients))
    # The day's guidance is computed ahead of the care team, as the start-of-day job in docs/deploy.md does;
    # without it the first worklist read of each panel pays for its recomputation during the run.
    caretrail({**env, "CARETRAIL_CLI_USER": "bench-admin", "CARETRAIL_CLI_ROLE": "admin"},
              "refresh-worklist", "--as-of", AS_OF)
    ctx = open_context(Settings(**settings_from(env)))
    patients = sorted(row.id for row in ctx.patients.list_patients(limit=1_000_000))
    print(f"[{label}] set up {len(patients)} demo patients in {time.perf_counter() - started:.0f} s")
    share = max(1, len(patients) // args.users)
    users = []
    for n in range(args.users):
        panel = patients[n * share:(n + 1) * share] or patients[:share]
        name = f"bench-cm-{n}"
        ctx.patients.assign_panel(name, panel)
        created = create_key(ctx, ADMIN, f"{name}-{uuid.uuid4().hex[:6]}", "care_manager", name, None)
        users.append({"key": created["secret"], "patients": panel})
    port = free_port()
    command = [CARETRAIL, "serve", "--port", str(port)] + (["--workers", str(workers)] if workers > 1 else [])
    server_log = workdir / f"server-{port}.log"
    with server_log.open("wb") as sink:
        server = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        process = psutil.Process(server.pid)
        load(base, users[:5], 10, paced=False, workdir=workdir)  # warm every worker's models and caches
        before = memory_mb(process)
        paced = load(base, users, args.seconds, paced=True, workdir=workdir, server=process)
        after = memory_mb(process)
        report(f"{label}, {args.users} users paced 2-5 s, {workers} worker(s)", paced, (before, after))
        saturated = load(base, users, args.saturation_seconds, paced=False, workdir=workdir, server=process)
        report(f"{label}, {args.users} users no pauses (saturation)", saturated, (after, memory_mb(process)))
    finally:
        server.terminate()
        server.wait(timeout=30)
        errors = [line for line in server_log.read_text(errors="replace").splitlines()
                  if "Error" in line or "Exception" in line]
        for line in errors[-8:]:
            print(f"    server log: {line[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--saturation-seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=("embedded", "server"))
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if args.client:
        client_main(args.client)
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        # The per-credential rate limit (120/minute) would turn a saturation run into 429s: it is raised here so
        # the run measures the server, and the limits are shared through Redis between workers as in production.
        base_env = {**os.environ, "CARETRAIL_LLM_BACKEND": "composer", "CARETRAIL_RATE_LIMIT": "100000/minute"}
        if args.only in (None, "embedded"):
            env = {**base_env, "CARETRAIL_DATA_DIR": str(workdir / "embedded")}
            configuration("embedded", env, args, workdir, workers=1)
        if args.only in (None, "server"):
            schema = f"bench_api_{uuid.uuid4().hex[:8]}"
            with chroma_server(workdir / "chroma-server") as (chroma_port, _pid):
                env = {**base_env, "CARETRAIL_DATA_DIR": str(workdir / "server"),
                       "CARETRAIL_DATABASE_URL": f"{args.postgres}?options=-csearch_path%3D{schema}",
                       "CARETRAIL_CHROMA_MODE": "http", "CARETRAIL_CHROMA_PORT": str(chroma_port),
                       "CARETRAIL_RATE_LIMIT_STORAGE": args.redis}
                _create_schema(args.postgres, schema)
                try:
                    configuration("PostgreSQL + Chroma server", env, args, workdir, workers=args.workers)
                finally:
                    _drop_schema(args.postgres, schema)


def _create_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))


def _drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
