#!/usr/bin/python3
"""Figures and a report from a geopbft run or sweep directory.

  /usr/bin/python3 analysis/plot.py DIR      (what `./geopbft plot DIR` runs)

A run directory (summary.json, timeseries.csv, replicas.csv, events.csv, maybe reputation.csv) gets:
  throughput.png  throughput and latency over time, with view changes, faults and Byzantine turns marked
                  (from events.csv: the plots never parse the scenario)
  reputation.png  every replica's score over time, coloured by role, Byzantine replicas dashed
  messages.png    the message mix: messages sent by type
  traffic.png     messages each replica sent and received, votes, rejected or dropped input
  report.html     the run in words, a timeline of its events, the figures and the summary (report.py)
A sweep directory (results.csv) gets one sweep_<axis>.png per axis (throughput and latency against
the axis, one line per protocol, error bars over seeds) and report.html with the results table
(sortable). A
defence matrix (axes culprit and position, scenarios/defense.sweep.textproto) gets defense.png and
defense.md instead: throughput in the last third of each run relative to the clean run of the same
protocol and seed, and how long the culprit kept its role once it turned.
Uses Debian's matplotlib (python3-matplotlib) without a display.
"""
import csv
import json
import math
import os
import re
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (analysis/report.py: the HTML page)

ROLE_COLOURS = {"representative": "tab:red", "committee": "tab:blue", "listener": "tab:gray", "crashed": "black"}


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(v, default=0.0):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def faults_of(run_dir):
    """(label, start_s, end_s or None) of each fault and Byzantine behaviour, from events.csv."""
    out, open_faults = [], {}
    path = os.path.join(run_dir, "events.csv")
    for r in read_csv(path) if os.path.exists(path) else []:
        kind, t, detail = r["kind"], num(r["time_s"]), r["detail"]
        if kind == "fault_start":
            open_faults.setdefault(detail, []).append(len(out))
            out.append((detail.split(" ")[0], t, ""))  # "" until its end is seen: to the end of the run
        elif kind == "fault_end" and open_faults.get(detail):
            i = open_faults[detail].pop(0)
            out[i] = (out[i][0], out[i][1], t)
        elif kind == "byzantine":
            out.append(("byzantine " + detail, t, None))
    return out


