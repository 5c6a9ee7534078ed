// Package events holds ansible-runner 2.x job events as Go values: the
// Event type with the JSON of ansible-runner's job_events files
// (artifacts/<ident>/job_events/<counter>-<uuid>.json) byte for byte, typed
// accessors for the common event_data keys, the recap (Stats), the event
// names as constants, and a Decoder for streams of event JSON. The runner
// (package runner) hands its hooks *Event values; a program reading
// ansible-runner's artifacts or its worker stream decodes them the same way.
//
// Usage:
//
//	var e events.Event
//	err := json.Unmarshal(jobEventFile, &e)
//	if e.Event == events.RunnerOnFailed && e.Failed() {
//		log.Printf("%s failed on %s: %s", e.Task(), e.Host(), e.Res())
//	}
package events
