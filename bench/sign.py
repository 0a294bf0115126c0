"""Token signing throughput: raw ``cryptography`` signatures vs ``encode_jwt`` vs ``JwtSigner``.

Run: ``.venv/bin/python bench/sign.py``. For RS256 and ES256 it measures, in this run:

- raw single-thread signatures/s with ``cryptography`` (the baseline),
- ``encode_jwt`` tokens/s on one thread (JSON + base64url + signature),
- ``JwtSigner`` tokens/s with 1 and 2 signing threads, and ``ProcessSigner`` tokens/s with 1
  and 2 signing processes, driven from an asyncio loop by many concurrent tasks, and the
  ratio of each to the raw single-thread rate,
- ``openssl speed`` sign/s for the same algorithm when ``openssl`` is on PATH,
- the hand-off cost of ``JwtSigner`` itself (signature stubbed out, so only queueing,
  waking the loop and resuming the task remain) next to ``loop.run_in_executor`` on a
  ``ThreadPoolExecutor`` doing the same work,
- our JOSE code against the libraries (issue 20): ``encode_jwt`` and ``verify_jwt`` next to
  PyJWT and joserfc (the ``bench`` extra pins both), sign and verify, RS256 and ES256, keys
  preloaded as ``cryptography`` objects by all three, the same claims and the same checks
  (signature, alg pinned, iss, aud, exp, iat, 30 s leeway). The three are interleaved in
  rounds and each ratio is a median of per-round ratios; next to it, each one's time per token
  besides the bare ``cryptography`` signature or verification (what the code itself costs).

Next to each rate it prints the CPU time the calling thread (the event loop, for
``JwtSigner``) spent per token: in a server the loop is the scarce resource, and that
column shows what signing costs it. Each figure is a fixed-duration run, so the whole
script takes about half a minute.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ostiary.jose import signer as signer_module
from ostiary.jose.b64 import b64url_decode
from ostiary.jose.sign_processes import ProcessSigner
from ostiary.jose.signer import JwtSigner, encode_jwt
from ostiary.jose.signing_keys import SigningAlg, SigningKey, generate_signing_key

SECONDS = 1.5
LIBRARY_ROUNDS = 9
LIBRARY_SECONDS = 0.4
CONCURRENT_TASKS = 64
OPENSSL_SECONDS = 3
OPENSSL_TEST = {  # the `openssl speed` test and the pattern of its sign/s figure
    "RS256": ("rsa2048", r"^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)"),
    "ES256": ("ecdsap256", r"^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)"),
}

CLAIMS: dict[str, object] = {
    "ver": 1,
    "jti": "AT.MNAoEQ_jbKqoinrQo1D0XKjMX28U5d7ZszBceot7-Ts",
    "iss": "https://acme.ostiary.example/oauth2/aus1b2c3d4e5f6g7h8i9",
    "aud": "api://default",
    "iat": 1688146471,
    "exp": 1688150071,
    "cid": "0oa1b2c3d4e5f6g7h8i9",
    "uid": "00u1b2c3d4e5f6g7h8i9",
    "scp": ["openid", "profile", "email", "solar-system:read"],
    "auth_time": 1688145909,
    "sub": "carl.sagan@example.com",
}


@dataclass(frozen=True)
class Rate:
    per_second: float
    loop_cpu_us: float
    """CPU time of the calling (event-loop) thread per operation: what the loop pays."""


def per_second(operation: Callable[[], object], seconds: float = SECONDS) -> Rate:
    """Calls of ``operation`` per second over about ``seconds`` (after a short warm-up)."""
    for _ in range(5):
        operation()
    count, start, cpu_start = 0, time.perf_counter(), time.thread_time()
    deadline = start + seconds
    while True:
        for _ in range(20):
            operation()
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            return Rate(count / (now - start), (time.thread_time() - cpu_start) / count * 1e6)


async def loop_per_second(call: Callable[[], Awaitable[object]], seconds: float = SECONDS) -> Rate:
    """Awaited calls per second from ``CONCURRENT_TASKS`` tasks on this event loop."""
    await asyncio.gather(*(call() for _ in range(8)))  # warm-up: threads started
    counts = [0] * CONCURRENT_TASKS
    deadline = time.perf_counter() + seconds

    async def task(slot: int) -> None:
        while time.perf_counter() < deadline:
            await call()
            counts[slot] += 1

    start, cpu_start = time.perf_counter(), time.thread_time()
    await asyncio.gather(*(task(slot) for slot in range(CONCURRENT_TASKS)))
    total = sum(counts)
    return Rate(total / (time.perf_counter() - start), (time.thread_time() - cpu_start) / total * 1e6)


def raw_signer(key: SigningKey) -> Callable[[], object]:
    data = encode_jwt(CLAIMS, key).rsplit(".", 1)[0].encode()
    private_key = key.private_key
    if isinstance(private_key, rsa.RSAPrivateKey):
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        return lambda: private_key.sign(data, pkcs1, sha256)
    ecdsa = ec.ECDSA(hashes.SHA256())
    return lambda: private_key.sign(data, ecdsa)


def signer_rate(key: SigningKey, workers: int) -> Rate:
    signer = JwtSigner(max_workers=workers)
    try:
        return asyncio.run(loop_per_second(lambda: signer.sign(CLAIMS, key)))
    finally:
        signer.close()


def process_signer_rate(key: SigningKey, processes: int) -> Rate:
    async def run() -> Rate:
        signer = ProcessSigner(processes)
        signer.start()
        try:
            return await loop_per_second(lambda: signer.sign(CLAIMS, key))
        finally:
            signer.close()

    return asyncio.run(run())


def executor_rate(key: SigningKey) -> Rate:
    executor = ThreadPoolExecutor(max_workers=1)

    async def run() -> Rate:
        loop = asyncio.get_running_loop()
        return await loop_per_second(lambda: loop.run_in_executor(executor, encode_jwt, CLAIMS, key))

    try:
        return asyncio.run(run())
    finally:
        executor.shutdown()


def handoff_overhead() -> None:
    """What the loop pays per token besides the signature, with the signature stubbed out."""
    key = generate_signing_key("ES256")
    with patch.object(signer_module, "signature", lambda private_key, data: bytes(64)):
        ours, executor = signer_rate(key, 1), executor_rate(key)
    print("\nhand-off per token, signature stubbed out (includes serializing the claims)")
    report("JwtSigner, 1 thread", ours)
    report("run_in_executor(ThreadPoolExecutor)", executor)


def report(label: str, rate: Rate, baseline: Rate | None = None) -> None:
    ratio = f"{rate.per_second / baseline.per_second:5.2f}x" if baseline else "      "
    print(f"  {label:<36} {rate.per_second:>8.0f} /s  {ratio}  {rate.loop_cpu_us:6.1f} us")


def openssl_sign_rate(alg: SigningAlg) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        return "skipped (openssl not on PATH)"
    test, pattern = OPENSSL_TEST[alg]
    try:
        result = subprocess.run(
            [openssl, "speed", "-seconds", str(OPENSSL_SECONDS), test],
            capture_output=True,
            text=True,
            timeout=OPENSSL_SECONDS * 2 + 15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"skipped ({exc.__class__.__name__})"
    match = re.search(pattern, result.stdout, re.MULTILINE)
    return f"{float(match.group(1)):>8.0f} /s" if match else "skipped (output not recognised)"


def cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def bench(alg: SigningAlg) -> None:
    key = generate_signing_key(alg)
    raw = per_second(raw_signer(key))
    encoded = per_second(lambda: encode_jwt(CLAIMS, key))
    pooled = {workers: signer_rate(key, workers) for workers in (1, 2)}
    processes = {count: process_signer_rate(key, count) for count in (1, 2)}

    print(f"\n{alg} ({'RSA-2048' if alg == 'RS256' else 'P-256'})")
    report("raw cryptography sign, 1 thread", raw, raw)
    report("encode_jwt, 1 thread", encoded, raw)
    for workers, rate in pooled.items():
        report(
            f"JwtSigner, {workers} thread{'s' if workers > 1 else ''}, {CONCURRENT_TASKS} tasks", rate, raw
        )
    for count, rate in processes.items():
        report(
            f"ProcessSigner, {count} process{'es' if count > 1 else ''}, {CONCURRENT_TASKS} tasks", rate, raw
        )
    print(f"  {'openssl speed sign, 1 thread':<36} {openssl_sign_rate(alg)}")


def library_operations(alg: SigningAlg) -> dict[str, dict[str, Callable[[], object]]]:
    """For ``sign`` and ``verify``: the bare cryptography operation, ours, PyJWT's and joserfc's."""
    import jwt as pyjwt
    from joserfc import jwt as jose_jwt
    from joserfc.jwk import ECKey, RSAKey

    from ostiary.jose.verify import KeySet, verify_jwt

    key = generate_signing_key(alg)
    private, public = key.private_key, key.private_key.public_key()
    now = int(time.time())
    claims = {**CLAIMS, "iat": now, "exp": now + 3600}
    issuer, audience = str(claims["iss"]), str(claims["aud"])
    token = encode_jwt(claims, key)
    keys = KeySet.from_jwks({"keys": [key.public_jwk()]})
    joserfc_class = RSAKey if alg == "RS256" else ECKey
    joserfc_private, joserfc_public = joserfc_class.import_key(private), joserfc_class.import_key(public)
    registry = jose_jwt.JWTClaimsRegistry(
        leeway=30,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": audience},
        exp={"essential": True},
        iat={"essential": True},
    )
    signing_input, signature_b64 = token.rsplit(".", 1)
    data, signature = signing_input.encode(), b64url_decode(signature_b64)
    if isinstance(public, rsa.RSAPublicKey):
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        bare_verify: Callable[[], object] = lambda: public.verify(signature, data, pkcs1, sha256)  # noqa: E731
    else:
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        bare_verify = lambda: public.verify(der, data, ec.ECDSA(hashes.SHA256()))  # noqa: E731

    def joserfc_verify() -> object:
        decoded = jose_jwt.decode(token, joserfc_public, algorithms=[alg])
        registry.validate(decoded.claims)
        return decoded.claims

    header = {"kid": key.kid}
    checks = {"audience": audience, "issuer": issuer, "leeway": 30, "options": {"require": ["exp", "iat"]}}
    operations = {
        "sign": {
            "cryptography": raw_signer(key),
            "ours": lambda: encode_jwt(claims, key),
            "PyJWT": lambda: pyjwt.encode(claims, private, algorithm=alg, headers=header),
            "joserfc": lambda: jose_jwt.encode({"alg": alg, "kid": key.kid}, claims, joserfc_private),
        },
        "verify": {
            "cryptography": bare_verify,
            "ours": lambda: verify_jwt(token, keys, issuer=issuer, audience=audience),
            "PyJWT": lambda: pyjwt.decode(token, public, algorithms=[alg], **checks),
            "joserfc": joserfc_verify,
        },
    }
    for name in ("ours", "PyJWT", "joserfc"):  # every verifier accepts the token, every signer's
        assert verify_jwt(str(operations["sign"][name]()), keys, issuer=issuer, audience=audience)
        assert operations["verify"][name]()
    return operations


def library_versions() -> str:
    from importlib.metadata import version

    return f"PyJWT {version('PyJWT')}, joserfc {version('joserfc')}"


def compare_libraries(alg: SigningAlg) -> None:
    """CPU time of this thread per token, the least over interleaved rounds: on a shared machine
    the wall clock counts other processes' time and only ever adds to the true cost."""
    print(f"\n{alg}: ours vs {library_versions()}, least CPU time of {LIBRARY_ROUNDS} interleaved rounds")
    print(f"  {'':22}{'CPU us/token':>13}{'besides crypto':>16}{'ours ÷ it':>11}")
    for operation, calls in library_operations(alg).items():
        cpu_us: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(LIBRARY_ROUNDS):
            for name, call in calls.items():
                cpu_us[name].append(per_second(call, LIBRARY_SECONDS).loop_cpu_us)
        least = {name: min(values) for name, values in cpu_us.items()}
        for name, cost in least.items():
            speedup = cost / least["ours"]
            label = f"{operation} {name}"
            print(f"  {label:22}{cost:>13.1f}{cost - least['cryptography']:>16.1f}{speedup:>11.2f}")
            if name in ("PyJWT", "joserfc"):
                record = {"measure": f"ours {operation} {alg} (JOSE)", "value": 1e6 / least["ours"]}
                record |= {
                    "unit": "tokens/CPU-s",
                    "baseline": f"{name} {operation}",
                    "baseline_value": 1e6 / cost,
                }
                crypto_bound = alg == "RS256" and operation == "sign"  # the RSA signature is ~97 %
                print(
                    "RESULT " + json.dumps(record | {"ratio": speedup, "goal": None if crypto_bound else 1.1})
                )


def main() -> None:
    global SECONDS, LIBRARY_ROUNDS, LIBRARY_SECONDS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short figures (a smoke run, noisy)")
    parser.add_argument("--libraries-only", action="store_true", help="only ours vs PyJWT and joserfc")
    parser.add_argument("--library-rounds", type=int, default=LIBRARY_ROUNDS)
    args = parser.parse_args()
    LIBRARY_ROUNDS = args.library_rounds
    if args.quick:
        SECONDS, LIBRARY_ROUNDS, LIBRARY_SECONDS = 0.3, 1, 0.2
    if args.libraries_only:
        for alg in ("RS256", "ES256"):
            compare_libraries(alg)
        return
    started = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Token signing, {cpus()} CPUs available, load average {load:.2f}, {SECONDS} s per figure")
    print("ratio: against the raw single-thread signing rate measured in this run;")
    print("last column: CPU time of the calling (event-loop) thread per token")
    for alg in ("RS256", "ES256"):
        bench(alg)
    handoff_overhead()
    for alg in ("RS256", "ES256"):
        compare_libraries(alg)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
