#!/usr/bin/python3
"""Times ansible-runner's own stream_dir (transmit's packing, base64
included) and unstream_dir (the worker's unpacking) on a private data dir,
three times, in CPU seconds of this process (user + system) and wall time:
the reference side of stream's BenchmarkPackUnpack.

    /usr/bin/python3 bench/stream/packbench.py DIR
"""
import io
import resource
import shutil
import sys
import tempfile
import time

from ansible_runner.utils.streaming import stream_dir, unstream_dir


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Sink(io.BytesIO):
    name = 'sink'  # stream_dir asks for it


src = sys.argv[1]
for _ in range(3):
    buf = Sink()
    t, c = time.time(), cpu()
    stream_dir(src, buf)
    print(f"pack: wall {time.time() - t:.2f}s cpu {cpu() - c:.2f}s bytes {buf.tell()}")
    data = buf.getvalue()
    nl = data.index(b'\n')
    size = int(data[:nl].decode().split(':')[1].strip(' }'))
    dst = tempfile.mkdtemp()
    t, c = time.time(), cpu()
    unstream_dir(io.BytesIO(data[nl + 1:]), size, dst)
    print(f"unpack: wall {time.time() - t:.2f}s cpu {cpu() - c:.2f}s")
    shutil.rmtree(dst)
