"""``KeyPool``: keys made ahead on a thread are handed out once each, in order; an empty pool,
another alg or a failed generation falls back to generating on the spot."""

from __future__ import annotations

import threading

from ostiary.jose.key_pool import KeyPool
from ostiary.jose.signing_keys import SigningAlg, SigningKey, generate_signing_key


class CountingGenerator:
    def __init__(self, fail_first: int = 0) -> None:
        self.threads: list[str] = []
        self.fail_first = fail_first

    def __call__(self, alg: SigningAlg) -> SigningKey:
        self.threads.append(threading.current_thread().name)
        if len(self.threads) <= self.fail_first:
            raise RuntimeError("no entropy today")
        return generate_signing_key(alg)


def test_pooled_keys_are_made_on_the_pool_thread_and_given_out_once() -> None:
    made = CountingGenerator()
    pool = KeyPool(made)
    pool.fill("ES256", 2)
    first, second = pool.take("ES256"), pool.take("ES256")
    assert made.threads == ["ostiary-key-pool", "ostiary-key-pool"]
    assert first.kid != second.kid and first.alg == second.alg == "ES256"
    assert pool.pending() == 0
    third = pool.take("ES256")  # empty: made here, by the taker
    assert made.threads[-1] == threading.current_thread().name
    assert third.kid not in {first.kid, second.kid}


def test_a_key_of_another_alg_is_made_on_the_spot() -> None:
    made = CountingGenerator()
    pool = KeyPool(made)
    pool.fill("ES256", 1)
    assert pool.take("RS256").alg == "RS256"
    assert pool.pending() == 1
    assert pool.take("ES256").alg == "ES256"


def test_a_failed_pooled_key_is_replaced_by_a_new_one() -> None:
    made = CountingGenerator(fail_first=1)
    pool = KeyPool(made)
    pool.fill("ES256", 1)
    key = pool.take("ES256")
    assert key.alg == "ES256" and len(made.threads) == 2
