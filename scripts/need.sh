#!/usr/bin/env bash
# need.sh PKG...: make sure the tools of each named Debian package are here;
# install the missing ones with apt-get when we can (root), else say what is
# missing and fail.
set -euo pipefail
export PATH="$PATH:/usr/local/go/bin"

# The command that shows a package is installed.
probe() {
	case "$1" in
	go) command -v go >/dev/null ;;
	ansible-core) command -v ansible-playbook >/dev/null && command -v ansible-inventory >/dev/null ;;
	python3-ansible-runner) command -v ansible-runner >/dev/null ;;
	openssh-server) test -x /usr/sbin/sshd && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null ;;
	# go test -race needs cgo: a C compiler and libc's headers.
	libc6-dev) test -e /usr/include/stdio.h ;;
	bubblewrap) command -v bwrap >/dev/null ;;
	# The server binaries are off PATH, under the version's directory.
	postgresql) compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null ;;
	*) command -v "$1" >/dev/null ;;
	esac
}

missing=()
for pkg in "$@"; do
	probe "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [[ " ${missing[*]} " == *" go "* ]]; then
	echo "need.sh: Go 1.26 is not on PATH (nor in /usr/local/go/bin); install it from https://go.dev/dl/ first." >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
	echo "need.sh: missing Debian packages: ${missing[*]}" >&2
	echo "need.sh: install them with: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "need.sh: installing ${missing[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for pkg in "${missing[@]}"; do
	probe "$pkg" || { echo "need.sh: $pkg installed but its tools are still missing" >&2; exit 1; }
done
