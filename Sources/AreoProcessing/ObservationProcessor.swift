import AreoCodecs
import AreoGeometry
import AreoRadiometry
import AreoTelemetry

/// A fragment as processing needs it: its header and its (clock-wrap corrected) exposure start.
public struct FrameletReference: Sendable, Hashable {
    public var header: FragmentHeader
    /// Exposure start, SCLK seconds, corrected (ICD §6).
    public var exposureStart: Double

    public init(header: FragmentHeader, exposureStart: Double) {
        self.header = header
        self.exposureStart = exposureStart
    }
}

extension FrameletReference {
    /// Whether processing may use this framelet: its header breaks no ICD §4 rule, it decodes
    /// to at most ``FragmentDecoder/maximumSamples`` samples, and (given the instrument) its
    /// window lies on the detector. A stored fragment is kept exactly as received, so a hostile
    /// header reaches here; it is left out (ingest has reported it), never trusted.
    public func isProcessable(on instrument: InstrumentDescription? = nil) -> Bool {
        guard header.violations.isEmpty, header.lines > 0, header.samples > 0,
              header.lines * header.samples <= FragmentDecoder.maximumSamples else { return false }
        guard let detector = instrument?.detector else { return true }
        return Int(header.windowFirstRow) + Int(header.windowRows) <= detector.rows
            && Int(header.windowFirstColumn) + Int(header.windowColumns) <= detector.cols
    }
}

/// Loads the stored payload of a framelet (called from child tasks, ahead of its use).
public typealias PayloadLoader = @Sendable (FrameletReference) async throws -> [UInt8]

/// Why a product could not be made.
public struct ProcessingError: Error, Sendable, CustomStringConvertible {
    /// What kind of refusal this is (the server maps it to an HTTP status in one place).
    public enum Code: String, Sendable, CaseIterable {
        /// The request itself is malformed (bands, scale, kind or format).
        case invalidRequest = "invalid_request"
        /// No such observation.
        case notInArchive = "not_in_archive"
        /// Not processable yet: an input that will come is missing.
        case noKernel = "no_kernel", noCalibration = "no_calibration", noInstrument = "no_instrument", noCompleteFragment = "no_complete_fragment"
        /// The data that arrived cannot make this product (a band without usable framelets).
        case noUsableData = "no_usable_data"
        /// The geometry puts the framelets off the planet.
        case geometryMissesMars = "geometry_misses_mars"
        /// The output would exceed a limit.
        case tooLarge = "too_large"
        /// A stored fragment could not be read back.
        case fragmentUnreadable = "fragment_unreadable"
        /// An input was replaced while the product was being made (ask again).
        case inputReplaced = "input_replaced"
    }

    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// Turns an observation's stored fragments into science data with one geometry kernel, one
/// calibration set and the shape models that meet it: decoding (ICD §4), radiometric calibration
/// with straylight removal (§9), the camera at each framelet's mid-time with the mechanism's
/// offset (§7–8), ortho-rectification on the terrain (§11), projection and mosaicking. Pure:
/// fragments come through a loader, in order (the next loaded while the current is resampled),
/// so memory holds two framelets and the output.
public struct ObservationProcessor: Sendable {
    public let instrument: InstrumentDescription
    public let trajectory: Trajectory
    public let calibrator: RadiometricCalibrator
    public let camera: CameraModel
    /// The surface the rays meet (nil: the ellipsoid).
    public let terrain: Terrain?
    /// What was estimated from the observation's own data and is applied.
    public let corrections: ObservationCorrections

    public init(
        instrument: InstrumentDescription, kernel: GeometryKernel, calibration: CalibrationSet,
        terrain: Terrain? = nil, corrections: ObservationCorrections = .none
    ) {
        self.init(instrument: instrument, trajectory: Trajectory(kernel: kernel), calibrator: RadiometricCalibrator(set: calibration),
                  terrain: terrain, corrections: corrections)
    }

