#!/usr/bin/env bash
# bench/isolation.sh measures the start-up overhead of process isolation:
# the wall time of a one-task playbook (debug, no facts) run by `arunner run`
# and by `ansible-runner run`, on the host, under bubblewrap and in a podman
# container from the image testdata/isolation/ee-image.sh builds from the
# host's own files; overhead = isolated - host, per tool. Runs are
# interleaved, BENCH_REPS (7) of each, and the median is printed.
# Needs root podman with runc (a CONTAINERS_CONF of its own is written,
# as the tests do). ansible-runner 2.3.1's bubblewrap mode cannot start a
# program on a merged-/usr system (ansible-runner#1310): its row reports
# the failure rather than a time.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${BENCH_REPS:-7}
work=$(mktemp -d /tmp/arunner-bench-iso-XXXXXX)
image=localhost/arunner-ee-bench:$$
trap 'podman rmi -f "$image" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' > "$work/containers.conf"
export CONTAINERS_CONF=$work/containers.conf
go build -o "$work/arunner" ./cmd/arunner
bash testdata/isolation/ee-image.sh "$image" >/dev/null 2>&1

pdd() { # a fresh private data dir
	local d; d=$(mktemp -d "$work/pdd-XXXXXX")
	mkdir -p "$d/project" "$d/inventory"
	echo 'h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3' > "$d/inventory/hosts"
	printf -- '- hosts: all\n  gather_facts: false\n  tasks:\n  - debug: msg=hi\n' > "$d/project/site.yml"
	echo "$d"
}
declare -A flags=(
	[host]=""
	[bwrap]="--process-isolation --process-isolation-executable bwrap"
	[podman]="--process-isolation --process-isolation-executable podman --container-image $image"
)
declare -A times
for rep in $(seq "$REPS"); do
	for iso in host bwrap podman; do
		for tool in arunner ansible-runner; do
			d=$(pdd)
			bin=$work/arunner; [ "$tool" = ansible-runner ] && bin=ansible-runner
			t0=$(date +%s.%N)
			# shellcheck disable=SC2086
			"$bin" run "$d" -p site.yml --ident b ${flags[$iso]} >/dev/null 2>&1 || true
			t1=$(date +%s.%N)
			st=$(cat "$d/artifacts/b/status" 2>/dev/null || echo none)
			times[$tool.$iso]+="$(echo "$t1 - $t0" | bc) $st"$'\n'
			rm -rf "$d"
		done
	done
done
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'; }
printf '%-15s %-7s %-8s %s\n' tool isolation "median s" "statuses"
for tool in arunner ansible-runner; do
	for iso in host bwrap podman; do
		v=${times[$tool.$iso]}
		printf '%-15s %-7s %-8s %s\n' "$tool" "$iso" "$(echo -n "$v" | awk '{print $1}' | median)" \
			"$(echo -n "$v" | awk '{print $2}' | sort | uniq -c | tr -s ' \n' ' ')"
	done
done
