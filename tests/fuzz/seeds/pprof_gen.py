#!/usr/bin/env python3
"""Writes the hand-made pprof reproducers of tests/fuzz/regress/pprof/.

  sum-overflow.pb      two identical samples of 2^62: merging them (at decode,
                       or windows into a range) overflows a signed sum
  empty-strings.pb.gz  32 Mi empty strings in about 62 KB: decoding them costs
                       one allocation each, over a GB for a tiny file
"""
import gzip
import sys


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def field(tag, payload):
    if isinstance(payload, int):
        return varint(tag << 3) + varint(payload)
    return varint(tag << 3 | 2) + varint(len(payload)) + payload


def strings(*ss):
    return b"".join(field(6, s.encode()) for s in ss)


def sum_overflow():
    value_type = field(1, 1) + field(2, 2)  # type "samples", unit "count"
    sample = field(2, 1 << 62)  # value
    return field(1, value_type) + field(2, sample) + field(2, sample) + strings("", "samples", "count")


def empty_strings():
    return gzip.compress(strings("", "samples", "count") + field(6, b"") * (32 << 20), 9)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    open(f"{out}/sum-overflow.pb", "wb").write(sum_overflow())
    open(f"{out}/empty-strings.pb.gz", "wb").write(empty_strings())