    init(instrument: InstrumentDescription, trajectory: Trajectory, calibrator: RadiometricCalibrator, terrain: Terrain?, corrections: ObservationCorrections) {
        self.instrument = instrument
        self.trajectory = trajectory
        self.calibrator = calibrator
        var camera = CameraModel(instrument: instrument)
        camera.mechanismOffsetDegrees = corrections.mechanismOffsetDegrees
        self.camera = camera
        self.terrain = terrain.flatMap { $0.models.isEmpty ? nil : $0 }
        self.corrections = corrections
    }

    /// The same processor with other corrections (what the estimators try).
    public func with(_ corrections: ObservationCorrections) -> ObservationProcessor {
        ObservationProcessor(instrument: instrument, trajectory: trajectory, calibrator: calibrator, terrain: terrain, corrections: corrections)
    }

    /// The same processor with another geometry kernel (what a refinement's result is checked with).
    public func with(kernel: GeometryKernel) -> ObservationProcessor {
        ObservationProcessor(instrument: instrument, trajectory: Trajectory(kernel: kernel), calibrator: calibrator, terrain: terrain, corrections: corrections)
    }

    /// Ground time of a framelet's mid-exposure.
    public func midTime(_ reference: FrameletReference) -> Double {
        trajectory.t(sclk: reference.exposureStart + Double(reference.header.exposureDurationMicroseconds) / 2e6)
    }

    /// The framelet's camera at its mid-exposure time.
    public func camera(for reference: FrameletReference) -> FrameletCamera {
        Self.camera(for: reference, trajectory: trajectory, camera: camera, terrain: terrain)
    }

    /// A framelet's camera at its mid-exposure time, from the geometry alone (no calibration).
    public static func camera(for reference: FrameletReference, trajectory: Trajectory, camera: CameraModel, terrain: Terrain? = nil) -> FrameletCamera {
        let h = reference.header
        let mid = trajectory.t(sclk: reference.exposureStart + Double(h.exposureDurationMicroseconds) / 2e6)
        return FrameletCamera(
            state: trajectory.state(at: mid), camera: camera, terrain: terrain,
            rotationDegrees: Double(h.rotationAngleCentidegrees) / 100,
            firstRow: Int(h.windowFirstRow), firstColumn: Int(h.windowFirstColumn), binning: Int(h.binning),
            lines: h.lines, samples: h.samples)
    }

    /// Decodes a fragment's payload into DN (ICD §4).
    public func decode(_ reference: FrameletReference, payload: some Collection<UInt8>) throws -> [UInt16] {
        try FragmentDecoder.samples(header: reference.header, payload: payload)
    }

    /// The straylight amplitude expected in a framelet, `A(α)` of ICD §9 (DN/s at unit pattern;
    /// 0 when its band has no straylight or α is outside the table).
    public func expectedStraylight(_ reference: FrameletReference, camera view: FrameletCamera) -> Double {
        guard let band = reference.header.band, let coefficients = calibrator.set.description.bands[band.name],
              calibrator.set.arrays[band]?.straylight != nil else { return 0 }
        return coefficients.expectedStraylight(alphaDegrees: view.sunAngleDegrees)
    }

    /// Decodes and calibrates a framelet to I/F, with the Sun distance of its centre, removing
    /// the straylight `A(α)·(1 + ε)` (ε from ``corrections``) before the flat field.
    public func calibrate(
        _ reference: FrameletReference, payload: some Collection<UInt8>, camera known: FrameletCamera? = nil, keepStraylight: Bool = false
    ) throws -> CalibratedFramelet {
        let dn = try decode(reference, payload: payload)
        let view = known ?? camera(for: reference)
        let centre = view.view(sample: Double(view.samples - 1) / 2, line: Double(view.lines - 1) / 2)
        let distance = centre?.sunDistanceAU ?? (view.state.sun - view.state.position).length / astronomicalUnitKM
        let amplitude = expectedStraylight(reference, camera: view) * (1 + (corrections.straylightEpsilon ?? 0))
        return try calibrator.calibrate(dn: dn, header: reference.header, sunDistanceAU: distance, straylight: amplitude, keepStraylight: keepStraylight)
    }

