import AreoGeometry
import AreoArchive
import AreoProcessing
import AreoRadiometry
import AreoTelemetry
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Makes products from the archive on demand: resolves the geometry kernel and calibration set
/// that apply to the observation now (ICD §7, §9), loads the instrument, then renders from the
/// stored fragments, loading one fragment at a time.
public struct ProductService: Sendable {
    public let database: Database
    let logger: Logger
    /// When the corrections estimated from an observation are anomalies for operations.
    public let corrections: CorrectionPolicy

    public init(database: Database, logger: Logger, corrections: CorrectionPolicy = .init()) {
        self.database = database
        self.logger = logger
        self.corrections = corrections
    }

    /// An encoded product.
    public struct ProductFile: Sendable {
        public var request: ProductRequest
        public var provenance: ProductProvenance
        public var bytes: [UInt8]
        /// The PDS4 label (for `dat`; nil for PNG/JPEG).
        public var label: String?
        public var quality: ObservationProcessor.ProductQuality
        public var mediaType: String {
            switch request.format {
            case .png: "image/png"
            case .jpg: "image/jpeg"
            case .dat: "application/octet-stream"
            }
        }
    }

    /// Everything processing needs for one observation, as it applies now.
    public struct Inputs: Sendable {
        public var processor: ObservationProcessor
        public var provenance: ProductProvenance
        public var framelets: [FrameletReference]
    }

    /// Resolves the inputs of `observationID`: what applies now, the shape models that meet it
    /// (as the catalogue resolved them), and its corrections (estimated once per set of inputs,
    /// see ``corrections(observationID:inputsKey:startSCLK:provenance:processor:framelets:)``).
    /// - Throws: ``ProcessingError`` naming what is missing (no such observation, no kernel
    ///   covering it, no calibration, no instrument, no complete fragment).
    /// - Parameter pinned: the kernel, calibration set and shape models to use instead of those
    ///   that apply now (the server keys its cache by them and renders exactly what it keyed).
    public func inputs(observationID: Int, pinned: ProductProvenance? = nil) async throws -> Inputs {
        let repository = InputRepository(database: database, logger: logger)
        guard var applicable = try await repository.applicable(observationID: observationID) else {
            throw ProcessingError(.notInArchive, "observation \(observationID) is not in the archive")
        }
        if let pinned {
            applicable.kernelID = pinned.kernelID
            applicable.calibrationID = pinned.calibrationID
        }
        guard let kernelID = applicable.kernelID else {
            throw ProcessingError(.noKernel, "no geometry kernel covers observation \(observationID) (SCLK \(applicable.startSCLK)–\(applicable.endSCLK)); load one with `areo geometry load`")
        }
        guard let calibrationID = applicable.calibrationID else {
            throw ProcessingError(.noCalibration, "no calibration set applies to observation \(observationID); load one with `areo calibration load`")
        }
        // Read side by side (each on its own pooled connection): the kernel's parsing overlaps
        // the calibration rows' transfer.
        let archive = InputRepository(database: database, logger: logger)
        async let loadedKernel = archive.kernel(kernelID)
        async let loadedInstrument = archive.latestInstrument()
        // The catalogue entry names the shape models; they are read (and, the first time, parsed)
        // while the fragments and the calibration rows are.
        async let loadedTerrain = terrain(observationID: observationID, pinned: pinned?.shapeModels)
        var framelets = try await FragmentRepository(database: database, logger: logger).completeFramelets(observationID: observationID)
            .filter { $0.isProcessable() }
        let calibration = try await archive.calibration(calibrationID, rows: Self.calibrationRows(of: framelets))
        let (kernel, instrument) = try await (loadedKernel, loadedInstrument)
        framelets = framelets.filter { $0.isProcessable(on: instrument) }
        guard !framelets.isEmpty else { throw ProcessingError(.noCompleteFragment, "observation \(observationID) has no complete fragment yet") }
        let (entry, shapeModelIDs, terrain) = try await loadedTerrain
        let base = ObservationProcessor(instrument: instrument, kernel: kernel, calibration: calibration, terrain: terrain)
        var provenance = ProductProvenance(kernelID: kernelID, calibrationID: calibrationID, shapeModels: shapeModelIDs)
        let inputsKey = [kernelID, calibrationID, shapeModelIDs.joined(separator: ","), entry?.inputsDigest ?? "", entry?.dataStamp ?? "", areoVersion]
            .joined(separator: "|")
        var corrections = ObservationCorrections.none
        if let known = pinned?.corrections {
            corrections = known
        } else {
            corrections = try await self.corrections(
                observationID: observationID, inputsKey: inputsKey, startSCLK: applicable.startSCLK, provenance: provenance,
                processor: base, framelets: framelets).corrections
        }
        provenance.corrections = corrections
        return Inputs(processor: base.with(corrections), provenance: provenance, framelets: framelets)
    }

