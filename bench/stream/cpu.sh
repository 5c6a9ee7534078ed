#!/usr/bin/env bash
# bench/stream/cpu.sh measures issue 22's target "a run through the stream
# adds <= 5% CPU over the same run locally, with the process side's memory
# flat" on real ansible-core, side by side with ansible-runner's pipeline.
#
# The run is bench/run.sh's: one debug task on localhost (connection local)
# looping over ITEMS items, one event an item. Each pair is the same run
# locally (`run`) and through the stream as three processes joined by pipes
# (`transmit | worker | process`, the worker in a temporary dir), back to
# back, the order alternating from pair to pair (ABBA); arunner's pair and
# ansible-runner's follow each other. The CPU of a run is bash's `time`:
# user+sys of every process it waited for, ansible's whole tree included.
# ansible-playbook runs under /usr/bin/time too (a wrapper of that name
# first on PATH), which splits a run's CPU into ansible's and the runner's
# own (the rest: run, or transmit, worker and process). Of each pair two
# figures are taken, and the median of each with an interval (bench/run.sh's
# medianci): the ratio stream/local of the whole runs' CPU, which is the
# target as stated but carries the machine's noise on ansible's share, and
# the runner's own added CPU (stream's own minus local's own) as a share of
# the local run's, the same quantity less noisy as long as ansible does the
# same work either way (it does: the worker runs it as run does, through
# runner.Run, or ansible-runner's own code). The process side runs under
# /usr/bin/time for its peak RSS, which is also taken at RSS_EVENTS events
# from a worker's stream of bench/replay (no ansible) to show whether it
# grows with the run. Every run's artifacts are removed after it, once
# their job_events files are counted.
#
# Usage: bench/stream/cpu.sh, after `make build` (it uses bin/arunner).
# Knobs: ITEMS (10000), PAIRS (10), TOOLS ("arunner ansible-runner"),
# RSS_EVENTS ("1000 10000 100000"; "" skips that part), BENCH_DIR (where the
# private data dirs go; default $TMPDIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
ITEMS=${ITEMS:-10000}
PAIRS=${PAIRS:-10}
TOOLS=${TOOLS-arunner ansible-runner}
RSS_EVENTS=${RSS_EVENTS-1000 10000 100000}
arunner=$PWD/bin/arunner
[ -x "$arunner" ] || { echo "no $arunner: run make build" >&2; exit 1; }

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/arunner-streamcpu.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
echo "== $(nproc) cores, $(uptime | sed 's/.*load average/load average/'), $ITEMS items, $PAIRS pairs"
echo "== $(ansible-playbook --version | sed -n 1p), ansible-runner $(ansible-runner --version), arunner $(git rev-parse --short HEAD)"
mkdir "$work/bin"
cat >"$work/bin/ansible-playbook" <<EOF
#!/bin/sh
exec /usr/bin/time -a -o "$work/ansible-cpu" -f '%U %S' $(command -v ansible-playbook) "\$@"
EOF
chmod +x "$work/bin/ansible-playbook"
export PATH="$work/bin:$PATH"

median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]; else print "n/a"}'; }
# medianci: as bench/run.sh's, the k-th smallest to the k-th largest for the
# largest k that still covers the median with probability >= 95%.
medianci() {
	sort -g | awk '{v[NR]=$1} END {
		n = NR; if (n == 0) { print "n/a"; exit }
		k = 1; cov = 1 - 2 / 2^n; p = 1 / 2^n; cum = 0
		for (i = 0; 2 * (i + 1) <= n; i++) {
			cum += p
			if (1 - 2 * cum < 0.95) break
			k = i + 1; cov = 1 - 2 * cum
			p = p * (n - i) / (i + 1)
		}
		printf "%s-%s (%.0f%%)", v[k], v[n - k + 1], 100 * cov
	}'
}

# mkpdd DIR N: a private data dir whose loop.yml loops over N items.
mkpdd() {
	mkdir -p "$1/project" "$1/inventory"
	cat >"$1/project/loop.yml" <<-EOF
	- hosts: all
	  gather_facts: false
	  tasks:
	    - name: loop over items
	      debug:
	        msg: "item {{ item }}"
	      loop: "{{ range($2) | list }}"
	EOF
	echo "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3" >"$1/inventory/hosts"
}
mkpdd "$work/big" "$ITEMS"

