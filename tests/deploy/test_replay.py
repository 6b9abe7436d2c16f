"""Each image's build and start, replayed without Docker.

For every image Railway builds, this copies exactly what its Dockerfile COPYs (tracked files,
minus .dockerignore) into a scratch build context, runs its `uv sync` lines there with the
virtual environment in a temporary folder, and then runs its pre-deploy command, its CMD and
its HEALTHCHECK from that environment, against a real Redis and a real PostgreSQL.

Not replayed: the base image itself (the shared-library check stands in for it), the non-root
user, and the image's UV_LINK_MODE=copy / UV_COMPILE_BYTECODE=1 / UV_NO_CACHE=1, swapped for
uv's cache and hard links, which install the same files in a fraction of the time.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import psutil
import pytest
import redis
from docker.utils.build import PatternMatcher
from rq import Worker
from rq.worker import BaseWorker

from shelfready_core.stages import pipeline
from tests.deploy.test_dockerfiles import IMAGE_VENV, IMAGES, ROOT, DockerImage

# Shared libraries that every Debian image has, python:*-slim included: libc6 and zlib1g
# (dpkg pre-depends on them), libgcc-s1 and libstdc++6 (apt depends on them).
BASE_IMAGE_LIBRARIES = frozenset(
    {
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
        "libc.so.6",
        "libm.so.6",
        "libmvec.so.1",  # glibc's vector maths (libc6), needed by pillow-heif's codecs
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libresolv.so.2",
        "libutil.so.1",
        "libgcc_s.so.1",
        "libstdc++.so.6",
        "libz.so.1",
    }
)
# Builder settings that change how files land, not which: replaced for speed (see docstring).
SPEED_OVERRIDES = {"UV_LINK_MODE": "hardlink", "UV_COMPILE_BYTECODE": "0", "UV_NO_CACHE": "0"}
STARTUP_SECONDS = 60


def uv_binary() -> str:
    """The uv running this session (`uv run` exports UV), else the one on PATH or in .tools."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools/bin/uv")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("uv not found: install the workspace with `make install`")


def dockerignore() -> PatternMatcher:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return PatternMatcher([line.strip() for line in lines if line.strip()[:1] not in ("", "#")])


def repository_files() -> list[str]:
    """What a build from the repository sees: tracked files plus new, not git-ignored ones."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [path for path in listing.split("\0") if path and (ROOT / path).is_file()]


def build_context(image: DockerImage, context: Path) -> None:
    """Copy what the builder stage's COPY lines take from the context, and nothing more."""
    ignored, files = dockerignore(), repository_files()
    for sources, target in image.builder.context_copies:
        assert not target.startswith("/"), f"{image.path}: COPY to an absolute path {target}"
        for source in sources:
            matched = [f for f in files if f == source or f.startswith(f"{source}/")]
            assert matched, f"{image.path}: COPY {source} matches no file in the repository"
            for path in matched:
                if ignored.matches(path):
                    continue
                if path == source:  # a file: into the target folder, or as the target
                    into_folder = target.endswith("/") or target == "." or len(sources) > 1
                    destination = (
                        context / target / Path(path).name if into_folder else context / target
                    )
                else:  # a folder: its contents into the target
                    destination = context / target / Path(path).relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / path, destination)


def clean_environment() -> dict[str, str]:
    """This process's environment without the workspace's venv and project settings."""
    # PYTHONDONTWRITEBYTECODE too: the images ship bytecode, and without it every process
    # started here would compile the whole SDK stack again.
    drop = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME", "PORT"}
    drop.add("PYTHONDONTWRITEBYTECODE")
    return {key: value for key, value in os.environ.items() if key not in drop}


@dataclass(frozen=True)
class ReplayedImage:
    image: DockerImage
    venv: Path

    @property
    def env(self) -> dict[str, str]:
        """The final stage's ENV, with the image's venv path pointing at the replayed one."""
        env = clean_environment()
        for key, value in self.image.final.env.items():
            value = value.replace("$PATH", env.get("PATH", "")).replace(IMAGE_VENV, str(self.venv))
            env[key] = value
        return env

    def run(
        self, argv: list[str], env: dict[str, str], cwd: Path, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.resolve(argv, env), env=env, cwd=cwd, capture_output=True, text=True, **kwargs
        )

    def resolve(self, argv: list[str], env: dict[str, str]) -> list[str]:
        executable = shutil.which(argv[0], path=env["PATH"])
        assert executable and executable.startswith(str(self.venv)), f"{argv[0]} not in the venv"
        return [executable, *argv[1:]]


