#!/usr/bin/env python3
"""Makes the ml-app Docker build context: an ML inference service of the usual
"python:3.11-slim + requirements.txt + pip install from a wheelhouse + COPY . ."
shape, for testdata/ml-app/Dockerfile{,.multistage}. The integration tests
build it at small scale and the benchmark at full scale. It is generated
rather than committed because the full context is ~100 MB of wheels, model
weights and clutter.

  scripts/make-ml-context.py DIR [--scale small|full] [--force]

DIR gets both Dockerfiles (copied byte for byte from testdata/ml-app/), a
.dockerignore, requirements.txt, wheelhouse/ (8 offline wheels, pure and
manylinux-tagged with fake .so blobs, one console script `benchcorn`),
src/mlsvc/ (a real app plus generated modules), models/, configs/, and ignored
clutter (data/ tests/ notebooks/ docs/ .venv/ __pycache__/).

Output is deterministic: fixed seeds, fixed zip dates, no timestamps in any
content, so two runs give byte-identical trees. The stamp DIR/.generated
records the generator version, the scale and the Dockerfiles' digest; a run
whose stamp matches does nothing unless --force. The script refuses a
non-empty DIR without a stamp, and removes only the subdirectories it writes.
Python 3 standard library only.
"""

import argparse
import base64
import hashlib
import json
import keyword
import os
import random
import shutil
import sys
import time
import zipfile

# Bump whenever the output changes, so old stamps stop matching.
GEN_VERSION = 1

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(REPO_ROOT, "testdata", "ml-app")
DOCKERFILES = ("Dockerfile", "Dockerfile.multistage")

# Subdirectories of DIR this script writes and therefore may delete.
OWNED_DIRS = ("src", "wheelhouse", "models", "configs", "data", "tests",
              "notebooks", "docs", ".venv")
STAMP = ".generated"

ZIP_DATE = (2024, 1, 1, 0, 0, 0)
PURE = "py3-none-any"
MANYLINUX = "cp311-cp311-manylinux_2_17_x86_64"
EXT_SUFFIX = ".cpython-311-x86_64-linux-gnu.so"

# Per scale: app modules in src/mlsvc, model.bin size, tokenizer vocabulary,
# clutter amounts, and per wheel (python files, extension modules, bytes per
# extension module, small data files).
SCALES = {
    "small": {
        "src_modules": 20,
        "model_bytes": 1 << 20,
        "vocab": 4000,
        "csv_parts": 1, "csv_rows": 1500, "tests": 6, "venv_files": 24,
        "wheels": {
            "benchnum": (24, 3, 110_000, 0),
            "benchframe": (30, 3, 100_000, 0),
            "benchlearn": (24, 3, 90_000, 0),
            "benchpydantic": (10, 1, 180_000, 0),
            "benchtok": (6, 1, 300_000, 0),
            "benchutil": (12, 0, 0, 60),
            "benchapi": (10, 0, 0, 0),
            "benchcorn": (4, 0, 0, 0),
        },
    },
    "full": {
        "src_modules": 200,
        "model_bytes": 50 << 20,
        "vocab": 120_000,
        "csv_parts": 4, "csv_rows": 60_000, "tests": 40, "venv_files": 300,
        "wheels": {
            "benchnum": (420, 14, 1_000_000, 0),
            "benchframe": (700, 12, 900_000, 0),
            "benchlearn": (520, 16, 600_000, 0),
            "benchpydantic": (120, 2, 2_500_000, 0),
            "benchtok": (60, 1, 6_000_000, 0),
            "benchutil": (180, 0, 0, 900),
            "benchapi": (140, 0, 0, 0),
            "benchcorn": (30, 0, 0, 0),
        },
    },
}

