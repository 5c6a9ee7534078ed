#!/bin/bash
# Builds a small execution environment image from the host's own python3 and
# ansible-core (no registry needed): ee-image.sh [IMAGE].
# Recipe and why each part is there: /work/shared/reference/isolation.md, 4.1.
set -euo pipefail
IMG=${1:-localhost/arunner-ee-test:1}; DP=usr/lib/python3/dist-packages
# usr/lib/terminfo: ansible colours its text only where curses knows the terminal.
BINS="mkdir rm chmod cat ls id sleep ssh sftp scp ssh-agent ssh-add"           # coreutils needed by module execution
LIBS=$(for f in /usr/bin/python3.11 /usr/bin/dash $(printf '/usr/bin/%s ' $BINS) /usr/lib/python3.11/lib-dynload/*.so \
          /$DP/yaml/*.so /$DP/markupsafe/*.so /$DP/_cffi_backend*.so /$DP/cryptography/hazmat/bindings/*.so; do ldd "$f"; done |
       awk '$2=="=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib64\// {print $1}' | sort -u |
       while read -r l; do r=${l#/}; r=usr/${r#usr/}; echo "$r"; readlink -f "/$r" | sed 's#^/##'; done | sort -u)
tar -C / -c bin lib lib64 sbin \
  usr/bin/python3 usr/bin/python3.11 usr/bin/ansible usr/bin/ansible-playbook usr/bin/sh usr/bin/dash usr/bin/env \
  $(printf 'usr/bin/%s ' $BINS) \
  --exclude=usr/lib/python3.11/test --exclude=usr/lib/python3.11/idlelib --exclude=usr/lib/python3.11/tkinter \
  usr/lib/python3.11 $DP/ansible $DP/jinja2 $DP/markupsafe $DP/yaml $DP/_yaml $DP/cryptography \
  $DP/_cffi_backend.cpython-311-x86_64-linux-gnu.so $DP/packaging $DP/resolvelib \
  $(cd / && ls -d $DP/Jinja2-*.egg-info $DP/MarkupSafe-*.egg-info $DP/PyYAML-*.dist-info $DP/ansible_core-*.dist-info \
        $DP/cryptography-*.dist-info $DP/packaging-*.dist-info $DP/resolvelib-*.dist-info) \
  usr/lib/locale/C.utf8 usr/lib/terminfo usr/lib/x86_64-linux-gnu/ossl-modules usr/lib/ssl/openssl.cnf etc/ssl/openssl.cnf $LIBS \
  etc/passwd etc/group --no-recursion tmp root |
podman import --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV=LANG=C.UTF-8' - "$IMG"