    /// The centre of the observation: what the middle framelet's centre sample sees.
    public func centre(of framelets: [FrameletReference]) throws -> SurfaceView {
        let sorted = framelets.sorted { ($0.header.frameletIndex, $0.header.bandCode) < ($1.header.frameletIndex, $1.header.bandCode) }
        guard !sorted.isEmpty else { throw ProcessingError(.noUsableData, "the observation has no framelets") }
        let middle = camera(for: sorted[sorted.count / 2])
        guard let view = middle.view(sample: Double(middle.samples - 1) / 2, line: Double(middle.lines - 1) / 2) else {
            throw ProcessingError(.geometryMissesMars, "the boresight of the middle framelet misses Mars with this geometry kernel")
        }
        return view
    }

    /// The map grid covering every given framelet at `scale` metres per pixel, in the
    /// projection the observation's centre calls for.
    ///
    /// With `commonTo`, only the part every one of those bands covers (the intersection of the
    /// bands' boxes): a colour composite has colour nowhere else. Grids are snapped to multiples
    /// of the scale in projected metres, so such a grid is a window of the full one and products
    /// of one observation overlay pixel for pixel.
    public func grid(for framelets: [FrameletReference], scale: Double, commonTo bands: [Band]? = nil) throws -> MapGrid {
        let centre = try centre(of: framelets)
        let projection = MapProjection.forObservation(latitude: centre.coordinates.latitude, longitude: centre.coordinates.longitude)
        typealias Box = (minX: Double, minY: Double, maxX: Double, maxY: Double)
        func union(_ a: Box, _ b: Box) -> Box { (min(a.minX, b.minX), min(a.minY, b.minY), max(a.maxX, b.maxX), max(a.maxY, b.maxY)) }
        let empty: Box = (.infinity, .infinity, -.infinity, -.infinity)
        // Each framelet's projected outline once; the bands' boxes and their union from those.
        var bandBoxes: [Band?: Box] = [:]
        for reference in framelets {
            let view = camera(for: reference)
            var box = empty
            for (c, r) in Footprint.orderedOutline(view) {
                guard let seen = view.view(sample: c, line: r) else { continue }
                let (x, y) = projection.forward(latitude: seen.coordinates.latitude, longitude: seen.coordinates.longitude)
                box = union(box, (x, y, x, y))
            }
            bandBoxes[reference.header.band] = union(bandBoxes[reference.header.band] ?? empty, box)
        }
        var covering = bandBoxes.values.reduce(empty, union)
        guard covering.minX.isFinite else { throw ProcessingError(.geometryMissesMars, "no framelet of the observation sees Mars with this geometry kernel") }
        for band in bands ?? [] {
            let own = bandBoxes[band] ?? empty
            covering = (max(covering.minX, own.minX), max(covering.minY, own.minY), min(covering.maxX, own.maxX), min(covering.maxY, own.maxY))
        }
        guard covering.minX < covering.maxX, covering.minY < covering.maxY else {
            throw ProcessingError(.noUsableData, "the bands \((bands ?? []).map(\.name).joined(separator: ", ")) have no ground in common")
        }
        return MapGrid(projection: projection, scale: scale, covering: covering)
    }

    /// Pixels between the nodes where the inverse mapping is evaluated exactly: 16 on the
    /// ellipsoid (smooth), and on terrain at most the finest model's pixel (the surface bends at
    /// its pixel edges; between nodes a model pixel apart the interpolated ground moves by at most
    /// a quarter of the slope change across a pixel times the parallax, hundredths of a pixel at
    /// 10° off nadir).
    public func nodeSpacing(on grid: MapGrid) -> Int {
        guard let terrain else { return 16 }
        let finest = terrain.models.map(\.resolution).min() ?? .infinity
        return max(1, Int(min(16, finest / grid.scale)))
    }

