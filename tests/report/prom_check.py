#!/usr/bin/python3
# prom_check.py - parse an htgate-report metrics file with the Prometheus
# text-format parser (Debian's python3-prometheus-client) and print: the
# milter's decisions, the HDR-CC findings, the rejections, the type of
# htgate_record_write_seconds and the rows of the record.  A file the
# parser refuses raises (the test compares the output).  Also checks what
# the parser leaves to the writer: every histogram's buckets rise with le,
# end with +Inf, and +Inf equals _count.
# OWNERSHIP: tests/report.
import sys
from prometheus_client.parser import text_string_to_metric_families

fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}


def total(name, **want):
    """Sum of the samples of family name whose labels include want."""
    return sum(int(s.value) for s in fams[name].samples
               if s.name == name + "_total" or s.name == name
               if all(s.labels.get(k) == v for k, v in want.items()))


for f in fams.values():
    if f.type != "histogram":
        continue
    series = {}
    for s in f.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        series.setdefault(key, {"buckets": [], "count": None})
        if s.name.endswith("_bucket"):
            series[key]["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            series[key]["count"] = s.value
    for key, v in series.items():
        les = [b[0] for b in v["buckets"]]
        vals = [b[1] for b in v["buckets"]]
        assert les == sorted(les) and les[-1] == float("inf"), (f.name, key, les)
        assert vals == sorted(vals), (f.name, key, vals)
        assert vals[-1] == v["count"], (f.name, key, vals[-1], v["count"])

print(total("htgate_decisions", daemon="milter"),
      total("htgate_rule_decisions", rule="HDR-CC"),
      total("htgate_decisions", action="reject"),
      fams["htgate_record_write_seconds"].type,
      int(fams["htgate_record_decisions"].samples[0].value))
