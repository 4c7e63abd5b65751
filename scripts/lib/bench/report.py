#!/usr/bin/python3
"""Turns scripts/bench.sh's runs.jsonl into results.json and results.md and prints the table and
the targets (PASS/MISS). Usage: report.py RUNS.jsonl OUT.json OUT.md COMMAND"""
import json
import statistics
import sys

runs_path, json_path, md_path, command = sys.argv[1:5]
runs, notes = [], {}
for line in open(runs_path):
    r = json.loads(line)
    if "note" in r:
        notes[r["note"]] = r["value"]
    else:
        runs.append(r)


def agg(scen, tool):
    rs = [r for r in runs if r["scenario"] == scen and r["tool"] == tool]
    if not rs:
        return None
    secs = [r["seconds"] for r in rs]
    return {
        "runs": len(rs),
        "seconds": secs,
        "median": statistics.median(secs),
        "min": min(secs),
        "max": max(secs),
        "uploaded_median": statistics.median(r["uploaded"] for r in rs),
        "sent_median": statistics.median(r["sent"] for r in rs),
        "peak_rss_kb": max(r["rss_kb"] for r in rs),
        "cpu_median": statistics.median(r.get("cpu_seconds", 0) for r in rs),
    }


SCENARIOS = [
    ("pigz", "reference: tar jars/ | pigz -p 2 -6", "pigz", None),
    ("cold", "1) cold build+push (spark), empty cache, base in registry", "ours", "docker"),
    ("cold-zstd", "1b) cold build+push --compression zstd", "ours", None),
    ("nochange", "2) rebuild+push, no change", "ours", "docker"),
    ("onejar", "3) rebuild+push after adding one ~1 MiB jar", "ours", "docker"),
    ("ci", "4) CI: fresh store / fresh daemon, registry holds the release", "ours", "docker"),
    ("pushonly", "push only: existing OCI layout -> registry", "ours", "skopeo"),
    ("py-spark", "5a) spark only, python base", "ours", None),
    ("py-both", "5b) spark + spark-py, python base", "ours", "docker"),
    ("preload-cold", "6a) preload cold (empty daemon) vs docker save | docker load", "ours", "docker"),
    ("preload-warm", "6b) preload warm (no change) vs docker save | docker load", "ours", "docker"),
    ("preload-onejar", "6c) preload after one jar vs docker save | docker load", "ours", "docker"),
    ("kind-cold", "10a) preload into a kind node, cold, vs docker save | docker exec ctr import (kind load)", "ours", "docker"),
    ("kind-warm", "10b) preload into a kind node, warm, vs the same", "ours", "docker"),
    ("kind-onejar", "10c) preload into a kind node after one jar vs the same", "ours", "docker"),
    ("crio-cold", "11a) preload into a cri-o node (podman) through minikube ssh, cold, vs docker save | podman load (minikube image load)", "ours", "docker"),
    ("crio-warm", "11b) preload into a cri-o node, warm, vs the same", "ours", "docker"),
    ("crio-onejar", "11c) preload into a cri-o node after one jar vs the same", "ours", "docker"),
    ("pull", "7) docker pull of our image into an empty daemon: split jars (first column) vs jars in one layer", "split", "unsplit"),
    ("run-cold", "8a) RUN: stock-style Dockerfile with apt, cold build+push (docker: BuildKit, --network host)", "ours", "docker"),
    ("run-onejar", "8b) RUN: stock-style Dockerfile, build+push after one jar changed", "ours", "docker"),
    ("pull-ctr", "7b) ctr pull (containerd, overlayfs, unpacked) into an empty containerd: split jars vs jars in one layer", "split", "unsplit"),
]
COMPETITOR_NAMES = {"docker": "docker-image-tool.sh", "skopeo": "skopeo copy", "pigz": "pigz", "unsplit": "docker pull, --no-split-layers image"}
PRELOAD_COMPETITOR = "docker save | docker load"
KIND_COMPETITOR = "docker save | docker exec NODE ctr images import"
CRIO_COMPETITOR = "docker save | podman load"

