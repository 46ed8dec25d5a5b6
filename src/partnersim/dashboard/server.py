"""Serving the workshop dashboard offline: the front-end asset cache, the local server, and
the child process and browser guards that tests and benchmarks drive it with.

Solara loads its JavaScript and CSS through a proxy at ``/_solara/cdn/`` that
normally fills a cache folder from a public CDN on first request. A workshop
room may have no internet, so partnersim fills that cache once, ahead of time,
from the npm registry (``npm pack``), and at run time serves only from it:
the proxy's network fetch is replaced by an error that names the preparation
command. The cache folder layout is Solara's: ``<package>@<version>/<files>``.

The page itself lives in ``partnersim.dashboard.page`` (the workshop's pages in
``partnersim.dashboard.workshop_page``), which this module names to Solara as a string and
never imports: it imports Solara only inside ``serve`` and ``serve_workshop``, because
Solara reads its settings from the environment when first imported.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from partnersim.dashboard.session import SCENARIO_ENV, default_scenario, read_scenario
from partnersim.dashboard.workshop import DEFAULT_ROUNDS, Hosted, Workshop
from partnersim.dashboard.workshop import host as host_workshop
from partnersim.errors import InputError

PREPARE_COMMAND = "partnersim dashboard --prepare-assets"
"""What a user runs, once and with internet, to fill the asset cache."""

ASSETS_ENV = "PARTNERSIM_ASSETS_DIR"
"""Environment variable that overrides where the asset cache lives."""

MANIFEST = "partnersim-assets.json"

PAGE_MODULE = "partnersim.dashboard.page"
"""The module whose ``Page`` component Solara serves (named, not imported, here)."""

WORKSHOP_PAGE_MODULE = "partnersim.dashboard.workshop_page"
"""The pages of ``partnersim workshop`` (named, not imported, here)."""

LOOPBACK = ("127.0.0.1", "::1", "localhost")
"""Addresses only this computer can reach."""


@dataclass(frozen=True)
class AssetPackage:
    """One npm package the Solara front end requests, at the version Solara 1.64 pins.

    Attributes:
        name: npm package name.
        version: the version (or major-version range, as Solara's URL writes it).
        required: files (relative to the package root) the page cannot work without;
            their presence is checked before the server starts.
    """

    name: str
    version: str
    required: tuple[str, ...]

    @property
    def folder(self) -> str:
        """Folder name in Solara's cache layout, e.g. ``requirejs@2.3.6``."""
        return f"{self.name}@{self.version}"


ASSET_PACKAGES: tuple[AssetPackage, ...] = (
    AssetPackage(
        "@widgetti/solara-vuetify-app",
        "10.1.1",
        ("dist/main8.css", "dist/fonts.css", "dist/solara-vuetify-app8.min.js"),
    ),
    AssetPackage(
        "@widgetti/vue-grid-layout", "2.3.13-alpha.2", ("dist/vue-grid-layout.umd.js",)
    ),
    AssetPackage("requirejs", "2.3.6", ("require.js",)),
    AssetPackage("font-awesome", "4.5.0", ("css/font-awesome.min.css",)),
    AssetPackage("vega", "5", ("build/vega.min.js",)),
    AssetPackage("vega-lite", "5", ("build/vega-lite.min.js",)),
    AssetPackage("vega-embed", "6", ("build/vega-embed.min.js",)),
)
"""What the dashboard's pages request through Solara's CDN proxy (solara 1.64.1 with
ipywidgets 8): the page template's app bundle, fonts and require.js, Font Awesome,
the grid layout, and Vega, Vega-Lite and Vega-Embed for the interactive charts (Solara's
Vega-Lite widget, the one behind ``FigureAltair``, asks for them by major version,
``vega@5/build/vega.min.js``; ``npm pack vega@5`` fetches the newest 5.x). The dashboard
uses no Markdown (mermaid, katex), so those packages are not needed."""


def default_assets_dir() -> Path:
    """Where the asset cache lives unless ``PARTNERSIM_ASSETS_DIR`` says otherwise.

    In a source checkout (editable install) this is ``.cache/solara-assets`` in
    the project folder; otherwise ``~/.cache/partnersim/solara-assets``.
    """
    env = os.environ.get(ASSETS_ENV)
    if env:
        return Path(env).expanduser().resolve()
    root = Path(__file__).resolve().parents[3]
    if (root / "pyproject.toml").is_file() and (root / "src" / "partnersim").is_dir():
        return root / ".cache" / "solara-assets"
    return Path.home() / ".cache" / "partnersim" / "solara-assets"


def missing_assets(assets_dir: Path) -> list[str]:
    """Files the page needs that the cache does not hold (empty when the cache is complete)."""
    missing = []
    for pkg in ASSET_PACKAGES:
        for rel in pkg.required:
            if not (assets_dir / pkg.folder / rel).is_file():
                missing.append(f"{pkg.folder}/{rel}")
    return missing


def check_assets(assets_dir: Path) -> None:
    """Fail with instructions when the offline asset cache is missing or incomplete.

    Raises:
        InputError: naming the cache folder, the first missing file and the command to run.
    """
    missing = missing_assets(assets_dir)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        command = PREPARE_COMMAND + (
            "" if assets_dir.resolve() == default_assets_dir() else f" --assets-dir {assets_dir}")
        raise InputError(
            f"the dashboard's front-end assets are not prepared: {missing[0]} is missing{more}. "
            f"Run '{command}' once while the npm registry is reachable "
            f"(or copy a prepared folder there); nothing is fetched at run time",
            source=str(assets_dir),
        )


def prepare_assets(
    assets_dir: Path | None = None,
    *,
    npm: str | None = None,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> Path:
    """Fill the asset cache from the npm registry with ``npm pack``; idempotent.

    Packages whose required files are already present are skipped (unless
    ``force``), so a second call is instant and needs no network. Each package
    is unpacked into a temporary folder and moved into place whole, so an
    interrupted preparation never leaves a half-filled package folder.

    Args:
        assets_dir: cache folder (default: ``default_assets_dir()``).
        npm: the npm executable (default: ``npm`` on the PATH).
        force: fetch every package again.
        log: where progress lines go.

    Returns:
        The cache folder.

    Raises:
        InputError: when npm is missing, a package cannot be fetched, or the
            folder cannot be written.
    """
    assets_dir = (assets_dir or default_assets_dir()).resolve()
    try:
        assets_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the asset cache folder: {exc.strerror}",
                         source=str(assets_dir)) from None
    todo = [
        pkg for pkg in ASSET_PACKAGES
        if force or any(not (assets_dir / pkg.folder / r).is_file() for r in pkg.required)
    ]
    manifest_path = assets_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    if not todo:
        log(f"dashboard assets: all {len(ASSET_PACKAGES)} packages already in {assets_dir}")
        return assets_dir
    npm_exe = npm or shutil.which("npm")
    if npm_exe is None:
        raise InputError(
            "npm is needed once to fetch the dashboard's front-end assets from the npm "
            "registry, but it is not on the PATH (Debian: apt-get install -y npm)",
            source=str(assets_dir),
        )
    with tempfile.TemporaryDirectory(prefix=".prepare-", dir=assets_dir) as tmp:
        tmp_path = Path(tmp)
        for pkg in todo:
            spec = f"{pkg.name}@{pkg.version}"
            log(f"dashboard assets: fetching {spec} with npm pack")
            try:
                proc = subprocess.run(
                    [npm_exe, "pack", spec, "--json", "--silent", "--pack-destination",
                     str(tmp_path)], capture_output=True, text=True, check=False,
                )
            except OSError as exc:
                raise InputError(f"cannot run npm ({npm_exe}): {exc.strerror}",
                                 source=str(assets_dir)) from None
            if proc.returncode != 0:
                detail = (proc.stderr or proc.stdout).strip().splitlines()
                raise InputError(
                    f"npm pack {spec} failed: {detail[-1] if detail else 'no output'}",
                    source=str(assets_dir),
                )
            info = json.loads(proc.stdout)[0]
            unpacked = tmp_path / f"unpacked-{info['filename']}"
            with tarfile.open(tmp_path / info["filename"]) as tar:
                tar.extractall(unpacked, filter="data")
            target = assets_dir / pkg.folder
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target)
            (unpacked / "package").rename(target)
            manifest[pkg.folder] = {"version": info["version"], "integrity": info["integrity"]}
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    still = missing_assets(assets_dir)
    if still:
        raise InputError(f"prepared packages lack expected files: {', '.join(still)}",
                         source=str(assets_dir))
    log(f"dashboard assets: ready in {assets_dir}")
    return assets_dir


