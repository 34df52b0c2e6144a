import AreoGeometry
import AreoTelemetry
import Foundation

extension MissionSimulator {
    /// Cuts the packet stream into pass files (boundaries fall mid-fragment, so observations
    /// are split across passes) and injects the transport faults, recording each in `injected`.
    func writePasses(_ stream: [Record], into directory: URL, random: inout SeededRandom, injected: inout [[String: Any]]) throws -> [String] {
        let faults = options.faults
        let passCount = max(1, options.passes)
        var bounds = (0...passCount).map { stream.count * $0 / passCount }
        bounds[passCount] = stream.count
        var passes: [[Record]] = (0..<passCount).map { Array(stream[bounds[$0]..<bounds[$0 + 1]]) }
        // A boundary inside a fragment splits its observation across passes mid-fragment: the
        // partial fragment must survive until the next pass completes it.
        for n in 1..<passCount where bounds[n] > 0 && bounds[n] < stream.count {
            if let before = stream[bounds[n] - 1].origin, let after = stream[bounds[n]].origin,
               (before.observation, before.framelet, before.band) == (after.observation, after.framelet, after.band) {
                injected.append(["kind": "split_mid_fragment", "pass": n + 1, "obs": after.observation, "frag": [after.framelet, after.band]])
            }
        }
        // Overlapping passes: the last records of pass n are delivered again at the start of n+1.
        let overlap = min(faults.duplicates, passes.map(\.count).min() ?? 0)
        if overlap > 0 {
            for n in 1..<passCount {
                passes[n] = Array(passes[n - 1].suffix(overlap)) + passes[n]
                injected.append(["kind": "duplicate", "count": overlap, "pass": n + 1])
            }
        }
        // Faults hit middle packets of distinct fragments, away from the overlaps.
        var spoiled = Set<String>()
        func pick(in pass: Int, margin: Int) -> Int? {
            let records = passes[pass]
            guard records.count > 2 * margin + 2 else { return nil }
            for _ in 0..<500 {
                let index = margin + Int(random.unit() * Double(records.count - 2 * margin - 1))
                guard let origin = records[index].origin, origin.chunk > 0, origin.chunk < origin.chunks - 1 else { continue }
                let key = "\(origin.observation)/\(origin.framelet)/\(origin.band)"
                guard !spoiled.contains(key) else { continue }
                spoiled.insert(key)
                return index
            }
            return nil
        }
        let margin = overlap + 2
        var dropped: [[String: Any]] = [], flipped: [[String: Any]] = []
        for n in 0..<faults.dropped {
            let pass = n % passCount
            guard let index = pick(in: pass, margin: margin), let o = passes[pass][index].origin else { continue }
            passes[pass].remove(at: index)
            dropped.append(["obs": o.observation, "frag": [o.framelet, o.band], "chunk": o.chunk])
        }
        for n in 0..<faults.bitFlips {
            let pass = (n + 1) % passCount
            guard let index = pick(in: pass, margin: margin), let o = passes[pass][index].origin else { continue }
            var bytes = passes[pass][index].packet.bytes
            // Anywhere after the primary header: the secondary header (time stamp) included.
            let at = 6 + Int(random.unit() * Double(bytes.count - 6 - 2))
            bytes[at] ^= UInt8(1 << Int(random.unit() * 8))
            passes[pass][index].packet = SpacePacket(bytes: bytes)
            flipped.append(["obs": o.observation, "frag": [o.framelet, o.band], "chunk": o.chunk])
        }
        if !dropped.isEmpty { injected.append(["kind": "dropped", "packets": dropped]) }
        if !flipped.isEmpty { injected.append(["kind": "bitflip", "packets": flipped]) }
        for n in 0..<faults.reorders {
            let pass = (n + 1) % passCount
            guard let index = pick(in: pass, margin: margin), passes[pass][index + 1].origin != nil else { continue }
            passes[pass].swapAt(index, index + 1)
            injected.append(["kind": "reorder", "pass": pass + 1])
        }
        // Stray bytes go after a record in the middle of a pass; 0xFF makes an implausible length.
        var strayAfter: [Int: (index: Int, count: Int)] = [:]
        for n in 0..<faults.strayBytes {
            let pass = n % passCount
            let index = passes[pass].count / 2 + n
            let count = 13 + n
            strayAfter[pass] = (index, count)
            injected.append(["kind": "stray_bytes", "pass": pass + 1, "count": count])
        }

        var names: [String] = []
        for (n, records) in passes.enumerated() {
            var writer = PassFileWriter()
            var bytes: [UInt8] = []
            for (index, record) in records.enumerated() {
                writer.append(record.packet, ertMicroseconds: record.ertMicroseconds, station: UInt16(63 + n % 3), virtualChannel: 0, timeQuality: 0)
                if let stray = strayAfter[n], stray.index == index {
                    bytes += writer.drain()
                    bytes += [UInt8](repeating: 0xFF, count: stray.count)
                }
            }
            bytes += writer.drain()
            if faults.truncated, n == passCount - 1, let last = records.last, last.origin == nil {
                bytes.removeLast(last.packet.bytes.count / 2)
                injected.append(["kind": "truncated_record", "pass": n + 1])
            }
            let name = String(format: "pass_%03d.dds", n + 1)
            try Data(bytes).write(to: directory.appendingPathComponent(name))
            names.append(name)
        }
        return names
    }

