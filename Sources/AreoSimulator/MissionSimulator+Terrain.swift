import AreoGeometry
import AreoRadiometry
import AreoTelemetry
import Foundation

/// `--terrain`: what the CaSSIS corrections need and their truth (ICD §8, §9, §11).
extension MissionSimulator {
    /// The scene's corrections inputs.
    struct TerrainScene: Sendable {
        var terrain: Terrain
        var models: [(id: String, file: String, resolution: Double)]
        /// The mechanism's real offset per observation, degrees (ICD §8).
        var mechanismOffsets: [UInt32: Double]
        /// ε per observation exposed to straylight (ICD §9).
        var straylightEpsilon: [UInt32: Double]
        /// α per observation at its mid-time, degrees.
        var sunAngles: [UInt32: Double]
        /// The observation the fine model covers.
        var fineObservation: UInt32?
    }

    /// The global coarse model (0.25°, about 15 km) and a fine one (three ground samples) over the
    /// first observation away from the poles, written to `dem/` with side files; the offsets,
    /// drifting from one observation to the next within ±0.3°; ε for every other observation (the
    /// only one when there is one).
    func makeTerrain(_ observations: [PlannedObservation], geometry: MissionGeometry, random: inout SeededRandom, into directory: URL) throws -> TerrainScene {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let fine = observations.first { abs($0.centre.latitude) < 60 }
        // Where the fine observation looks (10° off nadir: tens of km from the nadir point).
        let focus = fine.flatMap { o -> PlanetocentricCoordinates? in
            let state = geometry.state(at: o.startT + Double(o.plan.exposures) * o.plan.intervalSeconds / 2)
            return Ellipsoid.mars.intersect(origin: state.position, direction: state.attitude.rotate(Vector3(0, 0, 1))).map(PlanetocentricCoordinates.init)
        }
        let relief = TruthRelief(seed: options.seed, focus: focus)
        let metresPerDegree = Ellipsoid.mars.equatorialRadius * 1000 * .pi / 180
        var models: [ShapeModel] = []
        var written: [(id: String, file: String, resolution: Double)] = []
        func store(id: String, produced: String, resolution: Double, west: Double, north: Double, pixel: Double, width: Int, height: Int) throws {
            let values = relief.raster(west: west, north: north, pixel: pixel, width: width, height: height)
            let file = "\(id).dem.tif"
            try GeoTIFFWriter.write(values, width: width, height: height, west: west, north: north, pixel: pixel, to: directory.appendingPathComponent(file))
            let side: [String: Any] = ["dem_id": id, "produced": produced, "resolution_m": resolution]
            try JSONSerialization.data(withJSONObject: side, options: [.sortedKeys]).write(to: directory.appendingPathComponent(file + ".json"))
            models.append(try ShapeModel(
                id: id, produced: GroundTime.parse(produced)!, resolution: resolution, width: width, height: height, west: west, north: north,
                pixelWidth: pixel, pixelHeight: pixel, values: values, noData: nil))
            written.append((id, file, resolution))
        }
        try store(id: "sim-global-coarse", produced: "2026-09-01T00:00:00Z", resolution: 0.25 * metresPerDegree, west: 0, north: 90, pixel: 0.25, width: 1440, height: 720)
        // The fine model: over the first observation between ±60°, its ground and a margin.
        if let fine {
            let plan = fine.plan
            let (south, north, west, east) = groundBox(of: fine, geometry: geometry, around: focus?.longitude ?? fine.centre.longitude)
            let gsd = 400 * instrument.detector.pixelPitchMM / instrument.detector.focalLengthMM * 1000
            let resolution = 3 * gsd
            let pixel = resolution / metresPerDegree
            let margin = 0.1, stretch = 1 / max(0.2, cos(fine.centre.latitude * .pi / 180))
            let (w0, e0, n0, s0) = (west - margin * stretch, east + margin * stretch, north + margin, south - margin)
            let (width, height) = (Int((e0 - w0) / pixel) + 2, Int((n0 - s0) / pixel) + 2)
            try store(id: "sim-local-fine", produced: "2026-09-02T00:00:00Z", resolution: resolution, west: w0, north: n0, pixel: pixel, width: width, height: height)
        }
        var offsets: [UInt32: Double] = [:], epsilon: [UInt32: Double] = [:], angles: [UInt32: Double] = [:]
        var drift = 0.25 * (random.unit() - 0.5)
        for (index, observation) in observations.enumerated() {
            drift += 0.12 * (random.unit() - 0.5)
            drift = max(-0.28, min(0.28, drift))
            offsets[observation.plan.observationID] = drift
            // Every other observation is exposed (the only one, when there is one).
            if index % 2 == 1 || observations.count == 1 { epsilon[observation.plan.observationID] = 0.6 * (random.unit() - 0.5) }
            let state = geometry.state(at: observation.startT + Double(observation.plan.exposures) * observation.plan.intervalSeconds / 2)
            angles[observation.plan.observationID] = state.attitude.rotate(Vector3(0, 0, 1)).angle(to: state.sun - state.position) * 180 / .pi
        }
        return TerrainScene(
            terrain: Terrain(models: models), models: written, mechanismOffsets: offsets, straylightEpsilon: epsilon, sunAngles: angles,
            fineObservation: fine?.plan.observationID)
    }