    /// The observation's catalogue entry, the shape models that apply to it (`pinned`, else those
    /// the catalogue resolved) and the terrain they make (nil without any).
    private func terrain(observationID: Int, pinned: [String]?) async throws -> (ObservationCatalog.Entry?, [String], Terrain?) {
        let entry = try await ObservationCatalog(database: database, logger: logger).entry(observationID: observationID)
        let ids = pinned ?? entry?.shapeModelIDs ?? []
        let terrain = ids.isEmpty ? nil : Terrain(models: try await ShapeModelRepository(database: database, logger: logger).models(ids))
        return (entry, ids, terrain)
    }

    /// Renders and encodes `request`.
    ///
    /// - Parameters:
    ///   - pinned: render with these inputs rather than those that apply now.
    ///   - dataFileName: the name the data file will have beside its label (default the
    ///     product's own `fileName`): the label's `file_name` must be what a reader finds.
    ///   - progress: called after each framelet is loaded with (framelets done, framelets in all).
    public func product(
        _ request: ProductRequest, pinned: ProductProvenance? = nil, versionID: String = "1.0", dataFileName: String? = nil,
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> ProductFile {
        let started = ContinuousClock.now
        let inputs = try await inputs(observationID: request.observationID, pinned: pinned)
        let resolved = ContinuousClock.now
        let fragments = FragmentRepository(database: database, logger: logger)
        let total = inputs.framelets.filter { request.bands.contains($0.header.band ?? .pan) }.count
        let loaded = LoadCounter()
        let rendered = try await inputs.processor.render(request, framelets: inputs.framelets) { reference in
            try Task.checkCancellation()
            let done = loaded.next()
            progress(done, max(total, done))
            guard let band = reference.header.band,
                  let stored = try await fragments.fragment(observationID: request.observationID, framelet: Int(reference.header.frameletIndex), band: band)
            else { throw ProcessingError(.fragmentUnreadable, "fragment \(reference.header.frameletIndex)/\(reference.header.band?.name ?? "?") vanished") }
            return Array(stored.payload)
        }
        // Saturation found while processing is an anomaly for the operations team (once per
        // observation and band).
        if rendered.quality.saturatedSamples > 0 {
            try await AnomalyRecorder(database: database, logger: logger).record(request.bands.map { band in
                Anomaly(
                    kind: .saturation, severity: .warning, observationID: request.observationID,
                    evidence: ["bands": request.bands.map(\.name).joined(separator: ","), "saturated_samples": String(rendered.quality.saturatedSamples),
                               "saturated_fraction": String(rendered.quality.saturatedFraction)],
                    dedupKey: "saturation:\(request.observationID):\(band.name)")
            })
        }
        let made = ContinuousClock.now
        let bytes = try rendered.raster.encode(request.format)
        logger.debug("product timing", metadata: [
            "product": "\(request.fileName)", "inputs_s": "\(Self.seconds(resolved - started))", "render_s": "\(Self.seconds(made - resolved))",
            "encode_s": "\(Self.seconds(ContinuousClock.now - made))",
        ])
        var label: String? = nil
        if request.format == .dat {
            let starts = inputs.framelets.map(\.exposureStart)
            let trajectory = inputs.processor.trajectory
            let span = (starts.min() ?? 0, (starts.max() ?? 0) + Double(inputs.framelets.map(\.header.exposureDurationMicroseconds).max() ?? 0) / 1e6)
            let time = { (sclk: Double) in GroundTime.date(t: trajectory.t(sclk: sclk)) }
            let md5 = Insecure.MD5.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            var pds4 = PDS4ProductLabel(
                request: request, provenance: inputs.provenance, raster: rendered.raster, dataFileName: dataFileName ?? request.fileName,
                startTime: time(span.0), stopTime: time(span.1), md5: md5,
                bounds: rendered.raster.grid?.geographicBounds)
            pds4.versionID = versionID
            label = pds4.render()
        }
        logger.info("product rendered", metadata: [
            "product": "\(request.fileName)", "kernel": "\(inputs.provenance.kernelID)", "calibration": "\(inputs.provenance.calibrationID)",
        ])
        return ProductFile(request: request, provenance: inputs.provenance, bytes: bytes, label: label, quality: rendered.quality)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// The detector rows each band's windows cover among `framelets` (what calibrating them needs).
    static func calibrationRows(of framelets: [FrameletReference]) -> [Band: Range<Int>] {
        var rows: [Band: Range<Int>] = [:]
        for reference in framelets {
            guard let band = reference.header.band else { continue }
            let first = Int(reference.header.windowFirstRow), last = first + reference.header.lines * Int(reference.header.binning)
            rows[band] = rows[band].map { min($0.lowerBound, first)..<max($0.upperBound, last) } ?? first..<last
        }
        return rows
    }

}

/// Counts framelet loads (made from child tasks) for progress reports.
private final class LoadCounter: Sendable {
    private let count = Mutex(0)
    func next() -> Int { count.withLock { $0 += 1; return $0 } }
}
