import AreoCodecs
import AreoGeometry
import AreoProcessing
import AreoQuery
import AreoRadiometry
import AreoTelemetry
import Foundation

/// The entry points the libFuzzer harness (`Fuzz/FuzzEntry.swift`, built by `scripts/fuzz`)
/// and the regression tests (`Tests/AreoFuzzTargetsTests`) share: one per parser of outside
/// data. Each takes arbitrary bytes and must return — a parser may reject them with an error,
/// never trap. Each also uses what it parsed the way Areo does next (checks, conversions), so
/// a value that parses but breaks a later step is found too.
public enum FuzzTargets {
    /// Every target by name.
    public static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "pass-file": passFile,
        "space-packet": spacePacket,
        "fragment": fragment,
        "housekeeping": housekeeping,
        "clock-wrap": clockWrap,
        "kernel": kernel,
        "calibration": calibration,
        "instrument": instrument,
        "plan": plan,
        "dictionary": dictionary,
        "tar": tar,
        "query": query,
        "geotiff": geotiff,
    ]

    /// A shape model's or reference map's GeoTIFF (ICD §11, §12), read by libtiff from a file as an
    /// upload is, then checked as both (radius; I/F), and each read at points in and around it.
    @Sendable public static func geotiff(_ bytes: [UInt8]) {
        let path = NSTemporaryDirectory() + "areo-fuzz-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max)).dem.tif"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let raster = try? GeoTIFF.readFloat32(path: path) else { return }
        let model = try? ShapeModel(
            id: "fuzz", produced: Date(), resolution: 100, width: raster.width, height: raster.height, west: raster.tiepoint.x,
            north: raster.tiepoint.y, pixelWidth: raster.pixelScale.x, pixelHeight: raster.pixelScale.y, values: raster.values, noData: raster.noData)
        let map = try? ReferenceMap(
            id: "fuzz", produced: Date(), resolution: 100, band: "PAN", accuracy: 2, width: raster.width, height: raster.height,
            west: raster.tiepoint.x, north: raster.tiepoint.y, pixelWidth: raster.pixelScale.x, pixelHeight: raster.pixelScale.y,
            values: raster.values, noData: raster.noData)
        for (latitude, longitude) in [(raster.tiepoint.y, raster.tiepoint.x), (0.0, 0.0), (-90.0, 359.9), (.nan, 1e300)] {
            _ = model?.radius(latitude: latitude, longitude: longitude)
            _ = map?.value(latitude: latitude, longitude: longitude)
        }
    }

    /// A pass file (ICD §2–3): records, damage, packets, and the fragments and housekeeping in them.
    @Sendable public static func passFile(_ bytes: [UInt8]) {
        var pieces: [FragmentAssembler<Int>.Piece] = []
        var detector = ClockWrapDetector(state: nil)
        PassFileScanner(bytes: bytes).forEachEvent { event in
            guard case .record(let record) = event else { return }
            let packet = record.packet
            _ = packet.structuralViolations
            _ = packet.isCRCValid
            _ = record.header.ertMicrosecondsSinceUnixEpoch
            _ = detector.judge(sclk: packet.sclk, sequenceCount: packet.sequenceCount, ertMicroseconds: record.header.ertMicrosecondsSinceUnixEpoch)
            switch packet.apid {
            case SpacePacket.APID.science:
                pieces.append(.init(reference: record.offset, flags: packet.sequenceFlags, sequenceCount: packet.sequenceCount,
                                    crcValid: packet.isCRCValid, userData: packet.userData))
            case SpacePacket.APID.housekeeping:
                _ = try? HousekeepingSample.decode(userData: packet.userData)
            default: break
            }
        }
        for fragment in FragmentAssembler<Int>().assemble(pieces).fragments { decode(fragment.bytes) }
    }

    /// One space packet (ICD §3).
    @Sendable public static func spacePacket(_ bytes: [UInt8]) {
        guard bytes.count >= SpacePacket.minimumSize, bytes.count <= SpacePacket.maximumSize else { return }
        let packet = SpacePacket(bytes: bytes)
        _ = (packet.structuralViolations, packet.isCRCValid, packet.apid, packet.sequenceFlags, packet.sclk.seconds, packet.userData.count)
    }

    /// One fragment (ICD §4): header, its rules, and its payload decoded by all three compressions.
    @Sendable public static func fragment(_ bytes: [UInt8]) { decode(bytes) }

    static func decode(_ bytes: [UInt8]) {
        guard let header = FragmentHeader(bytes: bytes) else { return }
        _ = (header.violations, header.band, header.compression, header.lines, header.samples, header.exposureStart.seconds)
        guard header.violations.isEmpty else { return }
        let payload = bytes[FragmentHeader.size...]
        _ = CRC32.checksum(payload)
        _ = try? FragmentDecoder.samples(header: header, payload: payload)
    }

    /// One housekeeping packet's user data (ICD §5), through the sample dictionary's channels.
    @Sendable public static func housekeeping(_ bytes: [UInt8]) {
        guard let samples = try? HousekeepingSample.decode(userData: bytes[...]) else { return }
        let channel = HousekeepingDictionary.Channel(id: 1, name: "T", unit: "degC", coefficients: [-40, 0.01, 1e-7], yellow: [-20, 30], red: [-30, 40])
        for sample in samples { _ = channel.limitLevel(of: channel.engineering(raw: sample.raw)) }
    }

    /// The clock-wrap detector (ICD §6) over a stream of (coarse, fine, sequence count, ERT)
    /// readings, and the wrap calendar over a span read from the same bytes.
    @Sendable public static func clockWrap(_ bytes: [UInt8]) {
        var detector = ClockWrapDetector(state: nil)
        var offset = 0
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[at + $1]) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(bytes[at + $1]) } }
        while offset + 16 <= bytes.count {
            let clock = SpacecraftClock(coarse: u32(offset), fine: UInt16(truncatingIfNeeded: u32(offset + 4) >> 16))
            let sequence = UInt16(truncatingIfNeeded: u32(offset + 4)) & 0x3FFF
            let ert = Int64(bitPattern: u64(offset + 8))
            _ = detector.judge(sclk: clock, sequenceCount: sequence, ertMicroseconds: ert, trusted: bytes[offset] & 1 == 0)
            offset += 16
        }
        if bytes.count >= 32 {
            let from = Double(bitPattern: u64(0)), to = Double(bitPattern: u64(8))
            let points = [ClockCorrelation.Point(sclk: Double(bitPattern: u64(16)), t: Double(bitPattern: u64(24)))]
            _ = ClockCorrelation(points: points).wraps(fromT: from, toT: to, limit: 100)
        }
    }

    /// A geometry kernel (ICD §7), then its trajectory evaluated across its coverage.
    @Sendable public static func kernel(_ bytes: [UInt8]) {
        guard let kernel = try? GeometryKernel.parse(Data(bytes), file: "fuzz.json") else { return }
        let trajectory = Trajectory(kernel: kernel)
        let a = kernel.coverageSCLK[0], b = kernel.coverageSCLK[1]
        for f in [0.0, 0.5, 1.0] {
            let t = trajectory.t(sclk: a + (b - a) * f)
            _ = trajectory.state(at: t)
        }
    }

    /// A calibration set's description (ICD §9), with 2 × 2 arrays for whatever files it names.
    @Sendable public static func calibration(_ bytes: [UInt8]) {
        let array: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0x80, 0x3F, 0, 0, 0x80, 0x3F, 0, 0, 0x80, 0x3F]
        _ = try? CalibrationSet.parse(description: Data(bytes), file: "calibration.json") { name in
            name.hasSuffix(".u8") ? [0, 0, 0, 0] : array
        }
    }

    /// An instrument description (ICD §8), then its camera looking through every band's corners.
    @Sendable public static func instrument(_ bytes: [UInt8]) {
        guard let instrument = try? InstrumentDescription.parse(Data(bytes), file: "instrument.json") else { return }
        let camera = CameraModel(instrument: instrument)
        for band in instrument.bands {
            let w = band.window
            let point = CameraModel.detectorPoint(sample: Double(w.cols), line: Double(w.rows), firstColumn: w.firstCol, firstRow: w.firstRow, binning: 1)
            let look = camera.lookDirection(x: point.x, y: point.y, rotationDegrees: 10)
            _ = camera.detectorPoint(looking: look, rotationDegrees: 10)
        }
    }

    /// A plan file (ICD §10), each plan compared with a header made from it.
    @Sendable public static func plan(_ bytes: [UInt8]) {
        guard let plans = try? ObservationPlan.parseLines(Data(bytes), file: "fuzz.plan.jsonl") else { return }
        for plan in plans {
            _ = (plan.endSCLK, plan.expectedFragments, plan.frameletStart(plan.exposures - 1))
            _ = PlanComparison(plan: plan, arrivals: [])
            if let embargo = plan.embargoUntil { _ = GroundTime.parse(embargo).map { Embargo.isPublic(planned: true, embargoUntil: $0) } }
        }
    }

    /// A housekeeping dictionary (ICD §5), every channel's polynomial and limits evaluated.
    @Sendable public static func dictionary(_ bytes: [UInt8]) {
        guard let dictionary = try? HousekeepingDictionary.parse(Data(bytes), file: "hk-dictionary.json") else { return }
        for channel in dictionary.channels {
            for raw in [0, 1, 32_768, 65_535] as [UInt16] { _ = channel.limitLevel(of: channel.engineering(raw: raw)) }
        }
    }

    /// A calibration set's ustar upload.
    @Sendable public static func tar(_ bytes: [UInt8]) {
        guard let members = try? CalibrationArchive.members(of: bytes) else { return }
        for member in members { _ = bytes[member.bytes].count }
    }

    /// A request's query string, read through every rule the API uses.
    @Sendable public static func query(_ bytes: [UInt8]) {
        let q = QueryParameters(queryString: String(decoding: bytes, as: UTF8.self))
        _ = try? q.integer("limit", in: 1...10_000)
        _ = try? q.limit(standard: 100, maximum: 1000)
        _ = try? q.offset()
        _ = try? q.number("scale", in: 0.5...100_000)
        _ = try? q.time("from")
        _ = try? q.timeRange("from", "to", maximumSpan: 400 * 86_400)
        _ = try? q.ertMicroseconds()
        _ = try? q.sclkRange()
        _ = try? q.box("bbox")?.shiftedCopies
        _ = try? q.name("name")
        _ = try? q.choice("status", of: ["complete", "partial"])
    }
}
