# -*- coding: utf-8 -*-
# arunner stdout callback: ansible-runner 2.x compatible job events, carried
# in-band on the terminal stream. Part of arunner (Apache-2.0).
#
# How it works, in short: every callback hook runs inside an "event". The
# event's full JSON is written as an invisible begin token (ESC[K, base64
# slices each followed by ESC[<n>D, ESC[K), then the human text that the
# user's chosen stdout callback prints, then an end token carrying {}. The
# Go side (arunner/internal/eventproto.Filter) cuts the stream at the tokens, so each
# event's stdout is exactly the text printed between its two tokens. Text
# written through Display outside any hook becomes its own event the same
# way. No file is written per event.
#
# When arunner passes a pipe (ARUNNER_EVENT_FD=<fd>:<inode>), the JSON
# goes there instead, as one line "<seq> <json>". On a terminal the record
# usually carries the event's text as "stdout" too, and the terminal only a
# marker token {"arunner_rec": <seq>} in the text's place, with no end
# token. Otherwise (stdout is a pipe, other output must go out in the middle
# of an event, the terminal's output processing is not the default) the
# record goes without text, the marker is {"arunner_seq": <seq>}, and the
# text follows it up to an end token, as in-band. Events that come within
# ARUNNER_EVENT_WINDOW_MS of the last write are held and written together
# at the window's end (see _State.hold).
#
# Every token's base64 text starts with the run's key (ARUNNER_EVENT_KEY),
# which the plugin takes out of the environment when it loads, before any
# task runs: framing that a task prints (to /dev/tty, in a pause prompt, a
# warning from a managed host) lacks it, and the runner keeps it as text.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = '''
    name: arunner
    type: stdout
    short_description: ansible-runner compatible job events for arunner
    description:
      - Emits ansible-runner 2.x job events in-band on stdout and delegates
        the human output to the stdout callback named by
        ORIGINAL_STDOUT_CALLBACK (or ansible.cfg's stdout_callback, else
        default; minimal for ad-hoc commands).
    requirements:
      - set as the stdout callback by arunner
