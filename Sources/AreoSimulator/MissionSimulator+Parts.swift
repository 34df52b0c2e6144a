import AreoCodecs
import AreoGeometry
import AreoRadiometry
import AreoTelemetry
import Foundation

extension MissionSimulator {
    /// A fragment as the instrument produced it.
    struct SimulatedFragment: Sendable {
        var header: FragmentHeader
        var bytes: [UInt8]
        /// When its first packet is generated (ground time).
        var generatedT: Double
        var wrapped: Bool
    }

    static let bandConstants: [(k: Double, f: Double)] = [(1.33e-5, 1500), (1.3965e-5, 1425), (1.463e-5, 1200), (1.5295e-5, 1800)]

    // MARK: Calibration

    /// Bias with a column pattern, flat with vignetting and dust donuts, a few bad pixels.
    func makeCalibration(random: inout SeededRandom) -> CalibrationSet {
        let rows = instrument.detector.rows, cols = instrument.detector.cols
        let scale = Double(cols) / 256
        let donuts = (0..<3).map { _ in (x: random.unit() * Double(cols), y: random.unit() * Double(rows), r: (6 + 6 * random.unit()) * scale) }
        var arrays: [Band: CalibrationSet.BandArrays] = [:]
        var bands: [String: CalibrationSet.Description.BandCalibration] = [:]
        for band in Band.allCases {
            let columnPattern = (0..<cols).map { _ in Float(3 * random.gaussian()) }
            var bias = [Float](repeating: 0, count: rows * cols), flat = bias, bad = [UInt8](repeating: 0, count: rows * cols)
            for y in 0..<rows {
                for x in 0..<cols {
                    let k = y * cols + x
                    bias[k] = 96 + columnPattern[x] + Float(1.5 * random.gaussian())
                    let dx = (Double(x) + 0.5 - Double(cols) / 2) / Double(cols), dy = (Double(y) + 0.5 - Double(rows) / 2) / Double(rows)
                    var f = 1 - 0.12 * 2 * (dx * dx + dy * dy) + 0.008 * random.gaussian()
                    for donut in donuts {
                        let d = ((Double(x) - donut.x) * (Double(x) - donut.x) + (Double(y) - donut.y) * (Double(y) - donut.y)).squareRoot()
                        if abs(d - donut.r) < 1.5 * scale { f *= 0.94 }
                    }
                    flat[k] = Float(f)
                    if random.unit() < 0.0004 { bad[k] = 1 }
                }
            }
            arrays[band] = .init(bias: bias, flat: flat, bad: bad)
            let name = band.name.lowercased()
            bands[band.name] = .init(
                bias: "\(name)_bias.f32", flat: "\(name)_flat.f32", badPixels: "\(name)_bad.u8",
                radiancePerDNPerSecond: Self.bandConstants[Int(band.rawValue)].k, solarIrradiance1AU: Self.bandConstants[Int(band.rawValue)].f)
        }
        return CalibrationSet(
            description: .init(calibrationID: "cal-0001", produced: "2026-10-01T00:00:00Z", appliesFromSCLK: 0, detector: .init(rows: rows, cols: cols), bands: bands),
            arrays: arrays)
    }

    func write(_ set: CalibrationSet, into directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(set.description).write(to: directory.appendingPathComponent("calibration.json"))
        for (band, arrays) in set.arrays {
            let files = set.description.bands[band.name]!
            try Data(Self.littleEndian(arrays.bias)).write(to: directory.appendingPathComponent(files.bias))
            try Data(Self.littleEndian(arrays.flat)).write(to: directory.appendingPathComponent(files.flat))
            try Data(arrays.bad).write(to: directory.appendingPathComponent(files.badPixels))
            if let pattern = arrays.straylight, let file = files.straylight {
                try Data(Self.littleEndian(pattern)).write(to: directory.appendingPathComponent(file))
            }
        }
    }