# run TOOL WAY PDD IDENT: one run; sets cpu (user+sys s), own (cpu less
# ansible's), wall, rss (the process side's peak KiB, stream only) and
# events (job_events files).
run() {
	local tool=$1 way=$2 pdd=$3 ident=$4 ctrl="$work/ctrl" t
	mkdir -p "$ctrl"
	rm -f "$work/rss" "$work/ansible-cpu"
	sync
	t=$( { TIMEFORMAT='%R %U %S'; time {
		case $tool.$way in
		arunner.local) "$arunner" run "$pdd" -p loop.yml --ident "$ident" ;;
		ansible-runner.local) ansible-runner run "$pdd" -p loop.yml --ident "$ident" ;;
		arunner.stream)
			"$arunner" transmit "$pdd" -p loop.yml --ident "$ident" | "$arunner" worker |
				/usr/bin/time -f %M -o "$work/rss" "$arunner" process "$ctrl" --ident "$ident" ;;
		ansible-runner.stream)
			ansible-runner transmit "$pdd" -p loop.yml --ident "$ident" | ansible-runner worker |
				/usr/bin/time -f %M -o "$work/rss" ansible-runner process "$ctrl" --ident "$ident" ;;
		esac >"$work/out" 2>&1
	}; } 2>&1) || { echo "$tool $way failed:"; tail -5 "$work/out"; exit 1; }
	read -r wall u s <<<"$t"
	cpu=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u+s}')
	own=$(tail -1 "$work/ansible-cpu" | awk -v c="$cpu" '{printf "%.2f", c - $1 - $2}')
	rss=$(cat "$work/rss" 2>/dev/null || echo -)
	local art="$pdd/artifacts/$ident"
	[ "$way" = stream ] && art="$ctrl/artifacts/$ident"
	events=$(find "$art/job_events" -name '*.json' 2>/dev/null | wc -l)
	rm -rf "$pdd/artifacts" "$ctrl"
}

declare -A ratios added cpus owns rsss
for i in $(seq "$PAIRS"); do
	for tool in $TOOLS; do
		ways=(local stream)
		((i % 2)) || ways=(stream local)
		for way in "${ways[@]}"; do
			run "$tool" "$way" "$work/big" "p$i$way"
			echo "   pair $i: $tool $way cpu=${cpu}s own=${own}s wall=${wall}s events=$events process_maxrss_kib=$rss"
			declare "c_$way=$cpu" "o_$way=$own"
			cpus[$tool.$way]+="$cpu " owns[$tool.$way]+="$own "
			[ "$way" = stream ] && rsss[$tool]+="$rss "
		done
		r=$(awk -v a="$c_stream" -v b="$c_local" 'BEGIN {printf "%.3f", a/b}')
		a=$(awk -v s="$o_stream" -v l="$o_local" -v c="$c_local" 'BEGIN {printf "%.2f", 100 * (s - l) / c}')
		echo "   pair $i: $tool stream/local cpu $r, own added ${a}% of local"
		ratios[$tool]+="$r " added[$tool]+="$a "
	done
done

# The process side's memory at sizes a real run takes too long for: a
# worker's stream of N events from bench/replay as ansible-playbook, kept
# in a file, read by each tool's process side.
[ -n "$RSS_EVENTS" ] && go build -o "$work/replay" ./bench/replay
mkdir -p "$work/rp/project" "$work/rp/env"
echo '[]' >"$work/rp/project/site.yml"
for n in $RSS_EVENTS; do
	printf 'REPLAY_STREAM: %s\nREPLAY_EVENTS: "%s"\n' "$PWD/bench/testdata/loop200.pty" "$n" >"$work/rp/env/envvars"
	"$arunner" transmit "$work/rp" -p site.yml -b "$work/replay" --ident rss | "$arunner" worker >"$work/stream"
	for tool in $TOOLS; do
		cmd=$tool
		[ "$tool" = arunner ] && cmd=$arunner
		/usr/bin/time -f %M -o "$work/rss" "$cmd" process "$work/ctrl" --ident rss <"$work/stream" >"$work/out" 2>&1 ||
			{ echo "$tool process failed:"; tail -5 "$work/out"; exit 1; }
		rss=$(cat "$work/rss")
		echo "   replayed stream: $tool process events=$(find "$work/ctrl/artifacts/rss/job_events" -name '*.json' | wc -l) maxrss_kib=$rss"
		rsss[$tool.$n]=$rss
		rm -rf "$work/ctrl"
	done
done
echo "== load after: $(uptime | sed 's/.*load average/load average/')"
m() { tr ' ' '\n' <<<"$1" | grep . | "${2:-median}"; }
for tool in $TOOLS; do
	echo "$tool: CPU-s local $(m "${cpus[$tool.local]}"), stream $(m "${cpus[$tool.stream]}"); own local $(m "${owns[$tool.local]}"), stream $(m "${owns[$tool.stream]}") (medians)"
	echo "$tool: stream/local CPU $(m "${ratios[$tool]}")x, interval $(m "${ratios[$tool]}" medianci)"
	echo "$tool: own added CPU $(m "${added[$tool]}")% of local, interval $(m "${added[$tool]}" medianci)"
	echo "$tool: process side peak RSS $(m "${rsss[$tool]}") KiB ($ITEMS items); replayed:$(for n in $RSS_EVENTS; do printf ' %s events %s KiB,' "$n" "${rsss[$tool.$n]}"; done)"
done