    /// Framelets prepared (loaded, decoded, calibrated) ahead of the one being resampled.
    public static let frameletsAhead = 2

    /// Pixels compared when measuring the offset between consecutive framelets: a regular
    /// subsample of their overlap, ample for a sub-pixel least-squares shift.
    public static let frameletRegistrationPixels = 20_000

    /// What a band mosaic comes with.
    public struct MosaicQuality: Sendable, Codable, Equatable {
        /// Median absolute offset (pixels) between consecutive overlapping framelets, nil when
        /// no overlap could be measured.
        public var frameletMisregistration: Double?
        public var frameletPairsMeasured: Int
        public var saturatedSamples: Int
        public var interpolatedSamples: Int
        public var missingFraction: Double
        public var saturatedFraction: Double
        /// Mean straylight removed per sample over the band's framelets, I/F.
        public var straylightRemoved: Double = 0
    }

    /// Projects and mosaics the framelets of one band onto `grid`, loading each payload through
    /// `payload` as it is needed. The next ``frameletsAhead`` framelets are loaded, decoded and
    /// calibrated while the current one is resampled, so memory holds a few framelets besides
    /// the output.
    public func mosaic(
        band: Band, framelets: [FrameletReference], grid: MapGrid, scratch: consuming MosaicScratch? = nil,
        payload: @escaping PayloadLoader
    ) async throws -> (BandMosaic, MosaicQuality) {
        var builder = MosaicBuilder(grid: grid, scratch: scratch.take())
        builder.nodeSpacing = nodeSpacing(on: grid)
        var previous: ProjectedFramelet? = nil
        var offsets: [Double] = []
        var saturatedSamples = 0, interpolatedSamples = 0, straylightRemoved = 0.0
        let mine = framelets.filter({ $0.header.band == band }).sorted(by: { $0.header.frameletIndex < $1.header.frameletIndex })
        typealias Prepared = (calibrated: CalibratedFramelet, camera: FrameletCamera)
        @Sendable func prepare(_ index: Int) async throws -> Prepared {
            try Task.checkCancellation()
            let reference = mine[index]
            let framelet = camera(for: reference)
            return (try calibrate(reference, payload: try await payload(reference), camera: framelet), framelet)
        }
        // Up to `framesAhead` framelets are loaded, decoded and calibrated by child tasks while
        // this task resamples them in order.
        try await withThrowingTaskGroup(of: (Int, Prepared).self) { group in
            var started = 0
            var ready: [Int: Prepared] = [:]
            for index in mine.indices {
                while started < mine.count, started <= index + Self.frameletsAhead {
                    let next = started
                    group.addTask { (next, try await prepare(next)) }
                    started += 1
                }
                while ready[index] == nil, let (done, prepared) = try await group.next() { ready[done] = prepared }
                guard let (calibrated, framelet) = ready.removeValue(forKey: index) else { break }
                saturatedSamples += calibrated.saturatedCount
                interpolatedSamples += calibrated.interpolatedCount
                straylightRemoved += calibrated.straylightRemoved
                let projected = builder.add(calibrated, camera: framelet)
                if let projected, let before = previous, let shift = projected.offset(onto: before, maximumPixels: Self.frameletRegistrationPixels) {
                    offsets.append((shift.dx * shift.dx + shift.dy * shift.dy).squareRoot())
                }
                previous = projected
            }
        }
        let mosaic = builder.finish()
        let median = offsets.isEmpty ? nil : offsets.sorted()[offsets.count / 2]
        return (mosaic, MosaicQuality(
            frameletMisregistration: median, frameletPairsMeasured: offsets.count, saturatedSamples: saturatedSamples,
            interpolatedSamples: interpolatedSamples, missingFraction: mosaic.missingFraction, saturatedFraction: mosaic.saturatedFraction,
            straylightRemoved: straylightRemoved / Double(max(1, mine.count))))
    }
}