# name -> (version, tag, Requires-Dist, in requirements.txt, what it stands in
# for). benchutil is only a transitive dependency, so pip has to resolve it.
PACKAGES = {
    "benchapi": ("0.110.0", PURE, ["benchpydantic>=2.0,<3"], True,
                 "web framework (FastAPI stand-in)"),
    "benchcorn": ("0.29.0", PURE, [], True,
                  "HTTP server (uvicorn stand-in), console script benchcorn"),
    "benchpydantic": ("2.6.4", MANYLINUX, [], True,
                      "data validation (pydantic stand-in)"),
    "benchnum": ("1.26.4", MANYLINUX, [], True,
                 "arrays (numpy stand-in, manylinux wheel)"),
    "benchframe": ("2.2.1", MANYLINUX, ["benchnum>=1.22.4", "benchutil>=2.8.2"],
                   True, "dataframes (pandas stand-in)"),
    "benchlearn": ("1.4.2", MANYLINUX, ["benchnum>=1.19.5", "benchutil"], True,
                   "models (scikit-learn stand-in)"),
    "benchtok": ("0.15.2", MANYLINUX, [], True,
                 "tokenizers stand-in"),
    "benchutil": ("3.1.0", PURE, [], False,
                  "dates and data files (python-dateutil stand-in)"),
}

WORDS = (
    "array axis batch bias block buffer cache chunk column config cursor "
    "decode delta dtype embed encode epoch feature field filter frame gamma "
    "grad handler index kernel label layer loader loss matrix merge metric "
    "model norm offset parse pool predict queue reader record route sample "
    "scale schema score series shape shift slice split stage step stream "
    "table tensor token train vector weight window writer").split()
assert not any(keyword.iskeyword(w) for w in WORDS)


def words(r, n, sep="_"):
    return sep.join(r.choice(WORDS) for _ in range(n))


def camel(r, n):
    return "".join(w.capitalize() for w in words(r, n).split("_"))


# ---------------------------------------------------------------- python code

def gen_module(r, qualname, nfuncs):
    """A syntactically valid module of plausible numeric helper code."""
    cls = camel(r, 2)
    const = words(r, 2).upper()
    out = [
        f'"""{qualname}: {words(r, 5, " ")}."""',
        "",
        "from __future__ import annotations",
        "",
        "import math",
        "from typing import Iterable, Sequence",
        "",
        f"{const} = {r.randrange(2, 512)}",
        f"TOLERANCE = {r.uniform(1e-6, 1e-3):.3e}",
        "",
        "",
        f"class {cls}:",
        f'    """Keeps a running {words(r, 2, " ")} over a window."""',
        "",
        f"    def __init__(self, window: int = {const}) -> None:",
        "        self.window = max(1, window)",
        "        self.values: list[float] = []",
    ]
    names = []
    for i in range(nfuncs):
        fn = f"{words(r, 2)}_{i}"
        arg = r.choice(WORDS)
        op = r.choice(("sin", "cos", "sqrt", "fabs", "log1p", "tanh"))
        names.append(fn)
        out += [
            "",
            f"    def {fn}(self, {arg}: float, rest: Iterable[float] = ()) "
            "-> float:",
            f'        """Returns the {words(r, 3, " ")} of {arg}."""',
            f"        acc = {arg} * {r.uniform(0.1, 4.0):.5f}",
            "        for x in rest:",
            f"            acc += math.{op}(abs(x) % 3.0 + TOLERANCE)",
            f"        if acc > {r.randrange(1, 100)}:",
            "            self.values = (self.values + [acc])[-self.window:]",
            "        return acc / self.window",
        ]
    helper = words(r, 2)
    out += [
        "",
        "",
        f"def {helper}(values: Sequence[float]) -> float:",
        f'    """Mean {words(r, 2, " ")} of values, 0.0 when empty."""',
        "    return sum(values) / len(values) if values else 0.0",
        "",
        "",
        f"def build(window: int = {const}) -> {cls}:",
        f"    return {cls}(window)",
        "",
        "",
        f"__all__ = [{cls!r}, {helper!r}, 'build']",
        "",
    ]
    return "\n".join(out)


