import AreoCodecs
import AreoGeometry
import AreoRadiometry
import AreoTelemetry
import Foundation

/// Writes a whole ICD-conformant mission with its ground truth: instrument description,
/// observation plans, pass files, a calibration set, predicted and reconstructed geometry
/// kernels, the housekeeping dictionary, `truth.json` and (optionally) map-projected truth I/F.
/// Deterministic for a given seed. The forward model is the ICD's (§7–9): the exact orbit and
/// attitude, the pinhole camera, ray–ellipsoid intersection, Lambert I/F of the truth planet,
/// `DN = bias + flat·(I/F·F·t_exp/(π·d²·k)) + noise`, rounded and clipped.
public struct MissionSimulator: Sendable {
    public let options: SimulationOptions
    public let dictionary: HousekeepingDictionary
    let instrument: InstrumentDescription
    let camera: CameraModel
    let planet: TruthPlanet

    /// Ground time of the mission's start (2026-04-20T…).
    public static let missionEpoch = 830_000_000.0
    /// Unix seconds of t = 0.
    static let unixOffset = GroundTime.unixEpochOffset

    public init(options: SimulationOptions, dictionary: HousekeepingDictionary) {
        self.options = options
        self.dictionary = dictionary
        instrument = options.instrument.description
        camera = CameraModel(instrument: instrument)
        let gsd = 400 * instrument.detector.pixelPitchMM / instrument.detector.focalLengthMM  // km at nadir
        planet = TruthPlanet(seed: options.seed, finestWavelength: 3 * gsd)
    }

    /// One planned observation with what the simulator needs to make it.
    struct PlannedObservation {
        var plan: ObservationPlan
        var startT: Double
        var centre: PlanetocentricCoordinates
        var saturatedArea = false
        var wraps = false
        var compression: Compression
    }

    /// A record on its way into a pass file.
    struct Record {
        var packet: SpacePacket
        var ertMicroseconds: Int64
        var generatedT: Double
        /// For science packets: (observation, framelet, band, chunk, chunks).
        var origin: (observation: Int, framelet: Int, band: Int, chunk: Int, chunks: Int)?
    }

    /// What was written.
    public struct Summary: Sendable {
        public var observations: Int
        public var fragments: Int
        public var packets: Int
        public var passFiles: [String]
        public var seconds: Double
        /// Seconds spent making each observation's fragments (forward model and compression).
        public var observationSeconds: [Double]
    }

    /// Simulates the mission into `directory`. `progress` receives a line per step.
    public func run(into directory: URL, progress: @Sendable (String) -> Void = { _ in }) async throws -> Summary {
        let clockStart = ContinuousClock.now
        var random = SeededRandom(seed: options.seed)
        let t0 = Self.missionEpoch + Double(options.seed % 1000) * 86_400
        var geometry = MissionGeometry(epoch: t0, random: &random)
        if options.terrain { geometry.offNadirDegrees = 10 }
        let duration = Double(max(1, options.orbits)) * geometry.period
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)

        // Observations on the day side, one poleward of 65° when the orbit allows, and timing.
        var observations = planObservations(geometry: geometry, t0: t0, duration: duration, random: &random)
        guard !observations.isEmpty else { throw SimulationError("no sunlit ground under the orbit: try another --seed or more --orbits") }
        if options.referenceMap, let first = observations.first {
            let id = (observations.map(\.plan.observationID).max() ?? first.plan.observationID) + 1
            observations.insert(overlappingFollowUp(of: first, geometry: geometry, id: id), at: 1)
        }
        // The clock: SCLK runs 3e-8 fast; with the wrap fault its origin puts a multiple of
        // 65 536 s in the middle of one observation.
        let rate = 1 + 3e-8
        var sclk0 = 720_000_000.0 + Double(options.seed % 997) * 10
        var wrapObservation: Int? = nil
        if options.faults.clockWrap {
            let index = min(1, observations.count - 1)
            let o = observations[index]
            let mid = o.startT + Double(o.plan.exposures) * o.plan.intervalSeconds / 2 + 0.013
            sclk0 = (sclk0 / 65_536).rounded() * 65_536 - (mid - t0) * rate
            observations[index].wraps = true
            wrapObservation = Int(o.plan.observationID)
        }
        let origin = sclk0
        let sclk: @Sendable (Double) -> Double = { origin + ($0 - t0) * rate }
        let tOf: @Sendable (Double) -> Double = { t0 + ($0 - origin) / rate }
        for index in observations.indices {
            observations[index].plan.startSCLK = Self.roundToTicks(sclk(observations[index].startT))
        }
        let clockPoints = stride(from: t0 - 100, through: t0 + duration + 700, by: 500).map { MissionGeometry.ClockPoint(sclk: sclk($0), t: $0) }
        for index in observations.indices.shuffled(using: &random).prefix(options.faults.saturated) {
            observations[index].saturatedArea = true
        }

