import CoreMetrics
import Prometheus

/// Areo's metrics, made through swift-metrics with a Prometheus factory of their own registry
/// (so several servers in one process — tests — do not share counters). `/metrics` renders
/// ``registry`` in the Prometheus text format.
public struct DeliveryMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public let cacheHits: CoreMetrics.Counter
    public let cacheMisses: CoreMetrics.Counter
    public let cacheEvictions: CoreMetrics.Counter
    public let cacheEvictedBytes: CoreMetrics.Counter
    public let cacheBytes: CoreMetrics.Gauge
    public let cacheEntries: CoreMetrics.Gauge
    public let queueDepth: CoreMetrics.Gauge
    public let runningRenders: CoreMetrics.Gauge
    public let regenerations: CoreMetrics.Counter
    /// Tiles answered empty without a render (nothing visible covers them).
    public let emptyTiles: CoreMetrics.Counter

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                                   .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                                   .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30)]
        self.factory = factory
        cacheHits = CoreMetrics.Counter(label: "areo_cache_hits_total", dimensions: [], factory: factory)
        cacheMisses = CoreMetrics.Counter(label: "areo_cache_misses_total", dimensions: [], factory: factory)
        cacheEvictions = CoreMetrics.Counter(label: "areo_cache_evictions_total", dimensions: [], factory: factory)
        cacheEvictedBytes = CoreMetrics.Counter(label: "areo_cache_evicted_bytes_total", dimensions: [], factory: factory)
        cacheBytes = CoreMetrics.Gauge(label: "areo_cache_bytes", dimensions: [], factory: factory)
        cacheEntries = CoreMetrics.Gauge(label: "areo_cache_entries", dimensions: [], factory: factory)
        queueDepth = CoreMetrics.Gauge(label: "areo_render_queue_depth", dimensions: [], factory: factory)
        runningRenders = CoreMetrics.Gauge(label: "areo_renders_running", dimensions: [], factory: factory)
        regenerations = CoreMetrics.Counter(label: "areo_regenerations_total", dimensions: [], factory: factory)
        emptyTiles = CoreMetrics.Counter(label: "areo_tiles_empty_total", dimensions: [], factory: factory)
    }

    /// A render reached `state` (done, failed, cancelled).
    public func render(_ state: RenderScheduler.State, priority: RenderPriority) {
        CoreMetrics.Counter(label: "areo_renders_total", dimensions: [("state", state.rawValue), ("priority", priority.name)], factory: factory).increment()
    }

    /// One HTTP request answered.
    public func request(method: String, route: String, status: Int, duration: Duration) {
        let dimensions = [("method", method), ("route", route), ("status", String(status))]
        CoreMetrics.Counter(label: "areo_http_requests_total", dimensions: dimensions, factory: factory).increment()
        CoreMetrics.Timer(label: "areo_http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: factory)
            .recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + Int64(duration.components.attoseconds / 1_000_000_000))
    }

    /// Sets the gauges from the cache's and the scheduler's current state (before a scrape).
    public func record(cache: ProductCache.Statistics, scheduler: RenderScheduler.Statistics) {
        cacheBytes.record(cache.bytes)
        cacheEntries.record(cache.entries)
        queueDepth.record(scheduler.queued)
        runningRenders.record(scheduler.running)
    }

    /// The Prometheus text exposition.
    public func exposition() -> String { registry.emitToString() }
}
