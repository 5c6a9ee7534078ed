package runner

// Temporary until the events package's plugin half lands: the runner runs
// without a callback plugin.

type pluginOptions struct {
	PluginDir, UserStdoutCallback      string
	OmitEventData, OnlyFailedEventData bool
}

func pluginManagedKeys() []string { return []string{"RUNNER_OMIT_EVENTS", "RUNNER_ONLY_FAILED_EVENTS"} }

func installPlugin(dir string) (string, error) { return dir, nil }

func pluginEnv(o pluginOptions) map[string]string {
	return map[string]string{"ANSIBLE_CALLBACK_PLUGINS": o.PluginDir, "ANSIBLE_STDOUT_CALLBACK": "default"}
}
