#!/usr/bin/env python3
"""Writes the hostile inputs of issue #28 into a directory, for measuring the library on them
from outside (scripts/hostile-figures.sh runs the CLI on each under /usr/bin/time -v).

ONNX is written byte by byte on the protobuf wire (the same encodings as
tests/support/hostile.rs), so no ONNX package is needed:
  attributes.onnx.gz   one node of 200,000,000 empty attributes, gzip (the issue's 389 kB file)
  initializers.onnx    40 MB of initializers named "w" and nothing else
  value_infos.onnx     16 MB of empty value infos
  dimensions.onnx      16 MB of empty dimensions in one value info
  packed_zeros.onnx    16 MB of zeros as one initializer's packed int64 values
  fan_out.onnx         one tensor read by 999,998 Relu nodes
  chain.json           a 1,000,000-node chain whose edges all go from a higher id to a lower
"""

import gzip
import sys
from pathlib import Path


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def model(graph):
    opset = field(1, b"") + bytes([0x10, 17])
    return field(8, opset) + field(7, graph)


def node(op, inputs, outputs):
    return (
        b"".join(field(1, name.encode()) for name in inputs)
        + b"".join(field(2, name.encode()) for name in outputs)
        + field(4, op.encode())
    )


def float_input(name, dims):
    shape = b"".join(field(1, b"\x08" + varint(dim)) for dim in dims)
    tensor = bytes([0x08, 1]) + field(2, shape)
    return field(11, field(1, name.encode()) + field(2, field(1, tensor)))


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "target/hostile")
    out.mkdir(parents=True, exist_ok=True)
    head = float_input("x", [1, 8]) + field(1, node("Relu", ["x"], ["y"]))
    attributes = field(2, b"y") + field(4, b"Relu") + b"\x2a\x00" * 200_000_000
    with gzip.open(out / "attributes.onnx.gz", "wb", compresslevel=9) as file:
        file.write(model(float_input("x", [1, 8]) + field(1, attributes)))
    del attributes
    (out / "initializers.onnx").write_bytes(model(head + b"\x2a\x03\x42\x01w" * 8_000_000))
    (out / "value_infos.onnx").write_bytes(model(head + b"\x6a\x00" * 8_000_000))
    dims = b"\x0a\x00" * 8_000_000
    value_info = field(1, b"y") + field(2, field(1, field(2, dims)))
    (out / "dimensions.onnx").write_bytes(model(head + field(13, value_info)))
    zeros = field(5, field(8, b"w") + field(7, bytes(16_000_000)))
    (out / "packed_zeros.onnx").write_bytes(model(head + zeros))
    readers = b"".join(
        field(1, node("Relu", ["x"], [f"y{reader}"])) for reader in range(999_998)
    )
    fan_out = float_input("x", [1, 8]) + readers + field(12, field(1, b"y0"))
    (out / "fan_out.onnx").write_bytes(model(fan_out))
    nodes = ",".join(
        f'{{"id":{i},"op":"relu","input":[1,1,1],"output":[1,1,1]}}' for i in range(1_000_000)
    )
    edges = ",".join(f"[{i},{i - 1}]" for i in range(1, 1_000_000))
    (out / "chain.json").write_text(
        f'{{"format":"cgpredict-graph","version":1,"nodes":[{nodes}],"edges":[{edges}]}}'
    )


if __name__ == "__main__":
    main()