BENCHAPI_INIT = '''\
"""benchapi: a tiny routing framework (FastAPI stand-in).

An App maps (method, path) to a handler. handle() runs a request and returns
(status, content type, body bytes); servers such as benchcorn call it.
"""
import json

from benchpydantic import ValidationError

__version__ = "0.110.0"


class HTTPException(Exception):
    def __init__(self, status, detail):
        super().__init__(detail)
        self.status, self.detail = status, detail


class App:
    def __init__(self, title="app"):
        self.title = title
        self.routes = {}

    def route(self, method, path):
        def register(fn):
            self.routes[(method, path)] = fn
            return fn
        return register

    def get(self, path):
        return self.route("GET", path)

    def post(self, path):
        return self.route("POST", path)

    def handle(self, method, path, body=b""):
        fn = self.routes.get((method, path.split("?", 1)[0]))
        if fn is None:
            return self._json(404, {"detail": "Not Found"})
        try:
            if method == "POST":
                result = fn(json.loads(body) if body else None)
            else:
                result = fn()
        except (ValueError, ValidationError) as e:
            return self._json(422, {"detail": str(e)})
        except HTTPException as e:
            return self._json(e.status, {"detail": e.detail})
        return self._json(200, result)

    @staticmethod
    def _json(status, obj):
        return status, "application/json", json.dumps(obj).encode() + b"\\n"
'''

BENCHPYDANTIC_INIT = '''\
"""benchpydantic: field checks for request bodies (pydantic stand-in).

Pure Python; the extension modules under _native/ are never imported.
"""
__version__ = "2.6.4"


class ValidationError(ValueError):
    pass


class BaseModel:
    """Subclasses declare fields as class annotations of builtin types."""

    def __init__(self, **data):
        for name, typ in getattr(type(self), "__annotations__", {}).items():
            if name in data:
                value = data[name]
            elif hasattr(type(self), name):
                value = getattr(type(self), name)
            else:
                raise ValidationError(f"field required: {name}")
            if typ is float and isinstance(value, int):
                value = float(value)
            if isinstance(typ, type) and not isinstance(value, typ):
                raise ValidationError(
                    f"{name}: expected {typ.__name__}, "
                    f"got {type(value).__name__}")
            setattr(self, name, value)

    @classmethod
    def parse(cls, obj):
        if not isinstance(obj, dict):
            raise ValidationError("expected a JSON object")
        return cls(**obj)
'''

BENCHCORN_INIT = '''\
"""benchcorn: a minimal HTTP server for benchapi apps (uvicorn stand-in)."""
__version__ = "0.29.0"
'''

BENCHCORN_MAIN = '''\
"""benchcorn APP [--host H] [--port P]: serve a benchapi app over HTTP.

APP is "module:attribute". --port 0 picks a free port; the "serving" line
printed at startup names the port actually bound. SIGTERM stops the server
cleanly, which matters when it runs as PID 1 in a container.
"""
import argparse
import http.server
import importlib
import os
import signal
import sys

from benchcorn import __version__


def load(spec):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr or "app")


def make_handler(app, quiet):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "benchcorn/" + __version__

        def _serve(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, ctype, out = app.handle(method, self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def log_message(self, fmt, *args):
            if not quiet:
                super().log_message(fmt, *args)

    return Handler


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="benchcorn", description="Serve a benchapi app over HTTP.")
    p.add_argument("app", help="module:attribute, e.g. mlsvc.main:app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--app-dir", default=".",
                   help="prepended to sys.path (default: .)")
    p.add_argument("--workers", type=int, default=1, help="accepted, ignored")
    p.add_argument("--no-access-log", action="store_true")
    p.add_argument("--version", action="version",
                   version="%(prog)s " + __version__)
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.app_dir))
    app = load(args.app)
    server = http.server.ThreadingHTTPServer(
        (args.host, args.port), make_handler(app, args.no_access_log))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = server.server_address[:2]
    print(f"benchcorn: serving {args.app} on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

# Package __init__.py bodies for the stand-ins without hand-written code.
# They import their dependencies, as the real ones do, but never the fake
# extension modules.
INIT_TEMPLATE = '''\
"""{name}: {what}.

Benchmark fixture. The extension modules shipped with this package are
random bytes behind an ELF header and are never imported.
"""
{imports}
__version__ = "{version}"