    /// The truth as map-projected I/F: per observation and band, float32 little-endian rows
    /// (north up) on a grid in the projection Areo chooses for the observation's centre, at the
    /// observation's ground sample distance; described in `truth.json` → `truth_maps`.
    func writeTruthMaps(_ observations: [PlannedObservation], geometry: MissionGeometry, terrain: Terrain? = nil, into directory: URL) throws -> [[String: Any]] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var entries: [[String: Any]] = []
        for observation in observations {
            let plan = observation.plan
            let midT = observation.startT + Double(plan.exposures) * plan.intervalSeconds / 2
            let sun = geometry.sun(at: midT)
            let projection = MapProjection.forObservation(latitude: observation.centre.latitude, longitude: observation.centre.longitude)
            let gsd = 400 * instrument.detector.pixelPitchMM / instrument.detector.focalLengthMM * 1000 * Double(plan.binning)
            let scale = max(0.5, (gsd * 2).rounded() / 2)
            for band in Band.allCases {
                let window = instrument.bands[Int(band.rawValue)].window
                var box = (minX: Double.infinity, minY: Double.infinity, maxX: -Double.infinity, maxY: -Double.infinity)
                for k in [0, plan.exposures - 1] {
                    let t = observation.startT + Double(k) * plan.intervalSeconds
                    let camera = FrameletCamera(
                        state: geometry.state(at: t), camera: self.camera, terrain: terrain, rotationDegrees: plan.rotationDegrees, firstRow: window.firstRow,
                        firstColumn: window.firstCol, binning: plan.binning, lines: window.rows / plan.binning, samples: window.cols / plan.binning)
                    for (c, r) in [(-0.5, -0.5), (Double(camera.samples) - 0.5, -0.5), (-0.5, Double(camera.lines) - 0.5), (Double(camera.samples) - 0.5, Double(camera.lines) - 0.5)] {
                        guard let seen = camera.view(sample: c, line: r) else { continue }
                        let (x, y) = projection.forward(latitude: seen.coordinates.latitude, longitude: seen.coordinates.longitude)
                        box = (min(box.minX, x), min(box.minY, y), max(box.maxX, x), max(box.maxY, y))
                    }
                }
                guard box.minX.isFinite else { continue }
                let grid = MapGrid(projection: projection, scale: scale, covering: box)
                var values = [Float](repeating: .nan, count: grid.width * grid.height)
                // A binned sample is the mean of its pixels (ICD §4): for binned observations each
                // truth pixel is the mean over b × b points spread over it likewise.
                let b = plan.binning
                for j in 0..<grid.height {
                    for i in 0..<grid.width {
                        let (x, y) = grid.center(column: i, row: j)
                        var sum = 0.0
                        for sy in 0..<b {
                            for sx in 0..<b {
                                let dx = ((Double(sx) + 0.5) / Double(b) - 0.5) * scale, dy = ((Double(sy) + 0.5) / Double(b) - 0.5) * scale
                                let (lat, lon) = projection.inverse(x: x + dx, y: y + dy)
                                if let terrain {
                                    // On the terrain: the point above (lat, lon), lit on its own normal.
                                    let p = terrain.surfacePoint(latitude: lat, longitude: lon)
                                    sum += planet.albedo(p, band: band) * max(terrain.normal(at: p).dot((sun - p).normalized), 0)
                                } else {
                                    sum += planet.iof(Ellipsoid.mars.surfacePoint(latitude: lat, longitude: lon), band: band, sun: sun)
                                }
                            }
                        }
                        values[j * grid.width + i] = Float(sum / Double(b * b))
                    }
                }
                let file = "\(plan.observationID)_\(band.name).f32"
                try Data(Self.littleEndian(values)).write(to: directory.appendingPathComponent(file))
                entries.append([
                    "observation_id": Int(plan.observationID), "band": band.name, "file": "truth/\(file)", "width": grid.width, "height": grid.height,
                    "scale_m": scale, "min_x_m": grid.minX, "max_y_m": grid.maxY, "proj": projection.projString,
                    "saturated_area": observation.saturatedArea,
                ])
            }
        }
        return entries
    }
}