    static func littleEndian(_ values: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * 4)
        for (i, v) in values.enumerated() {
            let bits = v.bitPattern
            (bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]) =
                (UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24))
        }
        return bytes
    }

    // MARK: Fragments

    /// The observation's fragments (every exposure and band), exposures in parallel.
    func makeFragments(
        _ observation: PlannedObservation, geometry: MissionGeometry, sclkOf: @escaping @Sendable (Double) -> Double,
        tOf: @escaping @Sendable (Double) -> Double, calibration: CalibrationSet, scene: TerrainScene? = nil
    ) async throws -> [SimulatedFragment] {
        let plan = observation.plan
        let wrapCoarse = (plan.startSCLK / 65_536).rounded(.down) + 1
        let saturationCentre = observation.saturatedArea ? Ellipsoid.mars.surfacePoint(latitude: observation.centre.latitude, longitude: observation.centre.longitude) : nil
        let simulator = self
        // The mechanism's real angle: commanded + its offset (ICD §8).
        let offset = scene?.mechanismOffsets[plan.observationID] ?? 0
        let looks = Dictionary(uniqueKeysWithValues: Band.allCases.map { ($0, self.looks(band: $0, rotationDegrees: plan.rotationDegrees + offset)) })
        let epsilon = scene?.straylightEpsilon[plan.observationID] ?? 0
        var fragments: [SimulatedFragment] = try await withThrowingTaskGroup(of: [SimulatedFragment].self) { group in
            let lanes = max(1, ProcessInfo.processInfo.activeProcessorCount)
            for lane in 0..<lanes {
                group.addTask {
                    var made: [SimulatedFragment] = []
                    for k in stride(from: lane, to: plan.exposures, by: lanes) {
                        try Task.checkCancellation()
                        let startT = observation.startT + Double(k) * plan.intervalSeconds
                        let startSCLK = Self.roundToTicks(sclkOf(startT))
                        let midT = tOf(startSCLK + Double(plan.exposureMicroseconds) / 2e6)
                        let state = geometry.state(at: midT)
                        let wrapped = observation.wraps && startSCLK >= wrapCoarse * 65_536
                        for band in Band.allCases {
                            let samples = simulator.exposeBand(
                                band, plan: plan, state: state, calibration: calibration, saturationCentre: saturationCentre,
                                noiseSeed: simulator.options.seed &+ UInt64(plan.observationID) << 20 &+ UInt64(k) << 4 &+ UInt64(band.rawValue),
                                looks: looks[band]!, terrain: scene?.terrain, straylightFactor: 1 + epsilon)
                            made.append(try simulator.encodeFragment(
                                samples, band: band, plan: plan, framelet: k, startSCLK: startSCLK, wrapped: wrapped,
                                compression: observation.compression, readyT: startT + Double(plan.exposureMicroseconds) / 1e6 + 0.01))
                        }
                    }
                    return made
                }
            }
            var all: [SimulatedFragment] = []
            for try await part in group { all += part }
            return all
        }
        // The instrument sends fragments one after another: each one's packets start when it is
        // ready and the previous one has gone (0.5 ms a packet).
        fragments.sort { ($0.header.frameletIndex, $0.header.bandCode) < ($1.header.frameletIndex, $1.header.bandCode) }
        var free = -Double.infinity
        for index in fragments.indices {
            let start = max(fragments[index].generatedT, free)
            fragments[index].generatedT = start
            free = start + Double((fragments[index].bytes.count + SpacePacket.maximumUserData - 1) / SpacePacket.maximumUserData) * 0.0005
        }
        return fragments
    }

    /// One band's binned DN samples of one exposure (ICD §9 forward model). Every detector
    /// pixel's ray meets the ellipsoid — or with `terrain` the shape models (ICD §11, i on the
    /// terrain's normal) — exactly; the smooth part of the albedo (colour units and long texture
    /// octaves) is evaluated on nodes every 16 pixels and interpolated, the rest per pixel. With a
    /// straylight pattern in the band, `A(α)·straylightFactor·P·t_exp` is added (§9).
    func exposeBand(
        _ band: Band, plan: ObservationPlan, state: Trajectory.State, calibration: CalibrationSet, saturationCentre: Vector3?, noiseSeed: UInt64,
        looks: [Vector3], terrain: Terrain? = nil, straylightFactor: Double = 1
    ) -> [UInt16] {
        let window = instrument.bands[Int(band.rawValue)].window
        let b = plan.binning, lines = window.rows / b, samples = window.cols / b
        let arrays = calibration.arrays[band]!
        let cols = instrument.detector.cols
        let (k, f) = Self.bandConstants[Int(band.rawValue)]
        let tExp = Double(plan.exposureMicroseconds) / 1e6
        let top = Double((1 << plan.bitsPerSample) - 1)
        let saturationRadius = 0.3 * Double(cols) * 400 * instrument.detector.pixelPitchMM / instrument.detector.focalLengthMM
        // Nodes of the smooth albedo part, every 16 detector pixels (and the window's last pixel).
        let step = 16
        // Where a ray meets the surface, starting near where its neighbour did.
        var lastDistance: Double? = nil
        func surface(_ direction: Vector3) -> Vector3? {
            guard let terrain else { return Ellipsoid.mars.intersect(origin: state.position, direction: direction) }
            // Neighbouring pixels' distances differ by metres: start 60 m before the last one's.
            guard let (p, _) = terrain.intersect(origin: state.position, direction: direction, near: lastDistance, margin: 0.06) else { return nil }
            lastDistance = (p - state.position).length
            return p
        }
        let boresight = state.attitude.rotate(Vector3(0, 0, 1))
        let stray: (amplitude: Double, pattern: [Float])? = calibration.arrays[band]?.straylight.flatMap { pattern in
            let alpha = boresight.angle(to: state.sun - state.position) * 180 / .pi
            let amplitude = calibration.description.bands[band.name]?.expectedStraylight(alphaDegrees: alpha) ?? 0
            return amplitude > 0 ? (amplitude * straylightFactor, pattern) : nil
        }
        let range = (state.position - (surface(state.attitude.rotate(looks[looks.count / 2])) ?? .zero)).length
        let nodeSpacingKM = Double(step) * range * instrument.detector.pixelPitchMM / instrument.detector.focalLengthMM
        let threshold = 20 * nodeSpacingKM
        let nodeXs = Array(stride(from: 0, to: window.cols - 1, by: step)) + [window.cols - 1]
        let nodeYs = Array(stride(from: 0, to: window.rows - 1, by: step)) + [window.rows - 1]
        var nodes = [(base: Double, detail: Double)](repeating: (0, 0), count: nodeXs.count * nodeYs.count)
        for (j, y) in nodeYs.enumerated() {
            for (i, x) in nodeXs.enumerated() {
                if let p = surface(state.attitude.rotate(looks[y * window.cols + x])) {
                    nodes[j * nodeXs.count + i] = planet.coarseComponents(p, band: band, threshold: threshold)
                }
            }
        }
        func coarse(_ x: Int, _ y: Int) -> (base: Double, detail: Double) {
            let i = min(x / step, nodeXs.count - 2), j = min(y / step, nodeYs.count - 2)
            let fx = Double(x - nodeXs[i]) / Double(nodeXs[i + 1] - nodeXs[i]), fy = Double(y - nodeYs[j]) / Double(nodeYs[j + 1] - nodeYs[j])
            let a = nodes[j * nodeXs.count + i], c = nodes[j * nodeXs.count + i + 1]
            let d = nodes[(j + 1) * nodeXs.count + i], e = nodes[(j + 1) * nodeXs.count + i + 1]
            let base = (a.base * (1 - fx) + c.base * fx) * (1 - fy) + (d.base * (1 - fx) + e.base * fx) * fy
            let detail = (a.detail * (1 - fx) + c.detail * fx) * (1 - fy) + (d.detail * (1 - fx) + e.detail * fx) * fy
            return (base, detail)
        }
        var noise = SeededRandom(seed: noiseSeed)
        var dn = [UInt16](repeating: 0, count: lines * samples)
        for r in 0..<lines {
            for c in 0..<samples {
                var sum = 0.0
                for dy in 0..<b {
                    for dx in 0..<b {
                        let wx = c * b + dx, wy = r * b + dy
                        let direction = state.attitude.rotate(looks[wy * window.cols + wx])
                        var signal = 0.0
                        if let p = surface(direction) {
                            let n = terrain?.normal(at: p) ?? Ellipsoid.mars.normal(at: p)
                            let toSun = state.sun - p
                            let sunDistance = toSun.length
                            let cosI = n.dot(toSun) / sunDistance
                            var iof = planet.combine(coarse(wx, wy), planet.fineComponents(p, threshold: threshold)) * max(cosI, 0)
                            if let centre = saturationCentre, (p - centre).length < saturationRadius {
                                iof = iof * 4 + 1  // far above what a 14-bit sample can hold
                            }
                            let d = sunDistance / astronomicalUnitKM
                            signal = iof * f * tExp / (Double.pi * d * d * k)
                        }
                        let pixel = (window.firstRow + wy) * cols + window.firstCol + wx
                        sum += Double(arrays.bias[pixel]) + Double(arrays.flat[pixel]) * signal
                        if let stray { sum += stray.amplitude * Double(stray.pattern[pixel]) * tExp }
                    }
                }
                let value = sum / Double(b * b) + 1.2 * noise.gaussian()
                dn[r * samples + c] = UInt16(min(top, max(0, value.rounded())))
            }
        }
        return dn
    }

    /// The instrument-frame look direction of every pixel centre of a band's window at a rotation.
    func looks(band: Band, rotationDegrees: Double) -> [Vector3] {
        let window = instrument.bands[Int(band.rawValue)].window
        var result: [Vector3] = []
        result.reserveCapacity(window.rows * window.cols)
        for y in 0..<window.rows {
            for x in 0..<window.cols {
                result.append(camera.lookDirection(x: Double(window.firstCol + x) + 0.5, y: Double(window.firstRow + y) + 0.5, rotationDegrees: rotationDegrees))
            }
        }
        return result
    }

    func encodeFragment(
        _ samples: [UInt16], band: Band, plan: ObservationPlan, framelet: Int, startSCLK: Double, wrapped: Bool,
        compression: Compression, readyT: Double
    ) throws -> SimulatedFragment {
        let window = instrument.bands[Int(band.rawValue)].window
        let b = plan.binning
        let payload: [UInt8]
        switch compression {
        case .none:
            payload = samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case .ccsds121:
            payload = try CCSDS121.encode(samples, bits: plan.bitsPerSample)
        case .jpeg:
            let companded = samples.map { SquareRootCompanding.compress($0, bits: plan.bitsPerSample) }
            payload = try JPEG.encodeGray(JPEG.GrayImage(width: window.cols / b, height: window.rows / b, pixels: companded), quality: 100)
        }
        var start = SpacecraftClock(seconds: startSCLK)
        if wrapped { start = SpacecraftClock(coarse: start.coarse &+ 65_536, fine: start.fine) }
        let header = FragmentHeader(
            observationID: plan.observationID, frameletIndex: UInt16(framelet), band: band, compression: compression, exposureStart: start,
            exposureDurationMicroseconds: plan.exposureMicroseconds, windowFirstRow: UInt16(window.firstRow), windowRows: UInt16(window.rows),
            windowFirstColumn: UInt16(window.firstCol), windowColumns: UInt16(window.cols), bitsPerSample: UInt8(plan.bitsPerSample),
            binning: UInt8(b), rotationAngleCentidegrees: UInt16((plan.rotationDegrees * 100).rounded()), frameletsPlannedPerBand: UInt16(plan.exposures),
            payloadLength: UInt32(payload.count), payloadCRC: CRC32.checksum(payload), detectorTemperatureCentidegrees: -1500)
        return SimulatedFragment(header: header, bytes: header.bytes + payload, generatedT: readyT + Double(band.rawValue) * 0.002, wrapped: wrapped)
    }
}