results = {}
for scen, title, a, b in SCENARIOS:
    ra, rb = agg(scen, a), (agg(scen, b) if b else None)
    if ra is None and rb is None:
        continue
    entry = {"title": title, "tools": {}}
    if ra:
        entry["tools"]["spark-image-tool" if a == "ours" else a] = ra
    if rb:
        name = (PRELOAD_COMPETITOR if scen.startswith("preload") else KIND_COMPETITOR if scen.startswith("kind")
                else CRIO_COMPETITOR if scen.startswith("crio") else COMPETITOR_NAMES[b])
        entry["tools"][name] = rb
        if ra:
            entry["ratio_ours_over_competitor"] = ra["median"] / rb["median"]
    results[scen] = entry


def fmt_s(x):
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def fmt_b(n):
    n = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def md_escape(text):
    return text.replace("|", "\\|")


def cell(t):
    return f"{fmt_s(t['median'])} s ({fmt_s(t['min'])}–{fmt_s(t['max'])}, n={t['runs']})"


def cpu(t):
    return f"{fmt_s(t['cpu_median'])} s CPU"


rows = ["| scenario | spark-image-tool | competitor | competitor time | ratio ours/comp. | bytes uploaded (ours / comp.) | sent to daemon (ours / comp.) | peak RSS ours |",
        "|---|---|---|---|---|---|---|---|"]
for scen, e in results.items():
    tools = list(e["tools"].items())
    ours = e["tools"].get("spark-image-tool")
    comp_name, comp = next(((n, t) for n, t in tools if n != "spark-image-tool"), (None, None))
    if scen == "pigz":
        ours, comp_name, comp = None, "pigz -p 2 -6 (jars)", e["tools"]["pigz"]
    if scen in ("pull", "pull-ctr"):
        split = e["tools"].get("split")
        comp_name = COMPETITOR_NAMES["unsplit"]
        comp = e["tools"].get(comp_name)
        rows.append(f"| {md_escape(e['title'])} | {cell(split) if split else '–'} ({notes.get('image.layers_split')} layers) | {md_escape(comp_name or '–')} ({notes.get('image.layers_unsplit')} layers) | {cell(comp) if comp else '–'} | {e.get('ratio_ours_over_competitor', float('nan')):.3f} | – | – | – |")
        continue
    ratio = f"{e['ratio_ours_over_competitor']:.3f}" if "ratio_ours_over_competitor" in e else "–"
    up = f"{fmt_b(ours['uploaded_median']) if ours else '–'} / {fmt_b(comp['uploaded_median']) if comp and scen != 'pigz' else '–'}"
    sent = f"{fmt_b(ours['sent_median'])} / –" if scen.startswith(("preload", "kind", "crio")) and ours else "–"
    rss = f"{ours['peak_rss_kb'] / 1024:.0f} MiB" if ours else "–"
    rows.append(f"| {md_escape(e['title'])} | {cell(ours) if ours else '–'} | {md_escape(comp_name or '–')} | {cell(comp) if comp else '–'} | {ratio} | {up} | {sent} | {rss} |")


def run_cached_ms():
    """A cached RUN's cost: no-change rebuilds of 21 cached RUNs minus those of 1, per RUN."""
    one, many = agg("run-cached", "runs-1"), agg("run-cached", "runs-21")
    return (one, many, 1000 * (many["median"] - one["median"]) / 20) if one and many else None


cached = run_cached_ms()
if cached:
    one, many, ms = cached
    cpu_ms = 1000 * (many["cpu_median"] - one["cpu_median"]) / 20
    rows.append(f"| 8c) a cached RUN: (no-change rebuild of 21 cached RUNs − of 1) / 20 | {ms:.1f} ms per RUN ({cpu_ms:.1f} ms CPU) | no-change rebuilds | "
                f"21 RUNs {cell(many)}, 1 RUN {cell(one)} | – | – | – | {many['peak_rss_kb'] / 1024:.0f} MiB |")


