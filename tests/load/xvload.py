# SPDX-License-Identifier: LGPL-2.1-or-later
"""xenvirtd load harness (python3-libvirt, one connection per client thread).

Usage: xvload.py URI XENSIM-CTL CONTROL-SOCKET DAEMON-PID

Sets up XV_LOAD_DOMAINS domains (default 200): a quarter defined in XenD (inactive, managed), the
rest running guests created through xensim's control socket. Then XV_LOAD_CLIENTS clients (64)
run mixed operations for XV_LOAD_SECONDS (30) while xensim delays every XenD reply by
XV_LOAD_XEND_DELAY_MS (20): reads (list all, lookup + info, XML of a defined domain, node info,
list ids) and writes on domains each client owns alone (suspend/resume of its running domains,
redefinition and autostart of its defined one), so that the lifecycle events each write must
cause are known exactly. A listener connection counts the events it receives.

Asserts: no call fails, every client finishes (no lost reply), the listener receives exactly the
SUSPENDED/RESUMED/DEFINED-UPDATED events the writes caused (none lost, none duplicated), and the
daemon's fds and threads return to their baseline once the clients have gone. Prints the figures
(ops/s, peak RSS VmHWM) as TAP comments ("# ..."). Exit status 0 when every assertion holds.
"""

import collections
import os
import random
import subprocess
import sys
import threading
import time

import libvirt

libvirt.registerErrorHandler(lambda ctx, err: None, None)

URI, CTL, CONTROL, PID = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
N_DOMAINS = int(os.environ.get("XV_LOAD_DOMAINS", "200"))
N_CLIENTS = int(os.environ.get("XV_LOAD_CLIENTS", "64"))
SECONDS = float(os.environ.get("XV_LOAD_SECONDS", "30"))
DELAY_MS = int(os.environ.get("XV_LOAD_XEND_DELAY_MS", "20"))
SEED = int(os.environ.get("XV_LOAD_SEED", str(os.getpid())))
JOIN_GRACE = 120        # seconds past the run a client may take to finish its last call

EV_DEFINED, EV_SUSPENDED, EV_RESUMED = 0, 3, 4
DETAIL_DEFINED_UPDATED = 1


def ctl(*args):
    return subprocess.run([CTL, CONTROL] + list(args), check=True, stdout=subprocess.PIPE,
                          text=True).stdout


def proc_status(key):
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split()[1]
    raise KeyError(key)


def fd_count():
    return len(os.listdir("/proc/%d/fd" % PID))


def diag(msg):
    print("# " + msg, flush=True)


def dom_xml(name, uuid, memory_mib):
    return ("<domain type='xen'><name>%s</name><uuid>%s</uuid><memory>%d</memory><vcpu>1</vcpu>"
            "<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>"
            "<devices><disk type='file'><source file='/var/lib/xen/images/%s.img'/>"
            "<target dev='xvda'/></disk></devices></domain>" % (name, uuid, memory_mib * 1024, name))


