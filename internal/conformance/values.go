package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/arunner/arunner/events"
)

// CompareEventData asserts that ours and ref have the same events, matched
// by (event, host, task, item) and by order among equal keys, and that each
// pair carries the same event_data, whole, once NormalizeEventData has
// removed what differs between any two runs of one playbook. It is the
// value-level check that Compare, which compares event shapes, leaves out:
// what a controller reads from an event (res.changed, res.results, the
// item) must be what ansible-runner's plugin writes. Of opts, only
// AnyCount applies: events of those types, whose number depends on timing,
// are left out.
func CompareEventData(t testing.TB, ours, ref Run, opts Options) {
	t.Helper()
	counted := func(evs []events.Event) []events.Event {
		return slices.DeleteFunc(comparableEvents(evs), func(e events.Event) bool { return slices.Contains(opts.AnyCount, e.Event) })
	}
	o, r := counted(ours.Events), counted(ref.Events)
	pairs, extra := pairByKey(o, r, valueKeyOf)
	for _, p := range pairs {
		if p.our == nil {
			t.Errorf("event %v #%d of the reference (counter %d) has no counterpart in ours", p.key, p.n, p.ref.Counter)
			continue
		}
		assert.Equal(t, NormalizeEventData(p.ref.EventData, ref.PrivateDataDir), NormalizeEventData(p.our.EventData, ours.PrivateDataDir),
			"event_data of %v #%d (counter %d in the reference, %d in ours)", p.key, p.n, p.ref.Counter, p.our.Counter)
	}
	for _, e := range extra {
		t.Errorf("event %v (counter %d) of ours has no counterpart in the reference", valueKeyOf(e), e.Counter)
	}
}

// matched is an event of the reference and its counterpart in ours: the
// n-th (from 0) of the events with its key on each side. our is nil when
// ours has fewer events with that key.
type matched[K comparable] struct {
	key      K
	n        int
	ref, our *events.Event
}

// pairByKey pairs each event of ref with the event of ours that has the
// same key and the same place among the events with that key, in ref's
// order; extra are the events of ours left without a counterpart.
func pairByKey[K comparable](ours, ref []events.Event, key func(*events.Event) K) (pairs []matched[K], extra []*events.Event) {
	byKey := map[K][]*events.Event{}
	var keys []K // in order of first appearance, for a stable extra
	for i := range ours {
		k := key(&ours[i])
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], &ours[i])
	}
	seen := map[K]int{}
	for i := range ref {
		k := key(&ref[i])
		n := seen[k]
		seen[k]++
		p := matched[K]{key: k, n: n, ref: &ref[i]}
		if n < len(byKey[k]) {
			p.our = byKey[k][n]
		}
		pairs = append(pairs, p)
	}
	for _, k := range keys {
		evs := byKey[k]
		extra = append(extra, evs[min(seen[k], len(evs)):]...)
	}
	return pairs, extra
}

// valueKey identifies an event across two runs of one playbook, down to
// the loop item its result is for.
type valueKey struct{ Event, Host, Task, Item string }

func (k valueKey) String() string {
	if k.Item == "" {
		return fmt.Sprintf("(%s %q %q)", k.Event, k.Host, k.Task)
	}
	return fmt.Sprintf("(%s %q %q item %s)", k.Event, k.Host, k.Task, k.Item)
}

// valueKeyOf is e's key; Item is res.item as compact JSON with sorted keys,
// or "" when the result has none (not a loop, or censored by no_log).
func valueKeyOf(e *events.Event) valueKey {
	k := valueKey{Event: e.Event, Host: e.Host(), Task: e.Task()}
	var res struct {
		Item json.RawMessage `json:"item"`
	}
	if json.Unmarshal(e.Res(), &res) == nil && res.Item != nil {
		var v any
		if json.Unmarshal(res.Item, &v) == nil {
			b, _ := json.Marshal(v) // maps marshal with sorted keys
			k.Item = string(b)
		}
	}
	return k
}

// Each thing NormalizeEventData replaces differs between two runs of the
// same playbook, by either implementation, and says nothing about whether
// the plugin reported the result faithfully. Anything not listed here is
// compared as is.
var (
	// uuids: ansible's play and task uuids and the plugin's event and
	// playbook uuids are made afresh by each run (uuid, playbook_uuid,
	// play_uuid, task_uuid, parent_uuid; free strategy repeats get _<n>).
	valueUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(_\d+)?`)
	// timestamps: the event's start and end (isoformat with T) and a
	// command result's start and end (with a space) are wall-clock times.
	valueTimestamp = regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?`)
	// pids: an async job id is j<random>.<pid of ansible's worker>, and it
	// reappears in ansible_job_id, results_file and async_status's args.
	valueJobID = regexp.MustCompile(`\bj\d+\.\d+\b`)
	// paths: ansible's temporary dirs are named from the time, a pid and
	// random text (ansible-tmp-<time>-<pid>-<random> on the target,
	// ansible-local-<pid><random>/tmp<random> on the controller, which a
	// copy's diff names as its after_header).
	valueTmpDir = regexp.MustCompile(`ansible-tmp-[0-9.]+-\d+-\d+|ansible-local-\w+/tmp\w+`)
)

// valueDurationKeys name the fields whose value is a measured duration:
// the event's duration (seconds, a number) and a command result's delta
// ("0:00:00.003").
var valueDurationKeys = map[string]string{"duration": "DURATION", "delta": "DELTA"}

// NormalizeEventData returns an event's event_data as indented JSON with
// sorted keys (so that a difference shows as the lines that differ), with
// the private data dir pdd replaced by "PDD", and uuids, timestamps,
// durations, async job ids (which hold a pid) and the names of ansible's
// temporary dirs replaced by placeholders. Numbers keep their JSON text.
// Malformed JSON is returned as it is, to show in the comparison.
func NormalizeEventData(data json.RawMessage, pdd string) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(data)
	}
	v = normalizeValue(v, "", pdd)
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return string(data)
	}
	return string(b)
}

func normalizeValue(v any, key, pdd string) any {
	if repl, ok := valueDurationKeys[key]; ok && v != nil {
		return repl
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalizeValue(x, k, pdd)
		}
	case []any:
		for i, x := range v {
			v[i] = normalizeValue(x, "", pdd)
		}
	case string:
		if pdd != "" && pdd != "/" && pdd != "." {
			v = strings.ReplaceAll(v, pdd, "PDD")
		}
		v = valueUUID.ReplaceAllString(v, "UUID")
		v = valueTimestamp.ReplaceAllString(v, "TIMESTAMP")
		v = valueJobID.ReplaceAllString(v, "JID")
		return valueTmpDir.ReplaceAllString(v, "ANSIBLE_TMP")
	}
	return v
}
