"""A two-node Ray cluster on one machine — two network namespaces joined by a veth pair — and a
sweep whose trials land on both nodes, checked against the same sweep on the local pool.

    sudo .venv/bin/python scripts/ray_two_nodes.py [--out /tmp/ray_two_nodes] [--keep]

What it builds (Linux, root, Debian's iproute2)::

    namespace dl-head (10.213.0.1/24) ── veth dl-h0 ═══ dl-w0 ── namespace dl-worker (10.213.0.2/24)
      ray start --head, 1 CPU                     ray start --address=10.213.0.1:6379, 1 CPU
      descentlab sweep --ray-address 10.213.0.1:6379 --workers 2

Each node is a separate host as far as the network goes: its own interfaces, addresses and ports,
reachable from the other only over the veth link. The private addresses exist inside the two
namespaces only; nothing is routed to or from the machine's own network. What the nodes still
share is the file system and the process table (like two containers of one machine): the
worker node gets its own Ray temporary folder so that the two raylets' sockets do not collide.

Then the same sweep runs on the local pool outside the namespaces, and the script checks that
(1) every trial's record is the same, number for number, and (2) the trials ran on both nodes
(the ``worker`` field holds the node's address). Exit status 0 when both hold. The namespaces
and the Ray processes are removed at the end (``--keep`` leaves them for a look).

``ray stop`` is not used: it would stop every Ray process of the machine; the script ends the
processes of its own two nodes by their process ids.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HEAD, WORKER = "dl-head", "dl-worker"
HEAD_IP, WORKER_IP = "10.213.0.1", "10.213.0.2"
PORT = 6379
SWEEP = ["--optimizers", "sgd,adam", "--learning-rate", "0.01:1:3", "--width", "16",
         "--epochs", "5", "--seeds", "0,1", "--quiet"]


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True)


def in_ns(ns: str, *args: str, env: dict | None = None, check: bool = True
          ) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True, text=True,
                            env=env)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {ns}:\n{result.stdout}\n{result.stderr}")
    return result


def build_network() -> None:
    teardown_network()
    sh("ip", "netns", "add", HEAD)
    sh("ip", "netns", "add", WORKER)
    sh("ip", "link", "add", "dl-h0", "netns", HEAD, "type", "veth", "peer", "name", "dl-w0",
       "netns", WORKER)
    for ns, dev, ip in ((HEAD, "dl-h0", HEAD_IP), (WORKER, "dl-w0", WORKER_IP)):
        in_ns(ns, "ip", "link", "set", "lo", "up")
        in_ns(ns, "ip", "addr", "add", f"{ip}/24", "dev", dev)
        in_ns(ns, "ip", "link", "set", dev, "up")


def teardown_network() -> None:
    for ns in (HEAD, WORKER):
        sh("ip", "netns", "del", ns, check=False)


def ray_pids_in(ns: str) -> list[int]:
    """Process ids of the processes whose network namespace is ``ns`` (`ip netns pids`)."""
    out = sh("ip", "netns", "pids", ns, check=False).stdout.split()
    return [int(p) for p in out]


def stop_nodes() -> None:
    for ns in (WORKER, HEAD):
        for pid in ray_pids_in(ns):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    time.sleep(2)
    for ns in (WORKER, HEAD):
        for pid in ray_pids_in(ns):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/ray_two_nodes")
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (ip netns).")
    bin_dir = os.path.dirname(sys.executable)
    ray_cli, descentlab_cli = os.path.join(bin_dir, "ray"), os.path.join(bin_dir, "descentlab")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["RAY_AUTH_MODE"] = "token"  # every node and the driver present the token in ~/.ray
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)

    try:
        build_network()
        started = time.perf_counter()
        in_ns(HEAD, ray_cli, "start", "--head", f"--node-ip-address={HEAD_IP}", f"--port={PORT}",
              "--num-cpus=1", "--include-dashboard=false", "--disable-usage-stats", env=env)
        in_ns(WORKER, ray_cli, "start", f"--address={HEAD_IP}:{PORT}",
              f"--node-ip-address={WORKER_IP}", "--num-cpus=1",
              "--temp-dir=/tmp/ray_dl_worker", env=env)
        print(f"two nodes up in {time.perf_counter() - started:.1f} s: {HEAD_IP} (head), "
              f"{WORKER_IP}")
        status = in_ns(HEAD, ray_cli, "status", f"--address={HEAD_IP}:{PORT}", env=env)
        print("\n".join(line for line in status.stdout.splitlines() if "node_" in line
                        or "CPU" in line))

        cluster_out = os.path.join(args.out, "cluster")
        started = time.perf_counter()
        in_ns(HEAD, descentlab_cli, "sweep", *SWEEP, "--ray-address", f"{HEAD_IP}:{PORT}",
              "--workers", "2", "--out", cluster_out, env=env)
        print(f"sweep on the cluster: {time.perf_counter() - started:.1f} s")
    finally:
        if not args.keep:
            stop_nodes()
            teardown_network()
            shutil.rmtree("/tmp/ray_dl_worker", ignore_errors=True)

    local_out = os.path.join(args.out, "local")
    subprocess.run([descentlab_cli, "sweep", *SWEEP, "--workers", "2", "--out", local_out],
                   check=True, capture_output=True)

    def records(folder: str) -> dict:
        with open(os.path.join(folder, "results.json"), encoding="utf-8") as stream:
            return {r["id"]: r for r in json.load(stream)["trials"]}

    cluster, local = records(cluster_out), records(local_out)
    strip = ("seconds", "worker", "attempts")
    same = cluster.keys() == local.keys() and all(
        {k: v for k, v in cluster[i].items() if k not in strip}
        == {k: v for k, v in local[i].items() if k not in strip} for i in local)
    nodes: dict[str, int] = {}
    for rec in cluster.values():
        node = rec["worker"].split(":")[0]
        nodes[node] = nodes.get(node, 0) + 1
    print(f"trials per node: {nodes}")
    print(f"records equal to the local pool's: {'yes' if same else 'NO'} ({len(local)} trials)")
    if not same or set(nodes) != {HEAD_IP, WORKER_IP}:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
