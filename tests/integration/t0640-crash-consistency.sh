#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Crash consistency (issue 10): xenvirtd is killed with SIGKILL at random moments while clients
# define (a new version of), undefine and switch autostart of domains, 50 times for the XM
# directory (xend config version 2: the daemon writes the files) and 25 times for XenD's managed
# domains (version 4). After every restart each config is the old or the new version, never torn:
# every file of the XM directory parses (as Python, which the XM format is) and no temporary file
# is left, and XenD's managed store, read directly from xensim, holds old or new versions only.
# In the XM directory the daemon pauses before and after every unlink, rename and symlink
# (slow-fs.c, preloaded), so that kills land between the steps of one change (a temporary file and
# its rename, a config and its autostart link); then each kind of change is killed 15 more times,
# before, between and after its steps, with 150 ms pauses.
#
# The daemon runs socket-activated by a stand-in for systemd that holds the listening sockets
# across restarts (as a .socket unit does): a client that connects while the daemon is down is
# served once it is back, each time.

. "$(dirname "$0")/lib.sh"

test_require_python_libvirt
XV_SLOW_FS=$XV_BUILDDIR/tests/integration/.libs/slow-fs.so
[ -f "$XV_SLOW_FS" ] || skip_all "tests/integration/slow-fs.la is not built"
export XV_SLOW_FS
sandbox_up --xend-config-version 2

cat >"$TEST_DIR/crash.py" <<-\PY
import glob, os, random, re, signal, socket, subprocess, sys, threading, time
import libvirt

libvirt.registerErrorHandler(lambda ctx, err: None, None)
mode, act, iterations, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
xm_dir = os.environ["XENSIM_XM_DIR"]
rng = random.Random(seed)
NAMES = ["cc%d" % i for i in range(4)]
UUIDS = {n: "6f1a2b3c-0000-4000-8000-0000000cc%03d" % i for i, n in enumerate(NAMES)}

# The stand-in for systemd: the listening sockets live here, the daemon gets them as fds 3 and 4.
os.makedirs(act, exist_ok=True)
socks = []
for n in ("rw", "ro"):
    p = os.path.join(act, "sock-" + n)
    if os.path.exists(p):
        os.unlink(p)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(p)
    s.listen(64)
    socks.append(s)
uri = "xen:///system?socket=" + os.path.join(act, "sock-rw")
log = open(os.path.join(act, "xenvirtd.log"), "a")

# How long the daemon pauses before and after each unlink, rename and symlink in the XM directory
# (slow-fs.c), so that kills land between the steps of one change.
SLOW_STEP = 0.02

