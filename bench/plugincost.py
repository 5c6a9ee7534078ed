#!/usr/bin/python3
# bench/plugincost.py measures what arunner's callback plugin costs ansible
# per event, apart from everything else in a run: it calls a stdout
# callback's v2_runner_item_on_ok for N loop-item results in a child Python
# whose stdout is a pty (as under the runner, PYTHONUNBUFFERED=1), and
# prints the child's CPU time per item (process_time: Python and the system
# calls it makes, such as the writes, in the calling thread and in the
# plugin's thread that writes held events). Other processes (cat) read the
# pty and the events side band, as the runner would. The items come back to
# back, so the plugin writes hundreds of held events at a time, where a
# real loop's few hundred items a second make batches of about ten. Each
# callback runs the loop PLUGINCOST_PASSES times (default 5) and the least
# CPU is printed: on a noisy machine the least is the steadiest measure.
#
#   /usr/bin/python3 bench/plugincost.py [N] [PLUGIN_DIR]
#
# prints one line for ansible's default callback and one for arunner's
# plugin (from PLUGIN_DIR, default internal/eventproto/plugin), which
# delegates its text to the default callback: the difference is the
# plugin's own cost. A whole
# ansible run is too noisy on a small virtual machine to show a change of a
# few microseconds per event; this shows it. PLUGINCOST_PROFILE=FILE
# writes a cProfile dump of each loop (CPU time) to FILE.default and
# FILE.arunner.
import os
import subprocess
import sys
import time


def parent():
    n = sys.argv[1] if len(sys.argv) > 1 else '5000'
    here = os.path.dirname(os.path.abspath(__file__))
    plugin_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, '..', 'internal', 'eventproto', 'plugin')
    for which in ('default', 'arunner'):
        master, slave = os.openpty()
        readers = [subprocess.Popen(['cat'], stdin=master, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        env = dict(os.environ, PYTHONUNBUFFERED='1', PYTHONDONTWRITEBYTECODE='1')
        fds = ()
        if which == 'arunner':
            r, w = os.pipe()
            readers.append(subprocess.Popen(['cat'], stdin=r, stdout=subprocess.DEVNULL))
            os.close(r)
            env.update(ARUNNER_EVENT_FD='%d:%d' % (w, os.fstat(w).st_ino), ANSIBLE_CALLBACK_PLUGINS=plugin_dir,
                       ORIGINAL_STDOUT_CALLBACK='default')
            fds = (w,)
        child = subprocess.run([sys.executable, __file__, '--child', which, n], stdin=slave, stdout=slave,
                               stderr=subprocess.PIPE, env=env, pass_fds=fds, text=True)
        os.close(slave)
        for fd in fds:
            os.close(fd)
        for p in readers:
            p.wait()
        os.close(master)
        if child.returncode != 0:
            sys.exit('%s failed:\n%s' % (which, child.stderr))
        sys.stdout.write(child.stderr)


def child(which, n):
    from ansible import context
    from ansible.module_utils.common.collections import ImmutableDict
    context.CLIARGS = ImmutableDict(verbosity=0, check=False, diff=False)
    from ansible.executor.task_result import TaskResult
    from ansible.inventory.host import Host
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook.play import Play
    from ansible.playbook.task import Task
    from ansible.plugins.loader import callback_loader

    loader = DataLoader()
    cb = callback_loader.get(which)
    cb.set_options()
    host = Host('localhost')
    task = Task.load({'name': 'say hello', 'debug': {'msg': 'hello'}, 'loop': [1]}, loader=loader)
    play = Play.load({'hosts': 'all', 'gather_facts': False, 'tasks': []}, loader=loader)

    class Playbook:
        _file_name = '/tmp/loop.yml'

    cb.v2_playbook_on_start(Playbook())
    cb.v2_playbook_on_play_start(play)
    cb.v2_playbook_on_task_start(task, False)

    def result(i):
        # What a debug loop item returns; a new dict each time, since the
        # default callback pops keys from it.
        return TaskResult(host, task, {'msg': 'hello %d' % i, 'item': i, 'ansible_loop_var': 'item',
                                       '_ansible_item_label': i, 'changed': False, '_ansible_no_log': False,
                                       '_ansible_verbose_always': True})

    for i in range(200):  # warm up
        cb.v2_runner_item_on_ok(result(i))
    prof = None
    passes = int(os.environ.get('PLUGINCOST_PASSES', '5'))
    if os.environ.get('PLUGINCOST_PROFILE'):  # a cProfile dump of the loop, per callback
        import cProfile
        prof = cProfile.Profile(time.process_time)
        passes = 1
    best = None
    for _ in range(passes):
        results = [result(i) for i in range(n)]
        if prof:
            prof.enable()
        start = time.process_time()
        for r in results:
            cb.v2_runner_item_on_ok(r)
        took = time.process_time() - start
        best = took if best is None else min(best, took)
    if prof:
        prof.disable()
        prof.dump_stats('%s.%s' % (os.environ['PLUGINCOST_PROFILE'], which))
    sys.stderr.write('callback=%s items=%d cpu_us_per_item=%.1f\n' % (which, n, best / n * 1e6))


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--child':
        child(sys.argv[2], int(sys.argv[3]))
    else:
        parent()
