import Prometheus

/// The stream's health at `/metrics`.
struct RealtimeMetrics: Sendable {
    let clients: Gauge
    let delivered: Counter
    let resumes: Counter
    let resets: Counter
    let overflows: Counter
    /// Inbox count queries run for the stream (clients arriving together share one).
    let countsReads: Counter
    /// From an event's commit (its stored time) to its frame being queued for the clients.
    let lag: DurationHistogram

    init(registry: PrometheusCollectorRegistry) {
        func name(_ metric: String, unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "parley", subsystem: "realtime", metricName: metric, unitName: unit, helpText: help)
        }
        clients = registry.makeGauge(descriptor: name("clients", unit: "count", "Connected WebSocket clients of this instance"))
        delivered = registry.makeCounter(descriptor: name("events_delivered", unit: "total", "Event frames queued for clients"))
        resumes = registry.makeCounter(descriptor: name("resumes", unit: "total", "Connections that resumed after a known event id"))
        resets = registry.makeCounter(descriptor: name("resets", unit: "total", "Connections told to reload: the id they gave is no longer kept"))
        overflows = registry.makeCounter(descriptor: name("overflows", unit: "total", "Connections closed because they fell too far behind"))
        countsReads = registry.makeCounter(descriptor: name("counts_reads", unit: "total", "Inbox count queries run for connected clients"))
        lag = registry.makeDurationHistogram(descriptor: name("lag", unit: "seconds", "Time from an event's commit to its delivery to the connected clients"),
                                             buckets: [.milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)])
    }
}