def snapshot(fs):
    """The JRE base's snapshot: `build -n` without the snapshot minus with it; tar -xzf of the blob."""
    unpack, reuse, tar = agg(f"snapshot-{fs}", "unpack"), agg(f"snapshot-{fs}", "reuse"), agg(f"snapshot-{fs}", "tar")
    if not (unpack and reuse and tar):
        return None
    return unpack["median"] - reuse["median"], unpack["cpu_median"] - reuse["cpu_median"], unpack, reuse, tar


for fs in ("ext4", "tmpfs"):
    snap = snapshot(fs)
    if snap:
        secs, cpu_secs, unpack, reuse, tar = snap
        rows.append(f"| 9) snapshot of the JRE base's layer ({fmt_b(float(notes.get('snapshot.layer_bytes', 0)))} gzipped) on {notes.get(f'snapshot.{fs}.fstype', fs)}: "
                    f"build -n without − with the snapshot | {fmt_s(secs)} s, {fmt_s(cpu_secs)} s CPU (builds {cell(unpack)} − {cell(reuse)}) | tar -xzf | {cell(tar)}, {cpu(tar)} | "
                    f"{secs / tar['median']:.3f} | – | – | {unpack['peak_rss_kb'] / 1024:.0f} MiB |")

# ---- targets --------------------------------------------------------------------------------
def med(scen, tool):
    t = agg(scen, tool)
    return t["median"] if t else None


targets = []


def target(name, goal, value, ok):
    targets.append({"target": name, "goal": goal, "measured": value, "result": ok})


cold_o, cold_d, pigz_t = med("cold", "ours"), med("cold", "docker"), med("pigz", "pigz")
if cold_o and cold_d and pigz_t:
    sp = cold_d / cold_o
    target("cold build+push (spark)", ">= 3x faster than docker-image-tool.sh; <= 1.3x pigz -p 2 time",
           f"{sp:.2f}x faster ({fmt_s(cold_o)} s vs {fmt_s(cold_d)} s); {cold_o / pigz_t:.2f}x pigz ({fmt_s(pigz_t)} s)",
           "PASS" if sp >= 3 and cold_o <= 1.3 * pigz_t else "MISS")
zs = med("cold-zstd", "ours")
if zs and cold_d:
    target("cold build+push --compression zstd", ">= 8x faster than docker-image-tool.sh",
           f"{cold_d / zs:.2f}x faster ({fmt_s(zs)} s)", "PASS" if cold_d / zs >= 8 else "MISS")
elif "zstd" in notes:
    target("cold build+push --compression zstd", ">= 8x faster than docker-image-tool.sh",
           notes.get("zstd", "not measured"), "MISS (unsupported)")
nc_o, nc_d = med("nochange", "ours"), med("nochange", "docker")
if nc_o is not None and nc_d is not None:
    target("no-change rebuild+push", "<= 0.3 s and no slower than docker-image-tool.sh",
           f"{nc_o:.2f} s (docker-image-tool.sh {nc_d:.2f} s)", "PASS" if nc_o <= 0.3 and nc_o <= nc_d else "MISS")
oj_o, oj_d = agg("onejar", "ours"), agg("onejar", "docker")
jars_layer = int(notes.get("image.jars_layer_bytes") or 0)
if oj_o and oj_d and jars_layer:
    sp = oj_d["median"] / oj_o["median"]
    frac = oj_o["uploaded_median"] / jars_layer
    target("one jar added", ">= 10x faster than docker-image-tool.sh; uploaded <= 15% of the jars layer",
           f"{sp:.2f}x faster ({fmt_s(oj_o['median'])} s vs {fmt_s(oj_d['median'])} s); uploaded {fmt_b(oj_o['uploaded_median'])} = {100 * frac:.2f}% of the {fmt_b(jars_layer)} of jars layers",
           "PASS" if sp >= 10 and frac <= 0.15 else "MISS")
ci_o, ci_d = med("ci", "ours"), med("ci", "docker")
if ci_o and ci_d:
    target("CI case", ">= 10x faster than docker-image-tool.sh on a fresh daemon",
           f"{ci_d / ci_o:.2f}x faster ({fmt_s(ci_o)} s vs {fmt_s(ci_d)} s)", "PASS" if ci_d / ci_o >= 10 else "MISS")
