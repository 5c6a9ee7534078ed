#!/usr/bin/python3
"""Lays out a private data dir with a 50 MB project for the stream pack and
unpack benchmarks: 2,000 YAML task files of 20 KB (40 MB of text) and ten
1 MB files of random bytes, seeded, so that every run packs the same tree.

    bench/stream/mkproject.py DIR
"""
import os
import random
import sys

dest = sys.argv[1]
random.seed(1)
words = [''.join(random.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(random.randint(2, 10)))
         for _ in range(5000)]
for d in range(40):
    tasks = os.path.join(dest, 'project', 'roles', f'r{d}', 'tasks')
    os.makedirs(tasks, exist_ok=True)
    for f in range(50):
        lines, size = [], 0
        while size < 20000:
            line = '- name: ' + ' '.join(random.choice(words) for _ in range(8)) + '\n  debug: msg="{{ item }}"\n'
            lines.append(line)
            size += len(line)
        with open(os.path.join(tasks, f't{f}.yml'), 'w') as fh:
            fh.write(''.join(lines))
files = os.path.join(dest, 'project', 'files')
os.makedirs(files, exist_ok=True)
rnd = random.Random(2)
for i in range(10):
    with open(os.path.join(files, f'blob{i}.bin'), 'wb') as fh:
        fh.write(bytes(rnd.getrandbits(8) for _ in range(1 << 20)))
os.makedirs(os.path.join(dest, 'inventory'), exist_ok=True)
with open(os.path.join(dest, 'project', 'site.yml'), 'w') as fh:
    fh.write('- hosts: all\n  tasks: []\n')
with open(os.path.join(dest, 'inventory', 'hosts'), 'w') as fh:
    fh.write('localhost\n')
