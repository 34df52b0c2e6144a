import AreoProducts
import AreoTelemetry
import AreoGeometry
import Foundation

/// How the HTTP server listens, caches and renders.
public struct ServerConfiguration: Sendable {
    /// Interface to bind, e.g. `127.0.0.1`.
    public var host: String
    /// TCP port; 0 lets the system choose.
    public var port: Int
    /// Largest pass file accepted by `POST /v1/passes`.
    public var maximumUploadBytes: Int
    /// Where uploads are spooled before ingest (so a large pass is never held in memory).
    public var uploadDirectory: String
    /// The product cache (`--cache-dir`).
    public var cacheDirectory: String
    /// The cache's byte budget (`--cache-size`).
    public var cacheBytes: Int
    /// Render workers; by default one per core.
    public var renderWorkers: Int
    /// Neighbours queued after an observation's product is served.
    public var prefetchNeighbours: Int
    /// Largest region mosaic, pixels.
    public var maximumMosaicPixels: Int
    /// Where `POST /v1/exports` writes its deliveries.
    public var exportDirectory: String
    /// Sustained requests per second per client (token, or address for the public); 0: no limit.
    public var requestsPerSecond: Double = 200
    /// Requests a client may send at once above that rate.
    public var requestBurst: Double = 400
    /// Cold renders one client may wait for at once; 0: no limit.
    public var coldRendersPerClient = 4
    /// Cold tile renders one client may wait for at once (a viewport is a dozen); 0: no limit.
    public var coldTilesPerClient = 32
    /// Memory for the fragments read for recent tiles (`--fragment-memory`); 0: off.
    public var fragmentMemoryBytes = 256 << 20
    /// When estimated corrections are anomalies (`--mechanism-offset-limit`).
    public var corrections = CorrectionPolicy()
    /// Where Leaflet is installed (Debian's `libjs-leaflet`), served under `/static/leaflet/`.
    public var leafletDirectory = "/usr/share/javascript/leaflet"
    /// How often the catalogue is polled while loads cannot be heard (LISTEN lost).
    public var catalogPollInterval: Duration = .seconds(2)
    /// Whether geometry is refined automatically after observations complete and control arrives
    /// (`--no-automatic-refinement` turns it off; on request it always runs).
    public var automaticRefinement = true
    /// Whether an observation's corrections are estimated in the background as soon as it is
    /// complete or its inputs change (`--automatic-corrections`); off by default: on a machine whose
    /// compute pool has one thread the estimates queue ahead of users' renders (measured: a render
    /// request timed out behind them), so by default the first product estimates.
    public var automaticCorrections = false

    public init(
        host: String = "127.0.0.1", port: Int = 8080, maximumUploadBytes: Int = 4 << 30,
        uploadDirectory: String = FileManager.default.temporaryDirectory.path,
        cacheDirectory: String = "cache", cacheBytes: Int = 2 << 30,
        renderWorkers: Int = ProcessInfo.processInfo.activeProcessorCount, prefetchNeighbours: Int = 4,
        maximumMosaicPixels: Int = 25_000_000, exportDirectory: String = "exports"
    ) {
        self.host = host
        self.port = port
        self.maximumUploadBytes = maximumUploadBytes
        self.uploadDirectory = uploadDirectory
        self.cacheDirectory = cacheDirectory
        self.cacheBytes = cacheBytes
        self.renderWorkers = renderWorkers
        self.prefetchNeighbours = prefetchNeighbours
        self.maximumMosaicPixels = maximumMosaicPixels
        self.exportDirectory = exportDirectory
    }
}