        // Inputs: instrument, plans, calibration, kernels, housekeeping dictionary.
        progress("writing instrument, plans, calibration set and geometry kernels")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(instrument).write(to: directory.appendingPathComponent("instrument.json"))
        let lineEncoder = JSONEncoder()
        lineEncoder.outputFormatting = [.sortedKeys]
        let planLines = try observations.map { String(decoding: try lineEncoder.encode($0.plan), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try Data(planLines.utf8).write(to: directory.appendingPathComponent("mission.plan.jsonl"))
        try encoder.encode(dictionary).write(to: directory.appendingPathComponent("hk-dictionary.json"))
        var calibration = makeCalibration(random: &random)
        var scene: TerrainScene? = nil
        if options.terrain {
            progress("writing shape models (dem/) and the corrections' truth")
            let made = try makeTerrain(observations, geometry: geometry, random: &random, into: directory.appendingPathComponent("dem"))
            addStraylight(to: &calibration, scene: made, geometry: geometry)
            scene = made
        }
        try write(calibration, into: directory.appendingPathComponent("calibration/cal-0001"))
        let geometryDirectory = directory.appendingPathComponent("geometry")
        try fm.createDirectory(at: geometryDirectory, withIntermediateDirectories: true)
        let (from, to) = (t0 - 60, t0 + duration + 600)
        let (timingError, pointingError) = options.referenceMap ? (Self.referenceMapTimingError, Self.referenceMapPointingError) : (0.02, 2e-4)
        let predicted = geometry.kernel(
            id: "pred-\(options.seed)", kind: .predicted, produced: "2026-11-01T00:00:00Z", from: from, to: to, clock: clockPoints,
            timingError: timingError, pointingError: pointingError)
        let reconstructed = geometry.kernel(
            id: "recon-\(options.seed)", kind: .reconstructed, produced: "2026-11-05T00:00:00Z", from: from, to: to, clock: clockPoints)
        try encoder.encode(predicted).write(to: geometryDirectory.appendingPathComponent("predicted.json"))
        try encoder.encode(reconstructed).write(to: geometryDirectory.appendingPathComponent("reconstructed.json"))

        // Science: fragments of every framelet and band, in parallel over exposures.
        var records: [Record] = []
        var sequence: [UInt16: UInt16] = [:]
        func nextSequence(_ apid: UInt16) -> UInt16 {
            let value = sequence[apid, default: 0]
            sequence[apid] = (value + 1) & 0x3FFF
            return value
        }
        var fragmentCount = 0
        var observationSeconds: [Double] = []
        var made: [SimulatedFragment] = []
        for (number, observation) in observations.enumerated() {
            let observationStart = ContinuousClock.now
            progress("observation \(observation.plan.observationID) (\(number + 1)/\(observations.count)): \(observation.plan.exposures) exposures × 4 bands, \(observation.compression)")
            made += try await makeFragments(observation, geometry: geometry, sclkOf: sclk, tOf: tOf, calibration: calibration, scene: scene)
            let spent = (ContinuousClock.now - observationStart).components
            observationSeconds.append(Double(spent.seconds) + Double(spent.attoseconds) / 1e18)
        }
        // One instrument sends one fragment at a time, whichever observation it belongs to
        // (observations may overlap in time): each fragment's packets start when it is ready and
        // the previous one has gone, and are numbered in that order.
        made.sort { $0.generatedT < $1.generatedT }
        var free = -Double.infinity
        for index in made.indices {
            made[index].generatedT = max(made[index].generatedT, free)
            free = made[index].generatedT + Double((made[index].bytes.count + SpacePacket.maximumUserData - 1) / SpacePacket.maximumUserData) * 0.0005
        }
        for fragment in made {
            fragmentCount += 1
            let segments = SpacePacket.segments(fragment.bytes)
            for (index, segment) in segments.enumerated() {
                let generated = fragment.generatedT + Double(index) * 0.0005
                var stamp = SpacecraftClock(seconds: Self.roundToTicks(sclk(generated)))
                if fragment.wrapped { stamp = SpacecraftClock(coarse: stamp.coarse &+ 65_536, fine: stamp.fine) }
                let packet = SpacePacket.make(
                    apid: SpacePacket.APID.science, flags: segment.flags, sequenceCount: nextSequence(SpacePacket.APID.science), sclk: stamp,
                    serviceType: 200, serviceSubtype: 1, userData: segment.userData)
                records.append(Record(
                    packet: packet, ertMicroseconds: Self.ert(generated), generatedT: generated,
                    origin: (Int(fragment.header.observationID), Int(fragment.header.frameletIndex), Int(fragment.header.bandCode), index, segments.count)))
            }
        }

        // Housekeeping every 30 s, with the requested limit violations.
        var injected: [[String: Any]] = []
        var housekeepingTimes = Array(stride(from: t0 + 5, to: t0 + duration, by: 30))
        housekeepingTimes.shuffle(using: &random)
        let violations = Array(housekeepingTimes.prefix(options.faults.housekeepingYellow + options.faults.housekeepingRed))
        for t in stride(from: t0 + 5, to: t0 + duration, by: 30) {
            var samples: [(UInt16, UInt16)] = dictionary.channels.map { ($0.id, Self.raw(for: Self.nominal($0), $0)) }
            if let which = violations.firstIndex(of: t), let fpa = dictionary.channels.first(where: { $0.name == "FPA_TEMP" }) ?? dictionary.channels.first {
                let red = which >= options.faults.housekeepingYellow
                let value = red ? fpa.red[1] + 3 : (fpa.yellow[1] + fpa.red[1]) / 2
                samples = samples.map { $0.0 == fpa.id ? ($0.0, Self.raw(for: value, fpa)) : $0 }
                injected.append(["kind": red ? "hk_red" : "hk_yellow", "channel": fpa.name, "sclk": Self.roundToTicks(sclk(t))])
            }
            var userData: [UInt8] = [UInt8(samples.count >> 8), UInt8(samples.count & 0xFF)]
            for (id, raw) in samples { userData += [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(raw >> 8), UInt8(raw & 0xFF)] }
            let packet = SpacePacket.make(
                apid: SpacePacket.APID.housekeeping, flags: .unsegmented, sequenceCount: nextSequence(SpacePacket.APID.housekeeping),
                sclk: SpacecraftClock(seconds: Self.roundToTicks(sclk(t))), serviceType: 3, serviceSubtype: 25, userData: userData)
            records.append(Record(packet: packet, ertMicroseconds: Self.ert(t), generatedT: t, origin: nil))
        }
        records.sort { $0.generatedT < $1.generatedT }
        // Sequence counts in generation order per APID (science was numbered per fragment, in
        // order; housekeeping too), so nothing to renumber.

        // Passes, with the transport faults.
        progress("writing \(options.passes) pass files (\(records.count) packets)")
        let passes = try writePasses(records, into: directory, random: &random, injected: &injected)

        // Truth.
        let truthMaps = options.truthMaps ?? (options.instrument != .cassis)
        var maps: [[String: Any]] = []
        if truthMaps {
            progress("writing map-projected truth I/F")
            maps = try writeTruthMaps(observations, geometry: geometry, terrain: scene?.terrain, into: directory.appendingPathComponent("truth"))
        }
        for observation in observations where observation.saturatedArea {
            injected.append(["kind": "saturated", "observation": Int(observation.plan.observationID)])
        }
        var truth: [String: Any] = [
            "seed": Int(options.seed), "instrument": options.instrument.rawValue,
            "observations": observations.map { o -> [String: Any] in
                [
                    "observation_id": Int(o.plan.observationID), "fragments": o.plan.expectedFragments, "compression": o.plan.compression,
                    "binning": o.plan.binning, "rotation_deg": o.plan.rotationDegrees, "centre_latitude": o.centre.latitude,
                    "centre_longitude": o.centre.longitude, "start_sclk": o.plan.startSCLK, "target_id": o.plan.targetID ?? "",
                ]
            },
            "injected": injected, "packets_total": records.count, "wrap_observation": wrapObservation.map { $0 as Any } ?? NSNull(),
            "kernels": ["predicted": ["timing_error_s": timingError, "pointing_error_rad": pointingError], "reconstructed": ["timing_error_s": 0, "pointing_error_rad": 0]],
            "truth_maps": maps,
        ]
        if let scene { truth["terrain"] = Self.truth(of: scene) }
        if options.referenceMap, observations.count > 1 {
            progress("writing the reference map (refmap/)")
            var refinement = try writeReferenceMap(over: observations[0], geometry: geometry, terrain: scene?.terrain, into: directory.appendingPathComponent("refmap"))
            refinement["overlapping_observation"] = Int(observations[1].plan.observationID)
            refinement["uncontrolled_observations"] = observations.dropFirst(2).map { Int($0.plan.observationID) }
            truth["refinement"] = refinement
        }
        try JSONSerialization.data(withJSONObject: truth, options: [.prettyPrinted, .sortedKeys]).write(to: directory.appendingPathComponent("truth.json"))
        let seconds = (ContinuousClock.now - clockStart).components
        return Summary(
            observations: observations.count, fragments: fragmentCount, packets: records.count, passFiles: passes,
            seconds: Double(seconds.seconds) + Double(seconds.attoseconds) / 1e18, observationSeconds: observationSeconds)
    }

    // MARK: - Planning

    static let targets: [(String, Double, Double)] = [
        ("Jezero", 18.4, 77.5), ("Gale", -5.4, 137.8), ("Valles Marineris", -13.9, 300.8), ("Olympus Mons", 18.7, 226.2),
        ("Hellas", -42.4, 70.5), ("Utopia", 49.7, 118.0), ("Arabia Terra", 20.0, 5.0), ("Planum Boreum", 85.0, 0.0),
        ("Planum Australe", -84.0, 160.0), ("Elysium", 25.0, 147.2), ("Meridiani", -1.9, 354.5), ("Argyre", -49.7, 316.0),
    ]

    func planObservations(geometry: MissionGeometry, t0: Double, duration: Double, random: inout SeededRandom) -> [PlannedObservation] {
        struct Candidate { let t: Double; let view: SurfaceView }
        var candidates: [Candidate] = []
        for t in stride(from: t0 + 300, to: t0 + duration - 300, by: 20) {
            let state = geometry.state(at: t)
            guard let view = Ellipsoid.mars.view(from: state, direction: (-state.position).normalized), view.incidence < 70 else { continue }
            candidates.append(Candidate(t: t, view: view))
        }
        guard !candidates.isEmpty else { return [] }
        var chosen: [Candidate] = []
        func farFromChosen(_ c: Candidate) -> Bool { chosen.allSatisfy { abs($0.t - c.t) > 240 } }
        if options.observations >= 3, let polar = candidates.filter({ abs($0.view.coordinates.latitude) > 66 }).randomElement(using: &random) {
            chosen.append(polar)
        }
        let slots = max(1, options.observations)
        var slot = 0
        while chosen.count < options.observations && slot < slots * 8 {
            let begin = candidates.count * (slot % slots) / slots + (slot / slots) * 7
            if begin < candidates.count, farFromChosen(candidates[begin]) { chosen.append(candidates[begin]) }
            slot += 1
        }
        chosen.sort { $0.t < $1.t }
        let compressions: [Compression] = [.ccsds121, .none, .jpeg]
        let baseID = UInt32(6000 + options.seed % 1000 * 10)
        return chosen.enumerated().map { index, candidate in
            let state = geometry.state(at: candidate.t)
            let binning = options.instrument == .cassis ? 1 : (index % 3 == 2 ? 2 : 1)
            let altitude = (state.position - candidate.view.point).length
            let gsd = altitude * instrument.detector.pixelPitchMM / instrument.detector.focalLengthMM * Double(binning)
            let groundSpeed = state.velocity.length * Ellipsoid.mars.equatorialRadius / state.position.length
            let rows = Double(instrument.bands[0].window.rows / binning)
            // Consecutive exposures overlap by about 7 % along track.
            let interval = (rows * gsd * 0.93 / groundSpeed * 1e6).rounded() / 1e6
            let rotation = [0.0, 180.0, 0.0, 30.0][index % 4]
            let c = candidate.view.coordinates
            let target = Self.targets.min { Self.distance($0.1, $0.2, c) < Self.distance($1.1, $1.2, c) }!
            let compression = compressions[index % 3]
            let plan = ObservationPlan(
                observationID: baseID + UInt32(index), startSCLK: 0, exposures: options.instrument.exposures, intervalSeconds: interval,
                exposureMicroseconds: 1500, binning: binning, bitsPerSample: 14, compression: compression.planName, rotationDegrees: rotation,
                bands: instrument.bands.map { .init(band: $0.name, firstRow: $0.window.firstRow, rows: $0.window.rows, firstCol: $0.window.firstCol, cols: $0.window.cols) },
                targetID: target.0, requestedBy: "areo-simulator", rationale: "simulated \(rotation == 180 ? "stereo-style pair member" : "survey") near \(target.0)",
                embargoUntil: index == 0 ? "2099-01-01T00:00:00Z" : nil)
            let startT = candidate.t - Double(plan.exposures) * interval / 2
            return PlannedObservation(plan: plan, startT: startT, centre: c, compression: compression)
        }
    }

    static func distance(_ lat: Double, _ lon: Double, _ c: PlanetocentricCoordinates) -> Double {
        let a = Ellipsoid.mars.surfacePoint(latitude: lat, longitude: lon), b = Ellipsoid.mars.surfacePoint(latitude: c.latitude, longitude: c.longitude)
        return (a - b).length
    }

    // MARK: - Helpers

    static func roundToTicks(_ seconds: Double) -> Double { (seconds * 65_536).rounded() / 65_536 }

    /// ERT: generation + 11.7 min light time + 2 s ground processing, Unix microseconds.
    static func ert(_ t: Double) -> Int64 { Int64(((t + 702 + unixOffset) * 1e6).rounded()) }

    static func nominal(_ channel: HousekeepingDictionary.Channel) -> Double {
        let (low, high) = (channel.yellow[0], channel.yellow[1])
        return low + (high - low) * 0.4
    }

    /// The raw value whose engineering value is `value` (channels are linear in the ICD dictionary).
    static func raw(for value: Double, _ channel: HousekeepingDictionary.Channel) -> UInt16 {
        let c0 = channel.coefficients.first ?? 0, c1 = channel.coefficients.count > 1 ? channel.coefficients[1] : 1
        return UInt16(min(65535, max(0, ((value - c0) / c1).rounded())))
    }
}

/// Why a simulation could not be made.
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Compression {
    /// The plan's name for the compression (ICD §10).
    public var planName: String {
        switch self {
        case .none: "none"
        case .ccsds121: "ccsds121"
        case .jpeg: "jpeg"
        }
    }
}
