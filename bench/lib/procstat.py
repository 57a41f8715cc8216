"""What a server process costs, read from /proc: CPU seconds (user + system, all threads)
and resident memory, summed over the process and its children (nginx's workers); and the
steal time of CPUs, for telling a slow round from a round the hypervisor took time from."""

import os

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name may hold spaces; the fields after it are fixed.
    return text[text.rindex(")") + 2 :].split()


def tree(pid):
    """`pid` and every live descendant."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(_stat(entry)[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mib(pids):
    return sum(_status_kib(p, "VmRSS") for p in pids) / 1024


def peak_rss_mib(pids):
    return sum(_status_kib(p, "VmHWM") for p in pids) / 1024


def reset_peak_rss(pids):
    """Starts a new peak from the current RSS (Linux 4.0+: clear_refs 5)."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


def cpus(cpu_list):
    """The CPU numbers of a taskset list such as "0" or "1-3"."""
    first, _, last = cpu_list.partition("-")
    return range(int(first), int(last or first) + 1)


def steal_seconds(cpu_list):
    """Seconds the hypervisor ran something else while these CPUs had work (the `steal`
    column of /proc/stat), summed over the CPUs, since boot. On bare metal it stays 0."""
    wanted = {f"cpu{n}" for n in cpus(cpu_list)}
    total = 0
    with open("/proc/stat") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] in wanted and len(fields) > 8:
                total += int(fields[8])
    return total / TICKS