def native_modules():
    """Paths of the bundled (fake) extension modules."""
    import os
    here = os.path.dirname(__file__)
    found = []
    for root, _, files in os.walk(here):
        found += [os.path.join(root, f) for f in files if ".so" in f]
    return sorted(found)
'''

PKG_IMPORTS = {
    "benchframe": "import benchnum as _benchnum  # noqa: F401\n"
                  "import benchutil as _benchutil  # noqa: F401\n",
    "benchlearn": "import benchnum as _benchnum  # noqa: F401\n",
}


# -------------------------------------------------------------- binary blobs

def symbol_pool(r, n=400):
    return [f"_ZN{len(a)}{a}{len(b)}{b}E{r.randrange(1, 99)}".encode()
            for a, b in ((camel(r, 2), words(r, 2)) for _ in range(n))]


def fake_elf(r, pool, size):
    """ELF-looking bytes: 4 KiB blocks of random "code", symbol string tables
    and sparse relocation-like tables. gzip -6 gets about 0.5, close to real
    shared objects, so wheel and layer sizes come out realistic."""
    keep_small = bytes(b if b < 40 else 0 for b in range(256))
    blocks = [b"\x7fELF\x02\x01\x01\x00" + bytes(56)]
    n = 64
    while n < size:
        k = r.random()
        if k < 0.45:
            block = r.randbytes(4096)
        elif k < 0.75:
            block = b"\0".join(r.choices(pool, k=220))[:4096].ljust(4096, b"\0")
        else:
            table = bytearray(4096)
            table[0::4] = r.randbytes(1024).translate(keep_small)
            block = bytes(table)
        blocks.append(block)
        n += len(block)
    return b"".join(blocks)[:size]


# -------------------------------------------------------------------- wheels

def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def package_files(r, name, npy, nso, so_bytes, ndata):
    version, tag, _, _, what = PACKAGES[name]
    files = {}
    subpackages = ("core", "io", "linalg", "stats", "utils", "compat",
                   "internals", "testing")
    for i in range(npy):
        sub = subpackages[i % len(subpackages)]
        files[f"{name}/{sub}/__init__.py"] = b""
        files[f"{name}/{sub}/{words(r, 2)}_{i}.py"] = gen_module(
            r, f"{name}.{sub}", r.randrange(3, 14)).encode()
    if nso:
        pool = symbol_pool(r)
        # The largest blob is a vendored library, as auditwheel lays it out.
        files[f"{name}.libs/lib{name}blas-{r.randbytes(4).hex()}.so.0.3"] = (
            fake_elf(r, pool, so_bytes * 2))
        for i in range(nso - 1):
            size = int(so_bytes * (0.5 + r.random()))
            files[f"{name}/_native/_{r.choice(WORDS)}_{i}{EXT_SUFFIX}"] = (
                fake_elf(r, pool, size))
    regions = ("Africa", "America", "Asia", "Europe", "Pacific")
    for i in range(ndata):  # many tiny data files, zoneinfo style
        files[f"{name}/zoneinfo/{regions[i % 5]}/{camel(r, 1)}_{i}"] = (
            b"TZif2" + r.randbytes(r.randrange(200, 2500)))
    init = {
        "benchapi": BENCHAPI_INIT,
        "benchpydantic": BENCHPYDANTIC_INIT,
        "benchcorn": BENCHCORN_INIT,
    }.get(name) or INIT_TEMPLATE.format(
        name=name, what=what, version=version,
        imports=PKG_IMPORTS.get(name, ""))
    files[f"{name}/__init__.py"] = init.encode()
    if name == "benchcorn":
        files["benchcorn/__main__.py"] = BENCHCORN_MAIN.encode()
    return files


def write_wheel(outdir, name, files):
    version, tag, requires, _, what = PACKAGES[name]
    dist_info = f"{name}-{version}.dist-info"
    metadata = [
        "Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
        f"Summary: {what} (strata benchmark fixture)", "License: MIT",
        "Requires-Python: >=3.9",
    ] + [f"Requires-Dist: {req}" for req in requires]
    meta = dict(files)
    meta[f"{dist_info}/METADATA"] = (
        "\n".join(metadata) + f"\n\n{name}: {what}.\n").encode()
    meta[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\n"
        f"Generator: strata make-ml-context {GEN_VERSION}\n"
        f"Root-Is-Purelib: {'true' if tag == PURE else 'false'}\n"
        f"Tag: {tag}\n").encode()
    meta[f"{dist_info}/top_level.txt"] = f"{name}\n".encode()
    if name == "benchcorn":
        meta[f"{dist_info}/entry_points.txt"] = (
            b"[console_scripts]\nbenchcorn = benchcorn.__main__:main\n")
    record = [f"{p},{record_hash(d)},{len(d)}" for p, d in sorted(meta.items())]
    record.append(f"{dist_info}/RECORD,,")
    meta[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()

    path = os.path.join(outdir, f"{name}-{version}-{tag}.whl")
    # The dist-info goes last, as the wheel spec recommends.
    order = sorted(meta, key=lambda p: (p.startswith(dist_info), p))
    with zipfile.ZipFile(path, "w") as z:
        for p in order:
            info = zipfile.ZipInfo(p, ZIP_DATE)
            info.create_system = 3  # Unix, so external_attr means a mode
            executable = p.endswith(".so") or ".so." in p
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, meta[p], compresslevel=6)
    os.chmod(path, 0o644)
    return path


# -------------------------------------------------------------- the context

class Writer:
    def __init__(self, root):
        self.root = root
        self.files = 0
        self.bytes = 0

    def put(self, rel, data, mode=0o644):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        self.files += 1
        self.bytes += len(data)


DOCKERIGNORE = """\
# version control, editors, local environments
.git
.gitignore
.generated
.vscode
.idea
.venv
**/__pycache__
**/*.py[cod]
*.egg-info
.pytest_cache

# not needed in the image
data/
docs/
notebooks/
tests/
*.md
!README.md
Dockerfile*
.dockerignore
"""

SERVICE_YAML = """\
service:
  name: mlsvc
  port: 8000
  workers: 1
model:
  path: /app/models/model.bin
  tokenizer: /app/models/tokenizer.json
  batch_size: 16
logging:
  level: INFO
"""

MLSVC_INIT = ('"""mlsvc: example ML inference service."""\n'
              '__version__ = "1.4.0"\n')

MLSVC_CONFIG = '''\
"""Service settings, from the environment (the Dockerfiles set MODEL_PATH)."""
import os

