"""`compose.Text` writes the strings Arrow's join and if_else would (it replaced them for speed)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.compose import Text, choose, join


def _arrow_join(*parts):
    return pc.binary_join_element_wise(*parts, "", null_handling="skip")


def test_join_and_choose_give_arrows_strings_with_nulls_and_multibyte_text():
    rng = np.random.default_rng(3)
    n = 500
    names = pa.array(["Ana", "Jürgen", None, "", "Zoë", "李"])
    domains = pa.array(["example.com", "b.co.uk", "x.io"])
    first, second = rng.integers(0, len(names), n), rng.integers(0, len(domains), n)
    chosen = rng.integers(0, 3, n)
    keep = rng.random(n) < 0.5
    taken_names, taken_domains = names.take(pa.array(first)), domains.take(pa.array(second))
    shapes = [(taken_names, "@", taken_domains), (taken_domains,), ("ü-", taken_names, ".", taken_names)]
    expected = _arrow_join(*shapes[0])
    for index in (1, 2):
        expected = pc.if_else(pa.array(chosen == index), _arrow_join(*shapes[index]), expected)
    expected = _arrow_join(pc.if_else(pa.array(keep), expected, pa.scalar(None, pa.string())), "!")

    name, domain = Text.pick(names, first), Text.pick(domains, second)
    text = choose(chosen, [join(name, "@", domain), join(domain), join("ü-", name, ".", name)])
    found = join(text.only(keep), "!").to_arrow()

    assert found.equals(expected)
    assert found.to_pylist() == expected.to_pylist()


def test_a_text_of_only_empty_pieces_is_empty_strings():
    empty = Text.of(pa.array(["", None, ""]))
    assert join(empty, "").to_arrow().to_pylist() == ["", "", ""]