def main():
    rng = random.Random(SEED)
    n_defined = max(N_CLIENTS, N_DOMAINS // 4)
    n_running = N_DOMAINS - n_defined
    assert n_running >= N_CLIENTS, "need at least one running domain per client"

    # ---- setup (no latency yet)
    ctl("xend", "delay", "0")
    setup = libvirt.open(URI)
    defined = ["ld-def-%d" % i for i in range(n_defined)]
    running = ["ld-run-%d" % i for i in range(n_running)]
    for i, name in enumerate(defined):
        setup.defineXML(dom_xml(name, "6f1a2b3c-0000-4000-8000-%012x" % (0x10000 + i), 64))
    for name in running:
        ctl("domain", "create", name, "32")
    deadline = time.time() + 30
    while time.time() < deadline:
        ids = setup.listDomainsID()
        if len(ids) >= n_running + 1:
            break
        time.sleep(0.2)
    names = set(d.name() for d in setup.listAllDomains(0))
    missing = [n for n in defined + running if n not in names]
    assert not missing, "domains not visible: %s" % missing[:5]
    setup.close()
    time.sleep(3)   # the setup's own events are out before the listener starts

    # ---- the event listener
    libvirt.virEventRegisterDefaultImpl()
    counts = collections.Counter()
    counts_lock = threading.Lock()

    def on_event(conn, dom, event, detail, opaque):
        with counts_lock:
            counts[(dom.name(), event, detail)] += 1

    listener = libvirt.open(URI)
    cb_id = listener.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_event, None)
    stop_loop = threading.Event()

    def event_loop():
        while not stop_loop.is_set():
            libvirt.virEventRunDefaultImpl()

    loop_thread = threading.Thread(target=event_loop, daemon=True)
    loop_thread.start()

    base_fds = fd_count()
    base_threads = int(proc_status("Threads"))
    diag("baseline: %d fds, %d threads, RSS %s kB, domains %d (%d running, %d defined)"
         % (base_fds, base_threads, proc_status("VmRSS"), N_DOMAINS, n_running, n_defined))

    # ---- the load
    ctl("xend", "delay", str(DELAY_MS))
    expected = collections.Counter()
    errors = []
    ops = collections.Counter()
    start_barrier = threading.Barrier(N_CLIENTS + 1)
    end_time = [0.0]

    def client(idx):
        crng = random.Random(SEED * 1000 + idx)
        own_running = running[idx::N_CLIENTS]
        own_defined = defined[idx::N_CLIENTS]
        paused = {n: False for n in own_running}
        version = {n: 0 for n in own_defined}
        auto = {n: False for n in own_defined}
        local_ops = collections.Counter()
        local_expected = collections.Counter()
        try:
            c = libvirt.open(URI)
        except libvirt.libvirtError as e:
            errors.append("client %d: open: %s" % (idx, e))
            start_barrier.wait()
            return
        start_barrier.wait()
        while time.time() < end_time[0]:
            op = crng.random()
            try:
                if op < 0.15:
                    c.listAllDomains(0)
                    local_ops["list_all"] += 1
                elif op < 0.45:
                    c.lookupByName(crng.choice(running)).info()
                    local_ops["lookup_info"] += 1
                elif op < 0.55:
                    c.lookupByName(crng.choice(defined)).XMLDesc(0)
                    local_ops["xml_inactive"] += 1
                elif op < 0.60:
                    c.getInfo()
                    local_ops["node_info"] += 1
                elif op < 0.70:
                    c.listDomainsID()
                    local_ops["list_ids"] += 1
                elif op < 0.85:
                    n = crng.choice(own_running)
                    d = c.lookupByName(n)
                    if paused[n]:
                        d.resume()
                        local_expected[(n, EV_RESUMED, 0)] += 1
                        local_ops["resume"] += 1
                    else:
                        d.suspend()
                        local_expected[(n, EV_SUSPENDED, 0)] += 1
                        local_ops["suspend"] += 1
                    paused[n] = not paused[n]
                elif op < 0.95:
                    n = crng.choice(own_defined)
                    version[n] += 1
                    uuid = c.lookupByName(n).UUIDString()
                    c.defineXML(dom_xml(n, uuid, 64 + version[n] % 64))
                    local_expected[(n, EV_DEFINED, DETAIL_DEFINED_UPDATED)] += 1
                    local_ops["redefine"] += 1
                else:
                    n = crng.choice(own_defined)
                    auto[n] = not auto[n]
                    c.lookupByName(n).setAutostart(1 if auto[n] else 0)
                    local_ops["autostart"] += 1
            except libvirt.libvirtError as e:
                errors.append("client %d: %s" % (idx, e))
                break
        # Leave every owned domain running, so that the next run starts from the same state.
        try:
            for n, p in paused.items():
                if p:
                    c.lookupByName(n).resume()
                    local_expected[(n, EV_RESUMED, 0)] += 1
                    local_ops["resume"] += 1
            c.close()
        except libvirt.libvirtError as e:
            errors.append("client %d: cleanup: %s" % (idx, e))
        with counts_lock:
            ops.update(local_ops)
            expected.update(local_expected)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(N_CLIENTS)]
    for t in threads:
        t.start()
    end_time[0] = time.time() + SECONDS
    t0 = time.time()
    start_barrier.wait()
    peak_fds = peak_threads = 0
    while any(t.is_alive() for t in threads) and time.time() < t0 + SECONDS + JOIN_GRACE:
        peak_fds = max(peak_fds, fd_count())
        peak_threads = max(peak_threads, int(proc_status("Threads")))
        time.sleep(0.5)
    elapsed = time.time() - t0
    alive = [i for i, t in enumerate(threads) if t.is_alive()]
    ctl("xend", "delay", "0")
    assert not alive, "clients still waiting for a reply after %d s: %s" % (SECONDS + JOIN_GRACE, alive)
    total = sum(ops.values())
    diag("%d clients, %.0f s, XenD latency %d ms: %d calls, %.1f calls/s" %
         (N_CLIENTS, elapsed, DELAY_MS, total, total / elapsed))
    diag("calls: " + ", ".join("%s %d" % kv for kv in sorted(ops.items())))
    diag("daemon peak RSS (VmHWM) %s kB, now %s kB; peak %d fds, %d threads" %
         (proc_status("VmHWM"), proc_status("VmRSS"), peak_fds, peak_threads))
    for e in errors[:10]:
        diag("ERROR " + e)
    assert not errors, "%d call(s) failed" % len(errors)
    assert total > 0

    # ---- events: exactly the ones the writes caused
    deadline = time.time() + 30
    while time.time() < deadline:
        with counts_lock:
            got = {k: counts[k] for k in expected}
        if got == dict(expected):
            break
        time.sleep(0.2)
    with counts_lock:
        relevant = collections.Counter({k: v for k, v in counts.items()
                                        if k[1] in (EV_SUSPENDED, EV_RESUMED) or
                                        (k[1] == EV_DEFINED and k[2] == DETAIL_DEFINED_UPDATED)})
    lost = expected - relevant
    extra = relevant - expected
    diag("events: %d expected, %d received, %d lost, %d unexpected" %
         (sum(expected.values()), sum(relevant.values()), sum(lost.values()), sum(extra.values())))
    for k, v in list(lost.items())[:5]:
        diag("lost %dx %s" % (v, k))
    for k, v in list(extra.items())[:5]:
        diag("unexpected %dx %s" % (v, k))
    stop_loop.set()
    listener.domainEventDeregisterAny(cb_id)
    listener.close()
    assert not lost and not extra, "events do not match the state changes made"

    # ---- back to baseline
    deadline = time.time() + 30
    while time.time() < deadline:
        if fd_count() <= base_fds - 1 and int(proc_status("Threads")) <= base_threads:
            break
        time.sleep(0.2)
    fds, nthreads = fd_count(), int(proc_status("Threads"))
    diag("after: %d fds (baseline %d with the listener), %d threads (baseline %d)" %
         (fds, base_fds, nthreads, base_threads))
    # The listener's connection is gone too: one fd fewer than the baseline.
    assert fds <= base_fds - 1, "fds not back to baseline: %d > %d" % (fds, base_fds - 1)
    assert nthreads <= base_threads, "threads not back to baseline: %d > %d" % (nthreads, base_threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
