"""The lab process: one HTTPS server per product, all on loopback, sharing the lab CA.

Started in the background by ``labctl.py start`` (``labctl.py _serve``); writes ``lab.json`` and
``lab.env`` once every server listens, and stops cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import ssl
import threading
import time

from .common.pki import ensure_ca, write_public, write_server_cert
from .common.server import LabHTTPServer, LabRequestHandler, serve_in_thread

LISTEN_ADDRESS = "127.0.0.1"
LAB_JSON = "lab.json"
LAB_ENV = "lab.env"
LAB_PID = "lab.pid"
LAB_LOG = "lab.log"


def _prisma_factory(state_dir: str, sqlite: bool, logger: logging.Logger):
    from .prisma import PrismaProduct

    return PrismaProduct(state_dir, sqlite=sqlite, logger=logger)


def _nsxt_factory(state_dir: str, sqlite: bool, logger: logging.Logger):
    from .nsxt import NsxtProduct

    return NsxtProduct(state_dir, sqlite=sqlite, logger=logger)


def _secure_workload_factory(state_dir: str, sqlite: bool, logger: logging.Logger):
    from .secure_workload import SecureWorkloadProduct

    return SecureWorkloadProduct(state_dir, sqlite=sqlite, logger=logger)


# Product name -> factory(state_dir, sqlite, logger). Later products register here.
PRODUCTS = {"prisma": _prisma_factory, "nsxt": _nsxt_factory, "secure_workload": _secure_workload_factory}


class ProductRequestHandler(LabRequestHandler):
    """Keeps the raw request target (path and query exactly as sent) on the request headers.

    Secure Workload clients sign the path with its query string byte for byte; the parsed query
    of ``Request`` cannot give it back, so the product reads ``request.headers.request_target``.
    """

    def parse_request(self):
        parsed = super().parse_request()
        if parsed and self.headers is not None:
            self.headers.request_target = self.path
        return parsed


class ProductHTTPServer(LabHTTPServer):
    """A product server whose product may answer extra admin routes (``lab_admin``) first."""

    def __init__(self, address, product, ssl_context, logger):
        super().__init__(address, product, ssl_context, logger)
        self.RequestHandlerClass = ProductRequestHandler

    def admin(self, request):
        hook = getattr(self.product, "lab_admin", None)
        if hook is not None:
            response = hook(request)
            if response is not None:
                return response
        return super().admin(request)


class AppendLogHandler(logging.Handler):
    """Writes each record to the log file as ``logging.FileHandler`` would (same text, same encoding,
    on disk before the next record), with one ``O_APPEND`` write and without the handler lock.

    A FileHandler holds its lock during the write of a record, so the request threads of a busy lab
    queue on it (and each wait is a thread switch). One write of an opened-for-append file puts a
    whole line at the end of the file, so no lock is needed to keep lines whole.
    """

    terminator = "\n"

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = os.path.abspath(path)
        with open(self.path, "a") as stream:  # the encoding a FileHandler's stream would use
            self.encoding = stream.encoding
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)

    def handle(self, record: logging.LogRecord) -> bool:
        passed = self.filter(record)
        if passed:
            self.emit(record)
        return bool(passed)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = memoryview((self.format(record) + self.terminator).encode(self.encoding))
            while data:
                data = data[os.write(self.fd, data):]
        except RecursionError:
            raise
        except Exception:  # noqa: BLE001 - as logging handlers do: report on stderr, keep serving
            self.handleError(record)

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)
        super().close()


class LabLogFormatter(logging.Formatter):
    """A ``logging.Formatter`` whose date and time text is computed once per second (then only the
    milliseconds change): the same text, without a localtime and strftime for every request line."""

    _second = (None, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        if datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached = self._second
        if cached[0] != second:
            cached = self._second = (second, time.strftime(self.default_time_format, self.converter(second)))
        return self.default_msec_format % (cached[1], record.msecs)


def setup_logging(state_dir: str) -> logging.Logger:
    # The lab process logs a line per request and its format uses no caller, thread or process
    # fields: the logging module need not look them up for every record (the logging HOWTO's
    # "Optimization" settings; process-wide, so set only here, in the lab's own process).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logger = logging.getLogger("microseg_lab")
    logger.setLevel(logging.INFO)
    handler = AppendLogHandler(os.path.join(state_dir, LAB_LOG))
    handler.setFormatter(LabLogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.handlers = [handler]
    logger.propagate = False
    return logger


def tls_context(state_dir: str, ca) -> ssl.SSLContext:
    cert_path, key_path = write_server_cert(state_dir, ca)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    # Client certificates are optional (app credentials present one to POST /issue).
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(ca.cert_path)
    return context


def write_descriptions(state_dir: str, servers: list[LabHTTPServer]) -> None:
    description = {s.product.name: s.product.describe() for s in servers}
    env_lines = []
    for server in servers:
        for key, value in server.product.env().items():
            env_lines.append("%s=%s" % (key, shlex.quote(value)))
    write_public(os.path.join(state_dir, LAB_ENV), ("\n".join(env_lines) + "\n").encode())
    write_public(os.path.join(state_dir, LAB_JSON), (json.dumps(description, indent=2) + "\n").encode())


def run(state_dir: str, sqlite: bool = False, ports: dict[str, int] | None = None, latency: float = 0.0) -> int:
    """Serve every product until SIGTERM/SIGINT; ``latency`` (seconds) is added to each product request."""
    state_dir = os.path.abspath(state_dir)
    os.makedirs(state_dir, exist_ok=True)
    logger = setup_logging(state_dir)
    ports = ports or {name: 0 for name in PRODUCTS}
    with open(os.path.join(state_dir, LAB_PID), "w") as handle:
        handle.write("%d\n" % os.getpid())

    stop = threading.Event()

    def on_signal(signum, _frame):
        logger.info("signal %d received, stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ca = ensure_ca(state_dir)
    context = tls_context(state_dir, ca)
    servers: list[LabHTTPServer] = []
    serving: list[LabHTTPServer] = []
    try:
        for name, port in ports.items():
            product_logger = logger.getChild(name)
            product = PRODUCTS[name](state_dir, sqlite, product_logger)
            server = ProductHTTPServer((LISTEN_ADDRESS, port), product, context, product_logger)
            server.latency.set(latency)
            product.start("https://%s:%d" % (LISTEN_ADDRESS, server.port), ca)
            servers.append(server)
            logger.info("%s listening on https://%s:%d%s%s", name, LISTEN_ADDRESS, server.port, " (SQLite)" if sqlite else "",
                        " (latency %g ms per request)" % (latency * 1000) if latency else "")
        for server in servers:
            serve_in_thread(server)
            serving.append(server)
        write_descriptions(state_dir, servers)
        logger.info("lab ready (pid %d)", os.getpid())
        while not stop.wait(1.0):
            pass
    finally:
        for server in servers:
            if server in serving:
                server.shutdown()
            server.server_close()
            server.product.close()
        try:
            os.unlink(os.path.join(state_dir, LAB_PID))
        except OSError:
            pass
        logger.info("lab stopped")
    return 0