ps, pb = med("py-spark", "ours"), med("py-both", "ours")
if ps and pb:
    add = pb / ps - 1
    target("spark + spark-py", "spark-py adds <= 20% to spark's time",
           f"+{100 * add:.1f}% ({fmt_s(ps)} s -> {fmt_s(pb)} s)", "PASS" if add <= 0.2 else "MISS")
pw, pc, po = agg("preload-warm", "ours"), agg("preload-cold", "ours"), agg("preload-onejar", "ours")
if pw and pc and po:
    image_bytes = float(notes.get("image.ours_archive_bytes", pc["sent_median"]))
    frac = po["sent_median"] / image_bytes if image_bytes else float("nan")
    target("preload warm / after one jar", "<= 0.3 s / bytes sent <= 15% of the image",
           f"warm {pw['median']:.2f} s (sent {fmt_b(pw['sent_median'])}); one jar sent {fmt_b(po['sent_median'])} = {100 * frac:.2f}% of the {fmt_b(image_bytes)} image as stored ({fmt_s(po['median'])} s; a cold load sent {fmt_b(pc['sent_median'])})",
           "PASS" if pw["median"] <= 0.3 and frac <= 0.15 else "MISS")
rc_o, rc_d = med("run-cold", "ours"), med("run-cold", "docker")
if rc_o and rc_d:
    target("RUN: stock-style Dockerfile, cold", ">= 2x faster than docker-image-tool.sh (BuildKit)",
           f"{rc_d / rc_o:.2f}x faster ({fmt_s(rc_o)} s, {cpu(agg('run-cold', 'ours'))}, vs {fmt_s(rc_d)} s)",
           "PASS" if rc_d / rc_o >= 2 else "MISS")
rj_o, rj_d = med("run-onejar", "ours"), med("run-onejar", "docker")
if rj_o and rj_d:
    target("RUN: stock-style Dockerfile, one jar changed", ">= 10x faster than docker-image-tool.sh; the apt RUN not run again",
           f"{rj_d / rj_o:.2f}x faster ({fmt_s(rj_o)} s vs {fmt_s(rj_d)} s); apt RUN run again: {notes.get('run.apt_rerun_after_jar', '?')}",
           "PASS" if rj_d / rj_o >= 10 else "MISS")
if cached:
    target("a cached RUN", "< 50 ms", f"{cached[2]:.1f} ms per RUN (wall)", "PASS" if cached[2] < 50 else "MISS")
for fs in ("ext4", "tmpfs"):
    snap = snapshot(fs)
    if snap:
        target(f"snapshot of the JRE base ({notes.get(f'snapshot.{fs}.fstype', fs)})", "< 2 s, once",
               f"{fmt_s(snap[0])} s wall, {fmt_s(snap[1])} s CPU (tar -xzf {fmt_s(snap[4]['median'])} s, {cpu(snap[4])})",
               "PASS" if snap[0] < 2 else "MISS")
kc, kw, ko = agg("kind-cold", "ours"), agg("kind-warm", "ours"), agg("kind-onejar", "ours")
kc_d = med("kind-cold", "docker")
if kc and kw and ko and kc_d:
    frac = ko["sent_median"] / kc["sent_median"] if kc["sent_median"] else float("nan")
    target("preload into a kind node", "warm <= 0.3 s; one jar sends <= 15% of the image; cold no slower than kind load",
           f"warm {kw['median']:.2f} s (sent {fmt_b(kw['sent_median'])}); one jar sent {fmt_b(ko['sent_median'])} = {100 * frac:.2f}% of the "
           f"{fmt_b(kc['sent_median'])} cold send; cold {fmt_s(kc['median'])} s vs {fmt_s(kc_d)} s",
           "PASS" if kw["median"] <= 0.3 and frac <= 0.15 and kc["median"] <= kc_d else "MISS")
pc_d = med("preload-cold", "docker")
if pc and pc_d:
    target("preload cold", ">= 2x faster than docker save | docker load",
           f"{pc_d / pc['median']:.2f}x faster ({fmt_s(pc['median'])} s vs {fmt_s(pc_d)} s)", "PASS" if pc_d / pc["median"] >= 2 else "MISS")
