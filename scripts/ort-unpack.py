"""Joins the CUDA provider's parts and decompresses the zstd files that scripts/gpu-bundle.sh
made, through libzstd.so.1 (the CUDA machine has no zstd command). Checks the parts' checksum.

usage: python3 ort-unpack.py DIR   (DIR holds p0's files and every part.?? file)
"""
import ctypes
import glob
import hashlib
import os
import sys

directory = sys.argv[1]
zstd = ctypes.CDLL("libzstd.so.1")
zstd.ZSTD_decompress.restype = ctypes.c_size_t
zstd.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]


def unzstd(source, target):
    data = open(source, "rb").read()
    size = zstd.ZSTD_getFrameContentSize(data, ctypes.c_size_t(len(data)))
    if size >= 2**63:
        sys.exit(f"{source}: unknown content size")
    buffer = ctypes.create_string_buffer(size)
    got = zstd.ZSTD_decompress(buffer, ctypes.c_size_t(size), data, ctypes.c_size_t(len(data)))
    if zstd.ZSTD_isError(got):
        sys.exit(f"{source}: zstd error {got}")
    with open(target, "wb") as out:
        out.write(buffer.raw[:got])
    os.chmod(target, 0o755)
    print(target, got)


parts = sorted(glob.glob(os.path.join(directory, "part.??")))
blob = b"".join(open(part, "rb").read() for part in parts)
want = open(os.path.join(directory, "cuda.zst.sha256")).read().split()[0]
if hashlib.sha256(blob).hexdigest() != want:
    sys.exit(f"checksum mismatch over {len(parts)} parts: is every part.*.d carried?")
cuda = os.path.join(directory, "cuda.zst")
with open(cuda, "wb") as out:
    out.write(blob)
unzstd(cuda, os.path.join(directory, "libonnxruntime_providers_cuda.so"))
os.remove(cuda)
for packed in glob.glob(os.path.join(directory, "libonnxruntime.so.*.zst")):
    unzstd(packed, packed[: -len(".zst")])