    /// The box (degrees) every band of `observation` sees on the ellipsoid at its first and last
    /// exposure, longitudes within 180° of `reference`.
    func groundBox(of observation: PlannedObservation, geometry: MissionGeometry, around reference: Double) -> (south: Double, north: Double, west: Double, east: Double) {
        let plan = observation.plan
        var (south, north, west, east) = (90.0, -90.0, 720.0, -720.0)
        for k in [0, plan.exposures - 1] {
            let state = geometry.state(at: observation.startT + Double(k) * plan.intervalSeconds)
            for band in instrument.bands {
                let w = band.window
                for (x, y) in [(w.firstCol, w.firstRow), (w.firstCol + w.cols, w.firstRow), (w.firstCol, w.firstRow + w.rows), (w.firstCol + w.cols, w.firstRow + w.rows)] {
                    let look = state.attitude.rotate(camera.lookDirection(x: Double(x), y: Double(y), rotationDegrees: plan.rotationDegrees))
                    guard let p = Ellipsoid.mars.intersect(origin: state.position, direction: look) else { continue }
                    let c = PlanetocentricCoordinates(p)
                    var lon = c.longitude
                    if lon - reference > 180 { lon -= 360 }
                    if reference - lon > 180 { lon += 360 }
                    (south, north, west, east) = (min(south, c.latitude), max(north, c.latitude), min(west, lon), max(east, lon))
                }
            }
        }
        return (south, north, west, east)
    }

    /// Straylight in the calibration set: per band a smooth pattern (brighter towards the last
    /// rows, a gentle ripple across columns) and an amplitude table that is 0 except within ±0.5°
    /// of α of the exposed observations (and never at an unexposed one's), where it adds about
    /// 4 % to a mid-grey scene's signal.
    func addStraylight(to set: inout CalibrationSet, scene: TerrainScene, geometry: MissionGeometry) {
        let rows = instrument.detector.rows, cols = instrument.detector.cols
        var pattern = [Float](repeating: 0, count: rows * cols)
        for y in 0..<rows {
            for x in 0..<cols {
                pattern[y * cols + x] = Float((0.3 + 0.7 * Double(y) / Double(rows)) * (1 + 0.25 * cos(2 * .pi * Double(x) / Double(cols))))
            }
        }
        let exposed = scene.straylightEpsilon.keys.compactMap { scene.sunAngles[$0] }.sorted()
        let unexposed = scene.sunAngles.filter { scene.straylightEpsilon[$0.key] == nil }.map(\.value)
        let d = geometry.sunDistanceAU
        for band in Band.allCases {
            let (k, f) = Self.bandConstants[Int(band.rawValue)]
            // DN/s of a scene of I/F 0.2; the pattern's mean is about 0.65.
            let amplitude = 0.04 * 0.2 * f / (Double.pi * d * d * k) / 0.65
            var table: [[Double]] = []
            for alpha in exposed where unexposed.allSatisfy({ abs($0 - alpha) > 1.2 }) {
                if let last = table.last, last[0] >= alpha - 0.6 { continue }
                table += [[alpha - 0.6, 0], [alpha - 0.4, amplitude], [alpha + 0.4, amplitude], [alpha + 0.6, 0]]
            }
            guard !table.isEmpty else { continue }
            let name = band.name.lowercased()
            set.description.bands[band.name]?.straylight = "\(name)_stray.f32"
            set.description.bands[band.name]?.straylightAmplitude = table
            set.arrays[band]?.straylight = pattern
        }
    }

    /// The truth of the corrections for `truth.json`.
    static func truth(of scene: TerrainScene) -> [String: Any] {
        [
            "shape_models": scene.models.map { ["dem_id": $0.id, "file": "dem/\($0.file)", "resolution_m": $0.resolution] },
            "fine_model_observation": scene.fineObservation.map { Int($0) as Any } ?? NSNull(),
            "off_nadir_deg": 10.0,
            "mechanism_offsets_deg": Dictionary(uniqueKeysWithValues: scene.mechanismOffsets.map { (String($0.key), $0.value) }),
            "straylight_epsilon": Dictionary(uniqueKeysWithValues: scene.straylightEpsilon.map { (String($0.key), $0.value) }),
            "sun_angle_deg": Dictionary(uniqueKeysWithValues: scene.sunAngles.map { (String($0.key), $0.value) }),
        ]
    }
}