def _offline_fetch(url: str) -> bytes:
    """Stand-in for Solara's CDN fetch: the dashboard never goes to the network."""
    raise RuntimeError(
        f"partnersim dashboard is offline: {url} is not in the asset cache; "
        f"run '{PREPARE_COMMAND}' (see docs/decisions.md)"
    )


def configure_solara(assets_dir: Path, scenario: Path | None = None,
                     app: str = PAGE_MODULE) -> None:
    """Set the environment Solara reads at import: offline asset cache, no telemetry, the
    page module ``app``.

    Must run before ``solara`` is first imported in this process (the test
    server and the benchmark call it too).
    """
    os.environ["SOLARA_ASSETS_PROXY"] = "True"
    os.environ["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(assets_dir)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_MODE"] = "production"
    os.environ["SOLARA_APP"] = app
    if scenario is not None:
        os.environ[SCENARIO_ENV] = str(scenario)
    else:
        os.environ.pop(SCENARIO_ENV, None)


def serve(
    scenario: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    assets_dir: Path | None = None,
    announce: Callable[[str], None] = print,
) -> int:
    """Serve the dashboard until interrupted (Ctrl-C stops it cleanly).

    Args:
        scenario: a scenario file to open in every new session (validated first).
        host: interface to bind; 127.0.0.1 unless the user asks for another.
        port: TCP port (0 picks a free one).
        assets_dir: the prepared asset cache (default: ``default_assets_dir()``).
        announce: where the address line goes.

    Returns:
        0 after a clean shutdown.

    Raises:
        InputError: when the asset cache is not prepared, the scenario is bad,
            or the port cannot be bound.
    """
    assets_dir = (assets_dir or default_assets_dir()).resolve()
    check_assets(assets_dir)
    if scenario is not None:
        read_scenario(scenario)  # fail here, with a clear message, not in the browser
        scenario = scenario.resolve()
    sock, port = _bind(host, port)
    configure_solara(assets_dir, scenario)
    return _run_server(sock, host, port, assets_dir,
                       [f"partnersim dashboard: http://{reachable_address(host)}:{port}  "
                        "(Ctrl-C stops it)"],
                       "partnersim dashboard: stopped", announce)