MODEL_PATH = os.environ.get("MODEL_PATH", "/app/models/model.bin")
TOKENIZER_PATH = os.environ.get(
    "TOKENIZER_PATH",
    os.path.join(os.path.dirname(MODEL_PATH), "tokenizer.json"))
'''

MLSVC_MAIN = '''\
"""Service entry point: benchcorn mlsvc.main:app --port 8000"""
import os

import benchapi

from mlsvc import __version__, config
from mlsvc.services import predictor

app = benchapi.App(title="mlsvc")


@app.get("/health")
def health():
    return {
        "status": "ok",
        "version": __version__,
        "model_present": os.path.isfile(config.MODEL_PATH),
    }


@app.post("/predict")
def predict(payload):
    request = predictor.PredictRequest.parse(payload)
    return {"prediction": predictor.predict(request),
            "model": predictor.model_digest()}
'''

MLSVC_PREDICTOR = '''\
"""A linear model over the float32 weights at the head of MODEL_PATH."""
import array
import hashlib
import json
import threading

import benchpydantic

from mlsvc import config

_HEAD = 4096  # bytes of weights used
_lock = threading.Lock()
_weights = None
_digest = None
_vocab = None


class PredictRequest(benchpydantic.BaseModel):
    features: list = []
    text: str = ""