for scen, puller in (("pull", "docker pull"), ("pull-ctr", "ctr pull")):
    split_t, unsplit_t = med(scen, "split"), med(scen, "unsplit")
    if split_t and unsplit_t:
        target(f"{puller} of the split image", "no slower than the same content unsplit",
               f"{fmt_s(split_t)} s vs {fmt_s(unsplit_t)} s ({split_t / unsplit_t:.2f}x)", "PASS" if split_t <= unsplit_t else "MISS")
ours_rss = [(r["rss_kb"], r["scenario"]) for r in runs if r["tool"] == "ours"]
if ours_rss:
    peak, where = max(ours_rss)
    target("peak RSS", "<= 100 MiB in every scenario", f"{peak / 1024:.0f} MiB max (in {where})",
           "PASS" if peak <= 100 * 1024 else "MISS")

trows = ["| target | goal | measured | result |", "|---|---|---|---|"]
for t in targets:
    trows.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {t['result']} |")

elapsed = float(notes.get("elapsed_seconds", 0))
machine = [
    f"- machine: {notes.get('machine.nproc')} cores ({notes.get('machine.cpu')}), {notes.get('machine.mem')} memory, kernel {notes.get('machine.kernel')}",
    f"- docker: CLI {notes.get('machine.docker_cli')}; daemon {notes.get('machine.dockerd')}, storage driver {notes.get('machine.storage_driver')}; builder: {notes.get('docker.builder', 'BuildKit (checked in 8a)' if 'run.docker_network' in notes else 'not recorded')}",
    f"- {notes.get('machine.skopeo')}",
    f"- load average at start {notes.get('machine.load_start')}, at end {notes.get('machine.load_end')} (the 2 cores are shared with other work: expect noise)",
    f"- Spark 4.3.0 from PyPI's pyspark sdist: {notes.get('dist.jar_count')} jars, {fmt_b(notes.get('dist.jars_bytes', 0))}; jars layers {fmt_b(jars_layer)} gzipped",
    f"- spark-image-tool {notes.get('tool.commit')}; runs: {notes.get('settings.runs')} per scenario (docker: {notes.get('settings.docker_runs')}, in scenarios 5 and 6: {notes.get('settings.heavy_docker_runs')})",
    f"- command: `{command}`; total elapsed {elapsed:.0f} s",
]