def _bind(host: str, port: int) -> tuple[socket.socket, int]:
    """A listening socket on ``host:port`` (port 0: a free one) and its port."""
    # bind first, so a busy port is one clear message rather than a uvicorn traceback
    if not 0 <= port <= 65535:
        raise InputError(f"expected a port from 0 to 65535 (0: any free one), got {port}",
                         key="--port")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except socket.gaierror as exc:  # the name does not resolve: the host is at fault
        sock.close()
        raise InputError(f"cannot listen on {host}: {exc.strerror}", key="--host") from None
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}",
                         key="--port") from None
    sock.listen(128)  # visitors arriving before uvicorn is ready wait in the backlog
    return sock, sock.getsockname()[1]


WILDCARDS = ("0.0.0.0", "::", "")
"""Hosts that mean every interface of this computer."""


def reachable_address(host: str) -> str:
    """The address others reach a server listening on ``host`` at: ``host`` itself, or for
    a wildcard this computer's address on its network (that of the interface its traffic
    leaves by; its name when it has no network), shown in brackets when it is IPv6."""
    if host not in WILDCARDS:
        return f"[{host}]" if ":" in host else host
    six = host == "::"
    try:
        with socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("2001:db8::1" if six else "192.0.2.1", 9))  # UDP: picks a route, sends nothing
            address = s.getsockname()[0]
    except OSError:
        return socket.gethostname()
    return f"[{address}]" if six else address