'''

import atexit
import base64
import contextlib
import datetime
import functools
import inspect
import json
import operator
import os
import stat
import sys
import termios
import threading
import time

from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.executor.task_result import TaskResult
from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import callback_loader
from ansible.utils.display import Display

OUR_NAME = 'arunner'
CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
SLICE = 78  # base64 chars per slice: keeps a token invisible on an 80-column terminal

# Events that never carry a play, or a task (same lists as ansible-runner).
EVENTS_WITHOUT_PLAY = ('playbook_on_start', 'playbook_on_stats')
EVENTS_WITHOUT_TASK = EVENTS_WITHOUT_PLAY + (
    'playbook_on_setup', 'playbook_on_notify', 'playbook_on_import_for_host',
    'playbook_on_not_import_for_host', 'playbook_on_no_hosts_matched',
    'playbook_on_no_hosts_remaining',
)
# Display method flags that name the event of text printed outside a hook.
FLAG_EVENTS = ('debug', 'verbose', 'deprecated', 'warning', 'system_warning', 'error')


def _env_true(name):
    return os.environ.get(name, 'False').lower() == 'true'


def _env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


class _UUIDs(object):
    """Random (version 4) UUIDs as strings, made 256 at a time. Each
    uuid.uuid4() reads os.urandom, a system call, and builds a UUID object:
    together as dear as the rest of an event's bookkeeping. list.pop is
    atomic, so threads may share the pool; two refilling at once only make
    more. A forked child must not hand out its parent's: reset() empties it."""

    BATCH = 256

    def __init__(self):
        self.ids = []

    def reset(self):
        self.ids = []

    def refill(self):
        raw = bytearray(os.urandom(16 * self.BATCH))
        raw[6::16] = bytes(b & 0x0f | 0x40 for b in raw[6::16])  # version 4
        raw[8::16] = bytes(b & 0x3f | 0x80 for b in raw[8::16])  # RFC 4122 variant
        h = raw.hex()
        self.ids.extend('%s-%s-%s-%s-%s' % (h[i:i + 8], h[i + 8:i + 12], h[i + 12:i + 16], h[i + 16:i + 20],
                                            h[i + 20:i + 32]) for i in range(0, len(h), 32))

    def new(self):
        while True:
            try:
                return self.ids.pop()
            except IndexError:
                self.refill()


_UUID = _UUIDs()
os.register_at_fork(after_in_child=_UUID.reset)
_new_uuid = _UUID.new  # a bound method: no wrapper call per event


def _utcnow():
    # Naive UTC isoformat, as ansible-runner 2.3 writes "created".
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class _Encoder(json.JSONEncoder):
    """Serialises what ansible results may hold; never fails on odd types."""

    def default(self, o):
        if getattr(o, 'yaml_tag', None) == '!vault':
            text = o._ciphertext
            if isinstance(text, bytes):
                text = text.decode('utf-8', 'replace')
            return {'__ansible_vault': text}
        if isinstance(o, (datetime.date, datetime.datetime)):
            return o.isoformat()
        if isinstance(o, bytes):
            return o.decode('utf-8', 'replace')
        if isinstance(o, (set, frozenset, tuple)):
            return list(o)
        return str(o)


# One encoder for every event: json.dumps(cls=...) would build one per call.
# An encoder keeps no state between calls, so threads may share it.
_ENCODER = _Encoder()


def _token(text, key):
    """The invisible terminal token carrying JSON text: ESC[K, then the
    run's key and the text's base64, in slices each followed by ESC[<n>D
    (cursor back over it), then ESC[K. The key's 12 bytes leave the base64
    after it aligned."""
    b64 = key + base64.b64encode(text.encode('utf-8')).decode('ascii')
    parts = ['\x1b[K']
    for i in range(0, len(b64), SLICE):
        piece = b64[i:i + SLICE]
        parts.append(piece)
        parts.append('\x1b[%dD' % len(piece))
    parts.append('\x1b[K')
    return ''.join(parts)


def _marker(seq, key):
    """_token('{"arunner_rec": <seq>}', key), which always fits one slice."""
    b64 = key + base64.b64encode(b'{"arunner_rec": %d}' % seq).decode('ascii')
    return '\x1b[K%s\x1b[%dD\x1b[K' % (b64, len(b64))


class _State:
    """Event context shared by the whole process (one per interpreter)."""

    def __init__(self):
        # A thread lock is enough: since ansible-core 2.14 forked workers
        # never write to the terminal, they proxy display to the parent.
        self.lock = threading.RLock()
        self.glob = {}
        self.tls = threading.local()
        self.omit = _env_true('RUNNER_OMIT_EVENTS')
        self.only_failed = _env_true('RUNNER_ONLY_FAILED_EVENTS')
        self.max_res = _env_int('MAX_EVENT_RES', 700000)
        self.side = _side_band()
        self.key = _event_key()
        self.end_token = _token('{}', self.key)
        # getpid is a system call each time; a forked child (none writes
        # events since ansible-core 2.14) gets its own through the hook.
        self.pid = os.getpid()
        os.register_at_fork(after_in_child=self._forked)
        self.stdout_pipe = False
        # The last answer of _plain and until when it stands.
        self.plain = False
        self.plain_until = 0.0
        self.seq = 0
        # Events held for the next write (see hold).
        self.window = _env_int('ARUNNER_EVENT_WINDOW_MS', EVENT_WINDOW_MS) / 1000.0
        self.held = []  # (record line, marker)
        self.held_bytes = 0
        self.held_file = None
        self.next_write = 0.0
        self.cond = None  # wakes the writing thread; made with it
        self.ids = []
        for env, key in (('JOB_ID', 'job_id'), ('AD_HOC_COMMAND_ID', 'ad_hoc_command_id'),
                         ('PROJECT_UPDATE_ID', 'project_update_id')):
            val = os.environ.get(env, '')
            if val:
                try:
                    val = int(val)
                except ValueError:
                    pass
                self.ids.append((key, val))

    def _forked(self):
        # The child has only the forking thread, so no writing thread. It
        # writes no events (see above) and must not write its parent's.
        self.pid = os.getpid()
        self.cond = None
        self.held = []
        self.held_bytes = 0

    def hold(self, fileobj, data, now):
        """Queues an event's record (its text included) and its marker.

        An event that comes more than a window after the last write goes out
        at once. Events that come faster are held, and a thread writes them
        at the window's end: two writes, and one wake-up of the runner, for
        all of them instead of for each (BENCHMARKS.md has what that saves).
        No event waits longer than the window, and none is lost at a normal
        exit. The caller holds the lock."""
        rec = self._record_line(data)
        self.held.append((rec, _marker(self.seq, self.key)))
        self.held_bytes += len(rec)
        self.held_file = fileobj
        if (now >= self.next_write or self.held_bytes >= HELD_BYTES
                or data['event'] == 'playbook_on_stats'):
            self.write_held()
        elif len(self.held) == 1:
            self._wake_writer()

    def write_held(self):
        """Writes the held records to the side band, then their markers to
        the terminal: anything else written to the terminal must come
        after. The caller holds the lock."""
        if not self.held:
            return
        held, self.held, self.held_bytes = self.held, [], 0
        fileobj = self.held_file
        if self.side is not None and _write_all(self.side, ''.join(r for r, _ in held).encode('utf-8')):
            fileobj.write(''.join(m for _, m in held))
        else:
            # The reader has gone: the events go in-band.
            self.side = None
            out = []
            for rec, _ in held:
                data = json.loads(rec.partition(' ')[2])
                text = data.pop('stdout', '')
                out.append(self.token(data) + text + self.end_token)
            fileobj.write(''.join(out))
        fileobj.flush()
        self.next_write = time.monotonic() + self.window

    def _wake_writer(self):
        if self.cond is None:
            self.cond = threading.Condition(self.lock)
            threading.Thread(target=self._writer, args=(self.cond,), name='arunner-events', daemon=True).start()
        self.cond.notify()

    def _writer(self, cond):
        """Writes held events when their window ends."""
        with self.lock:
            while True:
                if not self.held:
                    cond.wait()
                    continue
                delay = self.next_write - time.monotonic()
                if delay > 0:
                    cond.wait(delay)
                    continue
                try:
                    self.write_held()
                except (OSError, ValueError):
                    # The terminal is gone or closed: nobody reads these
                    # events. The thread stays for any that can still go.
                    pass

    def at_exit(self):
        with self.lock:
            self.window = 0  # no more holding: nothing would write it
            self.write_held()

    def local(self):
        ctx = getattr(self.tls, 'ctx', None)
        if ctx is None:
            ctx = self.tls.ctx = {}
        return ctx

    @contextlib.contextmanager
    def scoped(self, **kw):
        """Adds kw to this thread's context for the duration of the block."""
        ctx = self.local()
        saved = dict(ctx)
        ctx.update(kw)
        try:
            yield
        finally:
            ctx.clear()
            ctx.update(saved)

    def context(self):
        ctx = dict(self.glob)
        ctx.update(self.local())
        return ctx

    def begin_dict(self):
        data = self.context()
        event = data.pop('event', None)
        if not event:
            event = 'verbose'
            for key in FLAG_EVENTS:
                if data.get(key, False):
                    event = key
                    break
        out = {'event': event}
        for key, val in self.ids:
            out[key] = val
        out['pid'] = self.pid
        own = data.get('uuid') or _new_uuid()
        out['uuid'] = own
        out['created'] = _utcnow().isoformat()
        parent = data.get('parent_uuid')
        if not parent:
            for key in ('task_uuid', 'play_uuid', 'playbook_uuid'):
                val = data.get(key)
                if val and val != own:
                    parent = val
                    break
        if parent:
            out['parent_uuid'] = parent
        if 'verbosity' in data:
            out['verbosity'] = data.pop('verbosity')
        failed_kinds = ('runner_on_failed', 'runner_on_async_failed', 'runner_item_on_failed',
                        'runner_on_item_failed')
        if self.omit or (self.only_failed and event not in failed_kinds):
            data = {}
        elif event != 'playbook_on_stats' and 'res' in data and len(str(data['res'])) > self.max_res:
            data['res'] = {}
        out['event_data'] = data
        return out

    def token(self, payload):
        return _token(_ENCODER.encode(payload), self.key)

    def begin(self, fileobj):
        # The event's text is held until the event ends, so that it goes
        # out in one write (stdout is unbuffered under ansible-runner and
        # arunner: each write is a syscall and a wake-up of the reader). It
        # lives apart from the context, which scoped() saves and restores.
        # With the side band, the record waits too: at the end it carries
        # the text, and the terminal only a marker. The caller holds the
        # lock, so records and markers keep one order.
        data = self.begin_dict()
        if self.side is not None:
            self.tls.pending = _Pending(fileobj, None, data)
        else:
            self.tls.pending = _Pending(fileobj, self.token(data), None)

    def _record_line(self, data):
        """The side-band line "<seq> <json>\\n" of data as the next record."""
        self.seq += 1
        return '%d %s\n' % (self.seq, _ENCODER.encode(data))

    def _record(self, data):
        """Writes data to the side band as record <seq>; returns seq, or 0
        when the reader has gone (events then go in-band)."""
        rec = self._record_line(data)
        if _write_all(self.side, rec.encode('utf-8')):
            return self.seq
        self.side = None
        return 0

    def _head(self, pending):
        """The begin token of an event whose text goes on the terminal."""
        data, pending.data = pending.data, None
        if data is None:
            return pending.head
        if self.side is not None:
            seq = self._record(data)
            if seq:
                return _token('{"arunner_seq": %d}' % seq, self.key)
        return self.token(data)

    def _plain(self, fileobj, now):
        """Whether an event's text may travel in its record: only for stdout
        on a terminal with the default output processing (just "\\n" to
        "\\r\\n", which the runner then applies to the record's text). Not
        while a task has turned that processing off, nor for stderr; and not
        through a pipe (NoPTY), where the runner reads 64 KiB of text at a
        time and the text costs less on stdout itself.

        The terminal's flags are read at most once a window: the read cost
        ~12 us an event in bench/plugincost.py, of ~50 with the default
        callback's work, and gave the interpreter lock away (BENCHMARKS.md). So
        text printed within a window after a change of the flags is treated
        as printed just before it, as if it had reached the terminal up to a
        window early. The change needs a process on the terminal (stty, a
        module reading /dev/tty), which takes longer than a window to start."""
        if fileobj is not sys.stdout or self.stdout_pipe:
            return False
        if now < self.plain_until:
            return self.plain
        try:
            oflag = termios.tcgetattr(fileobj.fileno())[1]
        except termios.error:
            self.stdout_pipe = True  # not a terminal: it stays a pipe
            return False
        except (AttributeError, ValueError, OSError):
            return False
        self.plain = oflag & OFLAGS == termios.OPOST | termios.ONLCR
        self.plain_until = now + self.window
        return self.plain

    def take_pending(self):
        pending = getattr(self.tls, 'pending', None)
        self.tls.pending = None
        return pending

    def flush_pending(self):
        """Writes a begin token and the text held after it, before other
        text; the event's later text then goes straight out, and an end
        token closes it."""
        pending = self.take_pending()
        if pending:
            self.write_held()
            pending.fileobj.write(self._head(pending) + pending.take())

    def end(self, fileobj):
        pending = self.take_pending()
        if pending is None:
            self.write_held()
            fileobj.write(self.end_token)
            fileobj.flush()
            return
        text = pending.take()
        now = time.monotonic()
        if (pending.data is not None and self.side is not None and len(text) <= MAX_RECORD_TEXT
                and self._plain(fileobj, now)):
            # The usual case with the side band: the record carries the text
            # as "stdout", and a marker on the terminal stands for both. A
            # huge text stays on the terminal, which has no bound on it.
            pending.data['stdout'] = text
            self.hold(fileobj, pending.data, now)
            return
        self.write_held()
        fileobj.write(self._head(pending) + text + self.end_token)
        fileobj.flush()


# The output flags whose effect the runner knows: of these, only OPOST and
# ONLCR may be set for an event's text to travel in its record.
OFLAGS = (termios.OPOST | termios.ONLCR | termios.OCRNL | termios.ONOCR | termios.ONLRET
          | termios.TABDLY | getattr(termios, 'OLCUC', 0))

# How long an event may be held so that it goes out with the ones after it
# (ARUNNER_EVENT_WINDOW_MS; 0 writes each at once), and how many bytes of
# records may be held: the runner reads 16 MiB of records ahead of their
# markers, and a held record's marker comes only after the whole batch.
EVENT_WINDOW_MS = 20
HELD_BYTES = 256 << 10

# The longest text an event's record carries (the runner bounds a record,
# FilterConfig.MaxFrame, and text on the terminal is not bounded).
MAX_RECORD_TEXT = 1 << 20


class _Pending(object):
    """An event's text held until it ends, with its begin token (head) or,
    with the side band, the record not written yet (data)."""

    __slots__ = ('fileobj', 'head', 'data', 'parts')

    def __init__(self, fileobj, head, data):
        self.fileobj = fileobj
        self.head = head
        self.data = data
        self.parts = []

    def take(self):
        text = ''.join(self.parts)
        self.parts = []
        return text


def _side_band():
    """The pipe arunner passed for event records, or None.

    ARUNNER_EVENT_FD is "<fd>:<inode of the pipe>": descriptor fd is used
    only if it is that very pipe, never a descriptor that took its number
    after a sandbox closed it (it could be ansible's own results queue)."""
    val = os.environ.pop('ARUNNER_EVENT_FD', '')
    fd, sep, ino = val.partition(':')
    if not sep:
        return None
    try:
        fd, ino = int(fd), int(ino)
        st = os.fstat(fd)
        if not stat.S_ISFIFO(st.st_mode) or st.st_ino != ino:
            return None
        # Programs ansible starts (ssh, local modules) must not hold it.
        os.set_inheritable(fd, False)
    except (ValueError, OSError):
        return None
    return fd


def _event_key():
    """The run's event key, taken out of the environment: programs ansible
    starts (local tasks, a `shell: env`) must not inherit it. Its value is
    also overwritten where the process's first environment holds it, which
    /proc/<pid>/environ shows to processes of the same user (a local task
    looking at its ancestors) after os.environ has forgotten it."""
    key = os.environ.get('ARUNNER_EVENT_KEY', '')
    if key:
        try:
            import ctypes
            libc = ctypes.CDLL(None)
            libc.getenv.restype = ctypes.c_void_p
            libc.getenv.argtypes = [ctypes.c_char_p]
            at = libc.getenv(b'ARUNNER_EVENT_KEY')
            if at:
                ctypes.memset(at, 0, len(os.environb[b'ARUNNER_EVENT_KEY']))
        except Exception:
            pass
    os.environ.pop('ARUNNER_EVENT_KEY', None)
    return key


def _write_all(fd, data):
    """Writes all of data to fd; False when the reader has gone."""
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError:
            return False
        view = view[n:]
    return True


def _arg_getter(func, name, default):
    """Returns a function reading argument `name` of func from (args, kwargs)."""
    try:
        params = list(inspect.signature(func).parameters)
        idx = params.index(name)
    except (TypeError, ValueError):
        idx = -1

    def get(args, kwargs):
        if 0 <= idx < len(args):
            return args[idx]
        return kwargs.get(name, default)
    return get


def _install(state):
    """Hooks Display so text printed outside callback hooks is framed too."""
    for attr in dir(Display):
        if attr.startswith('_') or 'cow' in attr:
            continue
        if 'prompt' in attr:
            _flushing(state, attr)
            continue
        if attr in ('display', 'v', 'vv', 'vvv', 'vvvv', 'vvvvv', 'vvvvvv', 'verbose'):
            continue
        if attr == 'debug' and not C.DEFAULT_DEBUG:
            # Display.debug prints nothing then, and ansible calls it
            # about ten times per loop item in the worker.
            continue
        func = getattr(Display, attr)
        if not inspect.isfunction(func):
            continue
        setattr(Display, attr, _flagged(state, attr, func))

    verbose = Display.verbose
    get_host = _arg_getter(verbose, 'host', None)
    get_cap = _arg_getter(verbose, 'caplevel', 2)

    @functools.wraps(verbose)
    def verbose_wrapper(*args, **kwargs):
        ctx = {'verbose': True, 'verbosity': get_cap(args, kwargs) + 1}
        host = get_host(args, kwargs)
        if host is not None:
            ctx['remote_addr'] = host
        with state.scoped(**ctx):
            return verbose(*args, **kwargs)
    Display.verbose = verbose_wrapper

    display = Display.display
    get_stderr = _arg_getter(display, 'stderr', False)
    get_log_only = _arg_getter(display, 'log_only', False)

    @functools.wraps(display)
    def display_wrapper(*args, **kwargs):
        if args and getattr(args[0], '_final_q', None):
            # In a forked worker: the text travels to the parent, which
            # frames it there.
            return display(*args, **kwargs)
        stderr = get_stderr(args, kwargs)
        with state.lock:
            if get_log_only(args, kwargs):
                return display(*args, **kwargs)
            if state.local().get('uuid'):  # only scoped() sets it, thread-locally
                return _display_framed(state, display, stderr, args, kwargs)
            fileobj = sys.stderr if stderr else sys.stdout
            if stderr:
                sys.stdout.flush()
            with state.scoped(uuid=_new_uuid()):
                state.begin(fileobj)
                try:
                    return _display_framed(state, display, stderr, args, kwargs)
                finally:
                    state.end(fileobj)
    Display.display = display_wrapper


class _Holder(object):
    """Stands in for sys.stdout while a hook or a display call frames an
    event: what is written to it (by Display, or by a stdout callback that
    writes to sys.stdout itself, as community.general.dense does) is held
    with the event's begin token until the event ends, as ansible-runner's
    display puts it between the event's tokens. Once the event's head has
    gone out (text on stderr, a prompt), and from other threads, text goes
    straight to the real stdout."""

    __slots__ = ('_real', '_pending', '_tls')

    def __init__(self, real, pending, tls):
        self._real = real
        self._pending = pending
        self._tls = tls

    def write(self, text):
        if getattr(self._tls, 'pending', None) is self._pending:
            self._pending.parts.append(text)
            return len(text)
        return self._real.write(text)

    def flush(self):
        if getattr(self._tls, 'pending', None) is not self._pending:
            self._real.flush()

    def __getattr__(self, name):
        return getattr(self._real, name)


def _display_framed(state, display, stderr, args, kwargs):
    """Calls Display.display inside an event, holding its stdout text with
    the pending begin token, or writing both ahead of text on stderr."""
    pending = getattr(state.tls, 'pending', None)
    if not pending:
        return display(*args, **kwargs)
    out = sys.stdout
    real = out._real if type(out) is _Holder else out
    if stderr or pending.fileobj is not real:
        state.flush_pending()
        real.flush()  # the begin token must reach the pty first
        return display(*args, **kwargs)
    if type(out) is _Holder and out._pending is pending:
        return display(*args, **kwargs)  # the hook's holder takes the text
    sys.stdout = _Holder(real, pending, state.tls)
    try:
        return display(*args, **kwargs)
    finally:
        sys.stdout = out


class _Event(object):
    """Frames the text printed inside it as one event with context ctx:
    STATE.scoped(**ctx) around STATE.begin and STATE.end, under the lock,
    with sys.stdout holding the text for the event meanwhile (_Holder).
    A class rather than generator-made context managers: this runs for
    every event, and two of those cost as much as encoding the record."""

    __slots__ = ('ctx', 'saved', 'out')

    def __init__(self, ctx):
        self.ctx = ctx
        self.saved = None
        self.out = None

    def __enter__(self):
        STATE.lock.acquire()
        local = STATE.local()
        self.saved = dict(local) if local else None
        local.update(self.ctx)
        out = self.out = sys.stdout
        real = out._real if type(out) is _Holder else out
        try:
            STATE.begin(real)
        except BaseException:
            self._restore(local)
            raise
        sys.stdout = _Holder(real, STATE.tls.pending, STATE.tls)

    def __exit__(self, *exc):
        out, self.out = self.out, None
        sys.stdout = out
        try:
            STATE.end(out._real if type(out) is _Holder else out)
        finally:
            self._restore(STATE.local())
        return False

    def _restore(self, local):
        local.clear()
        if self.saved:
            local.update(self.saved)
        STATE.lock.release()


def _flushing(state, attr):
    """Makes Display's prompt methods write held events first: a prompt
    must follow the events before it on the terminal."""
    raw = inspect.getattr_static(Display, attr)
    static = isinstance(raw, staticmethod)
    func = getattr(Display, attr)
    if not inspect.isfunction(func):
        return

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if state.held:  # never in a forked worker: the lock may be stale there
            with state.lock:
                state.write_held()
        return func(*args, **kwargs)
    setattr(Display, attr, staticmethod(wrapper) if static else wrapper)


def _flagged(state, attr, func):
    # Cheaper than scoped(): Display.debug and friends run many times per
    # task in every worker, and only need their own flag set meanwhile.
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ctx = state.local()
        if ctx.get(attr):
            return func(*args, **kwargs)
        ctx[attr] = True
        try:
            return func(*args, **kwargs)
        finally:
            ctx.pop(attr, None)
    return wrapper


def _shared_state():
    # The module may be imported more than once; Display must be hooked once
    # and every copy must share one context.
    state = getattr(Display, '_arunner_state', None)
    if state is None:
        state = _State()
        _install(state)
        atexit.register(state.at_exit)
        Display._arunner_state = state
    return state


STATE = _shared_state()


def _original_callback():
    name = os.environ.get('ORIGINAL_STDOUT_CALLBACK', '')
    if not name:
        name = _ini_stdout_callback()
    if not name or name == OUR_NAME:
        name = 'minimal' if os.environ.get('AD_HOC_COMMAND_ID') else 'default'
    return name


def _ini_stdout_callback():
    """stdout_callback from ansible.cfg, which our env setting shadows."""
    try:
        path = C.config._config_file
        parser = C.config._parsers.get(path) if path else None
        if parser is not None and parser.has_option('defaults', 'stdout_callback'):
            return parser.get('defaults', 'stdout_callback').strip()
    except Exception:
        pass
    return ''


def _captured(res):
    """The result as the event carries it: as ansible handed it to the
    callbacks, with no_log censored as ansible-runner does.

    ansible gives each callback plugin its own copy of a result, and the
    stdout callback that prints our text (called with ours) edits it as it
    prints: the default callback drops "results" after a loop's items,
    debug's "changed", "item" and others (_clean_results), "warnings" and
    "exception". ansible-runner writes its event before that; ours is
    encoded when the event ends, so it keeps a copy made before the call.
    The top level is enough: ansible's and the collections' stdout
    callbacks only add or remove top-level keys of a result (the diff that
    v2_on_file_diff prints is another matter, see _captured_diff), and a
    copy of it costs little beside encoding the event."""
    if not isinstance(res, dict):
        return res
    if res.get('_ansible_no_log', False):
        return {'censored': CENSORED}
    res = dict(res)
    results = res.get('results')
    if isinstance(results, list) and any(isinstance(i, dict) and i.get('_ansible_no_log', False) for i in results):
        res['results'] = [{'censored': CENSORED} if isinstance(i, dict) and i.get('_ansible_no_log', False) else i
                          for i in results]
    return res


def _captured_diff(diff):
    """A copy of a result's diff (a dict or a list of them) as ansible
    handed it over: the stdout callback's _get_diff replaces "before" and
    "after" in each dict by the text it prints (a dict by its JSON, None by
    ""), and the event must carry the values."""
    if isinstance(diff, dict):
        return dict(diff)
    if isinstance(diff, list):
        return [dict(d) if isinstance(d, dict) else d for d in diff]
    return diff


def _task_context(task):
    action = task.action  # each attribute read goes through a descriptor
    ctx = {
        'task': task.name or action,
        'task_uuid': str(task._uuid),
        'task_action': action,
        'resolved_action': getattr(task, 'resolved_action', action),
        'task_args': '',
    }
    try:
        ctx['task_path'] = task.get_path()
    except AttributeError:
        pass
    if C.DISPLAY_ARGS_TO_STDOUT:
        if task.no_log:
            ctx['task_args'] = CENSORED
        else:
            ctx['task_args'] = ', '.join('%s=%s' % a for a in task.args.items())
    role = getattr(task, '_role', None)
    if role:
        name = role._role_name
        if hasattr(role, 'get_name'):
            resolved = role.get_name()
            if resolved != name:
                ctx['resolved_role'] = resolved
    else:
        name = getattr(task, 'role_name', '')
    if name:
        ctx['role'] = name
    return ctx


TASK_KEYS = ('task', 'task_path', 'task_uuid', 'task_action', 'task_args', 'resolved_action', 'role', 'resolved_role')


def _loop(task):
    return getattr(task, 'loop_with', None)


# ansible-core 2.19 renamed TaskResult's private _host/_task/_result to
# public attributes and deprecated the old ones; use whichever exists.
if hasattr(TaskResult, 'task'):
    _r_host = operator.attrgetter('host')
    _r_task = operator.attrgetter('task')
    _r_res = operator.attrgetter('result')
else:
    _r_host = operator.attrgetter('_host')
    _r_task = operator.attrgetter('_task')
    _r_res = operator.attrgetter('_result')


class CallbackModule(CallbackBase):
    """Frames every hook as an ansible-runner event around the user's callback."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = OUR_NAME

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        name = _original_callback()
        inner = callback_loader.get(name)
        if inner is None:
            raise AnsibleError('Invalid callback for stdout specified: %s' % name)
        self._inner = inner
        self.wants_implicit_tasks = getattr(inner, 'wants_implicit_tasks', False)
        self._host_start = {}
        self._task_uuids = {}
        self._play_uuids = {}
        self._adhoc = bool(os.environ.get('AD_HOC_COMMAND_ID'))

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._inner.set_options(task_keys=task_keys, var_options=var_options, direct=direct)

    def set_play_context(self, play_context):
        fn = getattr(self._inner, 'set_play_context', None)
        if fn:
            fn(play_context)

    def _call(self, name, *args, **kwargs):
        fn = getattr(self._inner, name, None)
        if fn is None and name.startswith('v2_'):
            fn = getattr(self._inner, name[3:], None)
        if fn is not None:
            return fn(*args, **kwargs)

    def _event(self, event, task=None, **data):
        """The event a hook's text is framed in: with self._event(...): ..."""
        data.setdefault('uuid', _new_uuid())
        if 'res' in data:
            data['res'] = _captured(data['res'])
        ctx = {'event': event}
        ctx.update(data)
        if task is not None and event not in EVENTS_WITHOUT_TASK:
            # The hook's own task wins over the shared one (they differ
            # under the free strategy).
            ctx.update(_task_context(task))
        return _Event(ctx)

    # context setters -----------------------------------------------------

    def _set_task_global(self, task):
        for key in TASK_KEYS:
            STATE.glob.pop(key, None)
        STATE.glob.update(_task_context(task))

    def _clear_play(self):
        for key in ('play', 'play_uuid', 'play_pattern') + TASK_KEYS:
            STATE.glob.pop(key, None)

    @staticmethod
    def _pattern(play):
        hosts = getattr(play, 'hosts', '')
        if isinstance(hosts, list):
            return ','.join(hosts)
        return hosts or ''

    def _timing(self, result):
        start = self._host_start.get(_r_host(result).get_name())
        if start:
            end = _utcnow()
            return start, end, (end - start).total_seconds()
        return None, None, None

    @staticmethod
    def _dedupe(seen, uid):
        # Free strategy and serial repeat a play or task uuid; ansible-runner
        # suffixes repeats with _<n>.
        n = seen.get(uid, 0) + 1
        seen[uid] = n
        return uid if n == 1 else '%s_%d' % (uid, n)

    # playbook hooks ------------------------------------------------------

    def v2_playbook_on_start(self, playbook):
        pb_uuid = _new_uuid()
        STATE.glob['playbook'] = getattr(playbook, '_file_name', '???')
        STATE.glob['playbook_uuid'] = pb_uuid
        self._clear_play()
        with self._event('playbook_on_start', uuid=pb_uuid):
            self._call('v2_playbook_on_start', playbook)

    def v2_playbook_on_vars_prompt(self, varname, private=True, prompt=None, encrypt=None, confirm=False,
                                   salt_size=None, salt=None, default=None, unsafe=None):
        with self._event('playbook_on_vars_prompt', varname=varname, private=private, prompt=prompt,
                         encrypt=encrypt, confirm=confirm, salt_size=salt_size, salt=salt,
                         default=default, unsafe=unsafe):
            self._call('v2_playbook_on_vars_prompt', varname, private, prompt, encrypt, confirm,
                       salt_size, salt, default, unsafe)

    def v2_playbook_on_include(self, included_file):
        name = included_file._filename if included_file is not None else None
        with self._event('playbook_on_include', included_file=name):
            self._call('v2_playbook_on_include', included_file)

    def v2_playbook_on_play_start(self, play):
        if self._adhoc:
            return
        play._uuid = self._dedupe(self._play_uuids, str(play._uuid))
        pattern = self._pattern(play)
        name = play.get_name().strip() or pattern
        self._clear_play()
        STATE.glob.update(play=name, play_uuid=str(play._uuid), play_pattern=pattern)
        with self._event('playbook_on_play_start', name=name, pattern=pattern, uuid=str(play._uuid)):
            self._call('v2_playbook_on_play_start', play)

    def v2_playbook_on_import_for_host(self, result, imported_file):
        with self._event('playbook_on_import_for_host'):
            self._call('v2_playbook_on_import_for_host', result, imported_file)

    def v2_playbook_on_not_import_for_host(self, result, missing_file):
        with self._event('playbook_on_not_import_for_host'):
            self._call('v2_playbook_on_not_import_for_host', result, missing_file)

    def v2_playbook_on_setup(self):
        with self._event('playbook_on_setup'):
            self._call('v2_playbook_on_setup')

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._adhoc:
            self._set_task_global(task)
            self._call('v2_playbook_on_task_start', task, is_conditional)
            return
        task_uuid = self._dedupe(self._task_uuids, str(task._uuid))
        self._set_task_global(task)
        with self._event('playbook_on_task_start', task=task, name=task.get_name(),
                         is_conditional=is_conditional, uuid=task_uuid):
            self._call('v2_playbook_on_task_start', task, is_conditional)

    def v2_playbook_on_cleanup_task_start(self, task):
        self._set_task_global(task)
        with self._event('playbook_on_task_start', task=task, name=task.get_name(),
                         uuid=str(task._uuid), is_conditional=True):
            self._call('v2_playbook_on_cleanup_task_start', task)

    def v2_playbook_on_handler_task_start(self, task):
        # ansible-runner reuses playbook_on_task_start with is_conditional
        # true, v1's marker of a handler.
        self._set_task_global(task)
        with self._event('playbook_on_task_start', task=task, name=task.get_name(),
                         uuid=str(task._uuid), is_conditional=True):
            self._call('v2_playbook_on_handler_task_start', task)

    def v2_playbook_on_no_hosts_matched(self):
        with self._event('playbook_on_no_hosts_matched'):
            self._call('v2_playbook_on_no_hosts_matched')

    def v2_playbook_on_no_hosts_remaining(self):
        with self._event('playbook_on_no_hosts_remaining'):
            self._call('v2_playbook_on_no_hosts_remaining')

    def v2_playbook_on_notify(self, handler, host):
        with self._event('playbook_on_notify', host=host.get_name(), handler=handler.get_name()):
            self._call('v2_playbook_on_notify', handler, host)

    def v2_playbook_on_stats(self, stats):
        self._clear_play()
        custom = getattr(stats, 'custom', None) or {}
        with self._event('playbook_on_stats', changed=stats.changed, dark=stats.dark,
                         failures=stats.failures, ignored=getattr(stats, 'ignored', 0),
                         ok=stats.ok, processed=stats.processed,
                         rescued=getattr(stats, 'rescued', 0), skipped=stats.skipped,
                         artifact_data=custom.get('_run', {})):
            self._call('v2_playbook_on_stats', stats)

    # runner hooks --------------------------------------------------------

    def v2_runner_on_start(self, host, task):
        self._host_start[host.get_name()] = _utcnow()
        with self._event('runner_on_start', task=task, host=host.get_name()):
            self._call('v2_runner_on_start', host, task)

    def v2_runner_on_ok(self, result):
        if _r_task(result).action in ('setup', 'gather_facts'):
            # ansible-runner strips the environment from fact results, which
            # also keeps it out of the -v text.
            facts = _r_res(result).get('ansible_facts')
            if isinstance(facts, dict):
                facts.pop('ansible_env', None)
        start, end, duration = self._timing(result)
        with self._event('runner_on_ok', task=_r_task(result), host=_r_host(result).get_name(),
                         remote_addr=_r_host(result).address, res=_r_res(result), start=start,
                         end=end, duration=duration, event_loop=_loop(_r_task(result))):
            self._call('v2_runner_on_ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        start, end, duration = self._timing(result)
        with self._event('runner_on_failed', task=_r_task(result), host=_r_host(result).get_name(),
                         remote_addr=_r_host(result).address, res=_r_res(result), start=start,
                         end=end, duration=duration, ignore_errors=ignore_errors,
                         event_loop=_loop(_r_task(result))):
            self._call('v2_runner_on_failed', result, ignore_errors)

    def v2_runner_on_skipped(self, result):
        start, end, duration = self._timing(result)
        with self._event('runner_on_skipped', task=_r_task(result), host=_r_host(result).get_name(),
                         remote_addr=_r_host(result).address, start=start, end=end,
                         duration=duration, event_loop=_loop(_r_task(result))):
            self._call('v2_runner_on_skipped', result)

    def v2_runner_on_unreachable(self, result):
        start, end, duration = self._timing(result)
        with self._event('runner_on_unreachable', task=_r_task(result), host=_r_host(result).get_name(),
                         remote_addr=_r_host(result).address, start=start, end=end,
                         duration=duration, res=_r_res(result)):
            self._call('v2_runner_on_unreachable', result)

    def v2_runner_on_no_hosts(self, task):
        with self._event('runner_on_no_hosts', task=task):
            self._call('v2_runner_on_no_hosts', task)

    def _async(self, event, result):
        with self._event(event, task=_r_task(result), host=_r_host(result).get_name(),
                         res=_r_res(result), jid=_r_res(result).get('ansible_job_id')):
            self._call('v2_' + event, result)

    def v2_runner_on_async_poll(self, result):
        self._async('runner_on_async_poll', result)

    def v2_runner_on_async_ok(self, result):
        self._async('runner_on_async_ok', result)

    def v2_runner_on_async_failed(self, result):
        self._async('runner_on_async_failed', result)

    def v2_runner_on_file_diff(self, result, diff):
        with self._event('runner_on_file_diff', task=_r_task(result), host=_r_host(result).get_name(),
                         diff=_captured_diff(diff)):
            self._call('v2_runner_on_file_diff', result, diff)

    def v2_on_file_diff(self, result):
        with self._event('runner_on_file_diff', task=_r_task(result), host=_r_host(result).get_name(),
                         diff=_captured_diff(_r_res(result).get('diff'))):
            self._call('v2_on_file_diff', result)

    def _item(self, event, result):
        with self._event(event, task=_r_task(result), host=_r_host(result).get_name(), res=_r_res(result)):
            self._call('v2_' + event, result)

    def v2_runner_item_on_ok(self, result):
        self._item('runner_item_on_ok', result)

    def v2_runner_item_on_failed(self, result):
        self._item('runner_item_on_failed', result)

    def v2_runner_item_on_skipped(self, result):
        self._item('runner_item_on_skipped', result)

    def v2_runner_retry(self, result):
        self._item('runner_retry', result)


def _forwarder(name):
    def forward(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)
    forward.__name__ = name
    return forward


# Hooks without an event of their own (v2_on_any, ...) go to the user's
# callback unchanged.
for _name in dir(CallbackBase):
    if _name.startswith('v2_') and _name not in CallbackModule.__dict__:
        setattr(CallbackModule, _name, _forwarder(_name))
