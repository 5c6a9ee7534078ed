#!/bin/sh
# Records testdata/recorded/artifacts/rec: ansible-runner (the reference,
# 2.x) runs recorded/project/site.yml with real ansible-core, with -v so
# that a line comes before the callback plugin loads, outside any event.
# It runs in /tmp/arunner-record, so that no checkout's path is recorded.
# runnertest.Load replays the result in tests. Run from runnertest/:
#   sh testdata/record.sh
set -eu
work=/tmp/arunner-record
rm -rf "$work" testdata/recorded/artifacts
mkdir -p "$work"
cp -r testdata/recorded/project testdata/recorded/inventory "$work"
ANSIBLE_NOCOLOR=1 ansible-runner run "$work" -p site.yml --ident rec -v >/dev/null || true
# Only what Load reads, and the status; the env and command stay out.
mkdir -p testdata/recorded/artifacts/rec
cp -r "$work"/artifacts/rec/job_events "$work"/artifacts/rec/stdout "$work"/artifacts/rec/rc \
	"$work"/artifacts/rec/status testdata/recorded/artifacts/rec/
rm -rf "$work"