def spawn():
    script = ('exec 3<&"$XV_RW_FD" 4<&"$XV_RO_FD"; '
              'export LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=rw:ro; exec "$@"')
    env = dict(os.environ, XV_RW_FD=str(socks[0].fileno()), XV_RO_FD=str(socks[1].fileno()))
    if mode == "xm":
        env.update(LD_PRELOAD=os.environ["XV_SLOW_FS"], XV_SLOW_FS_DIR=xm_dir,
                   XV_SLOW_FS_USEC=str(int(SLOW_STEP * 1e6)),
                   ASAN_OPTIONS=env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
    return subprocess.Popen(["sh", "-c", script, "sh", os.path.join(os.environ["XV_BUILDDIR"], "daemon/xenvirtd"),
                             "--config", os.path.join(act, "empty.conf"), "--pid-file", os.path.join(act, "pid"),
                             "--xend-socket", os.environ["XEND_SOCKET"], "--xm-dir", xm_dir,
                             "--host-root", os.environ["XENSIM_ROOT"],
                             "--rw-socket", os.path.join(act, "unused-rw"), "--ro-socket", os.path.join(act, "unused-ro")],
                            env=env, pass_fds=[s.fileno() for s in socks], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log)
open(os.path.join(act, "empty.conf"), "w").close()

def xml(name, version):
    return ("<domain type='xen'><name>%s</name><uuid>%s</uuid><memory>%d</memory><vcpu>1</vcpu>"
            "<os><type>linux</type><kernel>/boot/vmlinuz-%d</kernel></os>"
            "<devices><disk type='file'><source file='/var/lib/xen/images/%s.img'/><target dev='xvda'/></disk>"
            "</devices></domain>" % (name, UUIDS[name], (64 + version) * 1024, version, name))

# What each domain may be: None (not defined) or a version number, and its autostart.
state = {n: None for n in NAMES}
auto = {n: False for n in NAMES}

def xm_store():
    """name -> (version, autostart) as the XM directory holds them; fails on anything torn."""
    found = {}
    for f in sorted(os.listdir(xm_dir)):
        p = os.path.join(xm_dir, f)
        if f == "auto" or not os.path.isfile(p):
            continue
        assert not f.startswith("."), "temporary file left behind: %s" % f
        assert re.fullmatch(r"cc\d", f), "unexpected file %s" % f
        cfg = {}
        exec(compile(open(p).read(), p, "exec"), {}, cfg)     # the XM format is Python
        assert cfg["name"] == f, (f, cfg.get("name"))
        assert cfg["uuid"] == UUIDS[f], cfg
        version = int(cfg["memory"]) - 64
        assert cfg["kernel"] == "/boot/vmlinuz-%d" % version, ("torn", f, cfg)
        found[f] = [version, False]
    for l in glob.glob(os.path.join(xm_dir, "auto", "*")):
        n = os.path.basename(l)
        assert n in found, "autostart link %s without a config" % n
        assert os.path.realpath(l) == os.path.realpath(os.path.join(xm_dir, n)), l
        found[n][1] = True
    return found

def xend_store():
    """name -> (version, autostart) as xensim's XenD holds the managed domains."""
    out = subprocess.run(["curl", "-sf", "--unix-socket", os.environ["XEND_SOCKET"],
                          "http://localhost/xend/domain?detail=1&state=all"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    found = {}
    for seg in out.split("(domain ")[1:]:
        name = re.search(r"\(name ([^)]*)\)", seg).group(1)
        if name == "Domain-0":
            continue
        assert name in NAMES and name not in found, ("unexpected or duplicate domain", name, out)
        assert "(uuid %s)" % UUIDS[name] in seg, seg
        mem = int(re.search(r"\(memory (\d+)\)", seg).group(1))
        k = re.search(r"\(kernel /boot/vmlinuz-(\d+)\)", seg)
        assert k and int(k.group(1)) == mem - 64, ("torn", name, seg)
        found[name] = [mem - 64, "(on_xend_start start)" in seg]
    return found

store = xm_store if mode == "xm" else xend_store

def check(before, op):
    """The store holds, for every domain, the state before or after the interrupted op."""
    now = store()
    for n in NAMES:
        got = tuple(now[n]) if n in now else None
        allowed = {before[n]}
        if op and op[1] == n:
            allowed.add(op[2])
        assert got in allowed, ("domain", n, "holds", got, "allowed", allowed, "op", op)
    return now

def current():
    return {n: (state[n], auto[n]) if state[n] is not None else None for n in NAMES}

def run_op(conn, op):
    kind, n = op[0], op[1]
    if kind == "define":
        conn.defineXML(xml(n, op[2][0]))
    elif kind == "undefine":
        conn.lookupByName(n).undefine()
    else:
        conn.lookupByName(n).setAutostart(1 if op[2][1] else 0)

if mode == "xend":
    subprocess.run([os.environ["XENSIM_CTL"], os.environ["XENSIM_CONTROL"], "xend", "delay", "40"], check=True)
child = spawn()
interrupted = completed = served_while_down = 0

def kill_during(op, delay):
    """Runs op on a new connection, kills the daemon @delay seconds after it connected, restarts
    it, and checks that the store holds the old or the new state and the daemon agrees."""
    global child, interrupted, completed, served_while_down
    before = current()
    n = op[1]
    done = {}
    connected = threading.Event()
    def worker():
        try:
            c = libvirt.open(uri)
            connected.set()
            run_op(c, op)
            done["ok"] = True
        except libvirt.libvirtError as e:
            done["err"] = str(e)
        connected.set()
    t = threading.Thread(target=worker)
    t.start()
    connected.wait(30)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    # A client connecting while the daemon is down waits in the held socket's backlog.
    res = {}
    def waiting_client():
        c = libvirt.open(uri)
        res["ids"] = c.listDomainsID()
    w = threading.Thread(target=waiting_client)
    w.start()
    time.sleep(0.2)
    down_wait = w.is_alive()
    child = spawn()
    # The op's client saw the kill (an error), or had not connected yet and is served now.
    t.join(30)
    assert not t.is_alive(), "client hung after the restart"
    if "ok" in done:
        completed += 1
    else:
        interrupted += 1
    w.join(30)
    assert not w.is_alive() and "ids" in res and 0 in res["ids"], ("waiting client not served", res)
    served_while_down += down_wait
    # After the restart the daemon has opened the store (and cleaned what an interrupted write left).
    c = libvirt.open(uri)
    c.listAllDomains(0)
    now = check(before, op)
    for m in NAMES:
        state[m], auto[m] = (now[m][0], now[m][1]) if m in now else (None, False)
    if "ok" in done:
        assert current()[n] == op[2], ("a completed op is not in the store", op, current()[n])
    # What the daemon says agrees with the store.
    for m in NAMES:
        if state[m] is None:
            try:
                c.lookupByName(m)
                raise AssertionError("%s still defined" % m)
            except libvirt.libvirtError:
                pass
        else:
            d = c.lookupByName(m)
            assert d.maxMemory() == (64 + state[m]) * 1024, (m, d.maxMemory(), state[m])
            assert bool(d.autostart()) == auto[m], (m, d.autostart(), auto[m])
    c.close()

# Random ops, killed at random moments. Every third kill comes right after the connection is up,
# so that some kills land before or during the op on any machine; the others up to 150 ms later
# (each step of an XM change takes 2 x 20 ms) or 0.8 s (XenD answers 40 ms late).
for it in range(iterations):
    n = rng.choice(NAMES)
    if state[n] is None:
        op = ("define", n, (it + 1, False))
    else:
        kind = rng.choice(["define", "define", "undefine", "autostart"])
        if kind == "define":
            op = ("define", n, (it + 1, auto[n]))
        elif kind == "undefine":
            op = ("undefine", n, None)
        else:
            op = ("autostart", n, (state[n], not auto[n]))
    kill_during(op, 0.0 if it % 3 == 0 else rng.uniform(0.0, 0.15 if mode == "xm" else 0.8))

if mode == "xm":
    # Every kind of change, killed before its first step, between its steps and after its last
    # one: with the daemon pausing STEP seconds before and after each step, a kill 0.5, 2 and 3.5
    # STEPs after the call lands in those windows whatever the machine's speed.
    STEP = 0.15
    def settle(n, version, autostart):
        """Brings n to (version, autostart) with completed ops; version None undefines it."""
        c = libvirt.open(uri)
        if version is None:
            if state[n] is not None:
                c.lookupByName(n).undefine()
        else:
            c.defineXML(xml(n, version))
            c.lookupByName(n).setAutostart(1 if autostart else 0)
        c.close()
        state[n], auto[n] = version, (autostart if version is not None else False)
        now = store()
        assert current() == {m: tuple(now[m]) if m in now else None for m in NAMES}, ("settle", n, current(), now)
    child.send_signal(signal.SIGTERM)
    child.wait()
    SLOW_STEP = STEP
    child = spawn()
    version = iterations + 1
    cases = [((None, False), ("define", "cc0", (version, False))),          # a new domain
             ((version, True), ("define", "cc0", (version + 1, True))),     # redefined, autostart kept
             ((version, True), ("undefine", "cc0", None)),                  # config and link go
             ((version, False), ("autostart", "cc0", (version, True))),
             ((version, True), ("autostart", "cc0", (version, False)))]
    for setup, op in cases:
        for k in (0.5, 2.0, 3.5):
            settle("cc0", *setup)
            kill_during(op, k * STEP)
child.send_signal(signal.SIGTERM)
child.wait()
print("# %s: %d kills: %d ops completed, %d failed with the kill (the store kept the old or the new version), %d clients served after waiting for the restart"
      % (mode, completed + interrupted, completed, interrupted, served_while_down))
assert served_while_down > 0
assert interrupted > 0, "no kill hit an operation in flight"
PY

stop_sandbox_daemon() {
	local pid
	pid=$(cat "$sandbox_dir/xenvirtd.pid")
	kill -TERM "$pid" || return 1
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}

test_expect_success 'XM directory: 50 random and 15 placed kills during define/undefine/autostart, never torn' '
	stop_sandbox_daemon &&
	"$TEST_PYTHON" "$TEST_DIR/crash.py" xm "$TEST_DIR/act-xm" 50 "${XV_TEST_SEED:-$$}" >crash.out 2>&1;
	rc=$?; cat crash.out; test $rc = 0
'
grep '^# ' "$TEST_DIR/crash.out" 2>/dev/null

test_expect_success 'XenD managed domains: 25 kills during define/undefine/autostart, never torn' '
	"$SANDBOX" down "$sandbox_dir" >/dev/null &&
	"$SANDBOX" up "$sandbox_dir" --xend-config-version 4 >/dev/null &&
	. "$sandbox_dir/env" && export XEND_SOCKET XENSIM_XM_DIR XENSIM_ROOT &&
	stop_sandbox_daemon &&
	"$TEST_PYTHON" "$TEST_DIR/crash.py" xend "$TEST_DIR/act-xend" 25 "${XV_TEST_SEED:-$$}" >crash.out 2>&1;
	rc=$?; cat crash.out; test $rc = 0
'
grep '^# ' "$TEST_DIR/crash.out" 2>/dev/null

test_done
