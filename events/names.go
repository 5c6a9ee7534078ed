package events

// The event names ansible-runner 2.3.1's callback plugin writes in an
// event's "event" key, and so the values of Event.Event: one per ansible
// callback hook it frames (the hook's name without "v2_"), and for text
// that ansible displays outside a hook, the Display method that printed it.
// Handlers of tasks and cleanup tasks come as PlaybookOnTaskStart with
// event_data.is_conditional true; lines the runner finds outside any event
// are Verbose.
const (
	PlaybookOnStart            = "playbook_on_start"               // the playbook starts; its uuid is event_data.playbook_uuid
	PlaybookOnPlayStart        = "playbook_on_play_start"          // a play starts (not in ad hoc runs)
	PlaybookOnTaskStart        = "playbook_on_task_start"          // a task, handler or cleanup task starts (not in ad hoc runs)
	PlaybookOnVarsPrompt       = "playbook_on_vars_prompt"         // a vars_prompt question
	PlaybookOnInclude          = "playbook_on_include"             // an included file, event_data.included_file
	PlaybookOnImportForHost    = "playbook_on_import_for_host"     // a vars file imported for a host (unused by ansible 2.x)
	PlaybookOnNotImportForHost = "playbook_on_not_import_for_host" // a vars file not found for a host (unused by ansible 2.x)
	PlaybookOnSetup            = "playbook_on_setup"               // fact gathering starts (unused by ansible 2.x)
	PlaybookOnNoHostsMatched   = "playbook_on_no_hosts_matched"    // a play's pattern matched no host
	PlaybookOnNoHostsRemaining = "playbook_on_no_hosts_remaining"  // every host of a play failed
	PlaybookOnNotify           = "playbook_on_notify"              // a task notified a handler, event_data.handler
	PlaybookOnStats            = "playbook_on_stats"               // the recap, the last event: see Event.Stats

	RunnerOnStart       = "runner_on_start"        // a task starts on a host
	RunnerOnOK          = "runner_on_ok"           // a task succeeded on a host; event_data.res is its result
	RunnerOnFailed      = "runner_on_failed"       // a task failed on a host (see Event.Failed)
	RunnerOnSkipped     = "runner_on_skipped"      // a task was skipped on a host
	RunnerOnUnreachable = "runner_on_unreachable"  // a host could not be reached
	RunnerOnNoHosts     = "runner_on_no_hosts"     // a task had no host to run on
	RunnerOnAsyncPoll   = "runner_on_async_poll"   // an async task was polled
	RunnerOnAsyncOK     = "runner_on_async_ok"     // an async task succeeded
	RunnerOnAsyncFailed = "runner_on_async_failed" // an async task failed
	RunnerOnFileDiff    = "runner_on_file_diff"    // a task's --diff output, event_data.diff
	RunnerItemOnOK      = "runner_item_on_ok"      // one item of a loop succeeded
	RunnerItemOnFailed  = "runner_item_on_failed"  // one item of a loop failed
	RunnerItemOnSkipped = "runner_item_on_skipped" // one item of a loop was skipped
	RunnerRetry         = "runner_retry"           // a task with until: is retried

	Verbose       = "verbose"        // text outside a callback hook: -v output, or a line the runner found outside any event
	Debug         = "debug"          // Display.debug text
	Deprecated    = "deprecated"     // a deprecation warning
	Warning       = "warning"        // a warning
	SystemWarning = "system_warning" // a warning about ansible's own set-up
	Error         = "error"          // an error ansible displays (a syntax error, say)
)

// eventNames interns the event names so decoding one allocates nothing.
var eventNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{PlaybookOnStart, PlaybookOnPlayStart, PlaybookOnTaskStart, PlaybookOnVarsPrompt,
		PlaybookOnInclude, PlaybookOnImportForHost, PlaybookOnNotImportForHost, PlaybookOnSetup,
		PlaybookOnNoHostsMatched, PlaybookOnNoHostsRemaining, PlaybookOnNotify, PlaybookOnStats,
		RunnerOnStart, RunnerOnOK, RunnerOnFailed, RunnerOnSkipped, RunnerOnUnreachable, RunnerOnNoHosts,
		RunnerOnAsyncPoll, RunnerOnAsyncOK, RunnerOnAsyncFailed, RunnerOnFileDiff,
		RunnerItemOnOK, RunnerItemOnFailed, RunnerItemOnSkipped, RunnerRetry,
		Verbose, Debug, Deprecated, Warning, SystemWarning, Error} {
		m[`"`+n+`"`] = n
	}
	return m
}()