def plot_throughput(run_dir, summary):
    rows = read_csv(os.path.join(run_dir, "timeseries.csv"))
    if not rows:
        return None
    t = [num(r["time_s"]) for r in rows]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    ax1.plot(t, [num(r["throughput_tps"]) for r in rows], color="tab:green", label="throughput")
    ax1.set_ylabel("committed requests / s")
    ax2.plot(t, [num(r["latency_ms_p50"]) for r in rows], color="tab:blue", label="latency p50")
    ax2.plot(t, [num(r["latency_ms_p99"]) for r in rows], color="tab:orange", label="latency p99")
    ax2.set_ylabel("latency (ms)")
    ax2.set_xlabel("simulated time (s)")
    end = t[-1] if t else 0
    for kind, start, until in faults_of(run_dir):
        for ax in (ax1, ax2):
            if until is None:
                ax.axvline(start, color="tab:red", linestyle=":", linewidth=1)
            else:
                ax.axvspan(start, until if until != "" else end, color="tab:red", alpha=0.08)
        ax1.annotate(kind.lower(), (start, 0), xytext=(2, 2), textcoords="offset points", fontsize=7, color="tab:red")
    first = True
    for r in rows:
        if num(r.get("view_changes")) > 0:
            for ax in (ax1, ax2):
                ax.axvline(num(r["time_s"]), color="purple", linestyle="--", linewidth=0.8,
                           label="view change" if first and ax is ax1 else None)
            first = False
    ax1.legend(loc="lower right", fontsize=8)
    ax2.legend(loc="upper right", fontsize=8)
    ax1.set_title(f"{summary.get('scenario', '')}: {summary.get('protocol', '')}, "
                  f"{summary.get('replicas', '')} replicas in {summary.get('clusters', '')} cluster(s)")
    fig.tight_layout()
    out = os.path.join(run_dir, "throughput.png")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_reputation(run_dir):
    path = os.path.join(run_dir, "reputation.csv")
    if not os.path.exists(path):
        return None
    rows = read_csv(path)
    behaviour = {r["replica"]: r["behaviour"] for r in read_csv(os.path.join(run_dir, "replicas.csv"))}
    series = defaultdict(list)
    for r in rows:
        series[(int(r["cluster"]), int(r["replica"]))].append((num(r["time_s"]), num(r["score"]), r["role"]))
    clusters = sorted({c for c, _ in series})
    cols = min(2, len(clusters))
    nrows = math.ceil(len(clusters) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(7 * cols, 3.6 * nrows), squeeze=False)
    for k, c in enumerate(clusters):
        ax = axes[k // cols][k % cols]
        for (cl, rep), pts in sorted(series.items()):
            if cl != c:
                continue
            byz = behaviour.get(str(rep), "honest") != "honest"
            # One segment per sample interval, coloured by the role held at its end.
            for (t0, s0, _), (t1, s1, role) in zip(pts, pts[1:]):
                ax.plot([t0, t1], [s0, s1], color=ROLE_COLOURS.get(role, "tab:gray"),
                        linestyle="--" if byz else "-", linewidth=2.2 if byz else 1.2,
                        zorder=3 if role == "representative" else 2)
            t_end, s_end, _ = pts[-1]
            label = f"{rep}" + (f" ({behaviour[str(rep)]})" if byz else "")
            ax.annotate(label, (t_end, s_end), xytext=(3, 0), textcoords="offset points", fontsize=7,
                        color="tab:red" if byz else "black")
        ax.set_title(f"cluster {c}")
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel("score")
    for k in range(len(clusters), nrows * cols):
        axes[k // cols][k % cols].axis("off")
    handles = [plt.Line2D([], [], color=col, label=role) for role, col in ROLE_COLOURS.items()]
    handles.append(plt.Line2D([], [], color="black", linestyle="--", linewidth=2.2, label="Byzantine"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    out = os.path.join(run_dir, "reputation.png")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_traffic(run_dir):
    rows = read_csv(os.path.join(run_dir, "replicas.csv"))
    if not rows:
        return None
    ids = [r["replica"] for r in rows]
    x = range(len(ids))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(8, len(ids) * 0.3), 6), sharex=True)
    ax1.bar([i - 0.2 for i in x], [num(r["messages_sent"]) for r in rows], width=0.4, label="sent")
    ax1.bar([i + 0.2 for i in x], [num(r["messages_received"]) for r in rows], width=0.4, label="received")
    ax1.set_ylabel("messages")
    ax1.legend(fontsize=8)
    ax2.bar([i - 0.2 for i in x], [num(r["votes_sent"]) for r in rows], width=0.4, label="votes sent")
    ax2.bar([i + 0.2 for i in x], [num(r["rejected"]) + num(r.get("inbox_dropped")) for r in rows], width=0.4,
            label="rejected or dropped input")
    ax2.set_ylabel("messages")
    ax2.set_xticks(list(x))
    ax2.set_xticklabels([i + ("*" if r["behaviour"] != "honest" else "") for i, r in zip(ids, rows)], fontsize=7)
    ax2.set_xlabel("replica (* Byzantine)")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    out = os.path.join(run_dir, "traffic.png")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_mix(run_dir, summary):
    mix = {k: v for k, v in (summary.get("message_mix") or {}).items() if v}  # types never sent left out
    if not mix:
        return None
    kinds = sorted(mix, key=lambda k: -mix[k])
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(kinds, [mix[k] for k in kinds], color="tab:purple")
    ax.set_ylabel("messages sent")
    ax.set_title("message mix")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    out = os.path.join(run_dir, "messages.png")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_run(run_dir):
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    images = [p for p in (plot_throughput(run_dir, summary), plot_reputation(run_dir), plot_mix(run_dir, summary),
                          plot_traffic(run_dir)) if p]
    path = os.path.join(run_dir, "events.csv")
    report.write_run_report(run_dir, summary, images, read_csv(path) if os.path.exists(path) else [])
    return images


CULPRIT_FROM_S = 2.0  # when the matrix's culprits turn (sim/sweep.cc, kCulpritFromS)


def tail_tps(run_dir):
    """Mean throughput over the last third of the run's reporting intervals."""
    rows = read_csv(os.path.join(run_dir, "timeseries.csv"))
    tail = rows[2 * len(rows) // 3:]
    return sum(num(r["throughput_tps"]) for r in tail) / max(1, len(tail))


def role_lost_after(run_dir, replica, original, duration):
    """Seconds from the culprit turning until it lost `original` for good (None: kept it; no
    reputation.csv: roles are not tracked, as in plain GeoBFT)."""
    path = os.path.join(run_dir, "reputation.csv")
    if not os.path.exists(path):
        return None
    held = [(num(r["time_s"]), r["role"]) for r in read_csv(path) if r["replica"] == str(replica)]
    last_held = None
    for t, role in held:
        if role == original:
            last_held = t
    if held and held[-1][1] == original:
        return None
    # Samples are taken at the end of each interval: it left during the one after last_held.
    lost = last_held if last_held is not None else CULPRIT_FROM_S
    return max(0.0, lost - CULPRIT_FROM_S)


def plot_defense(sweep_dir, rows):
    """The defence matrix: relative tail throughput and time to lose the role, per culprit."""
    runs = {}
    for r in rows:
        d = os.path.join(sweep_dir, r["run"])
        if os.path.exists(os.path.join(d, "timeseries.csv")):
            runs[(r["protocol"], r["culprit"], r["position"], r["seed"])] = (r, d)
    culprits = [c for c in dict.fromkeys(r["culprit"] for r in rows) if c != "none"]
    positions = list(dict.fromkeys(r["position"] for r in rows))
    protocols = list(dict.fromkeys(r["protocol"] for r in rows))
    rel = defaultdict(list)      # (protocol, position, culprit) -> relative tail throughput per seed
    tps = defaultdict(list)      # (protocol, position, culprit) -> last-third throughput per seed
    lost = defaultdict(list)     # (protocol, position, culprit) -> seconds (or None) per seed
    for (proto, culprit, position, seed), (r, d) in sorted(runs.items()):
        if culprit == "none":
            continue
        clean = runs.get((proto, "none", position, seed))
        tps[(proto, position, culprit)].append(tail_tps(d))
        if clean:
            rel[(proto, position, culprit)].append(tail_tps(d) / max(1e-9, tail_tps(clean[1])))
        replica = 0 if position == "representative" else 1
        lost[(proto, position, culprit)].append(role_lost_after(d, replica, position, num(r.get("sim_seconds"), 20)))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.8 / max(1, len(protocols) * len(positions))
    xs = range(len(culprits))
    k = 0
    for proto in protocols:
        for position in positions:
            vals = [sum(rel[(proto, position, c)]) / len(rel[(proto, position, c)]) if rel[(proto, position, c)] else 0
                    for c in culprits]
            ax1.bar([x + k * width for x in xs], vals, width, label=f"{proto} / {position}")
            k += 1
    ax1.axhline(0.9, color="black", lw=0.8, ls="--")
    ax1.set_xticks([x + width * (k - 1) / 2 for x in xs])
    ax1.set_xticklabels(culprits, rotation=20, fontsize=8)
    ax1.set_ylabel("last-third throughput / clean run")
    ax1.set_title("throughput once the culprit turned (dashed: 90%)", fontsize=9)
    ax1.set_ylim(0, 1.35)
    ax1.legend(fontsize=7, loc="upper center", ncol=2)
    rep = "GEOBFT_REPUTATION"
    for j, position in enumerate(positions):
        secs = []
        for c in culprits:
            v = [x for x in lost[(rep, position, c)]]
            secs.append(None if not v or any(x is None for x in v) else sum(v) / len(v))
        bars = ax2.bar([x + j * 0.4 for x in xs], [s if s is not None else 0 for s in secs], 0.4, label=position)
        for b, s in zip(bars, secs):
            label = "kept" if s is None else f"{s:.1f}"
            ax2.annotate(label, (b.get_x() + b.get_width() / 2, (s or 0) + 0.05), ha="center", fontsize=7)
    ax2.set_xticks([x + 0.2 for x in xs])
    ax2.set_xticklabels(culprits, rotation=20, fontsize=8)
    ax2.set_ylabel("seconds")
    ax2.set_title(f"{rep}: from turning until the culprit lost its role", fontsize=9)
    ax2.legend(fontsize=7, loc="upper left")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"{os.path.basename(os.path.abspath(sweep_dir))}: mean over seeds")
    fig.tight_layout()
    out = os.path.join(sweep_dir, "defense.png")
    fig.savefig(out, dpi=110)
    plt.close(fig)
    # The same numbers as a Markdown table (for the README).
    lines = ["| culprit | position | " + " | ".join(f"{p}: last third, tps (vs clean)" for p in protocols) +
             f" | {rep}: role lost after |",
             "|---|---|" + "---|" * len(protocols) + "---|"]
    for c in culprits:
        for position in positions:
            cells = []
            for proto in protocols:
                v, t = rel[(proto, position, c)], tps[(proto, position, c)]
                cells.append(f"{sum(t) / len(t):,.0f} ({100 * sum(v) / len(v):.0f}%)" if v else "")
            v = lost[(rep, position, c)]
            when = "kept it" if not v or any(x is None for x in v) else f"{sum(v) / len(v):.1f} s"
            lines.append(f"| {c} | {position} | " + " | ".join(cells) + f" | {when} |")
    with open(os.path.join(sweep_dir, "defense.md.tmp"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(os.path.join(sweep_dir, "defense.md.tmp"), os.path.join(sweep_dir, "defense.md"))
    return out


def plot_sweep(sweep_dir):
    rows = read_csv(os.path.join(sweep_dir, "results.csv"))
    if not rows:
        raise SystemExit(f"{sweep_dir}/results.csv has no runs")
    columns = list(rows[0].keys())
    if "culprit" in columns and "position" in columns and "protocol" in columns:
        images = [plot_defense(sweep_dir, rows)]
        keep = ["culprit", "position", "protocol", "seed", "throughput_tps", "view_changes", "representative_changes",
                "proofs_committed", "leaders_deposed", "byzantine_in_committee_s", "safety_violations"]
        keep = [c for c in keep if c in columns]
        report.write_sweep_report(sweep_dir, f"geopbft defence matrix: {os.path.basename(os.path.abspath(sweep_dir))}", images, keep,
                     [[r[c] for c in keep] for r in rows])
        return images
    axes = columns[1:columns.index("seed")]  # between "run" and "seed"
    group_by = "protocol" if "protocol" in columns else None
    images = []
    for axis in axes:
        if axis == group_by:
            continue
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
        groups = defaultdict(lambda: defaultdict(list))
        for r in rows:
            groups[r[group_by] if group_by else "all"][r[axis]].append(r)
        for g, by_value in sorted(groups.items()):
            values = sorted(by_value, key=lambda v: (num(v, math.inf), v))
            xs = [num(v) if re.fullmatch(r"[0-9.eE+-]+", v) else i for i, v in enumerate(values)]
            for ax, metric in ((ax1, "throughput_tps"), (ax2, "latency_ms_p50")):
                means, errs = [], []
                for v in values:
                    samples = [num(r[metric]) for r in by_value[v]]
                    m = sum(samples) / len(samples)
                    sd = math.sqrt(sum((s - m) ** 2 for s in samples) / (len(samples) - 1)) if len(samples) > 1 else 0
                    means.append(m)
                    errs.append(sd)
                ax.errorbar(xs, means, yerr=errs, marker="o", capsize=3, label=g)
                if not all(re.fullmatch(r"[0-9.eE+-]+", v) for v in values):
                    ax.set_xticks(xs)
                    ax.set_xticklabels(values)
        ax1.set_ylabel("throughput (committed requests / s)")
        ax2.set_ylabel("latency p50 (ms)")
        for ax in (ax1, ax2):
            ax.set_xlabel(axis)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(f"{os.path.basename(os.path.abspath(sweep_dir))}: mean over seeds, error bars = 1 sd")
        fig.tight_layout()
        out = os.path.join(sweep_dir, f"sweep_{re.sub(r'[^A-Za-z0-9_]+', '_', axis)}.png")
        fig.savefig(out, dpi=110)
        plt.close(fig)
        images.append(out)
    keep = [c for c in columns if c in axes or c in ("seed", "throughput_tps", "latency_ms_p50", "latency_ms_p99",
                                                          "view_changes", "byzantine_in_committee_s",
                                                          "safety_violations")]
    report.write_sweep_report(sweep_dir, f"geopbft sweep: {os.path.basename(os.path.abspath(sweep_dir))}", images, keep,
                 [[r[c] for c in keep] for r in rows])
    return images


def main(argv):
    if len(argv) != 2:
        raise SystemExit("usage: plot.py DIR   (a geopbft run or sweep output directory)")
    d = argv[1]
    if os.path.exists(os.path.join(d, "results.csv")):
        images = plot_sweep(d)
    elif os.path.exists(os.path.join(d, "summary.json")):
        images = plot_run(d)
    else:
        raise SystemExit(f"{d}: neither a run (summary.json) nor a sweep (results.csv) directory")
    for img in images:
        print(img)
    print(os.path.join(d, "report.html"))


if __name__ == "__main__":
    main(sys.argv)