def _run_server(sock: socket.socket, host: str, port: int, assets_dir: Path,
                lines: list[str], stopped: str, announce: Callable[[str], None]) -> int:
    """Serve the configured Solara app on ``sock`` until interrupted; ``lines`` are announced
    once it is about to serve (the last one the address line tests wait for)."""
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    import solara.server.cdn_helper as cdn_helper
    import solara.server.settings as solara_settings
    import solara.settings
    import uvicorn

    # the environment above only counts if Solara was not imported yet; set the objects too
    solara.settings.assets.proxy = True
    solara_settings.assets.proxy_cache_dir = assets_dir
    solara_settings.main.mode = "production"
    solara_settings.telemetry.mixpanel_enable = False
    cdn_helper.fetch_from_cdn = _offline_fetch
    # plain http on 127.0.0.1 is the intended setup; Solara warns about it on every new visitor
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

    config = uvicorn.Config(
        "solara.server.starlette:app", log_level="warning", lifespan="on", ws="auto",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    for line in lines:
        announce(line)
    sys.stdout.flush()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled; stopping is normal
        pass
    announce(stopped)
    return 0


def serve_workshop(
    scenario: Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8766,
    out_dir: Path = Path("results/workshops"),
    rounds: int = DEFAULT_ROUNDS,
    assets_dir: Path | None = None,
    command: str = "",
    announce: Callable[[str], None] = print,
) -> int:
    """Serve a facilitated workshop until interrupted: the facilitator's console (its link
    carries a secret key, printed here) and the participants' page (the join link and code,
    printed here). Loopback only unless ``host`` names another address, with a warning.

    Raises:
        InputError: when the asset cache is not prepared, the scenario is bad, the rounds
            do not fit, or the port cannot be bound.
    """
    assets_dir = (assets_dir or default_assets_dir()).resolve()
    check_assets(assets_dir)
    sc = read_scenario(scenario) if scenario is not None else default_scenario()
    try:
        w = Workshop(sc, rounds=rounds)
    except ValueError as exc:
        raise InputError(str(exc), source=str(scenario) if scenario else None,
                         key="--rounds") from None
    session = Hosted(w, str(out_dir), command)
    host_workshop(session)
    sock, port = _bind(host, port)
    configure_solara(assets_dir, app=WORKSHOP_PAGE_MODULE)
    code = _run_server(sock, host, port, assets_dir,
                       workshop_banner(w, host, port, asked_rounds=rounds, out_dir=out_dir),
                       "partnersim workshop: stopped", announce)
    if session.writer is not None:
        announce(f"partnersim workshop: the session's results are in "
                 f"{Path(session.writer.folder).resolve()}")
    return code


def workshop_banner(w: Workshop, host: str, port: int, *, asked_rounds: int | None = None,
                    out_dir: Path | None = None) -> list[str]:
    """What ``partnersim workshop`` prints on start: a warning when it listens beyond this
    computer, the session (and rounds cut to the horizon), the console's secret link, the
    join link and code, where the results go and how to end, and the address (last).
    Links name the address participants reach (``reachable_address``)."""
    base = f"http://{reachable_address(host)}:{port}"
    cut = (f" (cut from {asked_rounds}: the scenario's horizon is {w.model.horizon} months)"
           if asked_rounds is not None and asked_rounds > w.rounds else "")
    lines = []
    if host not in LOOPBACK:
        lines.append(f"partnersim workshop: WARNING: listening on {host}, not only this "
                     "computer: anyone who can reach this address on the network can open the "
                     "join page (they still need the code); use it on the room's own network")
    return [*lines,
            f"partnersim workshop: {w.scenario.name}, {w.rounds} rounds of {w.round_months} "
            f"months{cut}",
            f"partnersim workshop: facilitator's console (keep this link to yourself): "
            f"{base}/facilitator?key={w.facilitator_key}",
            f"partnersim workshop: participants join at {base}/?code={w.join_code}  "
            f"(code {w.join_code})",
            *([] if out_dir is None else [
                f"partnersim workshop: each round is written to a folder in "
                f"{Path(out_dir).resolve()}; 'End the workshop' on the console writes the "
                "debrief there"]),
            f"partnersim workshop: {base}  (Ctrl-C stops it)"]


# ----------------------------------------------------------------------------------
# for tests and benchmarks: the real command in a child process, and an offline browser


class DashboardProcess:
    """``partnersim dashboard`` (or ``verb``, e.g. ``workshop``) in a child process on a free
    port of 127.0.0.1.

    A context manager: it starts the command, waits for the address line, and
    on exit stops the child by its own PID (SIGINT, as Ctrl-C would, then
    SIGKILL if it has not stopped within ``timeout`` seconds).

    Attributes:
        url: the dashboard's address, once started.
        output: the child's combined stdout and stderr so far (after exit: all).
    """

    def __init__(self, *args: str, env: dict[str, str] | None = None,
                 cwd: Path | None = None, timeout: float = 60.0, verb: str = "dashboard"):
        self.verb = verb
        self.args = args
        self.env = env
        self.cwd = cwd
        self.timeout = timeout
        self.url = ""
        self.output = ""
        self.returncode: int | None = None
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> DashboardProcess:
        env = {**os.environ, **(self.env or {}), "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "partnersim.cli", self.verb, "--port", "0", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=self.cwd)
        assert self._proc.stdout is not None
        deadline = time.monotonic() + self.timeout
        fd = self._proc.stdout.fileno()
        received = b""  # read from the pipe itself: the text stream's buffer would hide
        # lines from select() once several arrive together (the workshop prints four)
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                received += chunk
                for line in received.decode(errors="replace").splitlines(keepends=True):
                    if line.startswith(f"partnersim {self.verb}: http://") and line.endswith("\n"):
                        self.url = line.split()[2]
                        self.output = received.decode(errors="replace")
                        return self
            elif self._proc.poll() is not None:
                break
        self.output = received.decode(errors="replace")
        self.__exit__(None, None, None)
        raise RuntimeError(f"the dashboard did not start:\n{self.output}")

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(self.timeout / 4)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        assert proc.stdout is not None
        self.output += proc.stdout.read()
        proc.stdout.close()
        self.returncode = proc.returncode
        self._proc = None


CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)
"""Flags for Debian's chromium in tests: no sandbox (root in CI), and no name resolves
except 127.0.0.1, so nothing can reach the internet even past the request routing."""


def is_local(url: str) -> bool:
    """True for requests the offline dashboard may make: 127.0.0.1, data: and blob: URLs."""
    return url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:"))


def block_non_local(context: Any, blocked: list[str]) -> None:
    """Abort every request of a Playwright browser context that leaves 127.0.0.1.

    Each aborted URL is appended to ``blocked`` so the caller can assert none was needed.
    """

    def route(r: Any) -> None:
        if is_local(r.request.url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
