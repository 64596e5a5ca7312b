#!/usr/bin/python3
"""Turns the JSON lines bench/run.sh recorded into medians, ratios and
target checks (markdown on stdout). Ratios are taken within each run (peer
and hookstream measured one after the other), then the median over runs."""
import json
import statistics
import sys
from collections import defaultdict


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    if isinstance(v, float) and digits:
        return f"{v:,.{digits}f}"
    return f"{v:,.0f}" if isinstance(v, (int, float)) else str(v)


def verdict(ok):
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    by = defaultdict(dict)  # (workload, side) -> run -> row
    machine = {}
    for r in rows:
        if r["workload"] == "machine":
            machine.update(r)
            continue
        by[(r["workload"], r["side"])][r["run"]] = r

    def metric(workload, side, key):
        return {run: row.get(key) for run, row in by[(workload, side)].items()
                if row.get(key) is not None and "error" not in row}

    def med(workload, side, key):
        return median(list(metric(workload, side, key).values()))

    def ratio(workload, num_side, num_key, den_side, den_key):
        num = metric(workload, num_side, num_key)
        den = metric(workload, den_side, den_key)
        per_run = [num[r] / den[r] for r in num if r in den and den[r]]
        return median(per_run), per_run

    def ratio_text(r, per):
        if r is None:
            return "n/a"
        return f"{r:.2f}× (runs: {', '.join(f'{x:.2f}' for x in per)})"

    out = []
    p = out.append
    p(f"## Results ({path})\n")
    p(f"Machine: {machine.get('nproc')} cores, {machine.get('cpu')}; "
      f"load average before {machine.get('loadavg_before')}, after "
      f"{machine.get('loadavg_after')}; runs per workload: "
      f"{machine.get('runs')}{' (QUICK sizes)' if machine.get('quick') else ''}.\n")
    p("| Workload | Measure | Peer (median) | hookstream (median) | Ratio (median of per-run) | Target | Verdict |")
    p("|---|---|---|---|---|---|---|")

    if by[("ingest", "nginx")] or by[("ingest", "hookstream")]:
        r, per = ratio("ingest", "hookstream", "ok_rps", "nginx", "ok_rps")
        p(f"| 1 Ingest, 32 conns | requests/s | nginx {fmt(med('ingest', 'nginx', 'ok_rps'))} | "
          f"{fmt(med('ingest', 'hookstream', 'ok_rps'))} | {ratio_text(r, per)} | ≥ 0.5× | "
          f"{verdict(None if r is None else r >= 0.5)} |")
        def lat(side):
            if not by[("ingest", side)]:
                return "n/a"
            return " / ".join(fmt(med("ingest", side, f"latency_{q}_us"))
                              for q in ("p50", "p99", "p999"))
        p(f"| 1 Ingest | p50 / p99 / p999 latency (µs) | nginx {lat('nginx')} | "
          f"{lat('hookstream')} | | report | |")
        p(f"| 1 Ingest + 10 live subscribers | p50 / p99 / p999 latency (µs) | | "
          f"{lat('hookstream_10subs')} | | report | |")
        r, per = ratio("ingest", "hookstream_10subs", "ok_rps", "hookstream", "ok_rps")
        p(f"| 1 Ingest + 10 live subscribers | requests/s | hookstream alone {fmt(med('ingest', 'hookstream', 'ok_rps'))} | "
          f"{fmt(med('ingest', 'hookstream_10subs', 'ok_rps'))} | {ratio_text(r, per)} | ≥ 0.8× | "
          f"{verdict(None if r is None else r >= 0.8)} |")
        counts = [v for side in ("hookstream", "hookstream_10subs")
                  for v in metric("ingest", side, "non_2xx").values()]
        non2xx = sum(counts) if counts else None
        p(f"| 1 Ingest | non-2xx answers from hookstream (all runs) | | {fmt(non2xx)} | | 0 | "
          f"{verdict(None if non2xx is None else non2xx == 0)} |")

    if by[("replay", "jetstream")] or by[("replay", "hookstream")]:
        r, per = ratio("replay", "hookstream", "deliveries_per_s", "jetstream", "deliveries_per_s")
        p(f"| 2 Replay fan-out, 10 subs | deliveries/s | JetStream {fmt(med('replay', 'jetstream', 'deliveries_per_s'))} | "
          f"{fmt(med('replay', 'hookstream', 'deliveries_per_s'))} | {ratio_text(r, per)} | ≥ 5× | "
          f"{verdict(None if r is None else r >= 5)} |")
        p(f"| 2 Replay | events per gRPC message (hookstream) | | "
          f"{fmt(med('replay', 'hookstream', 'events_per_batch'), 1)} | | | |")

    if by[("live", "jetstream")] or by[("live", "hookstream")]:
        hp50 = med("live", "hookstream", "latency_p50_us")
        p(f"| 3 Live latency, 2,000/s, 10 subs | p50 (µs) | JetStream {fmt(med('live', 'jetstream', 'latency_p50_us'))} | "
          f"{fmt(hp50)} | | ≤ 500 µs | {verdict(None if hp50 is None else hp50 <= 500)} |")
        r, per = ratio("live", "hookstream", "latency_p99_us", "jetstream", "latency_p99_us")
        p(f"| 3 Live latency | p99 (µs) | JetStream {fmt(med('live', 'jetstream', 'latency_p99_us'))} | "
          f"{fmt(med('live', 'hookstream', 'latency_p99_us'))} | {ratio_text(r, per)} | ≤ 0.5× | "
          f"{verdict(None if r is None else r <= 0.5)} |")

    if by[("many", "hookstream")] or by[("many", "floor")]:
        def ms(side, key):
            v = med("many", side, key)
            return None if v is None else v / 1000
        def reach(side):
            if not by[("many", side)]:
                return "n/a"
            return (f"{fmt(ms(side, 'reach_all_p99_us'), 1)} "
                    f"(p50 {fmt(ms(side, 'reach_all_p50_us'), 1)})")
        def cpu(side):
            if not by[("many", side)]:
                return "n/a"
            return (f"{fmt(med('many', side, 'server_us_per_delivery'), 1)} / "
                    f"{fmt(med('many', side, 'client_us_per_delivery'), 1)}")
        p99 = med("many", "hookstream", "reach_all_p99_us")
        mem = med("many", "hookstream", "bytes_per_idle_subscription")
        p(f"| 4 Many subscribers, 10,000 over 100 channels | p99 time to reach all (ms) | "
          f"gRPC floor {reach('floor')} | {reach('hookstream')} | | ≤ 100 ms | "
          f"{verdict(None if p99 is None else p99 <= 100_000)} |")
        p(f"| 4 Many subscribers | server / client CPU per delivery (µs) | "
          f"gRPC floor {cpu('floor')} | {cpu('hookstream')} | | report | |")
        p(f"| 4 Many subscribers | server memory per idle subscription (bytes) | "
          f"gRPC floor {fmt(med('many', 'floor', 'server_bytes_per_idle_stream'))} | {fmt(mem)} | | ≤ 16,384 | "
          f"{verdict(None if mem is None else mem <= 16384)} |")

    fanout_shapes = sorted({side.split(":", 1)[1] for (w, side) in by
                            if w == "fanout" and ":" in side},
                           key=lambda x: -int(x.split("x")[0]))
    for shape in fanout_shapes:
        rate, subs, conns = shape.split("x")
        def side_rows(name):
            return {run: row for run, row in by[("fanout", f"{name}:{shape}")].items()
                    if "error" not in row}
        floor_rows = side_rows("floor")
        hs_rows = side_rows("hookstream")
        hs_ing = side_rows("hookstream_ingest")
        js_rows = side_rows("jetstream")
        js_pub = side_rows("jetstream_publish")
        def per_delivery(rows, ingest_rows, key="delivered"):
            """run -> (total us/delivery, net of the ingest share, ingest share)"""
            out = {}
            for run, row in rows.items():
                got = row.get(key) or 0
                cpu = row.get("server_cpu_s")
                if not got or cpu is None or cpu < 0:
                    continue
                ing = ingest_rows.get(run, {}).get("server_cpu_s")
                net = None if ing is None else (cpu - ing) * 1e6 / got
                out[run] = (cpu * 1e6 / got, net,
                            None if ing is None else ing * 1e6 / got)
            return out
        hs = per_delivery(hs_rows, hs_ing)
        js = per_delivery(js_rows, js_pub, key="received")
        fl = per_delivery(floor_rows, {})
        def med_of(d, i):
            return median([v[i] for v in d.values()])
        def cell(d):
            if not d:
                return "n/a"
            return (f"{fmt(med_of(d, 0), 1)} (fan-out {fmt(med_of(d, 1), 1)}, "
                    f"ingest {fmt(med_of(d, 2), 1)})")
        def run_ratio(num, den, i):
            per = [num[r][i] / den[r][i] for r in num
                   if r in den and num[r][i] is not None and den[r][i]]
            return median(per), per
        label = f"{int(rate):,}/s × {int(subs):,} subs / {int(conns):,} conns"
        line = (f"| 11 Live fan-out, {label} | server CPU per delivery (µs): total (fan-out only, ingest share) | "
          f"nats-server {cell(js)}; gRPC floor {fmt(med_of(fl, 0) if fl else None, 1)} | {cell(hs)} | "
          f"fan-out vs nats {ratio_text(*run_ratio(hs, js, 1))}; total vs nats {ratio_text(*run_ratio(hs, js, 0))}; "
          f"fan-out vs floor {ratio_text(*run_ratio({r: (v[1],) for r, v in hs.items()}, {r: (v[0],) for r, v in fl.items()}, 0))}; "
          f"floor vs nats fan-out {ratio_text(*run_ratio({r: (v[0],) for r, v in fl.items()}, {r: (v[1],) for r, v in js.items()}, 0))} | "
          f"≤ 0.5× nats (or ≤ 1.1× floor when floor > 0.5× nats) | ")
        r_js, _ = run_ratio(hs, js, 1)
        r_fl, _ = run_ratio({r: (v[1],) for r, v in hs.items()},
                            {r: (v[0],) for r, v in fl.items()}, 0)
        r_fj, _ = run_ratio({r: (v[0],) for r, v in fl.items()},
                            {r: (v[1],) for r, v in js.items()}, 0)
        floor_p99 = median([row.get("latency_p99_us") for row in floor_rows.values()])
        hs_p99 = median([row.get("latency_p99_us") for row in hs_rows.values()])
        js_p99 = median([row.get("latency_p99_us") for row in js_rows.values()])
        if r_js is None:
            p(line + "n/a |")
        elif max(hs_p99 or 0, js_p99 or 0) > 1e6:
            # Seconds behind: the machine (servers and clients on the same
            # cores) cannot carry this rate live, so the CPU per delivery is
            # that of an overloaded, batching server, not of a live one.
            p(line + f"**n/a: saturated** (p99 hookstream {fmt((hs_p99 or 0) / 1e3)} ms, "
              f"nats {fmt((js_p99 or 0) / 1e3)} ms) |")
        elif r_js <= 0.5:
            p(line + "**met** |")
        elif floor_p99 is not None and floor_p99 > 1e6:
            # A floor that falls behind (queues, seconds of latency) writes
            # each event alone where hookstream batches: not a floor.
            p(line + f"**missed** (floor saturated: p99 {fmt(floor_p99 / 1e3)} ms) |")
        elif r_fj is not None and r_fj > 0.5 and r_fl is not None:
            p(line + f"{verdict(r_fl <= 1.1)} (floor above 0.5× nats: ≤ 1.1× floor) |")
        else:
            p(line + "**missed** |")
        def lat(rows):
            if not rows:
                return "n/a"
            return " / ".join(fmt(median([row.get(f"latency_{q}_us") for row in rows.values()]))
                              for q in ("p50", "p99"))
        def missed(rows):
            vals = [row.get("missed") for row in rows.values() if row.get("missed") is not None]
            return fmt(sum(vals)) if vals else "n/a"
        def sw(rows):
            return fmt(median([row.get("server_switches_per_delivery") for row in rows.values()]), 2)
        p(f"| 11 Live fan-out, {label} | latency p50 / p99 (µs); missed deliveries (all runs); server context switches per delivery | "
          f"nats {lat(js_rows)}, missed {missed(js_rows)}, {sw(js_rows)}; floor {lat(floor_rows)}, missed {missed(floor_rows)}, {sw(floor_rows)} | "
          f"{lat(hs_rows)}, missed {missed(hs_rows)}, {sw(hs_rows)}; events per message "
          f"{fmt(median([row.get('events_per_message') for row in hs_rows.values()]), 2)} | | report | |")

    if by[("memory", "hookstream")]:
        ratios = [row["rss_bytes"] / row["byte_count"] for row in by[("memory", "hookstream")].values()
                  if row.get("byte_count") and row.get("rss_bytes", -1) > 0]
        r = median(ratios)
        row = next(iter(by[("memory", "hookstream")].values()))
        p(f"| 5 Memory, {fmt(row.get('event_count'))} events held | RSS / serialized bytes | | "
          f"RSS {fmt(row.get('rss_bytes', 0) / 2**20)} MiB / {fmt(row.get('byte_count', 0) / 2**20)} MiB | {fmt(r, 2)}× | ≤ 1.3× | "
          f"{verdict(None if r is None else r <= 1.3)} |")

    if by[("ingest", "hookstream_baseline")]:
        r, per = ratio("ingest", "hookstream", "ok_rps", "hookstream_baseline", "ok_rps")
        p(f"| 1 Ingest, this build vs baseline | requests/s | baseline {fmt(med('ingest', 'hookstream_baseline', 'ok_rps'))} | "
          f"{fmt(med('ingest', 'hookstream', 'ok_rps'))} | {ratio_text(r, per)} | ≈ 1× (noise) | |")
    if by[("replay", "hookstream_baseline")]:
        r, per = ratio("replay", "hookstream", "deliveries_per_s", "hookstream_baseline", "deliveries_per_s")
        p(f"| 2 Replay, this build vs baseline | deliveries/s | baseline {fmt(med('replay', 'hookstream_baseline', 'deliveries_per_s'))} | "
          f"{fmt(med('replay', 'hookstream', 'deliveries_per_s'))} | {ratio_text(r, per)} | ≈ 1× (noise) | |")

    if by[("journal", "memory")]:
        def jlat(side):
            if not by[("journal", side)]:
                return "n/a"
            return " / ".join(fmt(med("journal", side, f"latency_{q}_us"))
                              for q in ("p50", "p99", "p999"))
        for side, target in (("fsync", 0.8), ("none", 0.9)):
            r, per = ratio("journal", side, "ok_rps", "memory", "ok_rps")
            p(f"| 7 Journal ingest, --journal_sync={side} | requests/s | memory {fmt(med('journal', 'memory', 'ok_rps'))} | "
              f"{fmt(med('journal', side, 'ok_rps'))} | {ratio_text(r, per)} | ≥ {target}× | "
              f"{verdict(None if r is None else r >= target)} |")
        for side in ("memory", "fsync", "none"):
            p(f"| 7 Journal ingest, {side} | p50 / p99 / p999 of the 200 (µs) | | {jlat(side)} | | report | |")
        counts = [v for side in ("fsync", "none")
                  for v in metric("journal", side, "non_2xx").values()]
        p(f"| 7 Journal ingest | non-2xx answers (all runs) | | {fmt(sum(counts) if counts else None)} | | 0 | "
          f"{verdict(None if not counts else sum(counts) == 0)} |")

    if by[("jetstream", "memory")]:
        r, per = ratio("jetstream", "r1", "ok_rps", "memory", "ok_rps")
        p(f"| 10 JetStream ingest, R1 | requests/s | memory {fmt(med('jetstream', 'memory', 'ok_rps'))} | "
          f"{fmt(med('jetstream', 'r1', 'ok_rps'))} | {ratio_text(r, per)} | ≥ 0.6× | "
          f"{verdict(None if r is None else r >= 0.6)} |")
        for side in ("memory", "r1"):
            lat = " / ".join(fmt(med("jetstream", side, f"latency_{q}_us")) for q in ("p50", "p99", "p999"))
            p(f"| 10 JetStream ingest, {side} | p50 / p99 / p999 of the 200 (µs) | | {lat} | | report | |")
    if by[("jetstream", "live_r1")]:
        hp50 = med("jetstream", "live_r1", "latency_p50_us")
        p(f"| 10 Live latency through JetStream R1, 2,000/s, 10 subs | p50 (µs), POST → subscriber | "
          f"JetStream direct {fmt(med('jetstream', 'live_peer', 'latency_p50_us'))} | {fmt(hp50)} | | ≤ 1 ms | "
          f"{verdict(None if hp50 is None else hp50 <= 1000)} |")
        r, per = ratio("jetstream", "live_r1", "latency_p99_us", "live_peer", "latency_p99_us")
        p(f"| 10 Live latency through JetStream R1 | p99 (µs); received / expected (median run) | "
          f"JetStream direct {fmt(med('jetstream', 'live_peer', 'latency_p99_us'))} | "
          f"{fmt(med('jetstream', 'live_r1', 'latency_p99_us'))}; "
          f"{fmt(med('jetstream', 'live_r1', 'received'))} / {fmt(med('jetstream', 'live_r1', 'expected'))} | "
          f"{ratio_text(r, per)} | report | |")
    if by[("restart", "warm_seconds")]:
        fill = next(iter(by[("restart", "fill")].values()), {})
        for cache in ("warm", "cold"):
            secs = med("restart", f"{cache}_seconds", "seconds")
            if secs is None:
                continue
            p(f"| 8 Restart, {fmt(fill.get('ok_2xx'))} journaled events ({cache} page cache) | seconds until both listeners serve | | "
              f"{fmt(secs, 2)} | | ≤ 5 s | {verdict(secs <= 5) if cache == 'warm' else 'report'} |")
        for side, label in (("warm", "after recovery"), ("journaling", "while journaling")):
            rows_ = [row for row in by[("restart", side)].values()
                     if row.get("byte_count") and row.get("rss_bytes", -1) > 0]
            if not rows_:
                continue
            r = median([row["rss_bytes"] / row["byte_count"] for row in rows_])
            p(f"| 8 Memory {label} | RSS / serialized bytes | | RSS {fmt(rows_[0]['rss_bytes'] / 2**20)} MiB / "
              f"{fmt(rows_[0]['byte_count'] / 2**20)} MiB | {fmt(r, 2)}× | ≤ 1.3× | {verdict(r <= 1.3)} |")
        disk = next(iter(by[("restart", "disk")].values()), {}).get("journal_bytes")
        p(f"| 8 Journal on disk | bytes | | {fmt(disk)} | | report | |")

    conv = [r for r in rows if r["workload"] == "conversion"]
    for c in conv:
        p(f"| 6 {c['side']} | {c['label']} items/s (median) | | {fmt(c.get('items_per_s'))} "
          f"({fmt(c.get('ns_per_op'))} ns/op) | | | |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