def replay_build(image: DockerImage, workdir: Path) -> None:
    context, venv = workdir / "context", workdir / "venv"
    build_context(image, context)
    env = clean_environment() | image.builder.env | SPEED_OVERRIDES
    env |= {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON": image.python_version}
    for argv in image.builder.uv_commands:
        result = subprocess.run(
            [uv_binary(), *argv[1:]], cwd=context, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, f"{' '.join(argv)} failed:\n{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ReplayedImage]:
    """Each image built once per test session, on first use, and shared by the xdist workers."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the session's folder, above every worker's own
    shared = shared / "replayed-images"
    shared.mkdir(exist_ok=True)

    def get(name: str) -> ReplayedImage:
        workdir, built = shared / name, shared / f"{name}.built"
        with (shared / f"{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker waits, then reuses the build
            if not built.exists():
                shutil.rmtree(workdir, ignore_errors=True)
                replay_build(DockerImage.load(name), workdir)
                built.touch()
        return ReplayedImage(DockerImage.load(name), workdir / "venv")

    return get


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def runtime_env(
    replay: ReplayedImage, tmp_path: Path, redis_url: str, database_url: str
) -> dict[str, str]:
    env = replay.env | {
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "SHELFREADY_AI": "offline",
        "SHELFREADY_STORAGE_DIR": str(tmp_path / "storage"),
        "HOME": str(tmp_path),
    }
    # One worker process per service keeps the test light; the command is the image's own.
    env |= {concurrency_variable(stage.name): "1" for stage in pipeline()}
    return env


def pre_deploy(replay: ReplayedImage, env: dict[str, str], cwd: Path) -> None:
    """The Railway pre-deploy command of this image's service (the migration)."""
    config = json.loads((ROOT / "infra" / "railway" / f"{replay.image.name}.json").read_text())
    for command in config["deploy"]["preDeployCommand"]:
        result = replay.run(shlex.split(command), env, cwd, timeout=120)
        assert result.returncode == 0, f"{command} failed:\n{result.stderr[-4000:]}"


@pytest.fixture
def start_cmd(
    tmp_path: Path,
) -> Iterator[Callable[[ReplayedImage, dict[str, str]], subprocess.Popen[bytes]]]:
    """Start an image's CMD; whatever is still running at the end is killed with its group."""
    started: list[subprocess.Popen[bytes]] = []
    logs: list[BinaryIO] = []

    def start(replay: ReplayedImage, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{replay.image.name}.log").open("wb")
        logs.append(log)
        process = subprocess.Popen(
            replay.resolve(replay.image.cmd, env),
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # like a container: the worker leads its own process group
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    for log in logs:
        log.close()


def wait_until(
    condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"{what} (exit code {process.poll()}); worker log:\n{log.read_text()[-4000:]}")


def pool_workers(connection: redis.Redis, pool: subprocess.Popen[bytes]) -> list[BaseWorker]:
    """The RQ workers this pool process started (another test run may share the Redis db)."""
    try:
        children = {child.pid for child in psutil.Process(pool.pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        children = set()
    return [w for w in Worker.all(connection=connection) if w.pid in children | {pool.pid}]


def concurrency_variable(stage: str) -> str:
    """The variable a stage's worker reads its concurrency from (its settings' alias)."""
    field = pipeline().get(stage).settings.model_fields["concurrency"]
    return field.alias or "CONCURRENCY"


@pytest.mark.parametrize("name", IMAGES)
def test_image_holds_its_own_services_only(
    name: str, replayed: Callable[[str], ReplayedImage], tmp_path: Path
) -> None:
    replay = replayed(name)
    probe = (
        "import importlib.util, json, sys; "
        "specs = {m: importlib.util.find_spec(m) for m in sys.argv[1:]}; "
        "print(json.dumps({m: s.origin if s else None for m, s in specs.items()}))"
    )
    modules = [f"shelfready_{s}" for s in ("core", *pipeline().names)]
    # Neither the demo's in-process Redis nor any dev tool ships in a worker image.
    absent = ["fakeredis", "pytest", "moto"]
    result = replay.run(
        ["python", "-c", probe, *modules, *absent], replay.env, tmp_path, check=True
    )
    origins = json.loads(result.stdout)
    installed = {m for m in modules if origins[m] is not None}
    assert installed == {"shelfready_core", *(f"shelfready_{s}" for s in replay.image.services)}
    # Installed as wheels inside the venv: nothing points back to a source tree.
    assert all(origins[m].startswith(str(replay.venv)) for m in installed), origins
    assert all(origins[m] is None for m in absent), origins


@pytest.mark.parametrize("name", IMAGES)
def test_native_libraries_come_with_the_slim_base(
    name: str, replayed: Callable[[str], ReplayedImage]
) -> None:
    """Every shared library a compiled extension needs is bundled or in every Debian image."""
    if shutil.which("ldd") is None:
        pytest.skip("ldd (libc-bin) is not installed on this machine")
    replay = replayed(name)
    outside: dict[str, set[str]] = {}
    for library in replay.venv.rglob("*.so*"):
        if not library.is_file():
            continue
        listing = subprocess.run(["ldd", str(library)], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            line = line.strip()
            if " => " in line:  # libfoo.so.1 => /path/libfoo.so.1 (0x...) | not found
                soname, where = line.split(" => ", 1)
            elif line.startswith("/"):  # the loader, by path
                where = line.split()[0]
                soname = Path(where).name
            else:  # the vDSO, or "statically linked"
                continue
            if where.startswith(str(replay.venv)):
                continue
            if soname not in BASE_IMAGE_LIBRARIES or "not found" in where:
                outside.setdefault(soname, set()).add(library.name)
    assert not outside, (
        f"apt-get install these in the final stage of {replay.image.path}: {outside}"
    )


@pytest.mark.parametrize("name", IMAGES)
def test_cmd_serves_only_its_queues_and_stops_cleanly_on_sigterm(
    name: str,
    replayed: Callable[[str], ReplayedImage],
    start_cmd: Callable[[ReplayedImage, dict[str, str]], subprocess.Popen[bytes]],
    pg_url: str,
    redis_url: str,
    redis_conn: redis.Redis,
    tmp_path: Path,
) -> None:
    replay = replayed(name)
    env = runtime_env(replay, tmp_path, redis_url, pg_url)
    pre_deploy(replay, env, tmp_path)
    worker = start_cmd(replay, env)
    log = tmp_path / f"{name}.log"
    # The CLI's default for `all` is 3 worker processes; the single services get 1 (env above).
    expected = 3 if name == "all" else 1

    def all_listening() -> bool:
        # "idle" comes after the worker installs its signal handlers: safe to SIGTERM now.
        workers = pool_workers(redis_conn, worker)
        return len(workers) == expected and all(w.get_state() == "idle" for w in workers)

    wait_until(all_listening, "the workers never started listening", worker, log)

    queues = [pipeline().get(s).queue.name for s in replay.image.services]
    registered = pool_workers(redis_conn, worker)
    assert all(w.queue_names() == queues for w in registered), [w.queue_names() for w in registered]
    worker_names = {w.name for w in registered}

    worker.send_signal(signal.SIGTERM)  # what Docker and Railway send to PID 1
    assert worker.wait(timeout=60) == 0, log.read_text()[-4000:]
    # A warm shutdown deregisters: nothing of this pool is left for `shelfready queues`.
    assert not worker_names & {w.name for w in Worker.all(connection=redis_conn)}


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own, so it can be stopped without touching the shared one."""
    server_binary = shutil.which("redis-server")
    if server_binary is None:
        pytest.fail("redis-server is not installed (the test suite needs Redis anyway)")
    port = free_port()
    options = f"--port {port} --bind 127.0.0.1 --appendonly no --daemonize no --dir {tmp_path}"
    server = subprocess.Popen(
        [server_binary, *options.split(), "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("private redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield url, server
    if server.poll() is None:
        server.kill()
    server.wait(timeout=10)


def test_health_endpoint_and_healthcheck_follow_redis(
    replayed: Callable[[str], ReplayedImage],
    start_cmd: Callable[[ReplayedImage, dict[str, str]], subprocess.Popen[bytes]],
    private_redis: tuple[str, subprocess.Popen[bytes]],
    pg_url: str,
    tmp_path: Path,
) -> None:
    replay = replayed("recognition")
    redis_url, redis_server = private_redis
    port = free_port()
    env = runtime_env(replay, tmp_path, redis_url, pg_url) | {"PORT": str(port)}
    pre_deploy(replay, env, tmp_path)
    worker = start_cmd(replay, env)
    log = tmp_path / "recognition.log"
    health_url = f"http://127.0.0.1:{port}/health"

    def status() -> int | None:
        try:
            return httpx.get(health_url, timeout=5).status_code
        except httpx.TransportError:
            return None

    wait_until(lambda: status() == 200, "health endpoint never answered 200", worker, log)
    body = httpx.get(health_url, timeout=5).json()
    assert body["ok"] is True and set(body["checks"]) == {
        "redis",
        "database",
        "heartbeat",
        "credentials",
    }
    (healthcheck,) = replay.image.final.of("HEALTHCHECK")
    docker_healthcheck = list(healthcheck.value[1:])  # after "CMD"
    assert replay.run(docker_healthcheck, env, tmp_path, timeout=30).returncode == 0
    assert (
        replay.run(
            ["shelfready", "health", "--service", "recognition", "--url", health_url],
            env,
            tmp_path,
            timeout=30,
        ).returncode
        == 0
    )

    redis_server.terminate()  # the private one: the shared Redis keeps serving everyone else
    redis_server.wait(timeout=10)
    wait_until(lambda: status() == 503, "health endpoint stayed healthy without Redis", worker, log)
    body = httpx.get(health_url, timeout=5).json()
    assert body["ok"] is False and body["checks"]["redis"]["ok"] is False
    failed = replay.run(docker_healthcheck, env, tmp_path, timeout=30)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAIL] redis" in failed.stdout
    by_url = replay.run(
        ["shelfready", "health", "--service", "recognition", "--url", health_url],
        env,
        tmp_path,
        timeout=30,
    )
    assert by_url.returncode == 1