def _load():
    global _weights, _digest
    with _lock:
        if _weights is None:
            with open(config.MODEL_PATH, "rb") as f:
                head = f.read(_HEAD)
            w = array.array("f")
            w.frombytes(head[:len(head) // 4 * 4])
            _digest = hashlib.sha256(head).hexdigest()[:16]
            _weights = w
    return _weights


def _tokens(text):
    global _vocab
    if _vocab is None:
        try:
            with open(config.TOKENIZER_PATH, encoding="utf-8") as f:
                _vocab = json.load(f)["model"]["vocab"]
        except OSError:
            _vocab = {}
    return [_vocab.get(t, 0) % 997 / 997.0 for t in text.lower().split()]


def model_digest():
    _load()
    return _digest


def predict(request):
    w = _load()
    xs = [float(x) for x in request.features] + _tokens(request.text)
    if not w:
        return 0.0
    score = sum(x * w[i % len(w)] for i, x in enumerate(xs))
    return round(score, 6)
'''


def write_app(out, r, nmodules):
    src = "src/mlsvc"
    out.put(f"{src}/__init__.py", MLSVC_INIT)
    out.put(f"{src}/config.py", MLSVC_CONFIG)
    out.put(f"{src}/main.py", MLSVC_MAIN)
    out.put(f"{src}/services/__init__.py", "")
    out.put(f"{src}/services/predictor.py", MLSVC_PREDICTOR)
    subs = ("api", "features", "pipelines", "handlers", "schemas", "utils",
            "training", "monitoring")
    for s in subs:
        out.put(f"{src}/{s}/__init__.py", "")
    # Count the hand-written files towards nmodules.
    for i in range(max(0, nmodules - 5 - len(subs))):
        s = subs[i % len(subs)]
        out.put(f"{src}/{s}/{words(r, 2)}_{i:03d}.py",
                gen_module(r, f"mlsvc.{s}", r.randrange(4, 18)))
    # Leftovers from a developer's machine; the .dockerignore drops them.
    for s in subs[:4]:
        out.put(f"{src}/{s}/__pycache__/__init__.cpython-311.pyc",
                b"\xa7\x0d\x0d\x0a" + r.randbytes(1500))
    out.put(f"{src}/utils/legacy.pyc", b"\xa7\x0d\x0d\x0a" + r.randbytes(800))


def write_models(out, r, model_bytes, vocab_size):
    # float32-like weights: the byte holding sign and exponent is confined to
    # magnitudes in [2^-7, 2), which compresses the way trained weights do.
    m = bytearray(r.randbytes(model_bytes))
    exp = bytes((0x3c + (b & 3)) | (b & 0x80) for b in range(256))
    m[3::4] = bytes(m[3::4]).translate(exp)
    out.put("models/model.bin", bytes(m))
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    for i in range(len(vocab), vocab_size):
        vocab[f"{r.choice(WORDS)}{'##' if i % 3 == 0 else ''}{i}"] = i
    tokenizer = {
        "version": "1.0",
        "added_tokens": [{"id": v, "content": k, "special": True}
                         for k, v in list(vocab.items())[:4]],
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": vocab},
    }
    out.put("models/tokenizer.json", json.dumps(tokenizer))
    out.put("models/config.json", json.dumps(
        {"hidden_size": 768, "num_layers": 12, "vocab_size": vocab_size},
        indent=2) + "\n")


def write_clutter(out, r, p):
    """Things a real checkout has that must not reach the image."""
    header = ",".join(f"f{c}" for c in range(12)) + "\n"
    for k in range(p["csv_parts"]):
        rows = "\n".join(
            ",".join(f"{r.random():.6f}" for _ in range(12))
            for _ in range(p["csv_rows"]))
        out.put(f"data/raw/part-{k:04d}.csv", header + rows + "\n")
    out.put("tests/__init__.py", "")
    for k in range(p["tests"]):
        out.put(f"tests/test_{words(r, 2)}_{k}.py", gen_module(r, "tests", 3))
    out.put("notebooks/exploration.ipynb", json.dumps(
        {"cells": [{"cell_type": "code", "metadata": {},
                    "source": [f"x{i} = {i}\n" for i in range(200)]}],
         "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1))
    out.put("docs/design.md", "# mlsvc design\n\n" + "".join(
        f"- {words(r, 6, ' ')}\n" for _ in range(400)))
    out.put(".venv/pyvenv.cfg",
            "home = /usr/bin\ninclude-system-site-packages = false\n"
            "version = 3.11.2\n")
    for k in range(p["venv_files"]):
        out.put(f".venv/lib/python3.11/site-packages/dep{k % 30}/m{k}.py",
                gen_module(r, f"dep{k % 30}", 2))
    out.put("CHANGELOG.md", "# Changelog\n\n## 1.4.0\n\n- batch predictions\n")


def requirements_txt():
    lines = ["# Runtime dependencies of the mlsvc service, installed offline:",
             "#   pip install --no-index --find-links=./wheelhouse "
             "-r requirements.txt"]
    for name, (version, _, _, listed, what) in PACKAGES.items():
        if listed:
            lines.append(f"{name + '==' + version:<24} # {what}")
    return "\n".join(lines) + "\n"


def stamp_text(scale):
    h = hashlib.sha256()
    for name in DOCKERFILES:
        with open(os.path.join(TESTDATA, name), "rb") as f:
            h.update(f.read())
    return (f"make-ml-context {GEN_VERSION} scale={scale} "
            f"dockerfiles={h.hexdigest()[:16]}\n")


def generate(ctx, scale):
    p = SCALES[scale]
    for d in OWNED_DIRS:
        shutil.rmtree(os.path.join(ctx, d), ignore_errors=True)
    out = Writer(ctx)
    for name in DOCKERFILES:
        with open(os.path.join(TESTDATA, name), "rb") as f:
            out.put(name, f.read())
    out.put(".dockerignore", DOCKERIGNORE)
    out.put("requirements.txt", requirements_txt())
    out.put("README.md",
            "# mlsvc\n\nML inference service: GET /health, POST /predict on "
            ":8000.\nGenerated by strata's scripts/make-ml-context.py.\n")
    out.put("configs/service.yaml", SERVICE_YAML)

    wheelhouse = os.path.join(ctx, "wheelhouse")
    os.makedirs(wheelhouse)
    for i, name in enumerate(PACKAGES):
        r = random.Random(1000 + i)
        files = package_files(r, name, *p["wheels"][name])
        write_wheel(wheelhouse, name, files)
        out.files += 1

    write_app(out, random.Random(42), p["src_modules"])
    write_models(out, random.Random(7), p["model_bytes"], p["vocab"])
    write_clutter(out, random.Random(9), p)
    return out


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def main():
    ap = argparse.ArgumentParser(
        description="Generate the ml-app build context (deterministic).")
    ap.add_argument("dir", help="context directory to write")
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--force", action="store_true",
                    help="regenerate even if the stamp matches")
    args = ap.parse_args()

    ctx = os.path.abspath(args.dir)
    stamp = os.path.join(ctx, STAMP)
    want = stamp_text(args.scale)
    if os.path.isdir(ctx) and os.listdir(ctx) and not os.path.exists(stamp):
        sys.exit(f"make-ml-context: {ctx} is not empty and has no {STAMP}; "
                 "refusing to write into a directory it did not make")
    if not args.force and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == want:
                print(f"make-ml-context: {ctx} is up to date ({args.scale})")
                return
    os.makedirs(ctx, exist_ok=True)
    start = time.monotonic()
    # An interrupted run leaves a stamp that matches nothing.
    with open(stamp, "w") as f:
        f.write("incomplete\n")
    out = generate(ctx, args.scale)
    with open(stamp, "w") as f:
        f.write(want)
    os.chmod(stamp, 0o644)
    wheels = tree_bytes(os.path.join(ctx, "wheelhouse"))
    print(f"make-ml-context: {ctx} ({args.scale}): {out.files} files, "
          f"{tree_bytes(ctx) / 1e6:.1f} MB, wheelhouse {wheels / 1e6:.1f} MB, "
          f"{time.monotonic() - start:.2f} s")


if __name__ == "__main__":
    main()