md = ["# spark-image-tool benchmark", "", *machine, "",
      "Times are wall-clock medians (min–max, n runs). Bytes uploaded = growth of the registry's blob storage",
      "(new blobs only; a blob sent again that the registry already had does not count). Sent to daemon =",
      "what `preload` reports. Peak RSS = `/usr/bin/time -f %M` of the tool process. CPU = its user + system time",
      "(with waited-for children: crun for ours; for docker only the CLI, the daemon's work is not in it).", "",
      *rows, "", "## Targets", "", *trows, "",
      "## How", "",
      "- Same base for both tools: the mmdebstrap Java 17 rootfs (`scripts/make-base-image.sh`) is `docker import`ed as",
      "  `eclipse-temurin:17-jre` (and the `--python` variant as `eclipse-temurin:17-jre-python`) and `docker push`ed to the",
      "  registry; spark-image-tool uses `--base $REG/eclipse-temurin:17-jre` (pulled into its store, timed).",
      "- Same Dockerfile: the distribution copy's `kubernetes/dockerfiles` is this checkout's `dockerfiles/` (built into the tool).",
      "- docker-image-tool.sh is the distribution's own `bin/docker-image-tool.sh`, `build` then `push`, `DOCKER_BUILDKIT=1`,",
      "  Debian's docker 20.10 CLI first on PATH, against a dockerd 20.10 with overlay2 started by the benchmark.",
      "- 1) ours: a fresh `--store` per run; docker: `docker builder prune -af` and `docker rmi` of everything but the bases",
      "  before each run (the base stays in the daemon: docker does not pull it, ours does).",
      "- 2) same repository and tag as the last cold run, nothing changed.",
      "- 3) run i adds `jars/bench-extra-i.jar` (1 MiB, stored zip of random bytes) and pushes tag `jar-i` to the same repository.",
      "- 4) ours: a fresh `--store`, new tag in the repository that already holds the release; docker: a brand-new dockerd",
      "  (empty data-root) per run; timed: `docker pull` of the base from the registry, build, push (new tag, same repository).",
      "- 5) both tools from an empty cache on the python base; docker: `-p kubernetes/dockerfiles/spark/bindings/python/Dockerfile`",
      "  and `-b java_image_tag=17-jre-python`; 5a is ours with spark only, for the spark-py overhead.",
      "- 6) a brand-new dockerd per run and tool; ours `preload --host`, docker `docker save IMG | docker -H NEW load` from the",
      "  daemon that built it (warm and after one jar are full save/loads for docker).",
      "- 7) `docker pull` (dockerd's default of 3 layers at a time) of the image of 1) and of the same build with",
      "  `--no-split-layers`, each into a brand-new dockerd; this measures what splitting the jars does to nodes' pulls.",
      "- 8) `Tests/Fixtures/stock-style/Dockerfile` (Spark's stock RUN steps: apt-get install of tini, procps, krb5-user, …)",
      "  on Debian's minbase with apt and the JRE (`make-base-image.sh --apt`), imported and pushed as",
      "  `eclipse-temurin:17-jre-apt`; ours `-f` with `--base $REG/eclipse-temurin:17-jre-apt` (pulled and snapshotted,",
      "  timed), docker-image-tool.sh `-f` with `-b java_image_tag=17-jre-apt`; build then push, as in 1). The bench's dockerd",
      f"  has no bridge (--bridge=none), so `docker build` runs as {notes.get('run.docker_network', 'docker build --network host')}:",
      "  BuildKit's RUNs use the host's network, as ours do. Both download the same packages from the same Debian mirror",
      "  (the base's sources.list) on every cold run; neither has an apt cache. 8a) ours a fresh store, docker",
      "  `docker builder prune -af` first. 8b) run i adds `jars/bench-extra-(100+i).jar`; the RUN after `COPY jars` runs",
      "  again for both (its parent changed), the apt RUN must not (checked: no `#LINE` output of it).",
      "  8c) a no-change rebuild of FROM + 21 `RUN echo` steps against FROM + 1, all cache hits (checked), per RUN.",
      "- 9) `build -n` of FROM the JRE base + `RUN true` with the base in the store: without its snapshot (removed",
      "  first) minus with it is the snapshot's time; `tar -xzf` of the same layer blob into the same file system, as root.",
      "- 7b) the same two images by `ctr -n k8s.io images pull --plain-http` into a brand-new containerd (the test services'",
      "  containerd: overlayfs snapshotter), which fetches and then unpacks, as a kind node does for a pod.",
      "",
      "## Caveats",
      "",
      "- spark-image-tool's layers are reproducible, so in 1) cold, runs 2..n upload blobs that run 1 already pushed to",
      "  another repository: every byte is sent again (a fresh store knows no repository to mount from), but the",
      "  registry's storage does not grow, so bytes uploaded shows 0 B for them. In push only the store is shared, so the",
      "  push mounts from the earlier repositories; skopeo's blob info cache does the same for its runs 2..n.",
      "- docker's layers are not reproducible (timestamps, its own gzip), so it uploads every layer again in 1), 3) and 4).",
      "- 5) and 6) run docker once by default (--heavy-docker-runs) to save time; its n is shown in the table.",
      "- The load average (above) shows other work on the same 2 cores; times are noisy.",
      "",
      "- push only: our store (an OCI layout) pushed by `spark-image-tool push` and by `skopeo copy oci:… docker://…` to fresh",
      "  repositories (skopeo knows no mount source, so it uploads the base layer too).",
      ""]
open(md_path, "w").write("\n".join(md))
json.dump({"command": command, "elapsed_seconds": elapsed, "notes": notes, "scenarios": results, "targets": targets,
           "runs": runs}, open(json_path, "w"), indent=2)
print("\n".join(rows))
print()
print("\n".join(trows))
